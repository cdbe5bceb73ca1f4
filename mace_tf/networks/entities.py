"""The entity part of psi_i(s): every hunter and every prey cell, seen from hunter i, pooled.

The grid observation says where things are only as counts in cells; a hunter's window sees 5 x 5
cells exactly and the egocentric view (`Trunk`, `ego_bin`) the rest in 5 x 5 bins, which leaves
the direction of a prey 10-25 cells away coarse, and changing as the bins move with the hunter
(the greedy stall, BUILD_NOTES.md). Here the same observation is re-expressed as a set: each
entity is its torus offset from the hunter and its grid channels, embedded by a small MLP shared by
all entities and agents, and pooled (max and mean over the entities), a permutation-invariant set
encoder (Deep Sets, Zaheer et al. 2017). Nothing is summarized by game logic: no distances, no
nearest prey, no assignment; only where each entity is relative to the hunter and what the grid
shows of it.

Entities, per game: the N hunters (rows of `observation["hunters"]`: channels (1, 0, 0, 0) if
active, (0, 1, 0, 0) if frozen, the grid's channels 0 and 1), and the `prey_slots` grid cells with
the most prey hit points (channels (0, 0, stag hp, hare hp), the grid's own values; prey sharing
a cell are one entity, as in the grid). Slots beyond the live prey cells are masked out.
"""

import tensorflow as tf

from mace_tf.envs import observation as observation_lib

NUM_FEATURES = 6  # offset (dx, dy) and the 4 grid channels


def torus_offsets(source, target, grid_size: int):
  """Signed shortest offsets `target - source` on the torus, in `[-G // 2, G - G // 2)`; int
  tensors that broadcast, last axis (x, y)."""
  half = grid_size // 2
  return tf.math.floormod(target - source + half, grid_size) - half


def prey_cells(grid, slots: int):
  """The `slots` cells of each game's grid `[B, G, G, 4]` with the most prey hit points.

  Returns (xy int32 `[B, K, 2]`, channels float32 `[B, K, 4]` (the grid's 4 values there), valid
  bool `[B, K]`: the cell holds live prey). Ties go to the lower cell index (y * G + x).
  """
  g = grid.shape[1]
  flat = tf.reshape(tf.cast(grid, tf.float32), [-1, g * g, 4])
  hit_points, cells = tf.math.top_k(flat[..., 2] + flat[..., 3], k=slots, sorted=True)
  channels = tf.gather(flat, cells, batch_dims=1)
  return tf.stack([cells % g, cells // g], axis=-1), channels, hit_points > 0


def entity_features(observation, grid_size: int, prey_slots: int):
  """`(features [N, B, E, 6], valid [N, B, E])`, E = N + prey_slots: entity e as seen from hunter i
  (agent-major, as `Trunk`'s psi): its offset from hunter i divided by G / 2, and its 4 channels."""
  hunters = observation["hunters"]  # [B, N, 3]
  active = tf.cast(observation_lib.active_agents(observation), tf.float32)
  zeros = tf.zeros_like(active)
  hunter_channels = tf.stack([active, 1.0 - active, zeros, zeros], axis=-1)  # [B, N, 4]
  xy, channels, valid = prey_cells(observation["grid"], prey_slots)
  entity_xy = tf.concat([hunters[..., :2], xy], axis=1)  # [B, E, 2]
  entity_channels = tf.concat([hunter_channels, channels], axis=1)  # [B, E, 4]
  entity_valid = tf.concat([tf.ones_like(active, tf.bool), valid], axis=1)  # [B, E]
  own = tf.transpose(hunters[..., :2], [1, 0, 2])[:, :, None, :]  # [N, B, 1, 2]
  offset = torus_offsets(own, entity_xy[None], grid_size)  # [N, B, E, 2]
  n = tf.shape(own)[0]
  features = tf.concat([tf.cast(offset, tf.float32) / (grid_size / 2),
                        tf.broadcast_to(entity_channels[None],
                                        tf.concat([[n], tf.shape(entity_channels)], 0))], axis=-1)
  return features, tf.broadcast_to(entity_valid[None], tf.shape(features)[:-1])


class EntityEncoder(tf.keras.layers.Layer):
  """`[N * B, 2 U]` agent-major (row i * B + b): hunter i's entities of game b through a 2-layer MLP
  (U units each, shared by entities and agents), max- and mean-pooled over the valid ones."""

  def __init__(self, *, grid_size: int, prey_slots: int, units: int, name: str = "entities"):
    super().__init__(name=name)
    self.grid_size = grid_size
    self.prey_slots = prey_slots
    self.units = units
    self._embed = [tf.keras.layers.Dense(units, activation="relu", name=f"entity_embed{i}")
                   for i in range(2)]

  def call(self, observation, layer_fn=None):
    """`layer_fn(layer, x)` applies each Dense (default `layer(x)`; the compiled loop records)."""
    apply = layer_fn or (lambda layer, x: layer(x))
    features, valid = entity_features(observation, self.grid_size, self.prey_slots)
    h = features
    for layer in self._embed:
      h = apply(layer, h)  # [N, B, E, U]
    mask = tf.cast(valid, tf.float32)[..., None]
    # ReLU outputs are >= 0, so a masked entity at 0 never wins the max over a valid one.
    pooled_max = tf.reduce_max(h * mask, axis=2)
    pooled_mean = tf.reduce_sum(h * mask, axis=2) / tf.maximum(tf.reduce_sum(mask, axis=2), 1.0)
    pooled = tf.concat([pooled_max, pooled_mean], axis=-1)  # [N, B, 2U]
    return tf.reshape(pooled, [-1, 2 * self.units])
