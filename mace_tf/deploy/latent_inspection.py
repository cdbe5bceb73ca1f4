"""What the latent learned (paper section 5, figures 5 and 6), from an exported sampling policy.

* `rollout`: plays episodes with the policy (`joint_action` with a fresh seed per step) and records
  lambda `[S, d]`, the actions `[S, N]` and the positions of every step.
* `latent_action_ttests`: for each latent component k, agent i and action a, a two-sided Welch t-test
  of lambda_k between the steps where agent i took a and the steps where it did not. A cell (k, i) of
  the map is significant when some action's p-value is below alpha / (actions tested): the
  Bonferroni correction keeps the cell's false-positive rate at alpha (the paper uses alpha = 0.1).
* The t-test shows correlation, not use: on Shared's deterministic hidden layer it fires too, since
  the hidden layer and the actions both depend on the state. `latent_information` estimates, at
  fixed states, I(a_i; eps | s) (how much agent i's action depends on the latent noise) and
  I(a_i; a_j | s) (how much the latent couples two agents; the heads are independent given lambda),
  both 0 for Shared and Cloned by construction, from P(a_i | lambda, s) under K draws of eps:
    I(a_i; eps | s) = H(E_eps p_i) - E_eps H(p_i)
    I(a_i; a_j | s) = KL(E_eps[p_i p_j^T] || E_eps[p_i] E_eps[p_j]^T).
All information is in nats.
"""

import collections
from typing import Dict, Optional

import numpy as np
import tensorflow as tf

from mace_tf.deploy import evaluation
from mace_tf.deploy.saved_policy import SavedPolicy
from mace_tf.envs import observation as observation_lib
from mace_tf.envs import rules


def rollout(policy: SavedPolicy, game: rules.GameConfig, *, episodes: int, seed: int) -> Dict:
  """Plays the first episode of `episodes` games with the sampling policy.

  Returns a dict of per-step arrays over the S recorded steps (steps of finished episodes are not
  recorded): latent `[S, d]`, action `[S, N]`, active `[S, N]` (the hunter could act),
  observation (dict of `[S, ...]`), game `[S]`, t `[S]`, hunter_pos `[S, N, 2]`, prey_pos `[S, M, 2]`,
  prey_hp `[S, M]`; and success `[episodes]`.
  """
  policy.check_game(game)
  rng = np.random.default_rng(seed + 1)
  targets = np.full((episodes, game.num_hunters), -1)
  steps = collections.defaultdict(list)
  latent = {}

  def action_fn(time_step):
    draw = policy.joint_action(time_step.observation, rng.integers(0, 2**31 - 1, size=2))
    latent["now"] = policy.latent(time_step.observation, draw["eps"])["latent"]
    return draw["action"]

  def on_step(env, time_step, action, playing):
    state = env.game_state()
    if not steps:
      steps["start_hunter_pos"], steps["start_prey_pos"] = state["hunter_pos"], state["prey_pos"]
    obs = time_step.observation
    for key, value in (("latent", latent["now"]), ("action", action),
                       ("active", observation_lib.active_agents(obs)), ("game", np.arange(episodes)),
                       ("t", state["t"]), ("hunter_pos", state["hunter_pos"]),
                       ("prey_pos", state["prey_pos"]), ("prey_hp", state["prey_hp"]),
                       *(("observation/" + k, v) for k, v in obs.items())):
      steps[key].append(np.asarray(value)[playing])

  def on_last(env, last):
    targets[last] = env.game_state()["hunter_target"][last]

  per_episode, _ = evaluation.play_episodes(action_fn, game, episodes=episodes, seed=seed,
                                            on_step=on_step, on_last=on_last)
  start = {k: steps.pop(k) for k in ("start_hunter_pos", "start_prey_pos")}
  out = {k: np.concatenate(v) for k, v in steps.items() if not k.startswith("observation/")}
  out["observation"] = {k.split("/", 1)[1]: np.concatenate(v) for k, v in steps.items()
                        if k.startswith("observation/")}
  out.update(start, success=per_episode["success"], final_targets=targets)
  return out


def torus_distance(a, b, grid_size: int):
  """Steps between cells `[..., 2]` on the torus (moves are along one axis at a time)."""
  d = np.abs(np.asarray(a) - np.asarray(b)) % grid_size
  return np.minimum(d, grid_size - d).sum(axis=-1)


