"""HareHunters and StagHunters: batched TF-Agents environments over the rules in `rules.py`.

B independent games are stepped together (`batched=True`), vectorized in numpy. A game whose last
step was LAST is reset by the next `step` (its action ignored, a FIRST time step returned), while the
other games of the batch go on.

Time steps: `step_type [B]`, `reward [B, N]` (one reward per hunter, non-zero only on LAST steps),
`discount [B]` (0 on LAST: the time left is part of the observation, so a time-out is a true
terminal state), `observation` as documented in `observation.py`.
"""

import dataclasses
import json
from typing import Any, Dict, Optional

import numpy as np
from tf_agents.specs import array_spec
from tf_agents.trajectories import time_step as ts

from mace_tf.envs import observation as observation_lib
from mace_tf.envs import render as render_lib
from mace_tf.envs import batched, rules


class HunterGame(batched.BatchedGame):
  """B games of one `GameConfig`; the common base of `HareHunters` and `StagHunters`."""

  def __init__(self, config: rules.GameConfig, *, batch_size: int = 1, seed: Optional[int] = None,
               stag_den: Optional[int] = None):
    """`stag_den` (dens game only): hide the stag in that den in every episode, the adversary
    replaced (how evaluation measures the team's value per den)."""
    super().__init__(batch_size)
    self._config = config
    if stag_den is not None:
      rules.require(config.kind == rules.DENS, f"stag_den is for the dens game, not {config.kind!r}")
      rules.require_int("stag_den", stag_den, 0, config.num_prey - 1)
    self._stag_den = stag_den
    if seed is not None:
      rules.require_int("seed", seed, 0)
    self._rng = np.random.default_rng(seed)
    self._action_spec = array_spec.BoundedArraySpec(
        (config.num_hunters,), np.int32, 0, rules.NUM_ACTIONS - 1, "action")
    self._observation_spec = observation_lib.observation_spec(config)
    self._reward_spec = array_spec.ArraySpec((config.num_hunters,), np.float32, "reward")
    self._state: Optional[rules.GameState] = None
    self._last = np.zeros(self._b, dtype=bool)

  # --- specs ---------------------------------------------------------------------------------

  @property
  def config(self) -> rules.GameConfig:
    return self._config

  def action_spec(self):
    return self._action_spec

  def observation_spec(self):
    return self._observation_spec

  def reward_spec(self):
    return self._reward_spec

  # --- stepping ------------------------------------------------------------------------------

  def _time_step(self, step_type: np.ndarray, reward: np.ndarray,
                 discount: np.ndarray) -> ts.TimeStep:
    return ts.TimeStep(
        step_type=step_type.astype(np.int32),
        reward=reward.astype(np.float32),
        discount=discount.astype(np.float32),
        observation=observation_lib.encode(self._config, self._state),
    )

  def _first_time_step(self) -> ts.TimeStep:
    b, n = self._b, self._config.num_hunters
    self._last[:] = False
    return self._time_step(np.full(b, ts.StepType.FIRST), np.zeros((b, n)), np.ones(b))

  def _reset(self) -> ts.TimeStep:
    self._state = rules.random_state(self._config, self._rng, self._b)
    if self._stag_den is not None:
      self._state.stag_den[:] = self._stag_den
    return self._first_time_step()

  def reset_to(self, hunter_pos, prey_pos, stag_den=None) -> ts.TimeStep:
    """Starts every game of the batch from explicit positions and returns the FIRST time step.

    Args:
      hunter_pos: int array `[B, N, 2]` of hunter (x, y) positions in `[0, G)`.
      prey_pos: int array `[B, M, 2]` of prey positions, prey in index order (in Stag-Hunters the
        first M/2 are the stags; in the dens game the dens).
      stag_den: dens game: the den hiding the stag, an int or `[B]` (default 0); the adversary's
        memory starts empty.

    Entities may share cells here (random resets never do): hand-built scenarios are free to.
    """
    c = self._config
    hunter_pos = self._check_positions("hunter_pos", hunter_pos, c.num_hunters)
    prey_pos = self._check_positions("prey_pos", prey_pos, c.num_prey)
    if c.kind == rules.DENS:
      stag_den = np.broadcast_to(0 if stag_den is None else stag_den, (self._b,))
      rules.require(bool(((stag_den >= 0) & (stag_den < c.num_prey)).all()),
                    f"stag_den must lie in [0, num_prey) = [0, {c.num_prey}), got {stag_den}")
    else:
      rules.require(stag_den is None, f"stag_den is for the dens game, not {c.kind!r}")
    self._state = rules.initial_state(c, hunter_pos, prey_pos, stag_den)
    self._current_time_step = self._first_time_step()
    return self._current_time_step

  def _check_positions(self, name: str, pos, count: int) -> np.ndarray:
    pos = np.asarray(pos)
    shape = (self._b, count, 2)
    rules.require(pos.shape == shape, f"{name} must have shape {list(shape)} (batch_size, "
                   f"{'num_hunters' if name == 'hunter_pos' else 'num_prey'}, 2), got {list(pos.shape)}")
    rules.require(pos.dtype.kind in "iu", f"{name} must be an integer array, got dtype {pos.dtype}")
    g = self._config.grid_size
    rules.require(bool(((pos >= 0) & (pos < g)).all()),
                   f"{name} must lie in [0, grid_size) = [0, {g}), got values in "
                   f"[{pos.min()}, {pos.max()}]")
    return pos.astype(np.int32)

  def _check_action(self, action) -> np.ndarray:
    action = np.asarray(action)
    n, b = self._config.num_hunters, self._b
    if action.shape == (n,):
      # One joint action for every game (what `validate_py_environment`'s unbatched policy sends).
      action = np.broadcast_to(action, (b, n))
    rules.require(action.shape == (b, n), f"action must have shape [batch_size, num_hunters] = "
                   f"{[b, n]} (or [num_hunters] for all games), got {list(action.shape)}")
    rules.require(action.dtype.kind in "iu", f"action must be an integer array, got dtype "
                   f"{action.dtype}")
    rules.require(bool(((action >= 0) & (action < rules.NUM_ACTIONS)).all()),
                   f"action values must be in 0..{rules.NUM_ACTIONS - 1}, got values in "
                   f"[{action.min()}, {action.max()}]")
    return action

  def _step(self, action) -> ts.TimeStep:
    action = self._check_action(action)
    restart = self._last.copy()
    done, reward = rules.step(self._config, self._state, action, self._rng)
    done &= ~restart
    if done.any():
      stats = rules.episode_statistics(self._config, self._state, reward)
      self.record_finished({k: v[done] for k, v in stats.items()})
    if restart.any():
      rules.restart(self._config, self._state, restart, self._rng, self._stag_den)
      reward[restart] = 0.0
    step_type = np.where(restart, ts.StepType.FIRST,
                         np.where(done, ts.StepType.LAST, ts.StepType.MID))
    self._last = done
    return self._time_step(step_type, reward, np.where(done, 0.0, 1.0))

  # --- inspection ----------------------------------------------------------------------------

  def game_state(self) -> Dict[str, np.ndarray]:
    """A copy of the state of every game: `rules.GameState`'s fields (see there for shapes), plus
    `prey_is_stag [B, M]`."""
    if self._state is None:
      raise RuntimeError("game_state() before reset(): call reset() or reset_to() first")
    s = self._state.copy()
    out = {f.name: getattr(s, f.name) for f in dataclasses.fields(s)}
    out["prey_is_stag"] = np.tile(self._config.prey_is_stag, (self._b, 1))
    return out

  def pop_episode_stats(self) -> Dict[str, np.ndarray]:
    """Statistics of the episodes finished since the last call, as `[num_episodes]` arrays.

    Keys: `total_reward` (sum over hunters of the terminal reward), `length`, `success` (every prey
    at 0 hit points), `stags_captured`, `hares_captured`.
    """
    return super().pop_episode_stats()

  def render(self, mode: str = "rgb_array", game: int = 0, cell_pixels: Optional[int] = None):
    """An RGB frame `[H, W, 3]` uint8 of game `game` of the batch."""
    if mode != "rgb_array":
      raise ValueError(f"render mode must be 'rgb_array', got {mode!r}")
    rules.require_int("game", game, 0, self._b - 1)
    if self._state is None:
      raise RuntimeError("render() before reset(): call reset() or reset_to() first")
    return render_lib.render_frame(self._config, self._state, game, cell_pixels=cell_pixels)

  # --- seeding and state ---------------------------------------------------------------------

  def seed(self, seed: int) -> None:
    rules.require_int("seed", seed, 0)
    self._rng = np.random.default_rng(seed)

  def get_state(self) -> Dict[str, Any]:
    """Everything needed to continue exactly: game state, pending resets, RNG state."""
    return {"game": None if self._state is None else self._state.copy(),
            "last": self._last.copy(), "rng": self._rng.bit_generator.state,
            "current_time_step": self._current_time_step}

  @staticmethod
  def state_to_arrays(state: Dict[str, Any]) -> Dict[str, np.ndarray]:
    """`get_state()` as flat named arrays (for an `.npz`, which loads no code): the games' arrays,
    the time step's, and the RNG state as JSON text (its integers exceed 64 bits)."""
    out = {"last": np.asarray(state["last"]),
           "rng_json": np.asarray(json.dumps(state["rng"]))}
    if state["game"] is not None:
      out.update({f"game.{f.name}": np.asarray(getattr(state["game"], f.name))
                  for f in dataclasses.fields(state["game"])})
    step = state["current_time_step"]
    if step is not None:
      out.update({f"step.{k}": np.asarray(getattr(step, k))
                  for k in ("step_type", "reward", "discount")})
      out.update({f"step.observation.{k}": np.asarray(v) for k, v in step.observation.items()})
    return out

  @staticmethod
  def state_from_arrays(arrays) -> Dict[str, Any]:
    """The inverse of `state_to_arrays` (`arrays`: a mapping, e.g. `np.load(path)`). Raises
    ValueError naming any array it does not know (a state of another version or a damaged file)."""
    names = list(arrays.keys())
    games = {f"game.{f.name}" for f in dataclasses.fields(rules.GameState)}
    steps = {"step.step_type", "step.reward", "step.discount"}
    unknown = sorted(n for n in names if n not in {"last", "rng_json"} | games | steps
                     and not n.startswith("step.observation."))
    if unknown:
      raise ValueError(f"the saved game state has arrays this version does not know: {unknown}")
    game = None
    if any(n.startswith("game.") for n in names):
      fields = {n[len("game."):]: np.array(arrays[n]) for n in names if n.startswith("game.")}
      b = fields["t"].shape[0] if "t" in fields else 0
      # States saved before the dens game had no stag and an empty adversary.
      fields.setdefault("stag_den", np.full(b, -1, np.int32))
      fields.setdefault("den_history", np.full((b, rules.ADVERSARY_WINDOW), -1, np.int32))
      try:
        game = rules.GameState(**fields)
      except TypeError as e:
        raise ValueError(f"the saved game state lacks arrays: {e}") from None
    step = None
    if "step.step_type" in names:
      obs = {n[len("step.observation."):]: np.array(arrays[n])
             for n in names if n.startswith("step.observation.")}
      step = ts.TimeStep(step_type=np.array(arrays["step.step_type"]),
                         reward=np.array(arrays["step.reward"]),
                         discount=np.array(arrays["step.discount"]), observation=obs)
    return {"game": game, "last": np.array(arrays["last"]),
            "rng": json.loads(str(arrays["rng_json"])), "current_time_step": step}

  def check_state(self, state: Dict[str, Any]) -> None:
    """Raises ValueError (one line, what is wrong) unless `state` (`get_state`'s form, e.g. from a
    checkpoint) is a state of these B games: shapes, dtypes, positions on the grid, hit points,
    time and the RNG state."""
    c, b = self._config, self._b
    n, m, g = c.num_hunters, c.num_prey, c.grid_size

    def check(ok, what):
      if not ok:
        raise ValueError(f"the saved game state does not fit {c}: {what}")

    game = state["game"]
    if game is not None:
      shapes = {"hunter_pos": (b, n, 2), "hunter_active": (b, n), "hunter_target": (b, n),
                "prey_pos": (b, m, 2), "prey_hp": (b, m), "t": (b,), "stag_den": (b,),
                "den_history": (b, rules.ADVERSARY_WINDOW)}
      for name, shape in shapes.items():
        value = getattr(game, name)
        check(value.shape == shape, f"{name} has shape {value.shape}, not {shape}")
        check(value.dtype == (bool if name == "hunter_active" else np.int32),
              f"{name} has dtype {value.dtype}")
      for name in ("hunter_pos", "prey_pos"):
        check(((getattr(game, name) >= 0) & (getattr(game, name) < g)).all(),
              f"{name} lies outside the {g} x {g} grid")
      check(((game.prey_hp >= 0) & (game.prey_hp <= c.initial_prey_hp)).all(),
            "prey_hp outside [0, the prey's hit points]")
      check(((game.hunter_target >= -1) & (game.hunter_target < m)).all(),
            "hunter_target outside [-1, M)")
      check(((game.t >= 0) & (game.t <= c.time_limit)).all(), "t outside [0, time_limit]")
      check(((game.den_history >= -1) & (game.den_history < m)).all(), "den_history outside [-1, M)")
      low = 0 if c.kind == rules.DENS else -1
      check(((game.stag_den >= low) & (game.stag_den < (m if low == 0 else 0))).all(),
            f"stag_den outside [{low}, {m if low == 0 else 0})")
    last = np.asarray(state["last"])
    check(last.shape == (b,) and last.dtype == bool, f"last has shape {last.shape}, dtype "
                                                     f"{last.dtype}")
    try:
      np.random.default_rng().bit_generator.state = state["rng"]
    except (TypeError, ValueError, KeyError) as e:
      check(False, f"the RNG state does not load ({type(e).__name__}: {e})")
    step = state["current_time_step"]
    if step is not None:
      spec = self.observation_spec()
      check(set(step.observation) == set(spec), f"observation parts {sorted(step.observation)}")
      for k, v in step.observation.items():
        check(v.shape == (b,) + spec[k].shape, f"observation {k} has shape {v.shape}")

  def set_state(self, state: Dict[str, Any]) -> None:
    self._state = None if state["game"] is None else state["game"].copy()
    self._last = state["last"].copy()
    self._rng = np.random.default_rng()
    self._rng.bit_generator.state = state["rng"]
    self._current_time_step = state["current_time_step"]


