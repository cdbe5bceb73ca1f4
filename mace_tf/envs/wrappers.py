"""Wrappers around the hunter games."""

import numpy as np
from tf_agents.environments import wrappers
from tf_agents.specs import array_spec
from tf_agents.trajectories import time_step as ts


class TeamRewardWrapper(wrappers.PyEnvironmentBaseWrapper):
  """Sums the per-hunter rewards `[B, N]` into one team reward `[B]` for single-reward agents."""

  def reward_spec(self):
    return array_spec.ArraySpec((), np.float32, "reward")

  def time_step_spec(self):
    return ts.time_step_spec(self.observation_spec(), self.reward_spec())

  @staticmethod
  def _sum(time_step: ts.TimeStep) -> ts.TimeStep:
    return time_step._replace(reward=np.sum(time_step.reward, axis=-1, dtype=np.float32))

  def _reset(self):
    return self._sum(self._env.reset())

  def reset_to(self, hunter_pos, prey_pos) -> ts.TimeStep:
    """As `HunterGame.reset_to`, through the wrapper (so that its next `step` continues from it)."""
    self._current_time_step = self._sum(self._env.reset_to(hunter_pos, prey_pos))
    return self._current_time_step

  def _step(self, action):
    return self._sum(self._env.step(action))
