"""The hunter games (and the hidden-stag game) as PettingZoo parallel environments (issue 20).

    from mace_tf.envs import pettingzoo as pz
    env = pz.parallel_env(game="stag", num_hunters=10, num_prey=10)
    observations, infos = env.reset(seed=0)
    observations, rewards, terminations, truncations, infos = env.step(
        {agent: env.action_space(agent).sample() for agent in env.agents})

`parallel_env(game, **game_kwargs)` takes the keyword arguments of `HareHunters` ("hare"),
`StagHunters` ("stag") or `HiddenStag` ("dens"), and plays one game of that class (batch 1): the
rules stay in `rules.py`, and this module only re-expresses its time steps.

* Agents: `hunter_0` ... `hunter_{N-1}`; actions `Discrete(5)` (stay, up, down, left, right).
* Observations: agent i sees the whole board from its own cell: the `[G, G, 4]` observation grid
  (`observation.py`) rolled so that its cell is the centre `(G // 2, G // 2)`, flattened, then its
  own active flag and the fraction of time left: a float32 `Box` of `G * G * 4 + 2`.
* `state()`: the full observation, agent-free: the grid, every hunter's `(x, y, active)` and the
  time left, flattened (float32, `state_space`).
* Rewards: each hunter's own (all zero before an episode's last step, rules.py).
* A frozen hunter (one that has hit a prey) stays in `agents` until the episode ends: it still
  receives the episode's terminal reward. Its actions are ignored (any action is accepted, as is
  leaving it out of the dict).
* Terminations and truncations: every agent leaves together at the episode's end. The game ended by
  its rules (every prey captured, every hunter frozen; the dens game's end at T) is a termination;
  the time limit T of Hare- and Stag-Hunters, reached with prey left and hunters active, is a
  truncation. `agents` is then empty until the next `reset`.
* `render()`: an RGB array `[H, W, 3]` uint8 (`render.py`).
"""

import functools
from typing import Any, Dict, Optional

import gymnasium
import numpy as np
from pettingzoo.utils.env import ParallelEnv

from mace_tf.envs import hunters, observation as observation_lib, rules

GAME_CLASSES = {rules.HARE: hunters.HareHunters, rules.STAG: hunters.StagHunters,
                rules.DENS: hunters.HiddenStag}


def parallel_env(game: str = rules.STAG, render_mode: Optional[str] = "rgb_array",
                 **game_kwargs) -> "HunterParallelEnv":
  """A `ParallelEnv` of `game` ("hare", "stag" or "dens") built with `game_kwargs` (the keyword
  arguments of `HareHunters`, `StagHunters` or `HiddenStag`; not `batch_size` or `seed`: seed with
  `reset(seed=...)`)."""
  if game not in GAME_CLASSES:
    raise ValueError(f"game must be one of {sorted(GAME_CLASSES)}, got {game!r}")
  for name in ("batch_size", "seed"):
    if name in game_kwargs:
      raise ValueError(f"{name} is not a game setting here: a ParallelEnv plays one game"
                       + (", seeded by reset(seed=...)" if name == "seed" else ""))
  return HunterParallelEnv(GAME_CLASSES[game](**game_kwargs), render_mode=render_mode)


