"""The hunter games in TensorFlow ops, so that a whole collection loop can stay inside one graph.

This is a port of `rules.py` (the source of truth) and `observation.py`, function by function, with
the same names; `tests/envs/test_tf_game.py` checks it step by step against the numpy version.
Randomness is stateless (seeded per call), so a compiled loop is reproducible from its seeds.
"""

import contextlib
from typing import NamedTuple, Tuple

import numpy as np
import tensorflow as tf
from tensorflow.python.ops import control_flow_util_v2  # pylint: disable=g-direct-tensorflow-import

from mace_tf.envs import observation as observation_lib
from mace_tf.envs import rules

FIRST, MID, LAST = 0, 1, 2  # tf_agents.trajectories.StepType values


class TFGameState(NamedTuple):
  """`rules.GameState` as tensors: int32 positions `[B, N, 2]`, `[B, M, 2]`, bool hunter_active
  `[B, N]`, int32 hunter_target `[B, N]`, prey_hp `[B, M]`, t `[B]`, stag_den `[B]`, den_history
  `[B, ADVERSARY_WINDOW]`."""

  hunter_pos: tf.Tensor
  hunter_active: tf.Tensor
  hunter_target: tf.Tensor
  prey_pos: tf.Tensor
  prey_hp: tf.Tensor
  t: tf.Tensor
  stag_den: tf.Tensor
  den_history: tf.Tensor


def from_numpy(state: rules.GameState) -> TFGameState:
  return TFGameState(*(tf.constant(getattr(state, f)) for f in TFGameState._fields))


def to_numpy(state: TFGameState) -> rules.GameState:
  return rules.GameState(**{f: np.array(getattr(state, f)) for f in TFGameState._fields})


# The fields only the hidden-stag game changes (every other game keeps them at -1).
DENS_ONLY_FIELDS = ("stag_den", "den_history")


def initial_state(config: rules.GameConfig, hunter_pos, prey_pos, stag_den=None,
                  den_history=None) -> TFGameState:
  b = tf.shape(hunter_pos)[0]
  return TFGameState(
      hunter_pos=tf.cast(hunter_pos, tf.int32),
      hunter_active=tf.ones([b, config.num_hunters], tf.bool),
      hunter_target=tf.fill([b, config.num_hunters], -1),
      prey_pos=tf.cast(prey_pos, tf.int32),
      prey_hp=tf.tile(tf.constant(config.initial_prey_hp)[None], [b, 1]),
      t=tf.zeros([b], tf.int32),
      stag_den=tf.fill([b], -1) if stag_den is None else tf.cast(stag_den, tf.int32),
      den_history=(tf.fill([b, rules.ADVERSARY_WINDOW], -1) if den_history is None
                   else tf.cast(den_history, tf.int32)))


def adversary_choice(config: rules.GameConfig, den_history, keys):
  """`rules.adversary_choice`: the least-reached den per game, ties to the largest of `keys`."""
  counts = tf.reduce_sum(tf.cast(den_history[:, :, None] == tf.range(config.num_prey), tf.int32),
                         axis=1)
  least = counts == tf.reduce_min(counts, axis=1, keepdims=True)
  return tf.argmax(tf.where(least, keys, -1.0), axis=1, output_type=tf.int32)


def dens_start(config: rules.GameConfig, den_history, keys) -> TFGameState:
  """`rules.dens_start` (the adversary always chooses: evaluation's fixed den is host-only)."""
  b = tf.shape(den_history)[0]
  return initial_state(
      config, tf.tile(tf.constant(config.start_cell)[None, None], [b, config.num_hunters, 1]),
      tf.tile(tf.constant(config.den_positions)[None], [b, 1, 1]),
      adversary_choice(config, den_history, keys), den_history)