def assignments(steps: Dict, grid_size: int) -> np.ndarray:
  """2 hunters, 2 prey: per episode 1 if hunter 0 captured the prey nearer to it at the start, 0 if
  it captured the other while hunter 1 captured the first (the two ways to split the prey, figure 1),
  -1 otherwise (failure, or both on one prey)."""
  targets = steps["final_targets"]
  out = np.full(len(targets), -1)
  if targets.shape[1] != 2 or steps["start_prey_pos"].shape[1] != 2:
    return out
  dist = torus_distance(steps["start_hunter_pos"][:, 0, None, :], steps["start_prey_pos"],
                        grid_size)  # [E, 2]
  nearer = np.argmin(dist, axis=1)
  split = steps["success"] & (targets[:, 0] >= 0) & (targets[:, 1] >= 0) & (
      targets[:, 0] != targets[:, 1])
  out[split] = (targets[split, 0] == nearer[split]).astype(int)
  return out


def assignment_ttests(steps: Dict, grid_size: int) -> Dict:
  """Per latent component: Welch t-test of lambda_k over the steps of episodes split one way against
  the steps of episodes split the other way (`assignments`)."""
  episodes = assignments(steps, grid_size)
  label = episodes[steps["game"]]
  d = steps["latent"].shape[1]
  a, b = label == 1, label == 0
  p = np.array([welch_t_test(steps["latent"][a, k], steps["latent"][b, k])[1] for k in range(d)])
  return {"p": p, "episodes_nearer": int((episodes == 1).sum()),
          "episodes_other": int((episodes == 0).sum()), "steps": [int(a.sum()), int(b.sum())]}


def welch_t_test(x, y):
  """(t, two-sided p) of Welch's unequal-variance t-test; p = 1 when undefined (zero variance)."""
  x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
  nx, ny = x.size, y.size
  if nx < 2 or ny < 2:
    return 0.0, 1.0
  vx, vy = x.var(ddof=1) / nx, y.var(ddof=1) / ny
  if vx + vy <= 0:
    return 0.0, 1.0
  t = (x.mean() - y.mean()) / np.sqrt(vx + vy)
  df = (vx + vy) ** 2 / (vx ** 2 / (nx - 1) + vy ** 2 / (ny - 1))
  # P(|T| > |t|) for Student's t with df degrees of freedom = I_{df / (df + t^2)}(df / 2, 1 / 2).
  p = float(tf.math.betainc(df / 2.0, 0.5, df / (df + t * t)).numpy())
  return float(t), p


def latent_action_ttests(latent, action, active, *, alpha: float = 0.1,
                         num_actions: int = rules.NUM_ACTIONS) -> Dict:
  """Per component k and agent i: is lambda_k different when agent i takes action a than when not?

  Args:
    latent: `[S, d]`; action: `[S, N]`; active: `[S, N]` (steps where the agent could act count).

  Returns:
    p `[d, N, A]` (1 where a group had < 2 steps), min_p `[d, N]`, tested `[N, A]` (the tests
    that had two groups), significant `[d, N]` (min over actions of p < alpha / tested actions).
  """
  latent, action, active = np.asarray(latent), np.asarray(action), np.asarray(active, bool)
  d, n = latent.shape[1], action.shape[1]
  p = np.ones((d, n, num_actions))
  tested = np.zeros((n, num_actions), dtype=bool)
  for i in range(n):
    rows = active[:, i]
    for a in range(num_actions):
      took = rows & (action[:, i] == a)
      other = rows & (action[:, i] != a)
      if took.sum() < 2 or other.sum() < 2:
        continue
      tested[i, a] = True
      for k in range(d):
        p[k, i, a] = welch_t_test(latent[took, k], latent[other, k])[1]
  min_p = p.min(axis=2)
  per_agent_tests = np.maximum(tested.sum(axis=1), 1)
  significant = min_p < alpha / per_agent_tests[None, :]
  return {"p": p, "min_p": min_p, "tested": tested, "significant": significant, "alpha": alpha}


def _entropy(p, axis=-1):
  return -np.sum(np.where(p > 0, p * np.log(np.maximum(p, 1e-30)), 0.0), axis=axis)


