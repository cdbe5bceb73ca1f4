"""Measurements behind the diagnosis of learning at the paper's scale (BUILD_NOTES.md, issue 12).

* `capacity_probe`: can a network represent pursuit at all? Its heads are fitted, supervised, to the
  `nearest` reference policy's actions on states from play, and the action agreement is measured on
  held-out games. A diagnostic only: no learner trains on the reference policy.
* `credit_gaps`: how many steps lie between a hunter's capture (after which the game ignores its
  actions) and the terminal reward it earns, and what gamma^gap leaves of that reward.
* `greedy_stall`: what the still-active hunters do in episodes that run long under a (greedy)
  policy: how many are left, which prey are left, their actions and how many cells they visit.
* `critic_values`: what the critics think a hunter's status is worth in play: active, frozen on a
  hare, frozen on a stag (is freezing on a near hare as good as staying active?).
"""

from typing import Callable, Dict, Sequence

import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec

from mace_tf.agents import reference
from mace_tf.agents.mace.config import MaceConfig
from mace_tf.deploy import evaluation
from mace_tf.envs import hunters, rules
from mace_tf.envs import observation as observation_lib
from mace_tf.networks import MaceNetwork


def pursuit_moves(observation: Dict[str, np.ndarray], grid_size: int) -> np.ndarray:
  """bool `[B, N, 5]`: the actions that bring hunter i one step closer to its nearest live prey."""
  g = grid_size
  pos = np.asarray(observation["hunters"])[..., :2]  # [B, N, 2]
  prey, valid = reference.live_prey_cells(observation["grid"], g)  # [B, K, 2], [B, K]

  def nearest_distance(p):  # p [B, N, 2] -> [B, N]
    d = np.abs(reference.torus_offset(p[:, :, None], prey[:, None], g)).sum(-1)
    return np.where(valid[:, None], d, np.iinfo(np.int32).max).min(-1)

  now = nearest_distance(pos)
  after = np.stack([nearest_distance((pos + delta) % g) for delta in rules.ACTION_DELTAS], -1)
  return (after < now[..., None]) & valid.any(axis=1)[:, None, None]


def play_states(game: rules.GameConfig, *, batch_size: int, steps: int, seed: int,
                nearest_fraction: float = 0.5):
  """Observations from play: each hunter takes the nearest-prey action with probability
  `nearest_fraction`, else a random one, so the states cover pursuit and wandering alike.

  Returns (observations: dict of `[S, ...]` arrays, S = batch_size * steps, game-major; the
  nearest-prey actions `[S, N]`; active `[S, N]`).
  """
  env = hunters.make_game(game, batch_size=batch_size, seed=seed)
  rng = np.random.default_rng(seed + 1)
  time_step = env.reset()
  records = []
  for _ in range(steps):
    obs = time_step.observation
    target = reference.nearest_prey_actions(obs, game.grid_size)
    random = rng.integers(0, rules.NUM_ACTIONS, size=target.shape)
    action = np.where(rng.random(target.shape) < nearest_fraction, target, random).astype(np.int32)
    records.append((obs, target))
    time_step = env.step(action)
  game_major = lambda xs: np.stack(xs, axis=1).reshape((-1,) + xs[0].shape[1:])
  observations = {k: game_major([o[k] for o, _ in records]) for k in records[0][0]}
  targets = game_major([t for _, t in records])
  return observations, targets, observations["hunters"][..., 2] > 0


