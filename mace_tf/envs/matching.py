"""A toy game with vector observations, for the observation-encoder seam (`networks/encoders.py`).

The matching game, B batched games of N agents and A actions, episodes of T steps. Each step shows a
target action (uniform over A) to every agent; the step pays 1 to every agent if every active agent
plays the target, else 0. Agent N - 1 sits out the odd steps (`active` 0 there: its action is
ignored, as a frozen hunter's). Observations: `agents [N, A + N]` (the target one-hot and the
agent's own one-hot), `state [A]` (the target one-hot), `active [N]`. It follows `HunterGame`'s
conventions: reward `[B, N]`, the step after a LAST is the next episode's FIRST (its action
ignored), episode statistics by `pop_episode_stats`. A learner has learned it when every step pays.
"""

from typing import Dict, Optional

import numpy as np
from tf_agents.specs import array_spec
from tf_agents.trajectories import time_step as ts

from mace_tf.envs import batched


class MatchingGame(batched.BatchedGame):
  """B matching games; see the module doc. Episode statistics: `total_reward` (summed over agents
  and steps) and `length`."""

  EPISODE_STATS = {"total_reward": np.float32, "length": np.int32}

  def __init__(self, *, num_agents: int = 3, num_actions: int = 4, episode_length: int = 4,
               batch_size: int = 8, seed: Optional[int] = None):
    if min(num_agents, num_actions, episode_length, batch_size) < 1:
      raise ValueError("num_agents, num_actions, episode_length and batch_size must be >= 1")
    super().__init__(batch_size)
    self._n, self._a, self._t_max = num_agents, num_actions, episode_length
    self._rng = np.random.default_rng(seed)
    self._t = np.zeros(batch_size, np.int32)
    self._target = np.zeros(batch_size, np.int32)
    self._last = np.zeros(batch_size, bool)
    self._return = np.zeros(batch_size, np.float32)

  def action_spec(self):
    return array_spec.BoundedArraySpec((self._n,), np.int32, 0, self._a - 1, "action")

  def observation_spec(self):
    return {"agents": array_spec.ArraySpec((self._n, self._a + self._n), np.float32, "agents"),
            "state": array_spec.ArraySpec((self._a,), np.float32, "state"),
            "active": array_spec.ArraySpec((self._n,), np.float32, "active")}

  def reward_spec(self):
    return array_spec.ArraySpec((self._n,), np.float32, "reward")

  def active(self) -> np.ndarray:
    """`[B, N]` bool: agent N - 1 sits out odd steps."""
    active = np.ones((self._b, self._n), bool)
    active[:, -1] = self._t % 2 == 0
    return active

  def _observation(self) -> Dict[str, np.ndarray]:
    target = np.eye(self._a, dtype=np.float32)[self._target]  # [B, A]
    own = np.broadcast_to(np.eye(self._n, dtype=np.float32), (self._b, self._n, self._n))
    agents = np.concatenate([np.repeat(target[:, None], self._n, axis=1), own], axis=-1)
    return {"agents": agents, "state": target, "active": self.active().astype(np.float32)}

  def _time_step(self, step_type, reward, discount):
    return ts.TimeStep(step_type.astype(np.int32), reward.astype(np.float32),
                       discount.astype(np.float32), self._observation())

  def _reset(self):
    self._t[:] = 0
    self._target = self._rng.integers(0, self._a, self._b).astype(np.int32)
    self._last[:] = False
    self._return[:] = 0
    return self._time_step(np.full(self._b, ts.StepType.FIRST), np.zeros((self._b, self._n)),
                           np.ones(self._b))

  def _step(self, action):
    action = np.asarray(action)
    restart = self._last.copy()
    matched = np.all((action == self._target[:, None]) | ~self.active(), axis=1)  # [B]
    reward = np.where(restart, 0.0, matched.astype(np.float32))[:, None].repeat(self._n, axis=1)
    self._return += reward[:, 0] * self._n
    self._t = np.where(restart, 0, self._t + 1)
    done = ~restart & (self._t >= self._t_max)
    if done.any():
      self.record_finished({"total_reward": self._return[done].copy(),
                            "length": self._t[done].copy()})
    self._return[done] = 0.0  # recorded above; the restart step after it pays nothing
    self._target = self._rng.integers(0, self._a, self._b).astype(np.int32)
    step_type = np.where(restart, ts.StepType.FIRST,
                         np.where(done, ts.StepType.LAST, ts.StepType.MID))
    self._last = done
    return self._time_step(step_type, reward, np.where(done, 0.0, 1.0))
