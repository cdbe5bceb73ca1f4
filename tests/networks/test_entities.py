"""The entity set of psi_i: offsets on the torus and the prey cells, checked on hand-built grids."""

import numpy as np
import tensorflow as tf

from mace_tf.networks import entities


def test_torus_offsets_take_the_short_way_round():
  g = 10
  src = tf.constant([[9, 0], [0, 0], [2, 2]])
  dst = tf.constant([[0, 9], [5, 4], [2, 7]])
  # x: 9 -> 0 is +1 across the edge; y: 0 -> 9 is -1. 0 -> 5 is the tie: -5 (range [-5, 5)).
  np.testing.assert_array_equal(entities.torus_offsets(src, dst, g).numpy(),
                                [[1, -1], [-5, 4], [0, 5 - 10]])


def _grid(g, cells):
  grid = np.zeros([1, g, g, 4], np.uint8)
  for (x, y, channel, value) in cells:
    grid[0, y, x, channel] += value
  return grid


def test_prey_cells_are_the_cells_with_most_hit_points_and_slots_past_them_are_masked():
  # A stag with 2 hit points at (3, 1), a hare at (0, 4), a hunter at (2, 2) (not prey).
  grid = _grid(5, [(3, 1, 2, 2), (0, 4, 3, 1), (2, 2, 0, 1)])
  xy, channels, valid = entities.prey_cells(tf.constant(grid), slots=3)
  np.testing.assert_array_equal(xy.numpy()[0, :2], [[3, 1], [0, 4]])
  np.testing.assert_array_equal(channels.numpy()[0, :2], [[0, 0, 2, 0], [0, 0, 0, 1]])
  np.testing.assert_array_equal(valid.numpy()[0], [True, True, False])


def test_entity_features_by_hand():
  g = 6
  # Hunter 0 active at (0, 0), hunter 1 frozen at (5, 3); one hare at (1, 5).
  grid = _grid(g, [(0, 0, 0, 1), (5, 3, 1, 1), (1, 5, 3, 1)])
  observation = {"grid": tf.constant(grid),
                 "hunters": tf.constant([[[0, 0, 1], [5, 3, 0]]], tf.int32)}
  features, valid = entities.entity_features(observation, g, prey_slots=2)
  f = features.numpy()
  assert f.shape == (2, 1, 4, 6)  # [N, B, N + slots, 6]
  # From hunter 0: itself (0, 0), hunter 1 at (-1, 3) -> (-1, -3) (3 is the tie, -3), the hare at
  # (1, -1); offsets divided by G / 2 = 3.
  np.testing.assert_allclose(f[0, 0, :3, :2], np.array([[0, 0], [-1, -3], [1, -1]]) / 3)
  np.testing.assert_allclose(f[0, 0, :3, 2:], [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
  # From hunter 1 at (5, 3): hunter 0 at (+1, -3), itself, the hare at (+2, +2).
  np.testing.assert_allclose(f[1, 0, :3, :2], np.array([[1, -3], [0, 0], [2, 2]]) / 3)
  np.testing.assert_array_equal(valid.numpy()[:, 0], [[True, True, True, False]] * 2)


def test_the_encoder_is_blind_to_entity_order_and_to_masked_slots():
  g = 8
  rng = np.random.default_rng(0)
  cells = [(int(x), int(y), 3, 1) for x, y in rng.integers(0, g, size=(3, 2))]
  grid = _grid(g, cells + [(1, 1, 0, 1), (6, 2, 0, 1)])
  hunters = tf.constant([[[1, 1, 1], [6, 2, 1]]], tf.int32)
  encoder = entities.EntityEncoder(grid_size=g, prey_slots=5, units=7)
  a = encoder({"grid": tf.constant(grid), "hunters": hunters}).numpy()
  # Hunters swapped: each agent's own row moves with it, its pooled set is the same.
  b = encoder({"grid": tf.constant(grid), "hunters": hunters[:, ::-1]}).numpy()
  np.testing.assert_allclose(a[::-1], b, atol=1e-6)
  # More slots (all empty beyond the 3 prey cells) change nothing.
  wide = entities.EntityEncoder(grid_size=g, prey_slots=9, units=7)
  wide({"grid": tf.constant(grid), "hunters": hunters})
  wide.set_weights(encoder.get_weights())
  np.testing.assert_allclose(wide({"grid": tf.constant(grid), "hunters": hunters}).numpy(), a,
                             atol=1e-6)
  assert np.abs(a).sum() > 0