def capacity_probe(game: rules.GameConfig, config: MaceConfig, *, train_games: int = 48,
                   test_games: int = 16, steps_per_game: int = 300, fit_steps: int = 2000,
                   batch_states: int = 128, learning_rate: float = 1e-3, seed: int = 0,
                   log_every: int = 0, log_fn: Callable[[str], None] = print) -> Dict:
  """Fits `config`'s network's heads (lambda = mu for MACE) to the nearest-prey actions, supervised.

  Returns a dict of agreement rates over active hunters on train and held-out games: `*_agreement`
  (the argmax action is the reference's), `*_pursuit` (it brings the hunter one step closer to its
  nearest live prey: the reference's ties count), and the reference's own pursuit rate (1 when some
  prey is left), plus the fit's settings.
  """
  observations, targets, active = play_states(
      game, batch_size=train_games + test_games, steps=steps_per_game, seed=seed)
  split = train_games * steps_per_game
  train = {k: v[:split] for k, v in observations.items()}
  test = {k: v[split:] for k, v in observations.items()}
  spec = tensor_spec.from_spec(observation_lib.observation_spec(game))
  tf.keras.utils.set_random_seed(seed)  # the initial weights too
  network = MaceNetwork(spec, num_hunters=game.num_hunters, model=config.model,
                        config=config.network)
  network.create_variables()
  optimizer = tf.keras.optimizers.legacy.Adam(learning_rate)

  @tf.function
  def fit_step(obs, target, mask):
    with tf.GradientTape() as tape:
      output, _ = network(obs)
      nll = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=output.logits)
      mask = tf.cast(mask, tf.float32)
      loss = tf.reduce_sum(nll * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)
    grads = tape.gradient(loss, network.trainable_variables)
    optimizer.apply_gradients(zip(grads, network.trainable_variables))
    return loss

  greedy = tf.function(lambda obs: tf.argmax(network(obs)[0].logits, -1, output_type=tf.int32))

  def rates(obs, target, mask):
    chosen = np.concatenate([greedy({k: v[i:i + 512] for k, v in obs.items()}).numpy()
                             for i in range(0, len(target), 512)])
    pursuit = pursuit_moves(obs, game.grid_size)
    closer = np.take_along_axis(pursuit, chosen[..., None], -1)[..., 0]
    reference_closer = np.take_along_axis(pursuit, target[..., None], -1)[..., 0]
    return (float((chosen == target)[mask].mean()), float(closer[mask].mean()),
            float(reference_closer[mask].mean()))

  rng = np.random.default_rng(seed + 2)
  for step in range(1, fit_steps + 1):
    idx = rng.integers(0, split, size=batch_states)
    loss = fit_step({k: tf.constant(v[idx]) for k, v in train.items()}, tf.constant(targets[idx]),
                    tf.constant(active[idx]))
    if log_every and step % log_every == 0:
      log_fn(f"  fit step {step}/{fit_steps}: cross-entropy {float(loss):.3f}")
  train_agree, train_pursuit, _ = rates(train, targets[:split], active[:split])
  test_agree, test_pursuit, reference_pursuit = rates(test, targets[split:], active[split:])
  return {"train_agreement": train_agree, "train_pursuit": train_pursuit,
          "test_agreement": test_agree, "test_pursuit": test_pursuit,
          "reference_pursuit": reference_pursuit, "chance_agreement": 1.0 / rules.NUM_ACTIONS,
          "final_cross_entropy": float(loss), "train_states": split,
          "test_states": len(targets) - split, "fit_steps": fit_steps,
          "batch_states": batch_states, "learning_rate": learning_rate,
          "parameters": int(sum(np.prod(v.shape) for v in network.trainable_variables))}


def _play_recording_captures(action_fn: Callable, game: rules.GameConfig, episodes: int,
                             seed: int):
  """Plays one episode in each of `episodes` games: (the step of each hunter's capture `[E, N]`, -1
  for none; each episode's length `[E]`; the terminal rewards `[E, N]`)."""
  env = hunters.make_game(game, batch_size=episodes, seed=seed)
  time_step = env.reset()
  capture_t = np.full((episodes, game.num_hunters), -1)
  length = np.zeros(episodes, np.int64)
  reward = np.zeros((episodes, game.num_hunters))
  finished = np.zeros(episodes, bool)
  while not finished.all():
    time_step = env.step(np.asarray(action_fn(time_step)))
    state = env.game_state()
    playing = ~finished
    newly = (~state["hunter_active"]) & (capture_t < 0) & playing[:, None]
    capture_t[newly] = np.broadcast_to(state["t"][:, None], newly.shape)[newly]
    last = time_step.is_last() & playing
    length[last] = state["t"][last]
    reward[last] = np.asarray(time_step.reward)[last]
    finished |= last
  return capture_t, length, reward


