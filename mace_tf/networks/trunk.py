"""The state features: phi(s), the paper's 2-layer CNN (section 3.2), and each agent's own view.

The plain model, ordinary Keras: the compiled training loop computes the same function from the
grid's entries (`mace_tf/fast/network.py`, tested equal) and reads this trunk's layers and tables.
"""

from typing import Sequence, Tuple

import numpy as np
import tensorflow as tf

from mace_tf.envs import observation as observation_lib
from mace_tf.networks import entities


def cell_index(pos, grid_size: int):
  """`y * G + x` of positions `[..., 2]` (x, y)."""
  return pos[..., 1] * grid_size + pos[..., 0]


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
  """Computes phi(s) `[B, F]` and the per-agent features psi_i(s) `[N, B, L]` of an observation.

  phi(s): a 2-layer CNN over the `[G, G, 4]` grid (4 channels whatever N, see
  `mace_tf/envs/observation.py`; wrap-around padding, as the grid is a torus), flattened,
  concatenated with the time left, and a dense layer.

  psi_i(s): hunter i's own view, through one dense layer shared by all agents (`psi_input`): the
  (2r+1) x (2r+1) window of the grid centred on its cell, the (2R+1) x (2R+1) window of the CNN's
  feature map centred on its cell (a coarse egocentric view of what is farther away), its active
  flag and the time left. This tells the per-agent heads of eq. 15 which hunter is theirs and where
  things are relative to it. Its cost grows with N only after the convolutions, whose cost does not.

  With `ego_bin = c > 0`, psi_i also reads the whole torus centred on hunter i's cell: the grid
  summed over c x c cells around the centres (x_i + c k, y_i + c l), k and l in
  [-K // 2, K - K // 2) with K = G / c (c must divide G, so every cell is in one bin), rows of the
  view first (l, then k), 4 channels each: `[K, K, 4]` inputs per agent, fine as far as the window
  reaches and coarse beyond, so that every prey's direction is in view wherever it is.

  psi is agent-major (`[N, B, L]`), as the per-agent heads (`PerAgentDense`) read it.
  """

  def __init__(self, *, grid_size: int, conv_filters: Sequence[Tuple[int, int, int]],
               trunk_units: int, local_radius: int, local_units: int, feature_radius: int = 2,
               ego_bin: int = 0, entity_units: int = 0, entity_prey_slots: int = 0,
               name: str = "trunk"):
    super().__init__(name=name)
    self.grid_size = grid_size
    if ego_bin and grid_size % ego_bin:
      raise ValueError(f"ego_bin must divide grid_size = {grid_size} (each cell in one bin of the "
                       f"egocentric view), got {ego_bin}")
    self.ego_bin = ego_bin
    self.local_radius = local_radius
    # The layers keep the attribute names of the first release, which name their variables in
    # checkpoints (`convs`, `phi_dense`, `psi_dense` read them).
    self._convs = [
        tf.keras.layers.Conv2D(filters, kernel, strides=stride, padding="valid", activation="relu",
                               name=f"conv{i}")
        for i, (filters, kernel, stride) in enumerate(conv_filters)
    ]
    # A layer whose kernel equals its stride tiles the torus in patches (cheap: each input cell is
    # read once); its input is wrapped up to a multiple of the stride. Other layers pad by wrapping
    # around so that their windows are centred.
    self.patchify = all(k == s for _, k, s in conv_filters)
    self.paddings = []  # per layer, the wrap-around padding (before, after) of its input
    self.map_sizes = [grid_size]  # the map's size before each layer, then the feature map's
    self.stride = 1
    for _, kernel, stride in conv_filters:
      low = (kernel - 1) // 2
      pad = (0, -self.map_sizes[-1] % stride) if kernel == stride else (low, kernel - 1 - low)
      self.paddings.append(pad)
      self.map_sizes.append((self.map_sizes[-1] + sum(pad) - kernel) // stride + 1)
      self.stride *= stride
    self._dense = tf.keras.layers.Dense(trunk_units, activation="relu", name="phi")
    self._local_dense = tf.keras.layers.Dense(local_units, activation="relu", name="psi")
    # Per grid cell y * G + x, the flat indices of the cells each agent reads: of the grid (its
    # window) and of the feature map (its coarse view): one gather per forward pass.
    self.window_table = tf.constant(
        _window_table(grid_size, grid_size, 1, 0, local_radius), name="window_table")
    # Patch layers: the patch that holds the hunter's cell; otherwise the feature map cell whose
    # receptive field is centred nearest to the hunter's cell.
    shift = 0 if self.patchify else self.stride // 2
    self.feature_table = tf.constant(
        _window_table(grid_size, self.map_sizes[-1], self.stride, shift, feature_radius),
        name="feature_table")
    if ego_bin:
      self.ego_table = tf.constant(ego_view_table(grid_size, ego_bin), name="ego_table")
    self.entities = None
    if entity_units:
      self.entities = entities.EntityEncoder(grid_size=grid_size, prey_slots=entity_prey_slots,
                                             units=entity_units)

  @property
  def convs(self):
    return self._convs

  @property
  def phi_dense(self):
    return self._dense

  @property
  def psi_dense(self):
    return self._local_dense

  def call(self, observation):
    """`(phi [B, F], psi [N, B, L])` of an observation (batch `[B]`)."""
    feature_map = self.feature_map(observation["grid"])
    phi = self.phi(feature_map, observation["time_left"])
    psi = self.psi_dense(self.psi_input(observation, feature_map))
    n, batch = tf.shape(observation["hunters"])[1], tf.shape(phi)[0]
    return phi, tf.reshape(psi, [n, batch, psi.shape[-1]])

  def feature_map(self, grid):
    """The CNN's output `[B, H, H, F]` on the grid `[B, G, G, 4]`: each layer on its wrapped input."""
    x = tf.cast(grid, tf.float32)
    for conv, (low, high) in zip(self.convs, self.paddings):
      x = conv(circular_pad(x, low, high))
    return x

  def phi(self, feature_map, time_left):
    """phi(s) `[B, F]`: the flattened feature map and the time left `[B, 1]`, through a dense layer."""
    return self.phi_dense(tf.concat([flatten(feature_map), time_left], axis=-1))

  def psi_input(self, observation, feature_map):
    """psi_i's input `[N * B, D]`, rows agent-major (row i * B + b: agent i of game b):
    [window (2r+1)^2 * 4 | egocentric view K * K * 4 (with ego_bin) | features | active | time |
    pooled entities 2U (with entity_units)]."""
    grid = observation["grid"]
    hunters = tf.transpose(observation["hunters"], [1, 0, 2])  # [N, B, 3] int32: x, y, active
    cell = cell_index(hunters, self.grid_size)  # [N, B]
    parts = [gather_cells(grid, tf.gather(self.window_table, cell))]
    if self.ego_bin:
      parts.append(gather_cells(box_sum(grid, self.ego_bin), tf.gather(self.ego_table, cell)))
    parts.append(self.agent_features(observation, feature_map, cell))
    if self.entities is not None:
      parts.append(self.entities(observation))
    return tf.concat([tf.cast(p, tf.float32) for p in parts], axis=-1)

  def agent_features(self, observation, feature_map, cell):
    """`[N * B, (2R+1)^2 * F + 2]`: each agent's window of the feature map, its active flag and the
    time left (the last parts of `psi_input`)."""
    n = tf.shape(cell)[0]
    features = gather_cells(feature_map, tf.gather(self.feature_table, cell))
    active = tf.cast(tf.reshape(tf.transpose(observation_lib.active_agents(observation)), [-1, 1]),
                     tf.float32)
    time_n = tf.tile(observation["time_left"], [n, 1])  # [N * B, 1]
    return tf.concat([features, active, time_n], axis=-1)


def flatten(x):
  """`[B, ...]` -> `[B, prod(...)]` (static inner size)."""
  return tf.reshape(x, [-1, int(np.prod(x.shape[1:]))])


def box_sum(grid, size: int):
  """float32 `[B, G, G, C]`: per cell, the sum of `grid [B, G, G, C]` over the size x size cells around
  it, wrapping, offsets [-(size // 2), size - 1 - size // 2] per axis (exact: integer counts).

  A stride-1 average pool times size^2 (measured faster than cumulative sums or a depthwise
  convolution of ones on 2 CPU cores); rounded, so the counts come out whole.
  """
  low, high = size // 2, size - 1 - size // 2
  x = tf.cast(circular_pad(grid, low, high), tf.float32)
  return tf.round(tf.nn.avg_pool2d(x, size, 1, "VALID") * float(size * size))


def ego_view_table(grid_size: int, size: int):
  """int32 `[G * G, K * K]`: for the grid cell (x, y) at row y * G + x, the flat indices of the centres
  (x + size k, y + size l) (wrapping) of `Trunk`'s egocentric view, l-major, k and l in
  [-K // 2, K - K // 2), K = G / size."""
  bins = grid_size // size
  offsets = size * (np.arange(bins) - bins // 2)
  coords = np.arange(grid_size)
  y, x = np.meshgrid(coords, coords, indexing="ij")
  dy, dx = np.meshgrid(offsets, offsets, indexing="ij")
  rows = (y.ravel()[:, None] + dy.ravel()[None]) % grid_size
  cols = (x.ravel()[:, None] + dx.ravel()[None]) % grid_size
  return (rows * grid_size + cols).astype(np.int32)


def _window_table(grid_size: int, map_size: int, stride: int, shift: int, radius: int):
  """int32 `[G * G, K]`: for the grid cell (x, y) at row y * G + x, the flat indices (wrapping) of
  the (2 radius + 1)^2 cells of an `[H, H]` map around its cell ((x + shift) // stride, ...), rows
  of the window first (dy, then dx)."""
  coords = np.arange(grid_size)
  y, x = np.meshgrid(coords, coords, indexing="ij")
  cx, cy = ((x + shift) // stride).ravel(), ((y + shift) // stride).ravel()
  offsets = np.arange(-radius, radius + 1)
  dy, dx = np.meshgrid(offsets, offsets, indexing="ij")
  rows = (cy[:, None] + dy.ravel()[None]) % map_size
  cols = (cx[:, None] + dx.ravel()[None]) % map_size
  return (rows * map_size + cols).astype(np.int32)


def gather_cells(maps, cells):
  """`[N * B, K * C]`: row i * B + b holds the cells `cells[i, b] [K]` (flat indices) of game b's
  map `maps [B, H, H, C]`."""
  batch, channels = tf.shape(maps)[0], maps.shape[-1]
  area = tf.shape(maps)[1] * tf.shape(maps)[2]
  rows = cells + (tf.range(batch) * area)[None, :, None]
  # gather_nd: a third cheaper than gather for these many short rows (measured, 2 CPU cores).
  values = tf.gather_nd(tf.reshape(maps, [-1, channels]), rows[..., None])  # [N, B, K, C]
  return tf.reshape(values, [-1, cells.shape[-1] * channels])


class PerAgentDense(tf.keras.layers.Layer):
  """N dense layers side by side: agent-major `[N, B, D] -> [N, B, units]` with agent i's own `W_i`
  (and `b_i`). Agent-major, so that the product is one batched matmul with no transposes."""

  def __init__(self, num_agents: int, units: int, use_bias: bool = True,
               initializer="glorot_uniform", name: str = None):
    super().__init__(name=name)
    self._num_agents = num_agents
    self._units = units
    self.use_bias = use_bias
    self._initializer = initializer

  def build(self, input_shape):
    d = int(input_shape[-1])
    self.kernel = self.add_weight("kernel", [self._num_agents, d, self._units],
                                  initializer=self._initializer)
    if self.use_bias:
      self.bias = self.add_weight("bias", [self._num_agents, 1, self._units], initializer="zeros")

  def call(self, inputs):
    out = tf.matmul(inputs, self.kernel)
    return out + self.bias if self.use_bias else out


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
