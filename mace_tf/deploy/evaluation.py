"""Playing whole episodes with a policy and summarizing them (mean, 95% interval, distributions)."""

import collections
import math
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from mace_tf.envs import hunters, rules


def play_episodes(action_fn: Callable, game: rules.GameConfig, *, episodes: int, seed: int,
                  record_game: Optional[int] = None, cell_pixels: Optional[int] = None,
                  on_step: Optional[Callable] = None,
                  on_last: Optional[Callable] = None,
                  stag_den: Optional[int] = None) -> Tuple[Dict[str, np.ndarray], List]:
  """Plays `episodes` episodes, one per game of a batch, with `action_fn(time_step) -> [B, N]`.

  Each game's first episode counts (the batch auto-resets, later episodes are cut off), so every
  episode starts from the same seeded distribution whatever its length.

  Args:
    action_fn: maps the batched TimeStep (reward `[B, N]`) to actions `[B, N]`.
    game: the game.
    episodes: K, the number of episodes (= games in the batch).
    seed: seeds the start positions (and the prey's moves).
    record_game: if set, the frames of that game's episode are rendered.
    cell_pixels: frame scale (default ~400 px).
    on_step: if set, `on_step(env, time_step, action, playing)` before each step, the env still in
      the state the action is taken in; `playing [B]`: the games whose first episode goes on.
    on_last: if set, `on_last(env, last)` after a step that ended first episodes (`last [B]`), the
      env in their terminal states.
    stag_den: the dens game only: the stag hides in this den, the adversary replaced.

  Returns:
    (per-episode arrays `[K]` keyed as `rules.episode_statistics`: total_reward, length, success,
    stags_captured, hares_captured; the recorded frames, [] if none).
  """
  if episodes < 1:
    raise ValueError(f"episodes must be >= 1, got {episodes}")
  env = hunters.make_game(game, batch_size=episodes, seed=seed, stag_den=stag_den)
  time_step = env.reset()
  frames = [env.render(game=record_game, cell_pixels=cell_pixels)] if record_game is not None else []
  finished = np.zeros(episodes, dtype=bool)
  results = collections.defaultdict(lambda: np.zeros(episodes))
  while not finished.all():
    action = np.asarray(action_fn(time_step))
    if on_step is not None:
      on_step(env, time_step, action, ~finished)
    time_step = env.step(action)
    if record_game is not None and not finished[record_game]:
      frames.append(env.render(game=record_game, cell_pixels=cell_pixels))
    last = time_step.is_last() & ~finished
    ended = env.pop_episode_stats()  # the episodes that ended in this step, in game order
    if last.any():
      for k, v in ended.items():
        results[k][last] = v[last[time_step.is_last()]]
      if on_last is not None:
        on_last(env, last)
      finished |= last
  per_episode = {k: results[k].astype(rules.EPISODE_STAT_DTYPES[k]) for k in rules.EPISODE_STAT_DTYPES}
  return per_episode, frames


def mean_interval(values, z: float = 1.96) -> Tuple[float, float, float]:
  """(mean, low, high): the mean and its normal-approximation 95% interval, mean +- z * s / sqrt(K)."""
  values = np.asarray(values, dtype=np.float64)
  mean = float(values.mean())
  if values.size < 2:
    return mean, float("nan"), float("nan")
  half = z * float(values.std(ddof=1)) / math.sqrt(values.size)
  return mean, mean - half, mean + half


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> Tuple[float, float]:
  """The Wilson score 95% interval of a proportion (sound at 0 and 1, where the normal one is not)."""
  p = successes / trials
  centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
  half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
  return max(0.0, centre - half), min(1.0, centre + half)


def per_den_capture(make_action_fn: Callable, game: rules.GameConfig, *, episodes: int,
                    seed: int) -> Dict:
  """The team's value against a best-responding stag (the dens game): `episodes` episodes with the
  stag fixed in each den in turn (`make_action_fn()` gives each den a fresh policy, so a seeded
  sampling policy plays the same draws in every den).

  Returns `{"per_den": [{"den", "capture_rate", "capture_rate_ci95"}, ...],
  "worst_den_capture_rate": the minimum over dens}`: what an adversary that knew the team's policy
  would leave it.
  """
  if game.kind != rules.DENS:
    raise ValueError(f"per-den capture rates are for the dens game, not {game.kind!r}")
  rows = []
  for den in range(game.num_prey):
    per_episode, _ = play_episodes(make_action_fn(), game, episodes=episodes, seed=seed,
                                   stag_den=den)
    caught = int(per_episode["success"].sum())
    rows.append({"den": den, "capture_rate": caught / episodes,
                 "capture_rate_ci95": list(wilson_interval(caught, episodes))})
  return {"per_den": rows, "worst_den_capture_rate": min(r["capture_rate"] for r in rows)}


def summarize(per_episode: Dict[str, np.ndarray]) -> Dict:
  """Mean terminal reward with its 95% interval, success rate (with its interval), prey captured,
  and the episode-length distribution of `play_episodes`' output."""
  reward, low, high = mean_interval(per_episode["total_reward"])
  success, s_low, s_high = mean_interval(per_episode["success"].astype(np.float64))
  length = per_episode["length"].astype(np.int64)
  values, counts = np.unique(length, return_counts=True)
  return {
      "episodes": int(length.size),
      "terminal_reward_mean": reward,
      "terminal_reward_ci95": [low, high],
      "success_rate": success,
      "success_rate_ci95": [s_low, s_high],
      "stags_captured_mean": float(per_episode["stags_captured"].mean()),
      "hares_captured_mean": float(per_episode["hares_captured"].mean()),
      "episode_length": {
          "mean": float(length.mean()), "min": int(length.min()), "max": int(length.max()),
          "p10": float(np.percentile(length, 10)), "median": float(np.median(length)),
          "p90": float(np.percentile(length, 90)),
          "counts": {str(int(v)): int(c) for v, c in zip(values, counts)},
      },
  }
