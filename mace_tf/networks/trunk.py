"""The state features: phi(s), the paper's 2-layer CNN (section 3.2), and each agent's own view."""

from typing import Sequence, Tuple

import tensorflow as tf


def circular_pad(x, low: int, high: int):
  """Pads `[B, H, W, C]` by wrapping around (the grid is a torus): `low` before, `high` after.

  One gather per axis (fewer ops, and cheaper gradients, than slicing and concatenating).
  """
  if low == 0 and high == 0:
    return x
  h, w = x.shape[1], x.shape[2]
  rows = tf.constant([i % h for i in range(-low, h + high)], tf.int32)
  cols = tf.constant([i % w for i in range(-low, w + high)], tf.int32)
  return tf.gather(tf.gather(x, rows, axis=1), cols, axis=2)


class Trunk(tf.keras.layers.Layer):
  """Computes phi(s) `[B, F]` and the per-agent features psi_i(s) `[B, N, L]` of an observation.

  phi(s): a 2-layer CNN over the `[G, G, 4]` grid (4 channels whatever N, see
  `mace_tf/envs/observation.py`; wrap-around padding, as the grid is a torus), flattened,
  concatenated with the time left, and a dense layer.

  psi_i(s): hunter i's own view, through one dense layer shared by all agents: the (2r+1) x (2r+1)
  window of the grid centred on its cell, the (2R+1) x (2R+1) window of the CNN's feature map centred
  on its cell (a coarse egocentric view of what is farther away), its active flag and the time left.
  This tells the per-agent heads of eq. 15 which hunter is theirs and where things are relative to
  it. Its cost grows with N only after the convolutions, whose cost does not.
  """

  def __init__(self, *, grid_size: int, conv_filters: Sequence[Tuple[int, int, int]],
               trunk_units: int, local_radius: int, local_units: int, feature_radius: int = 2,
               name: str = "trunk"):
    super().__init__(name=name)
    self._grid_size = grid_size
    self._convs = [
        tf.keras.layers.Conv2D(filters, kernel, strides=stride, padding="valid", activation="relu",
                               name=f"conv{i}")
        for i, (filters, kernel, stride) in enumerate(conv_filters)
    ]
    # A layer whose kernel equals its stride tiles the torus in patches (cheap: each input cell is
    # read once); its input is wrapped up to a multiple of the stride. Other layers pad by wrapping
    # around so that their windows are centred.
    self._patchify = all(k == s for _, k, s in conv_filters)
    self._pads = [None if k == s else ((k - 1) // 2, k - 1 - (k - 1) // 2)
                  for _, k, s in conv_filters]
    self._stride = 1
    for _, _, stride in conv_filters:
      self._stride *= stride
    fr = feature_radius
    self._feature_offsets = tf.constant(
        [(dx, dy) for dy in range(-fr, fr + 1) for dx in range(-fr, fr + 1)], dtype=tf.int32)
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
    for conv, pad in zip(self._convs, self._pads):
      low, high = pad or (0, -x.shape[1] % conv.strides[0])
      x = conv(circular_pad(x, low, high))
    phi = self._dense(tf.concat([self._flatten(x), time_left], axis=-1))

    hunters = observation["hunters"]  # [B, N, 3] int32: x, y, active
    n = tf.shape(hunters)[1]
    window = self._egocentric(grid, hunters[..., :2], self._offsets, self._grid_size)
    if self._patchify:  # The patch that holds the hunter's cell.
      coarse = hunters[..., :2] // self._stride
    else:  # The feature map cell whose receptive field is centred nearest to the hunter's cell.
      coarse = (hunters[..., :2] + self._stride // 2) // self._stride
    features = self._egocentric(x, coarse, self._feature_offsets, tf.shape(x)[1])
    active = tf.cast(hunters[..., 2:3], tf.float32)
    time_n = tf.tile(time_left[:, None, :], [1, n, 1])
    psi = self._local_dense(tf.concat([window, features, active, time_n], axis=-1))
    return phi, psi

  @staticmethod
  def _egocentric(maps, xy, offsets, size):
    """`[B, N, K * C]`: the cells `xy [B, N, 2] + offsets [K, 2]` (wrapping) of `maps [B, H, H, C]`."""
    cells = (xy[:, :, None, :] + offsets[None, None]) % size  # [B, N, K, 2]
    height, channels = tf.shape(maps)[1], maps.shape[-1]
    # One flat gather of rows (faster here than gather_nd with batch_dims).
    rows = (tf.range(tf.shape(maps)[0])[:, None, None] * height + cells[..., 1]) * height + cells[..., 0]
    values = tf.gather(tf.reshape(maps, [-1, channels]), rows)
    shape = tf.shape(values)
    return tf.reshape(values, [shape[0], shape[1], offsets.shape[0] * channels])


class PerAgentDense(tf.keras.layers.Layer):
  """N dense layers side by side: `[B, N, D] -> [B, N, units]` with agent i's own `W_i` (and `b_i`)."""

  def __init__(self, num_agents: int, units: int, use_bias: bool = True,
               initializer="glorot_uniform", name: str = None):
    super().__init__(name=name)
    self._num_agents = num_agents
    self._units = units
    self._use_bias = use_bias
    self._initializer = initializer

  def build(self, input_shape):
    d = int(input_shape[-1])
    self.kernel = self.add_weight("kernel", [self._num_agents, d, self._units],
                                  initializer=self._initializer)
    if self._use_bias:
      self.bias = self.add_weight("bias", [self._num_agents, self._units], initializer="zeros")

  def call(self, inputs):
    out = tf.einsum("bnd,ndu->bnu", inputs, self.kernel)
    return out + self.bias if self._use_bias else out


class PerAgentBias(tf.keras.layers.Layer):
  """Agent i's own bias `b_i` `[N, units]`, broadcast over the batch (input: any `[B, N, ...]`)."""

  def __init__(self, num_agents: int, units: int, initializer="zeros", name: str = None):
    super().__init__(name=name)
    self._num_agents = num_agents
    self._units = units
    self._initializer = initializer

  def build(self, input_shape):
    self.bias = self.add_weight("bias", [self._num_agents, self._units],
                                initializer=self._initializer)

  def call(self, inputs):
    del inputs
    return self.bias[None]