def credit_gaps(action_fn: Callable, game: rules.GameConfig, *, episodes: int, seed: int,
                gammas: Sequence[float] = (0.9, 0.99)) -> Dict:
  """Steps from each capture to its episode's end (when the reward is paid), under a policy.

  Plays `episodes` episodes (one per game of a batch). For every hunter that captured, gap = episode
  length - the step count at its capture. Returns the gaps' mean, median, p10 and p90, the share of
  captures that earned a nonzero terminal reward, and per gamma the mean of gamma^gap over those
  rewarded captures (what the paper's discount leaves of the reward at the step that earned it).
  """
  capture_t, length, reward = _play_recording_captures(action_fn, game, episodes, seed)
  hit = capture_t >= 0
  gaps = (length[:, None] - capture_t)[hit]
  rewarded = (reward > 0)[hit]
  gaps = gaps.astype(np.float64)
  out = {"captures": int(gaps.size), "rewarded_share": float(rewarded.mean()) if gaps.size else 0.0}
  if gaps.size:
    out.update(gap_mean=float(gaps.mean()), gap_median=float(np.median(gaps)),
               gap_p10=float(np.percentile(gaps, 10)), gap_p90=float(np.percentile(gaps, 90)))
    for g in gammas:
      kept = g ** gaps[rewarded] if rewarded.any() else np.zeros(0)
      out[f"discount_left_gamma_{g}"] = float(kept.mean()) if kept.size else float("nan")
  return out


def capture_steps(action_fn: Callable, game: rules.GameConfig, *, episodes: int,
                  seed: int) -> Dict:
  """When in its episode each capture comes, under a policy: where the steps of an episode go.

  Plays `episodes` episodes (one per game of a batch). Per episode the steps at which its hunters
  freeze (a hit), sorted: the k-th entry is the k-th capture's step (1 for a capture on the first
  move), the last capture counted at the step that ended the episode.

  Returns: `episodes`, `length_mean`, `length_median`, `kth_capture_median` (per k = 1..N, the
  median over episodes of the k-th capture's step, None where fewer than half of the episodes have
  k captures) and `episodes_with_k` (per k, how many episodes have at least k captures).
  """
  capture_t, length, _ = _play_recording_captures(action_fn, game, episodes, seed)
  captured = capture_t >= 0
  steps = np.sort(np.where(captured, capture_t, np.iinfo(np.int64).max), axis=1)
  with_k = captured.sum(1)[:, None] >= np.arange(1, game.num_hunters + 1)[None]  # [E, N]
  median = [float(np.median(steps[:, k])) if 2 * with_k[:, k].sum() > episodes else None
            for k in range(game.num_hunters)]
  return {"episodes": episodes, "length_mean": float(length.mean()),
          "length_median": float(np.median(length)), "kth_capture_median": median,
          "episodes_with_k": with_k.sum(0).tolist()}


