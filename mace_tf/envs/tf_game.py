"""The hunter games in TensorFlow ops, so that a whole collection loop can stay inside one graph.

This is a port of `rules.py` (the source of truth) and `observation.py`, function by function, with
the same names; `tests/envs/test_tf_game.py` checks it step by step against the numpy version.
Randomness is stateless (seeded per call), so a compiled loop is reproducible from its seeds.
"""

from typing import NamedTuple, Tuple

import numpy as np
import tensorflow as tf

from mace_tf.envs import observation as observation_lib
from mace_tf.envs import rules

FIRST, MID, LAST = 0, 1, 2  # tf_agents.trajectories.StepType values


class TFGameState(NamedTuple):
  """`rules.GameState` as tensors: int32 positions `[B, N, 2]`, `[B, M, 2]`, bool hunter_active
  `[B, N]`, int32 hunter_target `[B, N]`, prey_hp `[B, M]`, t `[B]`."""

  hunter_pos: tf.Tensor
  hunter_active: tf.Tensor
  hunter_target: tf.Tensor
  prey_pos: tf.Tensor
  prey_hp: tf.Tensor
  t: tf.Tensor


def from_numpy(state: rules.GameState) -> TFGameState:
  return TFGameState(*(tf.constant(getattr(state, f)) for f in TFGameState._fields))


def to_numpy(state: TFGameState) -> rules.GameState:
  return rules.GameState(**{f: np.array(getattr(state, f)) for f in TFGameState._fields})


def initial_state(config: rules.GameConfig, hunter_pos, prey_pos) -> TFGameState:
  b = tf.shape(hunter_pos)[0]
  return TFGameState(
      hunter_pos=tf.cast(hunter_pos, tf.int32),
      hunter_active=tf.ones([b, config.num_hunters], tf.bool),
      hunter_target=tf.fill([b, config.num_hunters], -1),
      prey_pos=tf.cast(prey_pos, tf.int32),
      prey_hp=tf.tile(tf.constant(config.initial_prey_hp)[None], [b, 1]),
      t=tf.zeros([b], tf.int32))


def random_state(config: rules.GameConfig, batch_size, seed) -> TFGameState:
  """N + M distinct, uniformly random cells per game (the top-k of random keys, in key order)."""
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
  """Rule 2 (see `rules.resolve_captures`): returns (hunter_active, hunter_target, prey_hp)."""
  m = config.num_prey
  adjacent = (within_one_step(hunter_pos[:, :, None, :], prey_pos[:, None, :, :], config.grid_size)
              & hunter_active[:, :, None] & (prey_hp > 0)[:, None, :])
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


def is_terminal(config: rules.GameConfig, state: TFGameState):
  return (tf.reduce_all(state.prey_hp == 0, axis=1) | ~tf.reduce_any(state.hunter_active, axis=1)
          | (state.t >= config.time_limit))


def terminal_rewards(config: rules.GameConfig, state: TFGameState):
  n = config.num_hunters
  if config.kind == rules.HARE:
    won = tf.reduce_all(state.prey_hp == 0, axis=1)
    return tf.tile(tf.where(won, rules.HARE_HUNTERS_WIN_REWARD, 0.0)[:, None], [1, n])
  hit = state.hunter_target >= 0
  target = tf.maximum(state.hunter_target, 0)
  is_stag = tf.gather(tf.constant(config.prey_is_stag), target)
  target_dead = tf.gather(state.prey_hp, target, batch_dims=1) == 0
  reward = tf.where(hit & is_stag & target_dead, rules.STAG_REWARD, 0.0)
  return tf.where(hit & ~is_stag, rules.HARE_REWARD, reward)


def apply_step(config: rules.GameConfig, state: TFGameState, actions,
               prey_actions) -> Tuple[TFGameState, tf.Tensor, tf.Tensor]:
  """`rules.apply_step`: returns (new state, done `[B]`, rewards `[B, N]`)."""
  hunter_pos = move(state.hunter_pos, actions, state.hunter_active, config.grid_size)
  active, target, hp = resolve_captures(config, hunter_pos, state.hunter_active,
                                        state.hunter_target, state.prey_pos, state.prey_hp)
  prey_pos = state.prey_pos
  if config.moving_prey:
    prey_pos = move(prey_pos, prey_actions, hp > 0, config.grid_size)
  new = TFGameState(hunter_pos, active, target, prey_pos, hp, state.t + 1)
  done = is_terminal(config, new)
  rewards = terminal_rewards(config, new) * tf.cast(done, tf.float32)[:, None]
  return new, done, rewards


def episode_statistics(config: rules.GameConfig, state: TFGameState, rewards):
  """`rules.episode_statistics`: per game `[B]`, as if each game's episode ended in `state`."""
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
  index = lambda pos, channel: (pos[..., 1] * g + pos[..., 0]) * c + channel
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
  new = tf.cond(tf.reduce_any(last),
                lambda: where_games(last, random_state(config, tf.shape(last)[0], seeds[1]), new),
                lambda: new)
  done = done & ~last
  rewards = rewards * tf.cast(~last, tf.float32)[:, None]
  step_type = tf.where(last, FIRST, tf.where(done, LAST, MID))
  discount = tf.where(done, 0.0, 1.0)
  return new, step_type, rewards, discount, done
