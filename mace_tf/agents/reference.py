"""Reference policies over the games: random play and scripted nearest-prey pursuit.

They are yardsticks for reports and Table 1 analogs (what play without learning scores), never a
training signal: no learner reads them. Both map a batched observation (as `observation.py` defines
it) to actions `[B, N]`, so they play through the same code as a learned policy.

* `random`: every hunter takes a uniformly random action.
* `nearest`: every active hunter steps towards its nearest live prey (torus Manhattan distance; ties
  go to the lowest cell index y * G + x), along the axis with the larger gap (x on a tie). Frozen
  hunters, and hunters when no prey is left, stay.
* `assigned`: a central planner that sees every hunter (issue 17's yardstick for coordinated play,
  not a learner's input): each step it matches the active hunters to the prey's remaining hit points
  greedily, closest (hunter, prey) pair first, a prey taking as many hunters as it has hit points.
  In Stag-Hunters the stags are matched first, and a stag left with fewer hunters than its hit
  points is given up (its hunters would earn 0); the rest go to hares one each, any still left to
  their nearest prey. Hunters step towards their prey as `nearest` does, but of the (at most two)
  moves that close the gap they take one that does not end next to another live prey, where they
  would be captured by it, if there is one. A greedy matching, not an optimal one: a floor on what
  a coordinating team can score.
"""

from typing import Callable, Dict, Optional, Sequence

import numpy as np

from mace_tf.envs import hunters, rules
from mace_tf.envs import observation as observation_lib

REFERENCE_POLICIES = ("random", "nearest", "assigned")

# Actions by axis and sign of the step: x -1 left (3), x +1 right (4), y -1 up (1), y +1 down (2).
_X_ACTION = {-1: 3, 1: 4}
_Y_ACTION = {-1: 1, 1: 2}


