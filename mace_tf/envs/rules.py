"""The rules of Hare-Hunters and Stag-Hunters (paper section 3.1): the one source of truth.

Everything here is a pure function of a batched numpy `GameState` of B independent games, vectorized
over games and agents. The environment classes (`hunters.py`), the observation encoder
(`observation.py`) and the renderer only call into this module.

The rules, in full:

* A G x G periodic grid (torus). Positions are `(x, y)`, both in `[0, G)`. Actions: 0 stay, 1 up
  (y - 1), 2 down (y + 1), 3 left (x - 1), 4 right (x + 1). Entities may share cells. At reset all
  N + M entities start on distinct, uniformly random cells.
* One step:
  1. every active hunter moves by its action; frozen hunters ignore theirs;
  2. captures, hunters in index order: an active hunter at torus Manhattan distance <= 1 from a prey
     with hit points > 0 hits the lowest-index such prey: the prey loses one hit point, the hunter
     freezes for the rest of the episode and remembers the prey it hit;
  3. with `moving_prey`, every prey that still has hit points takes a uniformly random action;
  4. t += 1.
  The episode ends when every prey has 0 hit points, or every hunter is frozen, or t == time_limit.
* Hare-Hunters (eq. 12): every prey has H hit points. On the last step every hunter receives 1 if
  every prey has 0 hit points, else 0.
* Stag-Hunters (eq. 13): prey `0 .. M/2 - 1` are stags with `stag_hit_points`, the rest hares with 1.
  On the last step hunter i receives 1 if it hit a stag that has 0 hit points at the end, 0.1 if it
  hit a hare, else 0.
* All rewards are zero before the last step of an episode.

The hidden-stag game (`kind="dens"`, issue 19; not in the paper): a team against an adversary, the
smallest game where a shared source of randomness (MACE's lambda) provably pays.

* N hunters start on one common cell, the centre `(G // 2, G // 2)` of a G x G torus. K <= 4 dens
  (the game's M prey slots) lie at distance D = T from it, den k in direction `DEN_ACTIONS[k]`
  (right, left, down, up). G >= 2 T + 1, so a den is reached by T only by heading straight to it
  from the first step: there is no time to look, wait or follow.
* Each episode one stag hides in one den (`stag_den`). The observation shows the hunters and the
  dens (as prey of 1 hit point, all alike), never the stag. Nothing is captured during the episode
  and no hunter freezes; the episode ends at t == T. Then every hunter receives 1 if all N hunters
  stand on the stag's den, else 0.
* The adversary places the stag at each episode's start in the den this game's team has reached
  together least often over its last `ADVERSARY_WINDOW` episodes (raw counts, no smoothing; an
  episode where the team met at no den counts for none), ties broken uniformly at random. That is
  a best response to the team's recent empirical play, so a deterministic team scores 0, independent
  randomization at most K^-N (each den's sum over hunters of products, AM-GM), and a shared coin
  1/K. Its memory (`den_history`) is part of the game state, so of checkpoints too.
"""

import dataclasses
from typing import Dict, Optional, Tuple

import numpy as np

NUM_ACTIONS = 5
ACTION_NAMES = ("stay", "up", "down", "left", "right")
# (dx, dy) of each action, indexed by action id.
ACTION_DELTAS = np.array([[0, 0], [0, -1], [0, 1], [-1, 0], [1, 0]], dtype=np.int32)

HARE = "hare"
STAG = "stag"
DENS = "dens"
GAME_KINDS = (HARE, STAG, DENS)

# The hidden-stag game: den k lies T steps from the start in the direction of action DEN_ACTIONS[k]
# (right, left, down, up: with K = 2 the dens are opposite).
DEN_ACTIONS = (4, 3, 2, 1)
MAX_DENS = len(DEN_ACTIONS)
# The adversary's memory, in episodes of the same game: long enough that a team's mix shows in the
# counts (at 10 episodes a 50/50 coin gives counts 5 +- 1.6), short enough to follow a learner.
ADVERSARY_WINDOW = 10

STAG_REWARD = 1.0
HARE_REWARD = 0.1
HARE_HUNTERS_WIN_REWARD = 1.0

# Observation grids are uint8: counts and hit-point sums must fit.
MAX_ENTITIES_PER_KIND = 255


def require(condition: bool, message: str) -> None:
  if not condition:
    raise ValueError(message)