def random_state(config: rules.GameConfig, batch_size, seed) -> TFGameState:
  """N + M distinct, uniformly random cells per game (the top-k of random keys, in key order); the
  dens game: its layout with an empty adversary."""
  if config.kind == rules.DENS:
    return dens_start(config, tf.fill([batch_size, rules.ADVERSARY_WINDOW], -1),
                      tf.random.stateless_uniform([batch_size, config.num_prey], seed=seed))
  g, n = config.grid_size, config.num_hunters
  keys = tf.random.stateless_uniform([batch_size, g * g], seed=seed)
  _, cells = tf.math.top_k(keys, k=n + config.num_prey)
  pos = tf.stack([cells % g, cells // g], axis=-1)
  return initial_state(config, pos[:, :n], pos[:, n:])


def move(pos, actions, movable, grid_size):
  delta = tf.gather(tf.constant(rules.ACTION_DELTAS), actions) * tf.cast(movable, tf.int32)[..., None]
  return (pos + delta) % grid_size


def within_one_step(a, b, grid_size):
  dx = tf.abs(a[..., 0] - b[..., 0])
  dy = tf.abs(a[..., 1] - b[..., 1])
  near_x = (dx <= 1) | (dx == grid_size - 1)
  near_y = (dy <= 1) | (dy == grid_size - 1)
  return ((dx == 0) & near_y) | ((dy == 0) & near_x)


def resolve_captures(config: rules.GameConfig, hunter_pos, hunter_active, hunter_target, prey_pos,
                     prey_hp):
  """Rule 2 (see `rules.resolve_captures`): returns (hunter_active, hunter_target, prey_hp).

  Every active hunter's lowest-index adjacent live prey is found at once (`lowest_adjacent_prey`).
  If no prey has more such hunters than hit points, each of them hits it: that is rule 2 exactly, as
  no hunter is turned away. Else (at N = M = 40 under random play, 0.25% of batched steps) the
  rounds of `_resolve_in_rounds`.
  """
  m = config.num_prey
  b = tf.shape(prey_hp)[0]
  candidate = lowest_adjacent_prey(config, hunter_pos, prey_pos, prey_hp)  # [B, N]
  pending = hunter_active & (candidate < m)
  hits = tf.reshape(tf.math.unsorted_segment_sum(  # [B, M]: hunters per candidate prey
      tf.ones_like(candidate), tf.where(pending, candidate + tf.range(b)[:, None] * m, -1), b * m),
      [b, m])
  direct = (hunter_active & ~pending, tf.where(pending, candidate, hunter_target), prey_hp - hits)
  with _functional_control_flow():
    return tf.cond(tf.reduce_any(hits > prey_hp),
                   lambda: _resolve_in_rounds(config, hunter_pos, hunter_active, hunter_target,
                                              prey_pos, prey_hp),
                   lambda: direct)


def lowest_adjacent_prey(config: rules.GameConfig, hunter_pos, prey_pos, prey_hp,
                         by_cells: bool = None):
  """int32 `[B, N]`: each hunter's lowest-index live prey at torus distance <= 1 (M if none).

  `by_cells`: from a map of the lowest live prey on each cell (`[B, G, G]`, then `[B, N, 5]`
  lookups), or (False) over all `[B, N, M]` hunter-prey pairs. None: the cheaper for the game's
  sizes, G^2 < 2 N M (measured on 2 CPU cores: ~1.4 ns per cell of the map, ~4 ns per pair).
  """
  g, m = config.grid_size, config.num_prey
  if by_cells is None:
    by_cells = g * g < 2 * config.num_hunters * m
  if not by_cells:
    adjacent = _next_to_live_prey(config, hunter_pos, prey_pos, prey_hp)
    return tf.reduce_min(tf.where(adjacent, tf.range(m)[None, None, :], m), axis=2)
  b = tf.shape(prey_hp)[0]
  game_cells = tf.range(b)[:, None] * (g * g)
  prey_id = tf.where(prey_hp > 0, tf.range(m)[None], m)
  lowest_on_cell = tf.math.unsorted_segment_min(  # [B * G * G]; empty cells: the int32 maximum
      tf.reshape(prey_id, [-1]), tf.reshape(cell_index(prey_pos, g) + game_cells, [-1]),
      b * g * g)
  near = tf.gather(_neighbour_cells(g), cell_index(hunter_pos, g)) + game_cells[..., None]
  return tf.minimum(tf.reduce_min(tf.gather(lowest_on_cell, near), axis=2), m)


def _next_to_live_prey(config: rules.GameConfig, hunter_pos, prey_pos, prey_hp):
  """bool `[B, N, M]`: hunter i within one step of prey j, which has hit points left."""
  return (within_one_step(hunter_pos[:, :, None, :], prey_pos[:, None, :, :], config.grid_size)
          & (prey_hp > 0)[:, None, :])


def _resolve_in_rounds(config: rules.GameConfig, hunter_pos, hunter_active, hunter_target, prey_pos,
                       prey_hp):
  """`resolve_captures` in rounds over all `[B, N, M]` hunter-prey pairs, as `rules` does: each
  round settles the lowest candidate prey of every game."""
  m = config.num_prey
  adjacent = (_next_to_live_prey(config, hunter_pos, prey_pos, prey_hp)
              & hunter_active[:, :, None])
  pending = tf.reduce_any(adjacent, axis=2)
  prey_index = tf.range(m, dtype=tf.int32)[None, None, :]

  def round_(i, pending, active, target, cap):
    available = adjacent & pending[:, :, None] & (cap > 0)[:, None, :]
    # Lowest available prey per hunter (m if none); no argmax, whose ties are unspecified.
    candidate = tf.reduce_min(tf.where(available, prey_index, m), axis=2)
    pending = pending & (candidate < m)
    lowest = tf.reduce_min(tf.where(pending, candidate, m), axis=1)  # [B]
    chosen = pending & (candidate == lowest[:, None])
    lowest_cap = tf.gather(cap, tf.minimum(lowest, m - 1), batch_dims=1)
    accepted = chosen & (tf.cumsum(tf.cast(chosen, tf.int32), axis=1) <= lowest_cap[:, None])
    hits = tf.reduce_sum(tf.cast(accepted, tf.int32), axis=1)
    cap = cap - tf.one_hot(lowest, m, dtype=tf.int32) * hits[:, None]  # one_hot(m) is all zeros
    target = tf.where(accepted, lowest[:, None], target)
    return i + 1, pending & ~accepted, active & ~accepted, target, cap

  _, _, active, target, cap = tf.while_loop(
      lambda i, pending, *_: (i < m) & tf.reduce_any(pending), round_,
      (tf.constant(0), pending, hunter_active, hunter_target, prey_hp))
  return active, target, cap


def cell_index(pos, grid_size: int):
  """`y * G + x` of positions `[..., 2]` (x, y) (elementwise ops: an integer matvec is slower)."""
  return pos[..., 1] * grid_size + pos[..., 0]


def _neighbour_cells(grid_size: int):
  """int32 `[G * G, 5]`: per cell y * G + x, the cells at torus distance <= 1 (itself first)."""
  g = grid_size
  y, x = np.divmod(np.arange(g * g), g)
  cells = [(x, y), (x, (y - 1) % g), (x, (y + 1) % g), ((x - 1) % g, y), ((x + 1) % g, y)]
  return tf.constant(np.stack([cy * g + cx for cx, cy in cells], axis=1).astype(np.int32))


@contextlib.contextmanager
def _functional_control_flow():
  """Keeps the conds and loops built inside as functional `If` / `While` ops, which run only the
  branch taken, where `tf.function` would lower them to Switch / Merge: then every op of the branch
  not taken still costs its dead-tensor pass (the capture rounds' ~40 ops: ~24 us per step,
  measured on 2 CPU cores). TensorFlow's own switch (private); without it the graph is only slower.
  """
  previous = getattr(control_flow_util_v2, "_DISABLE_LOWER_USING_SWITCH_MERGE", None)
  if previous is None:
    yield
    return
  # pylint: disable=protected-access
  control_flow_util_v2._DISABLE_LOWER_USING_SWITCH_MERGE = True
  try:
    yield
  finally:
    control_flow_util_v2._DISABLE_LOWER_USING_SWITCH_MERGE = previous


def is_terminal(config: rules.GameConfig, state: TFGameState):
  return (tf.reduce_all(state.prey_hp == 0, axis=1) | ~tf.reduce_any(state.hunter_active, axis=1)
          | (state.t >= config.time_limit))


def dens_reached(state: TFGameState):
  """`rules.dens_reached`: the den all hunters stand on, -1 if none."""
  on_den = tf.reduce_all(state.hunter_pos[:, :, None, :] == state.prey_pos[:, None, :, :], -1)
  together = tf.reduce_all(on_den, axis=1)  # [B, K]
  return tf.where(tf.reduce_any(together, axis=1),
                  tf.argmax(tf.cast(together, tf.int32), axis=1, output_type=tf.int32), -1)


def stag_caught(state: TFGameState):
  """`rules.stag_caught`: every hunter on the stag's den."""
  return dens_reached(state) == state.stag_den


def terminal_rewards(config: rules.GameConfig, state: TFGameState):
  n = config.num_hunters
  if config.kind == rules.DENS:
    caught = stag_caught(state)
    return tf.tile(tf.where(caught, rules.STAG_REWARD, 0.0)[:, None], [1, n])
  if config.kind == rules.HARE:
    won = tf.reduce_all(state.prey_hp == 0, axis=1)
    return tf.tile(tf.where(won, rules.HARE_HUNTERS_WIN_REWARD, 0.0)[:, None], [1, n])
  hit = state.hunter_target >= 0
  target = tf.maximum(state.hunter_target, 0)
  is_stag = tf.gather(tf.constant(config.prey_is_stag), target)
  target_dead = tf.gather(state.prey_hp, target, batch_dims=1) == 0
  reward = tf.where(hit & is_stag & target_dead, rules.STAG_REWARD, 0.0)
  return tf.where(hit & ~is_stag, rules.HARE_REWARD, reward)


def heal_stags(config: rules.GameConfig, active, target, hp, hit):
  """`rules.heal_stags`: returns (hunter_active, hunter_target, prey_hp)."""
  full = tf.constant(config.initial_prey_hp)[None]
  heal = (tf.constant(config.prey_is_stag)[None] & (hp > 0) & (hp < full) & ~hit)  # [B, M]
  released = (target >= 0) & tf.gather(heal, tf.maximum(target, 0), batch_dims=1)  # [B, N]
  return (active | released, tf.where(released, -1, target),
          tf.where(heal, tf.broadcast_to(full, tf.shape(hp)), hp))


def apply_step(config: rules.GameConfig, state: TFGameState, actions,
               prey_actions) -> Tuple[TFGameState, tf.Tensor, tf.Tensor]:
  """`rules.apply_step`: returns (new state, done `[B]`, rewards `[B, N]`)."""
  hunter_pos = move(state.hunter_pos, actions, state.hunter_active, config.grid_size)
  if config.kind == rules.DENS:
    new = state._replace(hunter_pos=hunter_pos, t=state.t + 1)
    done = is_terminal(config, new)
    rewards = terminal_rewards(config, new) * tf.cast(done, tf.float32)[:, None]
    ended = new.t == config.time_limit  # as rules: a game stepped after its end is not counted again
    pushed = tf.concat([dens_reached(new)[:, None], state.den_history[:, :-1]], axis=1)
    return new._replace(den_history=tf.where(ended[:, None], pushed, state.den_history)), done, rewards
  active, target, hp = resolve_captures(config, hunter_pos, state.hunter_active,
                                        state.hunter_target, state.prey_pos, state.prey_hp)
  if config.stags_heal:
    active, target, hp = heal_stags(config, active, target, hp, hit=hp < state.prey_hp)
  prey_pos = state.prey_pos
  if config.moving_prey:
    prey_pos = move(prey_pos, prey_actions, hp > 0, config.grid_size)
  new = state._replace(hunter_pos=hunter_pos, hunter_active=active, hunter_target=target,
                       prey_pos=prey_pos, prey_hp=hp, t=state.t + 1)
  done = is_terminal(config, new)
  rewards = terminal_rewards(config, new) * tf.cast(done, tf.float32)[:, None]
  return new, done, rewards


def episode_statistics(config: rules.GameConfig, state: TFGameState, rewards):
  """`rules.episode_statistics`: per game `[B]`, as if each game's episode ended in `state`."""
  if config.kind == rules.DENS:
    caught = stag_caught(state)
    return {"total_reward": tf.reduce_sum(rewards, axis=1), "length": state.t, "success": caught,
            "stags_captured": tf.cast(caught, tf.int32),
            "hares_captured": tf.zeros_like(state.t)}
  captured = state.prey_hp == 0
  is_stag = tf.constant(config.prey_is_stag)[None]
  count = lambda mask: tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
  return {
      "total_reward": tf.reduce_sum(rewards, axis=1),
      "length": state.t,
      "success": tf.reduce_all(captured, axis=1),
      "stags_captured": count(captured & is_stag),
      "hares_captured": count(captured & ~is_stag),
  }


class GridEntries(NamedTuple):
  """The observation grid as its nonzero entries: entry e adds `value[e]` to element `index[e]` =
  (y * G + x) * 4 + channel of game `game[e]`'s `[G, G, 4]` grid (int32 `[E]` each, E = B (N + M);
  entries may share an element, and dead prey add 0)."""

  game: tf.Tensor
  index: tf.Tensor
  value: tf.Tensor


def grid_entries(config: rules.GameConfig, state: TFGameState) -> GridEntries:
  """What `observation.encode` adds to the grid: every hunter (1 in channel 0 if active, else 1)
  and every prey (its hit points in channel 2 if a stag, else 3)."""
  g, c = config.grid_size, len(observation_lib.GRID_CHANNELS)
  b = tf.shape(state.t)[0]
  n, m = config.num_hunters, config.num_prey
  hunter_channel = tf.where(state.hunter_active, 0, 1)
  prey_channel = tf.where(tf.constant(config.prey_is_stag), 2, 3)[None]
  index = lambda pos, channel: cell_index(pos, g) * c + channel
  games = tf.range(b)[:, None]
  return GridEntries(
      game=tf.reshape(tf.concat([tf.tile(games, [1, n]), tf.tile(games, [1, m])], 1), [-1]),
      index=tf.reshape(tf.concat([index(state.hunter_pos, hunter_channel),
                                  index(state.prey_pos, prey_channel)], 1), [-1]),
      value=tf.reshape(tf.concat([tf.ones([b, n], tf.int32), state.prey_hp], 1), [-1]))


def encode(config: rules.GameConfig, state: TFGameState, with_entries: bool = False):
  """`observation.encode`: `grid [B, G, G, 4]` uint8, `hunters [B, N, 3]`, `time_left [B, 1]`.

  `with_entries`: also return the grid's `GridEntries` (`(observation, entries)`).
  """
  g, c = config.grid_size, len(observation_lib.GRID_CHANNELS)
  b = tf.shape(state.t)[0]
  entries = grid_entries(config, state)
  flat = entries.game * (g * g * c) + entries.index
  grid = tf.scatter_nd(flat[:, None], entries.value, [b * g * g * c])  # sums entries that meet
  hunters = tf.concat([state.hunter_pos, tf.cast(state.hunter_active, tf.int32)[..., None]], -1)
  time_left = tf.cast(config.time_limit - state.t, tf.float32)[:, None] / config.time_limit
  observation = {"grid": tf.cast(tf.reshape(grid, [b, g, g, c]), tf.uint8), "hunters": hunters,
                 "time_left": time_left}
  return (observation, entries) if with_entries else observation


def where_games(mask, a: TFGameState, b: TFGameState) -> TFGameState:
  """Per game: `a` where `mask [B]`, else `b`."""
  def pick(x, y):
    m = tf.reshape(mask, [-1] + [1] * (len(x.shape) - 1))
    return tf.where(m, x, y)
  return TFGameState(*(pick(x, y) for x, y in zip(a, b)))


def restart(config: rules.GameConfig, state: TFGameState, last, seed) -> TFGameState:
  """`rules.restart`: new episodes where `last [B]` (random cells; the dens game: its layout, the
  adversary's memory carried over)."""
  if config.kind == rules.DENS:
    keys = tf.random.stateless_uniform([tf.shape(last)[0], config.num_prey], seed=seed)
    return where_games(last, dens_start(config, state.den_history, keys), state)
  return where_games(last, random_state(config, tf.shape(last)[0], seed), state)


def batched_step(config: rules.GameConfig, state: TFGameState, last, actions, seed):
  """One step of `HunterGame` (auto-reset included), in graph.

  Games whose previous step was LAST (`last [B]`) restart from random cells and return FIRST; the
  others step with `actions [B, N]`. Returns (state, step_type, reward `[B, N]`, discount, done).
  """
  seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=2)
  prey_actions = None
  if config.moving_prey:
    prey_actions = tf.random.stateless_uniform(tf.shape(state.prey_hp), seed=seeds[0], minval=0,
                                               maxval=rules.NUM_ACTIONS, dtype=tf.int32)
  new, done, rewards = apply_step(config, state, actions, prey_actions)
  new = tf.cond(tf.reduce_any(last), lambda: restart(config, new, last, seeds[1]), lambda: new)
  done = done & ~last
  rewards = rewards * tf.cast(~last, tf.float32)[:, None]
  step_type = tf.where(last, FIRST, tf.where(done, LAST, MID))
  discount = tf.where(done, 0.0, 1.0)
  return new, step_type, rewards, discount, done
