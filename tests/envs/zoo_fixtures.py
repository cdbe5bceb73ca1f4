"""Tiny PettingZoo games that MACE cannot read (`--env=pettingzoo:tests.envs.zoo_fixtures`), each
unsupported in one way, and one it can whose agents leave early: `parallel_env(kind=...)`."""

import functools

import gymnasium
import numpy as np
from pettingzoo.utils.env import ParallelEnv


def parallel_env(kind: str = "leaving"):
  return _Game(kind)


class _Game(ParallelEnv):
  """Two agents, episodes of 4 steps; reward 1 each step to each agent that plays action 1.

  kind: "continuous" (Box actions), "dict" (Dict observations), "appearing" (agent_1 joins at step
  2), "leaving" (agent_1 leaves after step 2: supported, masked like a frozen hunter)."""

  metadata = {"name": "zoo_fixture_v0"}

  def __init__(self, kind):
    self.kind = kind
    self.possible_agents = ["agent_0", "agent_1"]
    self.agents = []
    self._t = 0

  @functools.lru_cache(maxsize=None)
  def observation_space(self, agent):
    box = gymnasium.spaces.Box(0.0, 4.0, (2,), np.float32)
    return gymnasium.spaces.Dict({"x": box}) if self.kind == "dict" else box

  @functools.lru_cache(maxsize=None)
  def action_space(self, agent):
    if self.kind == "continuous":
      return gymnasium.spaces.Box(-1.0, 1.0, (1,), np.float32)
    return gymnasium.spaces.Discrete(2)

  def _obs(self):
    return {a: np.array([self._t, i], np.float32) for i, a in enumerate(self.agents)}

  def reset(self, seed=None, options=None):
    self._t = 0
    self.agents = ["agent_0"] if self.kind == "appearing" else list(self.possible_agents)
    return self._obs(), {a: {} for a in self.agents}

  def step(self, actions):
    self._t += 1
    rewards = {a: float(actions.get(a, 0) == 1) for a in self.agents}
    done = self._t >= 4
    leaving = self.kind == "leaving" and self._t == 2
    terminations = {a: done or (leaving and a == "agent_1") for a in self.agents}
    truncations = {a: False for a in self.agents}
    obs = self._obs()
    infos = {a: {} for a in self.agents}
    if self.kind == "appearing" and self._t == 2:
      self.agents = list(self.possible_agents)
    self.agents = [a for a in self.agents if not terminations.get(a, False)]
    return obs, rewards, terminations, truncations, infos
