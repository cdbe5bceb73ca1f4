"""Other people's multi-agent games as batched TF-Agents environments, for MACE (issue 20).

Two kinds of game are read:

* `pettingzoo:<module>`: a PettingZoo `ParallelEnv` made by `<module>.parallel_env(**env_kwargs)`;
* `gymnasium:<id>`: a multi-agent Gymnasium environment with one entry per agent in `Tuple`
  observation and action spaces and a list of rewards (`gymnasium.make(id, **env_kwargs)`; an id
  `package:Name-v0` imports `package` first, as Level-Based Foraging's `lbforaging:Foraging-...`).

Every agent must act from a `Discrete` action space (all of the same size) and observe a `Box` (all
of the same shape). B copies are stepped as one batch (`ExternalGame`) with `HunterGame`'s
conventions: reward `[B, N]` per agent and per step, discount 0 on LAST, the step after a LAST is the
next episode's FIRST (its action ignored), statistics of finished episodes by `pop_episode_stats`.

The observation, as the vector encoder (`networks/encoders.py`) reads it:
* `agents [N, D]` float32: agent i's own observation, flattened (zeros once it has left);
* `state [S]` float32: the environment's `state()` where it has one, else every agent's observation
  joined;
* `active [N]` float32: 1 while the agent is in the game. An agent that leaves before the end is
  masked like a frozen hunter: its action is ignored, its terms drop out of the loss.

Unsupported, each one line: continuous actions, Dict (or other non-Box) observations, agents that
appear mid-episode. The games' own state is not checkpointed: a resumed run starts new episodes.
"""

import dataclasses
import importlib
import json
from typing import Any, Dict, List, Optional

import numpy as np
from tf_agents.specs import array_spec
from tf_agents.trajectories import time_step as ts

from mace_tf.envs import batched, rules

EXTERNAL = "external"
PREFIXES = ("pettingzoo", "gymnasium")


class UnsupportedEnvError(ValueError):
  """The environment is of a kind MACE cannot read here (the message says which)."""


@dataclasses.dataclass(frozen=True)
class ExternalConfig:
  """Which external game: `env` is `pettingzoo:<module>` or `gymnasium:<id>`, `env_kwargs` the
  constructor's keyword arguments as JSON text (an object). Validated on construction."""

  env: str
  env_kwargs: str = "{}"
  kind: str = EXTERNAL

  def __post_init__(self):
    prefix, _, name = self.env.partition(":")
    rules.require(prefix in PREFIXES and name,
                  f"--env must be pettingzoo:<module> or gymnasium:<id>, got {self.env!r}")
    try:
      kwargs = json.loads(self.env_kwargs)
    except ValueError as e:
      raise ValueError(f"--env_kwargs is not JSON ({e}): {self.env_kwargs!r}") from None
    rules.require(isinstance(kwargs, dict),
                  f"--env_kwargs must be a JSON object of keyword arguments, got {self.env_kwargs!r}")

  @property
  def kwargs(self) -> Dict[str, Any]:
    return json.loads(self.env_kwargs)

  @property
  def time_limit(self) -> int:
    """Unknown ahead of play (0): what only the hunter games' statistics use."""
    return 0


def _make_one(config: ExternalConfig):
  """One environment: ("pettingzoo", ParallelEnv) or ("gymnasium", Env)."""
  prefix, _, name = config.env.partition(":")
  if prefix == "pettingzoo":
    try:
      module = importlib.import_module(name)
    except ImportError as e:
      raise ValueError(f"--env={config.env}: cannot import {name} ({e})") from None
    if not callable(getattr(module, "parallel_env", None)):
      raise ValueError(f"--env={config.env}: module {name} has no parallel_env(**kwargs)")
    return prefix, module.parallel_env(**config.kwargs)
  import gymnasium  # pylint: disable=g-import-not-at-top (an optional extra)
  try:
    return prefix, gymnasium.make(name, disable_env_checker=True, **config.kwargs)
  except gymnasium.error.Error as e:
    raise ValueError(f"--env={config.env}: {e}") from None
  except ModuleNotFoundError as e:
    raise ValueError(f"--env={config.env}: cannot import {e.name} ({e})") from None