class HareHunters(HunterGame):
  """Hare-Hunters (N, M, H, T): all hunters get 1 if every prey is captured H times in time."""

  def __init__(self, *, num_hunters: int = 10, num_prey: int = 10, hit_points: int = 1,
               time_limit: int = 2000, grid_size: int = 50, moving_prey: bool = False,
               batch_size: int = 1, seed: Optional[int] = None):
    super().__init__(
        rules.GameConfig(kind=rules.HARE, num_hunters=num_hunters, num_prey=num_prey,
                         hit_points=hit_points, time_limit=time_limit, grid_size=grid_size,
                         moving_prey=moving_prey),
        batch_size=batch_size, seed=seed)


class StagHunters(HunterGame):
  """Stag-Hunters (N, M, H, T): 1 for a hunter that hit a finished stag, 0.1 for a hare."""

  def __init__(self, *, num_hunters: int = 10, num_prey: int = 10, stag_hit_points: int = 2,
               time_limit: int = 1000, grid_size: int = 50, moving_prey: bool = False,
               stags_heal: bool = False, batch_size: int = 1, seed: Optional[int] = None):
    super().__init__(
        rules.GameConfig(kind=rules.STAG, num_hunters=num_hunters, num_prey=num_prey,
                         hit_points=stag_hit_points, time_limit=time_limit, grid_size=grid_size,
                         moving_prey=moving_prey, stags_heal=stags_heal),
        batch_size=batch_size, seed=seed)