def greedy_stall(action_fn: Callable, game: rules.GameConfig, *, episodes: int, seed: int,
                 after: int) -> Dict:
  """The episodes still running at step `after` under a policy, and what their hunters do then.

  Plays `episodes` episodes (one per game of a batch, as `evaluation.play_episodes`). For each
  episode still running at t = `after`: the number of active hunters and of live stags and hares
  at that step, and from then to its end the active hunters' action counts and the number of
  distinct joint positions they take (2 for a lone hunter stepping back and forth).

  Returns: `episodes`, `running_at_after`, `timeouts` (episodes lasting the time limit), the
  histograms `active_hunters`, `live_stags`, `live_hares` (index: count at `after`),
  `action_share` (stay, up, down, left, right, over the active hunters' late steps),
  `distinct_positions_median`, `nearest_prey_distance` (each active hunter's torus Manhattan
  distance to its nearest live prey at `after`: min, median, max), `wounded_stags` (histogram of
  stags with one hit taken), `nearest_hare_distance` and `nearest_wounded_stag_distance` (what a
  capture is worth to an active hunter: 0.1, 1, and 0 at a fresh stag), and the mean terminal reward
  of timed-out and of other episodes.
  """
  if not 0 < after < game.time_limit:
    raise ValueError(f"after must be in (0, {game.time_limit}), got {after}")
  actions = np.zeros(rules.NUM_ACTIONS, np.int64)
  visited = {}
  at_after = {"active": [], "stags": [], "hares": [], "distance": [], "wounded": [],
              "hare_distance": [], "wounded_distance": []}
  is_stag = game.prey_is_stag

  def on_step(env, time_step, action, playing):
    del time_step
    state = env.game_state()
    for b in np.flatnonzero(playing & (state["t"] >= after)):
      active = state["hunter_active"][b]
      actions[:] += np.bincount(action[b][active], minlength=rules.NUM_ACTIONS)
      visited.setdefault(b, set()).add(state["hunter_pos"][b][active].tobytes())
      if state["t"][b] == after:
        live = state["prey_hp"][b] > 0
        offset = reference.torus_offset(state["hunter_pos"][b][active][:, None],
                                        state["prey_pos"][b][live][None], game.grid_size)
        at_after["distance"].extend(np.abs(offset).sum(-1).min(-1).tolist())
        at_after["active"].append(int(active.sum()))
        at_after["stags"].append(int(live[is_stag].sum()))
        at_after["hares"].append(int(live[~is_stag].sum()))
        # What capturing is worth to a hunter still active: 1 at a wounded stag (one hit left),
        # 0.1 at a hare, 0 at a fresh stag it would hit alone.
        wounded = live & is_stag & (state["prey_hp"][b] < game.hit_points)
        at_after["wounded"].append(int(wounded.sum()))
        distance = np.abs(offset).sum(-1)  # [active, live prey]
        for key, kind in (("hare_distance", ~is_stag[live]), ("wounded_distance", wounded[live])):
          if kind.any():
            at_after[key].extend(distance[:, kind].min(-1).tolist())

  per_episode, _ = evaluation.play_episodes(action_fn, game, episodes=episodes, seed=seed,
                                            on_step=on_step)
  reward = per_episode["total_reward"]
  timed_out = per_episode["length"] >= game.time_limit
  histogram = lambda v, size: np.bincount(np.asarray(v, np.int64), minlength=size + 1).tolist()
  return {
      "episodes": episodes, "after": after, "running_at_after": len(at_after["active"]),
      "timeouts": int(timed_out.sum()),
      "active_hunters": histogram(at_after["active"], game.num_hunters),
      "live_stags": histogram(at_after["stags"], int(is_stag.sum())),
      "live_hares": histogram(at_after["hares"], int((~is_stag).sum())),
      "action_share": (actions / max(actions.sum(), 1)).round(4).tolist(),
      "distinct_positions_median": (float(np.median([len(v) for v in visited.values()]))
                                    if visited else float("nan")),
      "nearest_prey_distance": _quantiles(at_after["distance"]),
      "wounded_stags": histogram(at_after["wounded"], int(is_stag.sum())),
      "nearest_hare_distance": _quantiles(at_after["hare_distance"]),
      "nearest_wounded_stag_distance": _quantiles(at_after["wounded_distance"]),
      "reward_timed_out": float(reward[timed_out].mean()) if timed_out.any() else float("nan"),
      "reward_finished": float(reward[~timed_out].mean()) if (~timed_out).any() else float("nan"),
  }


def _quantiles(values) -> Dict[str, float]:
  if not values:
    return {"min": float("nan"), "median": float("nan"), "max": float("nan")}
  values = np.asarray(values, np.float64)
  return {"min": float(values.min()), "median": float(np.median(values)), "max": float(values.max())}