def require_int(name: str, value, low: int, high: Optional[int] = None) -> int:
  require(
      isinstance(value, (int, np.integer)) and not isinstance(value, bool),
      f"{name} must be an integer, got {value!r}",
  )
  value = int(value)
  if high is None:
    require(value >= low, f"{name} must be >= {low}, got {value}")
  else:
    require(low <= value <= high, f"{name} must be in [{low}, {high}], got {value}")
  return value


@dataclasses.dataclass(frozen=True)
class GameConfig:
  """The settings (N, M, H, T, G) of one game, validated on construction.

  Attributes:
    kind: "hare" (Hare-Hunters) or "stag" (Stag-Hunters).
    num_hunters: N, the number of hunters (agents).
    num_prey: M, the number of prey. Even for Stag-Hunters (M/2 stags, M/2 hares).
    hit_points: H: every prey's hit points in Hare-Hunters; the stags' in Stag-Hunters (hares have 1).
    time_limit: T, the number of steps after which an episode ends.
    grid_size: G, the side of the periodic grid.
    moving_prey: whether prey with hit points left take a uniformly random action every step.
    stags_heal: a coordination-hard variant of Stag-Hunters (not in the paper; False: the paper's
      rules). At the end of every step, a wounded stag (hit points left, fewer than at reset) that
      took no hit in that step heals to full hit points, and the hunters frozen on it become active
      again. Its hunters must so land their hits in consecutive steps: arrive together. Nothing new
      is hidden: every wounded stag an observation shows was hit in the step just taken.
  """

  kind: str = HARE
  num_hunters: int = 10
  num_prey: int = 10
  hit_points: int = 1
  time_limit: int = 2000
  grid_size: int = 50
  moving_prey: bool = False
  stags_heal: bool = False

  def __post_init__(self):
    require(self.kind in GAME_KINDS, f"kind must be one of {GAME_KINDS}, got {self.kind!r}")
    if self.kind == DENS:
      self._check_dens()
      return
    n = require_int("num_hunters", self.num_hunters, 1, MAX_ENTITIES_PER_KIND)
    m = require_int("num_prey", self.num_prey, 1, MAX_ENTITIES_PER_KIND)
    hp_name = "hit_points" if self.kind == HARE else "stag_hit_points"
    h = require_int(hp_name, self.hit_points, 1, MAX_ENTITIES_PER_KIND)
    require(
        m * h <= MAX_ENTITIES_PER_KIND,
        f"num_prey * {hp_name} = {m * h} exceeds {MAX_ENTITIES_PER_KIND}, the most hit points the "
        f"uint8 observation grid can hold in one cell",
    )
    require_int("time_limit", self.time_limit, 1)
    g = require_int("grid_size", self.grid_size, 1)
    require(
        n + m <= g * g,
        f"num_hunters + num_prey = {n + m} entities do not fit on distinct cells of a "
        f"{g} x {g} grid: need num_hunters + num_prey <= grid_size**2 = {g * g}",
    )
    require(isinstance(self.moving_prey, (bool, np.bool_)),
             f"moving_prey must be a bool, got {self.moving_prey!r}")
    require(isinstance(self.stags_heal, (bool, np.bool_)),
             f"stags_heal must be a bool, got {self.stags_heal!r}")
    require(not self.stags_heal or self.kind == STAG,
             "stags_heal is a Stag-Hunters variant: Hare-Hunters has no stags")
    if self.kind == STAG:
      require(m % 2 == 0, f"num_prey must be even for Stag-Hunters (M/2 stags, M/2 hares), got {m}")
    else:
      require(
          n >= h * m,
          f"this Hare-Hunters game can never be won: each of the num_prey={m} prey needs "
          f"hit_points={h} hunters and every hunter hits once, so num_hunters must be >= "
          f"hit_points * num_prey = {h * m}, got {n}",
      )

  def _check_dens(self) -> None:
    require_int("num_hunters", self.num_hunters, 1, MAX_ENTITIES_PER_KIND)
    require_int("num_prey (the number of dens K)", self.num_prey, 1, MAX_DENS)
    require(self.hit_points == 1, f"the dens game has no hit points: hit_points must be 1, got "
                                  f"{self.hit_points!r}")
    d = require_int("time_limit (the dens' distance D)", self.time_limit, 1)
    g = require_int("grid_size", self.grid_size, 1)
    require(g >= 2 * d + 1, f"the dens game needs grid_size >= 2 * time_limit + 1 = {2 * d + 1}, so "
                            f"that a den is reached in time only straight from the start; got {g}")
    require(self.moving_prey is False, "the dens game's dens do not move: moving_prey must be False")
    require(self.stags_heal is False, "stags_heal is a Stag-Hunters variant: the dens game has no "
                                      "hit points")

  @property
  def start_cell(self) -> np.ndarray:
    """Int32 `[2]`: the dens game's common start cell, the centre of the grid."""
    return np.array([self.grid_size // 2] * 2, dtype=np.int32)

  @property
  def den_positions(self) -> np.ndarray:
    """Int32 `[K, 2]`: the dens game's dens, T steps from the start cell in `DEN_ACTIONS` order."""
    deltas = ACTION_DELTAS[list(DEN_ACTIONS[: self.num_prey])]
    return ((self.start_cell + self.time_limit * deltas) % self.grid_size).astype(np.int32)

  @property
  def prey_is_stag(self) -> np.ndarray:
    """Bool `[M]`: which prey are stags (the first M/2 in Stag-Hunters, none in Hare-Hunters)."""
    is_stag = np.zeros(self.num_prey, dtype=bool)
    if self.kind == STAG:
      is_stag[: self.num_prey // 2] = True
    return is_stag

  @property
  def initial_prey_hp(self) -> np.ndarray:
    """Int32 `[M]`: every prey's hit points at reset."""
    if self.kind == HARE:
      return np.full(self.num_prey, self.hit_points, dtype=np.int32)
    return np.where(self.prey_is_stag, self.hit_points, 1).astype(np.int32)


@dataclasses.dataclass
class GameState:
  """The state of B games; every array has the batch as leading axis.

  Attributes:
    hunter_pos: int32 `[B, N, 2]`, (x, y) of every hunter.
    hunter_active: bool `[B, N]`, False once a hunter has hit a prey (frozen).
    hunter_target: int32 `[B, N]`, the prey a hunter hit, -1 before a hit.
    prey_pos: int32 `[B, M, 2]`, (x, y) of every prey.
    prey_hp: int32 `[B, M]`, remaining hit points.
    t: int32 `[B]`, steps taken in the current episode.
    stag_den: int32 `[B]`, the den hiding the stag (dens game; -1 in the hunter games).
    den_history: int32 `[B, ADVERSARY_WINDOW]`, the adversary's memory (dens game): the den the team
      reached together in each of this game's last episodes, newest first; -1 for none (and always
      in the hunter games).
  """

  hunter_pos: np.ndarray
  hunter_active: np.ndarray
  hunter_target: np.ndarray
  prey_pos: np.ndarray
  prey_hp: np.ndarray
  t: np.ndarray
  stag_den: np.ndarray
  den_history: np.ndarray

  @property
  def batch_size(self) -> int:
    return self.t.shape[0]

  def copy(self) -> "GameState":
    return GameState(**{f.name: getattr(self, f.name).copy() for f in dataclasses.fields(self)})

  def assign(self, mask: np.ndarray, other: "GameState") -> None:
    """Overwrites the games where `mask` (bool `[B]`) is True with the `mask.sum()` games of `other`."""
    for f in dataclasses.fields(self):
      getattr(self, f.name)[mask] = getattr(other, f.name)


def random_positions(config: GameConfig, rng: np.random.Generator,
                     num_games: int) -> Tuple[np.ndarray, np.ndarray]:
  """N + M distinct, uniformly random cells per game.

  Returns:
    hunter_pos int32 `[num_games, N, 2]` and prey_pos int32 `[num_games, M, 2]`.
  """
  g, n, m = config.grid_size, config.num_hunters, config.num_prey
  k = n + m
  keys = rng.random((num_games, g * g))
  if k < g * g:
    cells = np.argpartition(keys, k - 1, axis=1)[:, :k]
  else:
    cells = np.tile(np.arange(g * g), (num_games, 1))
  # Order the chosen cells by their keys so that which entity gets which cell is uniform too.
  order = np.argsort(np.take_along_axis(keys, cells, axis=1), axis=1)
  cells = np.take_along_axis(cells, order, axis=1)
  pos = np.stack([cells % g, cells // g], axis=-1).astype(np.int32)
  return pos[:, :n], pos[:, n:]


def initial_state(config: GameConfig, hunter_pos: np.ndarray, prey_pos: np.ndarray,
                  stag_den=None, den_history=None) -> GameState:
  """The state at t = 0 for the given positions (`[B, N, 2]` and `[B, M, 2]`); in the dens game
  also the stag's den `[B]` and the adversary's memory `[B, ADVERSARY_WINDOW]` (default: empty)."""
  b = hunter_pos.shape[0]
  return GameState(
      hunter_pos=np.array(hunter_pos, dtype=np.int32),
      hunter_active=np.ones((b, config.num_hunters), dtype=bool),
      hunter_target=np.full((b, config.num_hunters), -1, dtype=np.int32),
      prey_pos=np.array(prey_pos, dtype=np.int32),
      prey_hp=np.tile(config.initial_prey_hp, (b, 1)),
      t=np.zeros(b, dtype=np.int32),
      stag_den=np.broadcast_to(-1 if stag_den is None else stag_den, (b,)).astype(np.int32),
      den_history=(np.full((b, ADVERSARY_WINDOW), -1, np.int32) if den_history is None
                   else np.array(den_history, dtype=np.int32)),
  )


def random_state(config: GameConfig, rng: np.random.Generator, num_games: int) -> GameState:
  """Fresh games: random distinct cells, or (dens game) the fixed layout with an empty adversary."""
  if config.kind == DENS:
    return dens_start(config, np.full((num_games, ADVERSARY_WINDOW), -1, np.int32),
                      rng.random((num_games, config.num_prey)))
  return initial_state(config, *random_positions(config, rng, num_games))


def adversary_choice(config: GameConfig, den_history: np.ndarray, keys: np.ndarray) -> np.ndarray:
  """Int32 `[B]`: the den the team reached together least often in `den_history [B, W]`, ties to
  the tied den with the largest of `keys [B, K]` (uniform keys: uniformly random tie-breaking)."""
  dens = np.arange(config.num_prey)
  counts = (den_history[:, :, None] == dens).sum(axis=1)  # [B, K]
  least = counts == counts.min(axis=1, keepdims=True)
  return np.argmax(np.where(least, keys, -1.0), axis=1).astype(np.int32)


def dens_start(config: GameConfig, den_history: np.ndarray, keys: np.ndarray,
               fixed_den: Optional[int] = None) -> GameState:
  """A new episode of the dens game per row of the adversary's memory `den_history [B, W]`: every
  hunter on the start cell, the stag where the adversary puts it (`fixed_den`: always there, the
  adversary replaced, as evaluation plays it)."""
  b = den_history.shape[0]
  stag_den = (adversary_choice(config, den_history, keys) if fixed_den is None
              else np.full(b, fixed_den, np.int32))
  return initial_state(config, np.tile(config.start_cell, (b, config.num_hunters, 1)),
                       np.tile(config.den_positions, (b, 1, 1)), stag_den, den_history)


def restart(config: GameConfig, state: GameState, mask: np.ndarray, rng: np.random.Generator,
            fixed_den: Optional[int] = None) -> None:
  """Starts new episodes, in place, in the games where `mask [B]`: random cells in the hunter games;
  in the dens game the same layout, the adversary's memory carried over (`dens_start`)."""
  k = int(mask.sum())
  if config.kind != DENS:
    state.assign(mask, random_state(config, rng, k))
    return
  keys = rng.random((k, config.num_prey))
  state.assign(mask, dens_start(config, state.den_history[mask], keys, fixed_den))


def within_one_step(a: np.ndarray, b: np.ndarray, grid_size: int) -> np.ndarray:
  """Whether the torus Manhattan distance between `a [..., 2]` and `b [..., 2]` is <= 1.

  Per axis the difference d lies in (-G, G); its torus length is <= 1 iff |d| <= 1 or |d| == G - 1.
  (Written per axis without a modulo: this is the hot spot of a step.)
  """
  dx = np.abs(a[..., 0] - b[..., 0])
  dy = np.abs(b[..., 1] - a[..., 1])
  near_x = (dx <= 1) | (dx == grid_size - 1)
  near_y = (dy <= 1) | (dy == grid_size - 1)
  return ((dx == 0) & near_y) | ((dy == 0) & near_x)


def move(pos: np.ndarray, actions: np.ndarray, movable: np.ndarray, grid_size: int) -> np.ndarray:
  """Positions `[B, K, 2]` after `actions [B, K]`, applied where `movable [B, K]`, with wrap-around."""
  delta = ACTION_DELTAS[actions] * movable[..., None]
  return (pos + delta) % grid_size


def resolve_captures(config: GameConfig, state: GameState) -> None:
  """Rule 2, in place: active hunters next to live prey hit them, in hunter index order.

  Hunters in index order hit the lowest-index adjacent live prey. This is the same as letting each
  prey in index order take the first (by hunter index) still-unassigned adjacent hunters, up to its
  hit points; the loop below settles the lowest candidate prey of every game per round, so it runs
  once per prey hit in this step (zero times in most steps), never once per hunter.
  """
  adjacent = within_one_step(state.hunter_pos[:, :, None, :], state.prey_pos[:, None, :, :],
                             config.grid_size)  # [B, N, M]
  adjacent &= state.hunter_active[:, :, None]
  cap = state.prey_hp.copy()  # [B, M]
  adjacent &= (cap > 0)[:, None, :]
  pending = adjacent.any(axis=2)  # [B, N]
  if not pending.any():
    return
  m = config.num_prey
  games = np.arange(state.batch_size)
  # Each round settles the lowest candidate prey of every game for good: at most M rounds.
  for _ in range(m):
    available = adjacent & pending[:, :, None] & (cap > 0)[:, None, :]
    has_prey = available.any(axis=2)
    pending &= has_prey
    if not pending.any():
      break
    candidate = np.where(has_prey, available.argmax(axis=2), m)  # [B, N] lowest available prey
    lowest = candidate.min(axis=1)  # [B]; m where a game has nothing pending
    chosen = pending & (candidate == lowest[:, None])
    lowest_cap = cap[games, np.minimum(lowest, m - 1)]
    accepted = chosen & (np.cumsum(chosen, axis=1) <= lowest_cap[:, None])
    hits = accepted.sum(axis=1)
    settled = lowest < m
    cap[games[settled], lowest[settled]] -= hits[settled].astype(cap.dtype)
    # Hunters not accepted stay pending; their prey now has cap 0, so they look further next round.
    state.hunter_target[accepted] = np.broadcast_to(lowest[:, None], accepted.shape)[accepted]
    state.hunter_active[accepted] = False
    pending &= ~accepted
  state.prey_hp[...] = cap


def heal_stags(config: GameConfig, state: GameState, hit: np.ndarray) -> None:
  """The `stags_heal` variant's rule, in place: wounded stags that took no hit this step
  (`hit [B, M]`) return to full hit points and release the hunters frozen on them."""
  full = config.initial_prey_hp[None, :]
  heal = config.prey_is_stag[None, :] & (state.prey_hp > 0) & (state.prey_hp < full) & ~hit
  if not heal.any():
    return
  state.prey_hp[heal] = np.broadcast_to(full, heal.shape)[heal]
  released = (state.hunter_target >= 0) & np.take_along_axis(
      heal, np.maximum(state.hunter_target, 0), axis=1)
  state.hunter_active[released] = True
  state.hunter_target[released] = -1


def dens_reached(config: GameConfig, state: GameState) -> np.ndarray:
  """Int32 `[B]`: the den every hunter stands on (dens game), -1 if they are not all on one den."""
  on_den = (state.hunter_pos[:, :, None, :] == state.prey_pos[:, None, :, :]).all(axis=-1)  # [B,N,K]
  together = on_den.all(axis=1)  # [B, K]
  return np.where(together.any(axis=1), together.argmax(axis=1), -1).astype(np.int32)


def stag_caught(config: GameConfig, state: GameState) -> np.ndarray:
  """Bool `[B]` (dens game): every hunter stands on the stag's den."""
  return dens_reached(config, state) == state.stag_den


def remember_dens(state: GameState, done: np.ndarray, reached: np.ndarray) -> None:
  """The adversary's update, in place: finished games (`done [B]`) push the den their team reached
  together (`reached [B]`, -1 none) onto their memory, dropping the oldest episode."""
  pushed = np.concatenate([reached[:, None], state.den_history[:, :-1]], axis=1)
  state.den_history[...] = np.where(done[:, None], pushed, state.den_history)


def is_terminal(config: GameConfig, state: GameState) -> np.ndarray:
  """Bool `[B]`: every prey at 0 hit points, or every hunter frozen, or t == T."""
  return ((state.prey_hp == 0).all(axis=1) | ~state.hunter_active.any(axis=1)
          | (state.t >= config.time_limit))


def terminal_rewards(config: GameConfig, state: GameState) -> np.ndarray:
  """Float32 `[B, N]`: the reward each hunter gets if the episode ends in `state` (eq. 12, 13; the
  dens game: 1 each if all stand on the stag's den)."""
  if config.kind == DENS:
    caught = stag_caught(config, state)
    return np.repeat(np.where(caught, STAG_REWARD, 0.0)[:, None], config.num_hunters,
                     axis=1).astype(np.float32)
  if config.kind == HARE:
    won = (state.prey_hp == 0).all(axis=1)
    return np.repeat(np.where(won, HARE_HUNTERS_WIN_REWARD, 0.0)[:, None], config.num_hunters,
                     axis=1).astype(np.float32)
  hit = state.hunter_target >= 0
  target = np.maximum(state.hunter_target, 0)
  is_stag = config.prey_is_stag[target]
  target_dead = np.take_along_axis(state.prey_hp, target, axis=1) == 0
  reward = np.where(hit & is_stag & target_dead, STAG_REWARD, 0.0)
  reward = np.where(hit & ~is_stag, HARE_REWARD, reward)
  return reward.astype(np.float32)


def step(config: GameConfig, state: GameState, actions: np.ndarray,
         rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
  """Advances every game by one step in place, drawing the prey's moves (if any) from `rng`.

  Args:
    config: the game settings.
    state: B games, none of them already terminal; modified in place.
    actions: int `[B, N]` in 0..4 (validated by the caller).
    rng: the source of the prey's random moves.

  Returns:
    done: bool `[B]`, the games that ended with this step.
    rewards: float32 `[B, N]`, the terminal rewards of those games, 0 elsewhere.
  """
  prey_actions = (rng.integers(0, NUM_ACTIONS, size=state.prey_hp.shape)
                  if config.moving_prey else None)
  return apply_step(config, state, actions, prey_actions)


def apply_step(config: GameConfig, state: GameState, actions: np.ndarray,
               prey_actions: Optional[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
  """`step` with the prey's actions `[B, M]` given (ignored unless `config.moving_prey`)."""
  state.hunter_pos[...] = move(state.hunter_pos, actions, state.hunter_active, config.grid_size)
  if config.kind == DENS:  # nothing is captured before the end; the adversary remembers the end
    state.t += 1
    done = is_terminal(config, state)
    rewards = terminal_rewards(config, state) * done[:, None]
    # == T, not done: a game stepped again after its end (an auto-reset batch does) is not counted twice.
    remember_dens(state, state.t == config.time_limit, dens_reached(config, state))
    return done, rewards
  hp_before = state.prey_hp.copy() if config.stags_heal else None
  resolve_captures(config, state)
  if config.stags_heal:
    heal_stags(config, state, hit=state.prey_hp < hp_before)
  if config.moving_prey:
    state.prey_pos[...] = move(state.prey_pos, prey_actions, state.prey_hp > 0, config.grid_size)
  state.t += 1
  done = is_terminal(config, state)
  rewards = terminal_rewards(config, state) * done[:, None]
  return done, rewards


EPISODE_STAT_DTYPES = {
    "total_reward": np.float32, "length": np.int32, "success": bool,
    "stags_captured": np.int32, "hares_captured": np.int32,
}


def episode_statistics(config: GameConfig, state: GameState,
                       rewards: np.ndarray) -> Dict[str, np.ndarray]:
  """Per-episode statistics of finished games (state and rewards of their last step).

  Returns a dict of `[B]` arrays: `total_reward` (terminal reward summed over hunters), `length`,
  `success` (every prey at 0 hit points), `stags_captured`, `hares_captured` (prey at 0 hit points).
  """
  if config.kind == DENS:  # the stag is the one prey; `success`: it was caught
    caught = stag_caught(config, state)
    return {"total_reward": rewards.sum(axis=1).astype(np.float32),
            "length": state.t.astype(np.int32), "success": caught,
            "stags_captured": caught.astype(np.int32),
            "hares_captured": np.zeros(state.batch_size, np.int32)}
  captured = state.prey_hp == 0
  is_stag = config.prey_is_stag[None, :]
  return {
      "total_reward": rewards.sum(axis=1).astype(np.float32),
      "length": state.t.astype(np.int32),
      "success": captured.all(axis=1),
      "stags_captured": (captured & is_stag).sum(axis=1).astype(np.int32),
      "hares_captured": (captured & ~is_stag).sum(axis=1).astype(np.int32),
  }
