"""The state features: phi(s), the paper's 2-layer CNN (section 3.2), and each agent's own view."""

from typing import Sequence, Tuple

import tensorflow as tf


class Trunk(tf.keras.layers.Layer):
  """Computes phi(s) `[B, F]` and the per-agent features psi_i(s) `[B, N, L]` of an observation.

  phi(s): a 2-layer CNN over the `[G, G, 4]` grid (4 channels whatever N, see
  `mace_tf/envs/observation.py`), flattened, concatenated with the time left, and a dense layer.

  psi_i(s): hunter i's own view: the (2r+1) x (2r+1) window of the grid centred on its cell (with the
  torus' wrap-around), its active flag and the time left, through one dense layer shared by all
  agents. This is what tells the per-agent heads of eq. 15 which hunter is theirs and what is near it;
  its cost is N * (2r+1)^2 * 4 * L multiply-adds, small beside the convolution.
  """

  def __init__(self, *, grid_size: int, conv_filters: Sequence[Tuple[int, int, int]],
               trunk_units: int, local_radius: int, local_units: int, name: str = "trunk"):
    super().__init__(name=name)
    self._grid_size = grid_size
    self._convs = [
        tf.keras.layers.Conv2D(filters, kernel, strides=stride, padding="same", activation="relu",
                               name=f"conv{i}")
        for i, (filters, kernel, stride) in enumerate(conv_filters)
    ]
    self._flatten = tf.keras.layers.Flatten()
    self._dense = tf.keras.layers.Dense(trunk_units, activation="relu", name="phi")
    self._local_dense = tf.keras.layers.Dense(local_units, activation="relu", name="psi")
    r = local_radius
    self._offsets = tf.constant([(dx, dy) for dy in range(-r, r + 1) for dx in range(-r, r + 1)],
                                dtype=tf.int32)  # [K, 2]

  def call(self, observation):
    grid = tf.cast(observation["grid"], tf.float32)  # [B, G, G, 4]
    time_left = observation["time_left"]  # [B, 1]
    x = grid
    for conv in self._convs:
      x = conv(x)
    phi = self._dense(tf.concat([self._flatten(x), time_left], axis=-1))

    hunters = observation["hunters"]  # [B, N, 3] int32: x, y, active
    xy = (hunters[:, :, None, :2] + self._offsets[None, None]) % self._grid_size  # [B, N, K, 2]
    window = tf.gather_nd(grid, tf.stack([xy[..., 1], xy[..., 0]], axis=-1), batch_dims=1)
    n = tf.shape(hunters)[1]
    window = tf.reshape(window, [tf.shape(hunters)[0], n, self._offsets.shape[0] * 4])
    active = tf.cast(hunters[..., 2:3], tf.float32)
    time_n = tf.tile(time_left[:, None, :], [1, n, 1])
    psi = self._local_dense(tf.concat([window, active, time_n], axis=-1))
    return phi, psi


class PerAgentDense(tf.keras.layers.Layer):
  """N dense layers side by side: `[B, N, D] -> [B, N, units]` with agent i's own `W_i`, `b_i`."""

  def __init__(self, num_agents: int, units: int, name: str = None):
    super().__init__(name=name)
    self._num_agents = num_agents
    self._units = units

  def build(self, input_shape):
    d = int(input_shape[-1])
    self.kernel = self.add_weight("kernel", [self._num_agents, d, self._units],
                                  initializer="glorot_uniform")
    self.bias = self.add_weight("bias", [self._num_agents, self._units], initializer="zeros")

  def call(self, inputs):
    return tf.einsum("bnd,ndu->bnu", inputs, self.kernel) + self.bias