def critic_values(action_fn: Callable, values_fn: Callable, game: rules.GameConfig, *,
                  episodes: int, seed: int, first: int, last: int) -> Dict:
  """The critics' mean value per hunter status over steps `first`..`last` of play under a policy.

  Plays `episodes` episodes (one per game of a batch) with `action_fn`; at every step t in
  [first, last] of an episode still playing, `values_fn(observation) -> [b, N]` (the observation
  of those b games) gives each hunter's V_i(s), filed under its status: `active`, `frozen_hare` or
  `frozen_stag` (by the prey it hit). Returns per status the mean value and the number of
  hunter-steps (`count`); a status never seen has mean NaN.
  """
  if not 0 <= first <= last:
    raise ValueError(f"need 0 <= first <= last, got first={first}, last={last}")
  sums = dict.fromkeys(("active", "frozen_hare", "frozen_stag"), 0.0)
  counts = dict.fromkeys(sums, 0)

  def on_step(env, time_step, action, playing):
    del action
    state = env.game_state()
    keep = playing & (state["t"] >= first) & (state["t"] <= last)
    if not keep.any():
      return
    values = np.asarray(values_fn({k: np.asarray(v)[keep] for k, v in
                                   time_step.observation.items()}), np.float64)
    active, target = state["hunter_active"][keep], state["hunter_target"][keep]
    stag = game.prey_is_stag[np.maximum(target, 0)] & (target >= 0)
    for status, where in (("active", active), ("frozen_hare", ~active & ~stag),
                          ("frozen_stag", ~active & stag)):
      sums[status] += float(values[where].sum())
      counts[status] += int(where.sum())

  evaluation.play_episodes(action_fn, game, episodes=episodes, seed=seed, on_step=on_step)
  return {status: {"mean": sums[status] / counts[status] if counts[status] else float("nan"),
                   "count": counts[status]} for status in sums}


def export_critic_values(saved_model: str, game: rules.GameConfig, *, episodes: int, seed: int,
                         first: int, last: int) -> Dict:
  """`critic_values` of a sampling export (`.../export/policy`): it plays its `action` signature
  and reads the critics from its `latent` signature at lambda = mu (eps = 0). Raises ValueError
  for an export without the `latent` signature (a greedy one)."""
  from mace_tf.deploy import saved_policy  # pylint: disable=g-import-not-at-top
  policy = saved_policy.load_for_game(saved_model, game)
  if not policy.has("latent"):
    raise ValueError(f"{saved_model} has no 'latent' signature (the critics' values): pass the "
                     f"sampling export, .../export/policy")

  def values_fn(observation):
    eps = np.zeros((len(observation["hunters"]), policy.latent_dim), np.float32)
    return policy.latent(observation, eps)["values"]

  return critic_values(policy.action, values_fn, game, episodes=episodes, seed=seed, first=first,
                       last=last)


def export_greedy_stall(saved_model: str, game: rules.GameConfig, *, episodes: int, seed: int,
                        after: int) -> Dict:
  """`greedy_stall` of an export (its greedy_policy for the greedy stall)."""
  from mace_tf.deploy import saved_policy  # pylint: disable=g-import-not-at-top
  policy = saved_policy.load_for_game(saved_model, game)
  return greedy_stall(policy.action, game, episodes=episodes, seed=seed, after=after)


def values_summary(row: Dict, first: int, last: int) -> str:
  """One line of `critic_values`' result."""
  return f"mean critic value, steps {first}-{last}: " + "; ".join(
      f"{status} {v['mean']:.3f} ({v['count']} hunter-steps)" for status, v in row.items())


def stall_summary(row: Dict) -> str:
  """One line of `greedy_stall`'s result."""
  return (f"{row['running_at_after']} of {row['episodes']} episodes still running at step "
          f"{row['after']}, {row['timeouts']} timed out; active hunters then "
          f"{row['active_hunters']}; their actions (stay, up, down, left, right) "
          f"{row['action_share']}; distinct positions to the end, median "
          f"{row['distinct_positions_median']}; nearest live prey at step {row['after']}, "
          f"median {row['nearest_prey_distance']['median']} cells; reward timed out "
          f"{row['reward_timed_out']:.2f}, finished {row['reward_finished']:.2f}")