def _spaces(kind: str, env, env_name: str):
  """(agent names, Box observation spaces, Discrete action spaces), checked."""
  import gymnasium  # pylint: disable=g-import-not-at-top
  if kind == "pettingzoo":
    agents = list(env.possible_agents)
    observations = [env.observation_space(a) for a in agents]
    actions = [env.action_space(a) for a in agents]
  else:
    rules.require(isinstance(env.observation_space, gymnasium.spaces.Tuple)
                  and isinstance(env.action_space, gymnasium.spaces.Tuple),
                  f"{env_name}: not a multi-agent game: observation and action spaces must be "
                  f"Tuples with one entry per agent, got {env.observation_space} and "
                  f"{env.action_space}")
    observations, actions = list(env.observation_space), list(env.action_space)
    agents = [f"agent_{i}" for i in range(len(actions))]
  for space in actions:
    if not isinstance(space, gymnasium.spaces.Discrete):
      raise UnsupportedEnvError(f"{env_name}: unsupported: continuous or non-Discrete actions "
                                f"({space}); MACE's heads are categorical")
  for space in observations:
    if not isinstance(space, gymnasium.spaces.Box):
      raise UnsupportedEnvError(f"{env_name}: unsupported: a {type(space).__name__} observation "
                                f"({space}); only Box observations are read")
  rules.require(len({a.n for a in actions}) == 1, f"{env_name}: the agents' action spaces differ "
                                                  f"in size: {[a.n for a in actions]}")
  rules.require(len({o.shape for o in observations}) == 1,
                f"{env_name}: the agents' observation shapes differ: "
                f"{[o.shape for o in observations]}")
  return agents, observations, actions


