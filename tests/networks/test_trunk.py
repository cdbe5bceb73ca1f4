"""The trunk's egocentric views, against a direct numpy reading of the torus."""

import numpy as np
import pytest
import tensorflow as tf

from mace_tf.fast.network import FastTrunk
from mace_tf.networks.trunk import Trunk, circular_pad
from tests.networks import helpers


def _direct_window(maps, cx, cy, radius):
  """maps [H, H, C]: the (2r+1)^2 cells around (cx, cy), wrapping, rows (dy) first: [K * C]."""
  h = maps.shape[0]
  return np.concatenate([maps[(cy + dy) % h, (cx + dx) % h]
                         for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)])


@pytest.mark.parametrize("conv_filters,local_radius,feature_radius", [
    (((16, 5, 5), (32, 2, 2)), 2, 0),  # the default patch network
    (((16, 4, 2), (32, 3, 2)), 3, 2),  # the first network: padded convolutions
])
def test_windows_and_feature_views_read_the_hunters_own_cells(conv_filters, local_radius,
                                                              feature_radius):
  g, b, n = 20, 3, 4
  trunk = Trunk(grid_size=g, conv_filters=conv_filters, trunk_units=8, local_radius=local_radius,
                local_units=8, feature_radius=feature_radius)
  rng = np.random.default_rng(0)
  grid = rng.integers(0, 3, size=(b, g, g, 4)).astype(np.uint8)
  hunters = np.concatenate([rng.integers(0, g, size=(b, n, 2)), np.ones((b, n, 1), np.int64)], -1)
  hunters[0, 0, :2] = (0, g - 1)  # corners: the window wraps around both axes
  hunters[1, 1, :2] = (g - 1, 0)
  observation = {"grid": tf.constant(grid), "hunters": tf.constant(hunters, tf.int32),
                 "time_left": tf.ones([b, 1])}
  trunk(observation)  # builds
  psi_input = helpers.psi_input(trunk, observation)
  # The feature map the trunk computed (same ops as its call) to read the coarse views from.
  x = tf.cast(grid, tf.float32)
  for conv, (low, high) in zip(trunk.convs, trunk.paddings):
    x = conv(circular_pad(x, low, high))
  features = x.numpy()
  stride = g // features.shape[1] if trunk.patchify else 4
  shift = 0 if trunk.patchify else stride // 2
  k = (2 * local_radius + 1) ** 2 * 4
  kf = (2 * feature_radius + 1) ** 2 * features.shape[-1]
  for i in range(b):
    for j in range(n):
      hx, hy = hunters[i, j, :2]
      np.testing.assert_array_equal(psi_input[i, j, :k],
                                    _direct_window(grid[i], hx, hy, local_radius))
      np.testing.assert_allclose(
          psi_input[i, j, k:k + kf],
          _direct_window(features[i], (hx + shift) // stride, (hy + shift) // stride,
                         feature_radius),
          rtol=1e-6)


@pytest.mark.parametrize("grid_size,conv_filters", [
    (20, ((16, 5, 5), (32, 2, 2))),  # patches tile the grid
    (12, ((8, 5, 5), (8, 2, 2))),  # 12 -> 15: the first patches wrap around
    (11, ((16, 4, 2), (32, 3, 2))),  # padded, overlapping windows
])
def test_first_layer_from_grid_entries_is_the_convolution(grid_size, conv_filters):
  from mace_tf.envs import rules
  from mace_tf.fast import tf_game
  config = rules.GameConfig(kind=rules.STAG, num_hunters=6, num_prey=6, hit_points=2,
                            time_limit=9, grid_size=grid_size)
  state = tf_game.random_state(config, 4, tf.constant([3, 4], tf.int64))
  # Crowd some cells (entries that meet) and freeze a hunter (channel 1), kill a prey (adds 0).
  pos = state.hunter_pos.numpy()
  pos[0, :3] = pos[0, 3]
  pos[1, 0] = (grid_size - 1, grid_size - 1)
  hp = state.prey_hp.numpy()
  hp[2, 1] = 0
  state = state._replace(hunter_pos=tf.constant(pos), prey_hp=tf.constant(hp),
                         hunter_active=tf.constant(np.arange(6)[None].repeat(4, 0) != 2))
  observation, entries = tf_game.encode(config, state, with_entries=True)
  trunk = Trunk(grid_size=grid_size, conv_filters=conv_filters, trunk_units=8, local_radius=1,
                local_units=8, feature_radius=1)
  dense = trunk(observation)
  sparse = FastTrunk(trunk)(observation, entries)
  for a, b in zip(dense, sparse):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
  assert np.abs(dense[0].numpy()).sum() > 0
  # And the gradients of the first layer's weights.
  with tf.GradientTape(persistent=True) as tape:
    loss_dense = tf.reduce_sum(tf.sin(trunk(observation)[0]))
    loss_sparse = tf.reduce_sum(tf.sin(FastTrunk(trunk)(observation, entries)[0]))
  for v in trunk.convs[0].trainable_variables:
    np.testing.assert_allclose(tf.convert_to_tensor(tape.gradient(loss_sparse, v)).numpy(),
                               tape.gradient(loss_dense, v).numpy(), rtol=1e-4, atol=1e-6)


