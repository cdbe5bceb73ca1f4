"""What the project's batched games share: B games stepped as one TF-Agents `PyEnvironment`, and
the statistics of the episodes they finished, handed out once."""

from typing import Dict

import numpy as np
from tf_agents.environments import py_environment

from mace_tf.envs import rules


class BatchedGame(py_environment.PyEnvironment):
  """A batched `PyEnvironment` of `batch_size` games. A subclass sets `self._b` and calls
  `record_finished` with each step's finished episodes; `EPISODE_STATS` names its statistics."""

  EPISODE_STATS: Dict[str, type] = rules.EPISODE_STAT_DTYPES

  def __init__(self, batch_size: int):
    super().__init__(handle_auto_reset=False)
    self._b = rules.require_int("batch_size", batch_size, 1)
    self._finished = []

  @property
  def batched(self) -> bool:
    return True

  @property
  def batch_size(self) -> int:
    return self._b

  def record_finished(self, stats: Dict[str, np.ndarray]) -> None:
    """Keeps the statistics (`[num_finished]` arrays, `EPISODE_STATS`' keys) of episodes that
    ended in this step."""
    self._finished.append(stats)

  def pop_episode_stats(self) -> Dict[str, np.ndarray]:
    """The statistics of the episodes finished since the last call, as `[num_episodes]` arrays
    (`EPISODE_STATS`' keys; see the subclass for what each means)."""
    finished, self._finished = self._finished, []
    if not finished:
      return {k: np.zeros(0, dtype) for k, dtype in self.EPISODE_STATS.items()}
    return {k: np.concatenate([f[k] for f in finished]) for k in self.EPISODE_STATS}