def information_from_probs(probs) -> Dict[str, np.ndarray]:
  """I(a_i; eps | s) `[N]` and I(a_i; a_j | s) `[N, N]` at one state, from probs `[K, N, A]`:
  P(a_i | lambda_k, s) under K draws of eps (the heads are independent given lambda)."""
  probs = np.asarray(probs, np.float64)
  marginal = probs.mean(axis=0)  # [N, A]
  i_eps = _entropy(marginal) - _entropy(probs).mean(axis=0)
  joint = np.einsum("kia,kjb->ijab", probs, probs) / probs.shape[0]  # [N, N, A, A]
  independent = marginal[:, None, :, None] * marginal[None, :, None, :]
  ratio = np.where(joint > 0, joint / np.maximum(independent, 1e-30), 1.0)
  i_pair = np.sum(np.where(joint > 0, joint * np.log(ratio), 0.0), axis=(2, 3))
  np.fill_diagonal(i_pair, np.nan)  # I(a_i; a_i | s) is H(a_i | s), not a coupling
  return {"action_noise": np.maximum(i_eps, 0.0), "action_coupling": np.maximum(i_pair, 0.0)}


def latent_information(policy: SavedPolicy, observation: Dict[str, np.ndarray], *,
                       num_states: int, num_draws: int, seed: int) -> Dict:
  """Average over `num_states` of the recorded states (chosen at random) of I(a_i; eps | s) and
  I(a_i; a_j | s), each from `num_draws` draws of eps ~ N(0, I)."""
  rng = np.random.default_rng(seed)
  total = len(observation["time_left"])
  chosen = rng.choice(total, size=min(num_states, total), replace=False)
  d = policy.latent_dim
  noise, coupling = [], []
  for s in chosen:
    obs = {k: np.repeat(v[s:s + 1], num_draws, axis=0) for k, v in observation.items()}
    probs = policy.latent(obs, rng.standard_normal((num_draws, d)).astype(np.float32))["probs"]
    info = information_from_probs(probs)
    noise.append(info["action_noise"])
    coupling.append(info["action_coupling"])
  return {"action_noise": np.mean(noise, axis=0), "action_coupling": np.mean(coupling, axis=0),
          "action_noise_per_state": np.array(noise), "states": chosen}


def plot_significance(path: str, tests: Dict, *, title: str) -> None:
  """The component x agent map: -log10 of the smallest p over actions; significant cells boxed."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  score = -np.log10(np.clip(tests["min_p"], 1e-12, 1.0))
  d, n = score.shape
  fig, ax = plt.subplots(figsize=(max(5.0, 1.2 + 0.5 * n), max(3.5, 1.0 + 0.35 * d)))
  image = ax.imshow(score, cmap="viridis", aspect="auto", vmin=0)
  for k, i in zip(*np.nonzero(tests["significant"])):
    ax.add_patch(plt.Rectangle((i - 0.5, k - 0.5), 1, 1, fill=False, edgecolor="red", lw=2))
  ax.set_xticks(range(n))
  ax.set_yticks(range(d))
  ax.set_xlabel("agent")
  ax.set_ylabel("latent component")
  ax.set_title(title, fontsize=9)
  fig.colorbar(image, ax=ax, label="-log10 min p")
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def plot_snapshots(path: str, steps: Dict, game: rules.GameConfig, *, episode: int = 0,
                   count: int = 3, title: Optional[str] = None) -> None:
  """`count` snapshots (start .. end) of one recorded episode; arrows show each active hunter's
  move on that step (figure 6)."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  rows = np.nonzero(steps["game"] == episode)[0]
  picks = rows[np.unique(np.linspace(0, len(rows) - 1, count).round().astype(int))]
  g = game.grid_size
  fig, axes = plt.subplots(1, len(picks), figsize=(3.2 * len(picks), 3.4), squeeze=False)
  for ax, row in zip(axes[0], picks):
    ax.set_xlim(-0.5, g - 0.5)
    ax.set_ylim(g - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(-0.5, g, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, g, 1), minor=True)
    ax.grid(which="minor", color="#ddd", lw=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    alive = steps["prey_hp"][row] > 0
    prey = steps["prey_pos"][row]
    ax.scatter(prey[alive, 0], prey[alive, 1], s=120, c="tab:green", marker="s", label="prey")
    pos = steps["hunter_pos"][row]
    ax.scatter(pos[:, 0], pos[:, 1], s=70, c="tab:red", label="hunters")
    for i, (x, y) in enumerate(pos):
      ax.annotate(str(i), (x, y), color="white", ha="center", va="center", fontsize=7)
      if steps["active"][row, i]:
        dx, dy = rules.ACTION_DELTAS[steps["action"][row, i]]
        if dx or dy:
          ax.arrow(x, y, 0.7 * dx, 0.7 * dy, head_width=0.25, color="black",
                   length_includes_head=True)
    ax.set_title(f"t = {int(steps['t'][row])}", fontsize=9)
  if title:
    fig.suptitle(title, fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)