def _direct_ego_view(grid, hx, hy, size):
  """grid [G, G, 4]: per bin (l, k) (rows first) the sum over the size x size cells around
  (hx + size k, hy + size l), offsets -(size // 2) .. size - 1 - size // 2, wrapping: [K * K * 4]."""
  g = grid.shape[0]
  bins = g // size
  low = size // 2
  out = []
  for l in range(-(bins // 2), bins - bins // 2):
    for k in range(-(bins // 2), bins - bins // 2):
      total = np.zeros(4, np.int64)
      for dy in range(-low, size - low):
        for dx in range(-low, size - low):
          total += grid[(hy + size * l + dy) % g, (hx + size * k + dx) % g]
      out.append(total)
  return np.concatenate(out)


@pytest.mark.parametrize("grid_size,ego_bin", [(20, 5), (12, 4), (12, 3), (9, 9), (6, 1)])
def test_egocentric_view_sums_the_whole_torus_around_each_hunter(grid_size, ego_bin):
  from mace_tf.envs import rules
  from mace_tf.fast import tf_game
  config = rules.GameConfig(kind=rules.STAG, num_hunters=5, num_prey=6, hit_points=2,
                            time_limit=9, grid_size=grid_size)
  state = tf_game.random_state(config, 3, tf.constant([5, 6], tf.int64))
  pos = state.hunter_pos.numpy()
  pos[0, 0] = (0, grid_size - 1)  # a corner: the view wraps around both axes
  pos[1, :3] = pos[1, 3]  # crowded cells
  hp = state.prey_hp.numpy()
  hp[2, 0] = 0  # a dead stag is not seen
  state = state._replace(hunter_pos=tf.constant(pos), prey_hp=tf.constant(hp),
                         hunter_active=tf.constant(np.arange(5)[None].repeat(3, 0) != 4))
  observation, entries = tf_game.encode(config, state, with_entries=True)
  trunk = Trunk(grid_size=grid_size, conv_filters=((4, grid_size, grid_size),), trunk_units=4,
                local_radius=1, local_units=4, feature_radius=0, ego_bin=ego_bin)
  trunk(observation)  # builds
  dense = helpers.psi_input(trunk, observation)
  sparse = helpers.psi_input(trunk, observation, grid_entries=entries)
  window, view = 9 * 4, (grid_size // ego_bin) ** 2 * 4
  grid = observation["grid"].numpy()
  for b in range(3):
    for i in range(5):
      hx, hy = pos[b, i]
      expected = _direct_ego_view(grid[b], hx, hy, ego_bin)
      np.testing.assert_array_equal(dense[b, i, window:window + view], expected)
      np.testing.assert_array_equal(sparse[b, i, window:window + view], expected)
      # Every entity is counted once in every agent's view: 5 hunters, 3 stags x 2 + 3 hares hp.
      assert expected.sum() == grid[b].sum()
  np.testing.assert_allclose(dense, sparse, rtol=1e-5, atol=1e-6)  # the feature parts: float sums


def test_egocentric_view_needs_a_bin_that_divides_the_grid():
  with pytest.raises(ValueError, match="ego_bin must divide grid_size = 20"):
    Trunk(grid_size=20, conv_filters=((4, 5, 5),), trunk_units=4, local_radius=1, local_units=4,
          ego_bin=3)


@pytest.mark.parametrize("grid_size,local_radius,ego_bin", [(3, 2, 3), (4, 2, 0), (4, 3, 2)])
def test_views_from_entries_when_the_window_wraps_onto_itself(grid_size, local_radius, ego_bin):
  # A window wider than the torus shows a cell more than once: each entry then falls in several of
  # an agent's window elements, and the entries path must add it to each (as the grid's gather).
  from mace_tf.envs import rules
  from mace_tf.fast import tf_game
  config = rules.GameConfig(kind=rules.STAG, num_hunters=3, num_prey=4, hit_points=2,
                            time_limit=9, grid_size=grid_size)
  state = tf_game.random_state(config, 2, tf.constant([7, 8], tf.int64))
  observation, entries = tf_game.encode(config, state, with_entries=True)
  trunk = Trunk(grid_size=grid_size, conv_filters=((4, grid_size, grid_size),), trunk_units=4,
                local_radius=local_radius, local_units=4, feature_radius=0, ego_bin=ego_bin)
  trunk(observation)  # builds
  dense = helpers.psi_input(trunk, observation)
  sparse = helpers.psi_input(trunk, observation, grid_entries=entries)
  k = (2 * local_radius + 1) ** 2 * 4
  grid = observation["grid"].numpy()
  pos = state.hunter_pos.numpy()
  for b in range(2):
    for i in range(3):
      np.testing.assert_array_equal(sparse[b, i, :k],
                                    _direct_window(grid[b], pos[b, i, 0], pos[b, i, 1],
                                                   local_radius))
  np.testing.assert_allclose(dense, sparse, rtol=1e-5, atol=1e-6)