class ExternalGame(batched.BatchedGame):
  """B copies of an external game, stepped as one batch: see the module doc."""

  def __init__(self, config: ExternalConfig, *, batch_size: int = 1, seed: Optional[int] = None):
    super().__init__(batch_size)
    self.config = config
    made = [_make_one(config) for _ in range(self._b)]
    self._kind = made[0][0]
    self._envs = [env for _, env in made]
    self._agents, obs_spaces, act_spaces = _spaces(self._kind, self._envs[0], config.env)
    self._n = len(self._agents)
    self._obs_dim = int(np.prod(obs_spaces[0].shape))
    self._num_actions = int(act_spaces[0].n)
    self._has_state = self._kind == "pettingzoo" and _has_state(self._envs[0])
    self._state_dim = (int(np.prod(self._envs[0].state_space.shape)) if self._has_state
                       else self._n * self._obs_dim)
    self._seed = seed
    self._resets = 0
    self._obs = np.zeros((self._b, self._n, self._obs_dim), np.float32)
    self._state = np.zeros((self._b, self._state_dim), np.float32)
    self._active = np.zeros((self._b, self._n), bool)
    self._last = np.zeros(self._b, bool)
    self._return = np.zeros(self._b, np.float32)
    self._length = np.zeros(self._b, np.int32)

  @property
  def agent_names(self) -> List[str]:
    return list(self._agents)

  def action_spec(self):
    return array_spec.BoundedArraySpec((self._n,), np.int32, 0, self._num_actions - 1, "action")

  def observation_spec(self):
    return {"agents": array_spec.ArraySpec((self._n, self._obs_dim), np.float32, "agents"),
            "state": array_spec.ArraySpec((self._state_dim,), np.float32, "state"),
            "active": array_spec.ArraySpec((self._n,), np.float32, "active")}

  def reward_spec(self):
    return array_spec.ArraySpec((self._n,), np.float32, "reward")

  # --- one copy ------------------------------------------------------------------------------

  def _reset_copy(self, b: int) -> None:
    seed = None if self._seed is None else self._seed * 100_003 + self._resets
    self._resets += 1
    env = self._envs[b]
    obs, _ = env.reset(seed=seed)
    if self._kind == "pettingzoo":
      self._read(b, obs, set(env.agents), first=True)
    else:
      self._read(b, dict(zip(self._agents, obs)), set(self._agents), first=True)
    self._return[b], self._length[b] = 0.0, 0

  def _step_copy(self, b: int, action: np.ndarray):
    """Steps copy b: (rewards [N], done)."""
    env = self._envs[b]
    rewards = np.zeros(self._n, np.float32)
    if self._kind == "pettingzoo":
      acting = {a: int(action[i]) for i, a in enumerate(self._agents) if self._active[b, i]}
      obs, reward, terminated, truncated, _ = env.step(acting)
      for i, a in enumerate(self._agents):
        rewards[i] = float(reward.get(a, 0.0))
      live = set(env.agents)
      done = not live or all(terminated.get(a, False) or truncated.get(a, False)
                             for i, a in enumerate(self._agents) if self._active[b, i])
      self._read(b, obs, live if not done else set(), first=False)
    else:
      obs, reward, terminated, truncated, _ = env.step(tuple(int(a) for a in action))
      rewards[:] = np.asarray(reward, np.float32).reshape(-1)[: self._n]
      done = bool(np.all(terminated)) or bool(np.all(truncated))
      self._read(b, dict(zip(self._agents, obs)), set() if done else set(self._agents), first=False)
    return rewards, done

  def _read(self, b: int, obs: Dict[str, Any], live, *, first: bool) -> None:
    new = set() if first else {a for i, a in enumerate(self._agents)
                                if a in live and not self._active[b, i]}
    if new:
      raise UnsupportedEnvError(f"{self.config.env}: unsupported: agents that appear mid-episode "
                                f"({sorted(new)})")
    for i, a in enumerate(self._agents):
      if a in obs:
        self._obs[b, i] = np.asarray(obs[a], np.float32).reshape(-1)
      if a not in live:
        self._obs[b, i] = 0.0
      self._active[b, i] = a in live
    self._state[b] = (np.asarray(self._envs[b].state(), np.float32).reshape(-1) if self._has_state
                      else self._obs[b].reshape(-1))

  # --- the batch -----------------------------------------------------------------------------

  def _time_step(self, step_type, reward, discount) -> ts.TimeStep:
    return ts.TimeStep(step_type=step_type.astype(np.int32), reward=reward.astype(np.float32),
                       discount=discount.astype(np.float32),
                       observation={"agents": self._obs.copy(), "state": self._state.copy(),
                                    "active": self._active.astype(np.float32)})

  def _reset(self) -> ts.TimeStep:
    for b in range(self._b):
      self._reset_copy(b)
    self._last[:] = False
    return self._time_step(np.full(self._b, ts.StepType.FIRST), np.zeros((self._b, self._n)),
                           np.ones(self._b))

  def _step(self, action) -> ts.TimeStep:
    action = np.asarray(action)
    rules.require(action.shape == (self._b, self._n),
                  f"action must have shape [batch_size, agents] = {[self._b, self._n]}, got "
                  f"{list(action.shape)}")
    reward = np.zeros((self._b, self._n), np.float32)
    done = np.zeros(self._b, bool)
    restart = self._last.copy()
    for b in range(self._b):
      if restart[b]:
        self._reset_copy(b)
        continue
      reward[b], done[b] = self._step_copy(b, action[b])
      self._return[b] += reward[b].sum()
      self._length[b] += 1
    if done.any():
      self.record_finished({
          "total_reward": self._return[done].copy(), "length": self._length[done].copy(),
          "success": np.zeros(int(done.sum()), bool),
          "stags_captured": np.zeros(int(done.sum()), np.int32),
          "hares_captured": np.zeros(int(done.sum()), np.int32)})
    self._last = done
    step_type = np.where(restart, ts.StepType.FIRST, np.where(done, ts.StepType.LAST,
                                                              ts.StepType.MID))
    return self._time_step(step_type, reward, np.where(done, 0.0, 1.0))

  def pop_episode_stats(self) -> Dict[str, np.ndarray]:
    """Statistics of the episodes finished since the last call: `total_reward` (the episode's
    return summed over agents), `length`; `success`, `stags_captured`, `hares_captured` are the
    hunter games' and stay 0 here."""
    return super().pop_episode_stats()

  def render(self, mode: str = "rgb_array", game: int = 0, cell_pixels=None):
    """Copy `game`'s RGB frame, or None unless the env was made with render_mode="rgb_array" (pass
    it in --env_kwargs): other modes open windows."""
    env = self._envs[game]
    if getattr(env, "render_mode", None) != "rgb_array":
      return None
    frame = env.render()
    return frame if isinstance(frame, np.ndarray) else None

  def close(self) -> None:
    for env in self._envs:
      env.close()


def _has_state(env) -> bool:
  """Whether a PettingZoo env gives a global `state()` (asked after a reset: some need one)."""
  if getattr(env, "state_space", None) is None:
    return False
  env.reset(seed=0)
  try:
    env.state()
  except NotImplementedError:
    return False
  return True