def torus_offset(source, target, grid_size: int):
  """The shortest signed offset `target - source` on a torus of side G, in `[-G // 2, G - G // 2)`."""
  return (np.asarray(target) - np.asarray(source) + grid_size // 2) % grid_size - grid_size // 2


def live_prey_cells(grid, grid_size: int):
  """The cells holding live prey in each game of `grid [B, G, G, 4]`, lowest cell index first.

  Returns (prey int `[B, K, 2]` (x, y), valid bool `[B, K]`): K = the most live prey cells of any
  game (at least 1); a game's slots past its own count are padding (valid False).
  """
  grid = np.asarray(grid)
  b, g = grid.shape[0], grid_size
  live = (grid[..., 2].astype(np.int32) + grid[..., 3]).reshape(b, g * g) > 0  # [B, G * G]
  k = max(int(live.sum(axis=1).max()) if b else 0, 1)
  cells = np.argsort(~live, axis=1, kind="stable")[:, :k]  # [B, K] cell indices
  valid = np.take_along_axis(live, cells, axis=1)
  return np.stack([cells % g, cells // g], axis=-1), valid


def _moves_towards(d):
  """The steps that close torus offsets `d [..., 2]` (dx, dy): int arrays (first, second), first
  along the axis with the larger gap (x on a tie), second along the other; 0 where that axis has
  no gap left."""
  dx, dy = d[..., 0], d[..., 1]
  x_move = np.where(dx < 0, _X_ACTION[-1], np.where(dx > 0, _X_ACTION[1], 0))
  y_move = np.where(dy < 0, _Y_ACTION[-1], np.where(dy > 0, _Y_ACTION[1], 0))
  along_x = (np.abs(dx) >= np.abs(dy)) & (dx != 0)
  return np.where(along_x, x_move, y_move), np.where(along_x, y_move, x_move)


def nearest_prey_actions(observation: Dict[str, np.ndarray], grid_size: int) -> np.ndarray:
  """The `nearest` policy's actions int32 `[B, N]` for a batched observation."""
  hunter_rows = np.asarray(observation["hunters"])  # [B, N, 3]
  g = grid_size
  prey, valid = live_prey_cells(observation["grid"], g)  # [B, K, 2], [B, K]
  offset = torus_offset(hunter_rows[:, :, None, :2], prey[:, None, :, :], g)  # [B, N, K, 2]
  distance = np.abs(offset).sum(axis=-1)
  distance = np.where(valid[:, None, :], distance, np.iinfo(np.int32).max)
  best = np.argmin(distance, axis=-1)  # [B, N]: first minimum, i.e. the lowest cell index
  d = np.take_along_axis(offset, best[:, :, None, None], axis=2)[:, :, 0]  # [B, N, 2]
  actions, _ = _moves_towards(d)
  active = observation_lib.active_agents({"hunters": hunter_rows}) & valid.any(axis=1)[:, None]
  return np.where(active, actions, 0).astype(np.int32)


def _greedy_matching(distance, capacity):
  """Hunter -> prey by ascending `distance [H, K]`, prey k taking up to `capacity[k]` hunters (ties:
  lower hunter, then lower prey). Returns int `[H]`, -1 where unmatched."""
  match = np.full(distance.shape[0], -1)
  left = np.array(capacity, dtype=np.int64)
  for flat in np.argsort(distance, axis=None, kind="stable"):
    h, k = divmod(int(flat), distance.shape[1])
    if match[h] < 0 and left[k] > 0:
      match[h], left[k] = k, left[k] - 1
  return match


def _assign(hunters_xy, stag_hp, hare_hp, cells, g):
  """One game's matching: prey cell index per active hunter (`hunters_xy [H, 2]`), -1 for none.

  `cells [K, 2]` are the live prey cells, `stag_hp`, `hare_hp` `[K]` their hit points by kind.
  """
  distance = np.abs(torus_offset(hunters_xy[:, None], cells[None], g)).sum(-1)  # [H, K]
  target = _greedy_matching(distance, stag_hp)
  hunters_on = np.bincount(target[target >= 0], minlength=len(cells))
  target[(target >= 0) & (hunters_on[target] < stag_hp[target])] = -1  # a stag short of hunters
  free = target < 0
  if free.any():
    hares = _greedy_matching(distance[free], hare_hp)
    target[free] = np.where(hares >= 0, hares, np.argmin(distance[free], axis=1))
  return target


def assigned_prey_actions(observation: Dict[str, np.ndarray], grid_size: int) -> np.ndarray:
  """The `assigned` policy's actions int32 `[B, N]` for a batched observation."""
  hunter_rows = np.asarray(observation["hunters"])  # [B, N, 3]
  grid, g = np.asarray(observation["grid"]), grid_size
  active = observation_lib.active_agents({"hunters": hunter_rows})
  prey, valid = live_prey_cells(grid, g)  # [B, K, 2] (x, y), lowest cell index first
  actions = np.zeros(active.shape, np.int32)
  for b in range(grid.shape[0]):
    cells, playing = prey[b][valid[b]], np.flatnonzero(active[b])
    if not len(cells) or not len(playing):
      continue
    stag_hp, hare_hp = (grid[b, cells[:, 1], cells[:, 0], c].astype(np.int64) for c in (2, 3))
    position = hunter_rows[b, playing, :2]
    target = _assign(position, stag_hp, hare_hp, cells, g)
    first, second = _moves_towards(torus_offset(position, cells[target], g))  # [H] each
    for i, (hunter, k) in enumerate(zip(playing, target)):
      others = np.delete(cells, k, axis=0)

      def safe(action):
        cell = (position[i] + rules.ACTION_DELTAS[action]) % g
        return not len(others) or np.abs(torus_offset(cell, others, g)).sum(-1).min() > 1

      moves = [a for a in (first[i], second[i]) if a]
      actions[b, hunter] = next((a for a in moves if safe(a)), first[i])
  return actions


def make_reference_policy(name: str, game, seed: Optional[int] = None,
                          num_actions: int = rules.NUM_ACTIONS) -> Callable:
  """`action_fn(time_step) -> int32 [B, N]` of the reference policy `name`: "random" (uniform over
  `num_actions`, any game: B and N from the rewards' shape), "nearest" or "assigned" (Hare- and
  Stag-Hunters)."""
  if name == "random":
    rng = np.random.default_rng(seed)
    return lambda time_step: rng.integers(
        0, num_actions, size=np.shape(time_step.reward), dtype=np.int32)
  if name in ("nearest", "assigned"):
    if getattr(game, "kind", None) == "external":
      raise ValueError(f"the {name} policy plays the hunter games only; use --policy=random")
    actions = nearest_prey_actions if name == "nearest" else assigned_prey_actions
    return lambda time_step: actions(time_step.observation, game.grid_size)
  raise ValueError(f"reference policy must be one of {REFERENCE_POLICIES}, got {name!r}")


def cumulative_reward_run(action_fn: Callable, game: rules.GameConfig, *, num_samples: int,
                          batch_size: int = 16, seed: int = 0,
                          at_samples: Sequence[int] = ()) -> Dict:
  """Plays B games continuously (auto-reset) for `num_samples` samples, as training does.

  The Table 1 quantity for a fixed policy: the total terminal reward of the episodes that ended
  within the budget (one sample = one step of one game).

  Returns:
    dict: `cumulative` (at the end), `cumulative_at` {samples: total} for `at_samples`, `episodes`,
    `episode_reward` and `episode_length` (means over ended episodes), `success_rate`.
  """
  env = hunters.make_game(game, batch_size=batch_size, seed=seed)
  time_step = env.reset()
  marks = sorted(set(int(s) for s in at_samples))
  cumulative_at, total, samples = {}, 0.0, 0
  rewards, lengths, successes = [], [], []
  while samples < num_samples:
    time_step = env.step(np.asarray(action_fn(time_step)))
    samples += batch_size
    stats = env.pop_episode_stats()
    total += float(stats["total_reward"].sum())
    rewards.extend(stats["total_reward"].tolist())
    lengths.extend(stats["length"].tolist())
    successes.extend(stats["success"].tolist())
    while marks and samples >= marks[0]:
      cumulative_at[marks.pop(0)] = total
  return {"cumulative": total, "cumulative_at": cumulative_at, "episodes": len(rewards),
          "episode_reward": float(np.mean(rewards)) if rewards else float("nan"),
          "episode_length": float(np.mean(lengths)) if lengths else float("nan"),
          "success_rate": float(np.mean(successes)) if successes else float("nan"),
          "samples": samples, "batch_size": batch_size, "seed": seed}