class HiddenStag(HunterGame):
  """The hidden-stag game (issue 19, `rules.DENS`): N hunters, K dens at distance T, one stag hidden
  by an adversary that best-responds to the team's recent play; 1 each if all meet at its den."""

  def __init__(self, *, num_hunters: int = 2, num_dens: int = 2, distance: int = 3,
               grid_size: int = 7, batch_size: int = 1, seed: Optional[int] = None,
               stag_den: Optional[int] = None):
    super().__init__(
        rules.GameConfig(kind=rules.DENS, num_hunters=num_hunters, num_prey=num_dens,
                         hit_points=1, time_limit=distance, grid_size=grid_size),
        batch_size=batch_size, seed=seed, stag_den=stag_den)


def make_game(config: rules.GameConfig, *, batch_size: int = 1, seed: Optional[int] = None,
              stag_den: Optional[int] = None) -> HunterGame:
  """The environment for `config`: a `HunterGame` of a `GameConfig` (`stag_den`: see `HunterGame`),
  or B copies of another game for an `external.ExternalConfig`."""
  if getattr(config, "kind", None) == "external":
    from mace_tf.envs import external  # pylint: disable=g-import-not-at-top (optional extra)
    rules.require(stag_den is None, "stag_den is for the dens game, not an external one")
    return external.ExternalGame(config, batch_size=batch_size, seed=seed)
  return HunterGame(config, batch_size=batch_size, seed=seed, stag_den=stag_den)