class HunterParallelEnv(ParallelEnv):
  """One `HunterGame` as a PettingZoo `ParallelEnv`: see the module doc."""

  metadata = {"render_modes": ["rgb_array"], "name": "mace_tf_hunters_v0",
              "is_parallelizable": True}

  def __init__(self, game: hunters.HunterGame, render_mode: Optional[str] = "rgb_array"):
    if render_mode not in (None, "rgb_array"):
      raise ValueError(f"render_mode must be 'rgb_array' or None, got {render_mode!r}")
    if game.batch_size != 1:
      raise ValueError(f"a ParallelEnv plays one game: batch_size must be 1, got {game.batch_size}")
    self.render_mode = render_mode
    self._game = game
    c = game.config
    self.config = c
    self.possible_agents = [f"hunter_{i}" for i in range(c.num_hunters)]
    self.agents = []
    g = c.grid_size
    self._grid_size = g * g * len(observation_lib.GRID_CHANNELS)
    self._observation_space = gymnasium.spaces.Box(0.0, 255.0, (self._grid_size + 2,), np.float32)
    self._action_space = gymnasium.spaces.Discrete(rules.NUM_ACTIONS)
    self.state_space = gymnasium.spaces.Box(
        0.0, float(max(255, g)), (self._grid_size + 3 * c.num_hunters + 1,), np.float32)
    self._time_step = None

  @functools.lru_cache(maxsize=None)
  def observation_space(self, agent):
    return self._observation_space

  @functools.lru_cache(maxsize=None)
  def action_space(self, agent):
    return self._action_space

  def reset(self, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None):
    if seed is not None:
      self._game.seed(int(seed))
    self._time_step = self._game.reset()
    self.agents = list(self.possible_agents)
    return self._observations(), {a: {} for a in self.agents}

  def reset_to(self, hunter_pos, prey_pos, stag_den=None):
    """Starts an episode from hand-built positions (`HunterGame.reset_to`'s, without the batch
    axis: `[N, 2]`, `[M, 2]`), for scenarios and tests; returns `reset`'s (observations, infos)."""
    stag_den = None if stag_den is None else np.array([stag_den])
    self._time_step = self._game.reset_to(np.asarray(hunter_pos)[None], np.asarray(prey_pos)[None],
                                          stag_den)
    self.agents = list(self.possible_agents)
    return self._observations(), {a: {} for a in self.agents}

  def step(self, actions: Dict[str, Any]):
    if not self.agents:
      raise RuntimeError("step() after the episode ended: call reset() first")
    unknown = sorted(set(actions) - set(self.possible_agents))
    if unknown:
      raise ValueError(f"actions for agents this game does not have: {unknown}")
    joint = np.zeros((1, len(self.possible_agents)), np.int32)
    for i, agent in enumerate(self.possible_agents):
      if agent in actions:
        joint[0, i] = int(actions[agent])
    self._time_step = self._game.step(joint)
    reward = self._time_step.reward[0]
    rewards = {a: float(reward[i]) for i, a in enumerate(self.possible_agents)}
    done = bool(self._time_step.is_last()[0])
    truncated = done and self._truncated()
    terminations = {a: done and not truncated for a in self.agents}
    truncations = {a: truncated for a in self.agents}
    observations = self._observations()
    infos = {a: {} for a in self.agents}
    if done:
      self.agents = []
    return observations, rewards, terminations, truncations, infos

  def _truncated(self) -> bool:
    """The episode ended at the time limit only (Hare- and Stag-Hunters): a truncation."""
    c = self.config
    if c.kind == rules.DENS:
      return False
    s = self._game.game_state()
    ended_by_rules = bool((s["prey_hp"][0] == 0).all() or not s["hunter_active"][0].any())
    return not ended_by_rules

  def _observations(self) -> Dict[str, np.ndarray]:
    obs = self._time_step.observation
    grid = obs["grid"][0].astype(np.float32)  # [G, G, 4], rows y, columns x
    hunters_ = obs["hunters"][0]
    time_left = obs["time_left"][0].astype(np.float32)
    centre = self.config.grid_size // 2
    out = {}
    for i, agent in enumerate(self.possible_agents):
      x, y, active = hunters_[i]
      own = np.roll(grid, (centre - y, centre - x), axis=(0, 1))
      out[agent] = np.concatenate([own.ravel(), [float(active)], time_left]).astype(np.float32)
    return out

  def state(self) -> np.ndarray:
    obs = self._time_step.observation
    return np.concatenate([obs["grid"][0].ravel(), obs["hunters"][0].ravel(),
                           obs["time_left"][0]]).astype(np.float32)

  def render(self):
    if self.render_mode is None:
      return None
    return self._game.render(game=0)

  def close(self):
    pass
