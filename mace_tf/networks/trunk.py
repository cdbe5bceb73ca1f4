"""The state features: phi(s), the paper's 2-layer CNN (section 3.2), and each agent's own view."""

from typing import Sequence, Tuple

import numpy as np
import tensorflow as tf

from mace_tf.envs.tf_game import cell_index


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

  With `ego_bin = c > 0`, psi_i also reads the whole torus centred on hunter i's cell: the grid
  summed over c x c cells around the centres (x_i + c k, y_i + c l), k and l in
  [-K // 2, K - K // 2) with K = G / c (c must divide G, so every cell is in one bin), rows of the
  view first (l, then k), 4 channels each: `[K, K, 4]` inputs per agent, fine as far as the window
  reaches and coarse beyond, so that every prey's direction is in view wherever it is. From the grid
  it is a gather of the box-summed grid; from the grid's entries (the compiled loop) each entry is
  added to its bin of every agent's view, B N (N + M) additions (the same view, tested).
  """

  def __init__(self, *, grid_size: int, conv_filters: Sequence[Tuple[int, int, int]],
               trunk_units: int, local_radius: int, local_units: int, feature_radius: int = 2,
               ego_bin: int = 0, name: str = "trunk"):
    super().__init__(name=name)
    self._grid_size = grid_size
    if ego_bin and grid_size % ego_bin:
      raise ValueError(f"ego_bin must divide grid_size = {grid_size} (each cell in one bin of the "
                       f"egocentric view), got {ego_bin}")
    self._ego_bin = ego_bin
    self._convs = [
        tf.keras.layers.Conv2D(filters, kernel, strides=stride, padding="valid", activation="relu",
                               name=f"conv{i}")
        for i, (filters, kernel, stride) in enumerate(conv_filters)
    ]
    # A layer whose kernel equals its stride tiles the torus in patches (cheap: each input cell is
    # read once); its input is wrapped up to a multiple of the stride. Other layers pad by wrapping
    # around so that their windows are centred.
    self._patchify = all(k == s for _, k, s in conv_filters)
    self._paddings = []  # per layer, the wrap-around padding (before, after) of its input
    sizes = [grid_size]  # the map's size before each layer, then the feature map's
    self._stride = 1
    for _, kernel, stride in conv_filters:
      low = (kernel - 1) // 2
      pad = (0, -sizes[-1] % stride) if kernel == stride else (low, kernel - 1 - low)
      self._paddings.append(pad)
      sizes.append((sizes[-1] + sum(pad) - kernel) // stride + 1)
      self._stride *= stride
    self._layers = list(zip(self._convs, self._paddings))
    self._flatten = tf.keras.layers.Flatten()
    self._dense = tf.keras.layers.Dense(trunk_units, activation="relu", name="phi")
    self._local_dense = tf.keras.layers.Dense(local_units, activation="relu", name="psi")
    # Per grid cell y * G + x, the flat indices of the cells each agent reads: of the grid (its
    # window) and of the feature map (its coarse view). Built once, so that a forward pass looks
    # them up with one gather instead of a dozen index ops over [B, N, K].
    self._window_table = tf.constant(
        _window_table(grid_size, grid_size, 1, 0, local_radius), name="window_table")
    # Patch layers: the patch that holds the hunter's cell; otherwise the feature map cell whose
    # receptive field is centred nearest to the hunter's cell.
    shift = 0 if self._patchify else self._stride // 2
    self._feature_table = tf.constant(
        _window_table(grid_size, sizes[-1], self._stride, shift, feature_radius),
        name="feature_table")
    if ego_bin:
      self._ego_table = tf.constant(ego_view_table(grid_size, ego_bin), name="ego_table")
    # The views from the grid's entries (`call`'s `grid_entries`).
    self._view_sizes = ((2 * local_radius + 1) ** 2 * 4,) + (
        ((grid_size // ego_bin) ** 2 * 4,) if ego_bin else ())
    self._entry_view_table = tf.constant(
        entry_view_table(grid_size, local_radius, ego_bin), name="entry_view_table")
    # The first layer from the grid's nonzero entries (`call`'s `grid_entries`): per grid cell and
    # channel, the (output cell, kernel row) pairs it meets; padding repeats.
    _, first_kernel, first_stride = conv_filters[0]
    self._first_size = sizes[1]
    outputs, rows = _first_layer_tables(grid_size, first_kernel, first_stride, self._paddings[0],
                                        self._first_size, channels=4)
    # If the second layer is a patch layer that tiles the first one's output exactly, the first
    # layer's outputs are summed straight into the second one's patch order (patch by patch,
    # (dy, dx) inside), so that the second layer is one matmul with no reshuffle.
    self._second_patch = None
    if len(conv_filters) > 1 and conv_filters[1][1] == conv_filters[1][2] \
        and self._first_size % conv_filters[1][2] == 0:
      s2, h = conv_filters[1][2], self._first_size
      oy, ox = np.divmod(np.arange(h * h), h)
      order = (((oy // s2) * (h // s2) + ox // s2) * s2 + oy % s2) * s2 + ox % s2
      outputs = np.where(outputs >= 0, order[np.maximum(outputs, 0)], outputs).astype(np.int32)
      self._second_patch = s2
    self._first_outputs = tf.constant(outputs, name="first_layer_outputs")
    self._first_padding = bool((outputs < 0).any())
    self._first_rows = tf.constant(rows, name="first_layer_rows")

  def call(self, observation, recorder=None, grid_entries=None, agent_major=False):
    """`(phi [B, F], psi [B, N, L])` of an observation (`psi [N, B, L]` if `agent_major`).

    Args:
      observation: the game observation, batch `[B]`.
      recorder: a `DeferredGradients` (the compiled training loop) or None.
      grid_entries: None, or the observation's grid as its nonzero entries
        (`tf_game.GridEntries`): the first layer then sums kernel rows over the entries (as many as
        hunters and prey) instead of convolving the `[G, G, 4]` grid. The same function (tested).
    """
    grid = observation["grid"]  # [B, G, G, 4] uint8
    time_left = observation["time_left"]  # [B, 1]
    layers = self._layers
    if grid_entries is None:
      x = tf.cast(grid, tf.float32)
    else:
      # The batch from time_left: the fast path never reads the grid, so it need not be built.
      x, layers = self._first_layers_from_entries(grid_entries, tf.shape(time_left)[0], recorder)
    for conv, (low, high) in layers:
      x = apply_layer(conv, circular_pad(x, low, high), recorder)
    phi = apply_layer(self._dense, tf.concat([self._flatten(x), time_left], axis=-1), recorder)

    hunters = tf.transpose(observation["hunters"], [1, 0, 2])  # [N, B, 3] int32: x, y, active
    n, batch = tf.shape(hunters)[0], tf.shape(hunters)[1]
    cell = cell_index(hunters, self._grid_size)  # [N, B]
    # psi_i's inputs as rows [N * B, ...] (agent-major, as `PerAgentDense` reads them), so that its
    # layer is one matmul per part. The window stays uint8: the layer casts it in its product.
    features = _gather_cells(x, tf.gather(self._feature_table, cell))
    active = tf.cast(tf.reshape(hunters[..., 2], [-1, 1]), tf.float32)
    time_n = tf.tile(time_left, [n, 1])  # [N * B, 1]
    # In parts: the window (and the egocentric view) are inputs, the backward pass needs no
    # gradient for them.
    if grid_entries is not None:
      parts = self._views_from_entries(grid_entries, cell)
    else:
      parts = [_gather_cells(grid, tf.gather(self._window_table, cell))]
      if self._ego_bin:
        parts.append(_gather_cells(box_sum(grid, self._ego_bin),
                                   tf.gather(self._ego_table, cell)))
    parts.append(tf.concat([features, active, time_n], axis=-1))
    psi = apply_layer(self._local_dense, parts, recorder)
    psi = tf.reshape(psi, [n, batch, psi.shape[-1]])
    return phi, (psi if agent_major else tf.transpose(psi, [1, 0, 2]))

  def _views_from_entries(self, entries, cell):
    """The window `[N * B, (2r + 1)^2 * 4]` and, with `ego_bin`, the egocentric view
    `[N * B, K * K * 4]`, as the grid's gathers give them, from the grid's entries: each entry adds
    its value to the elements it falls in of every agent's views of its game, B N (N + M) P
    additions into one buffer, instead of building the [B, G, G, 4] grid and box-summing it.
    """
    g = self._grid_size
    n, batch = tf.shape(cell)[0], tf.shape(cell)[1]
    # An entry's key and an agent's key differ by the entry's offset from the agent (per axis in
    # (-G, G), shifted by G) and its channel: `_entry_view_table` maps that to the P elements of
    # the agent's views it falls in. One subtraction and one lookup per (agent, entry) pair.
    entry_cell, channel = tf.math.floordiv(entries.index, 4), entries.index % 4
    entry_key = ((entry_cell // g + g) * (2 * g) + entry_cell % g + g) * 4 + channel  # [B * E]
    agent_key = ((cell // g) * (2 * g) + cell % g) * 4  # [N, B]
    element = tf.gather(self._entry_view_table,
                        tf.reshape(entry_key, [1, batch, -1]) - agent_key[..., None])  # [N, B, E, P]
    width = sum(self._view_sizes)
    row = tf.reshape(tf.range(n * batch) * width, [n, batch, 1, 1])
    values = tf.broadcast_to(tf.reshape(tf.cast(entries.value, tf.float32), [1, batch, -1, 1]),
                             tf.shape(element))
    # unsorted_segment_sum, not scatter_nd: faster forward (BUILD_NOTES.md, issue 12); the views
    # are inputs, so their gradient (where scatter_nd is cheaper) is never taken. Unused slots
    # stay negative, and unsorted_segment_sum drops negative segments.
    views = tf.math.unsorted_segment_sum(tf.reshape(values, [-1]), tf.reshape(element + row, [-1]),
                                         n * batch * width)
    # One part, the views side by side: their rows of psi's kernel are adjacent (`call`).
    return [tf.reshape(views, [n * batch, width])]

  def _first_layers_from_entries(self, entries, batch, recorder):
    """The first convolution (and the second, if a patch layer) from the grid's entries.

    Returns the feature map `[B, H, H, F]` and the (layer, padding) pairs still to apply.
    """
    conv = self._convs[0]
    if not conv.built:
      conv.build(tf.TensorShape([None, self._grid_size, self._grid_size, 4]))
    kernel = tf.reshape(conv.kernel, [-1, conv.filters])  # [k * k * 4, F]
    h = self._first_size
    rows = tf.gather(self._first_rows, entries.index)  # [E, P]
    cells = tf.gather(self._first_outputs, entries.index) + entries.game[:, None] * (h * h)
    values = tf.gather(kernel, rows) * tf.cast(entries.value, tf.float32)[:, None, None]
    # scatter_nd (which sums entries that meet) rather than unsorted_segment_sum: its gradient is
    # one gather, where unsorted_segment_sum's also masks its negative segments over [E, P, F].
    # Padding slots (negative cells) go to a row 0 that is dropped.
    if self._first_padding:
      z = tf.scatter_nd(tf.maximum(cells + 1, 0)[..., None], values,
                        [batch * h * h + 1, conv.filters])[1:]
    else:
      z = tf.scatter_nd(cells[..., None], values, [batch * h * h, conv.filters])  # [B * H * H, F]
    x = conv.activation(z + conv.bias)
    if self._second_patch is None:
      return tf.reshape(x, [batch, h, h, conv.filters]), self._layers[1:]
    second, s = self._convs[1], self._second_patch
    patches = tf.reshape(x, [-1, s * s * conv.filters])  # [B * (H / s)^2, s * s * F]
    x = apply_layer(second, patches, recorder, as_matmul=True)
    return tf.reshape(x, [batch, h // s, h // s, second.filters]), self._layers[2:]


def apply_layer(layer, x, recorder=None, as_matmul: bool = False):
  """`layer(x)`, or through `recorder` (a `DeferredGradients`) when one is given.

  `as_matmul`: `layer` is a Conv2D whose kernel equals its stride and `x` its patches
  `[M, k * k * C]`, rows in the kernel's (dy, dx, channel) order: the output is `[M, F]`.
  `x` a list (Dense only): the parts of the input, which are not concatenated: each goes through its
  rows of the kernel (no `[B, N, D]` copy, and input gradients only for the parts that need them).
  A part may be integers (an input, e.g. grid counts): it is cast to float32 in the product.
  """
  if recorder is not None:
    return recorder.apply(layer, x, as_matmul=as_matmul)
  if not isinstance(x, (list, tuple)) and not as_matmul:
    return layer(x)
  build_layer(layer, x, as_matmul)
  return layer.activation(pre_activation(layer, x, layer.kernel, as_matmul) + layer.bias)


def build_layer(layer, x, as_matmul: bool = False) -> None:
  """Creates `layer`'s weights, if it has none yet, for `apply_layer`'s forms of its input `x`."""
  if layer.built:
    return
  if isinstance(x, (list, tuple)):  # a Dense over input parts
    layer.build(tf.TensorShape([None, sum(int(p.shape[-1]) for p in x)]))
  elif as_matmul:  # a patch Conv2D on its patches [M, k * k * C]
    ky, kx = layer.kernel_size
    layer.build(tf.TensorShape([None, None, None, int(x.shape[-1]) // (ky * kx)]))
  else:
    layer(x)  # the value is discarded


def pre_activation(layer, x, kernel, as_matmul: bool = False):
  """x W without the bias, for `apply_layer`'s forms of `x`; `kernel`: the layer's kernel (or the
  same value held constant, `DeferredGradients`). Dense, Conv2D ("valid") and PerAgentDense."""
  if isinstance(x, (list, tuple)):  # a Dense over input parts: each through its rows of W
    kernels = tf.split(kernel, [int(p.shape[-1]) for p in x], axis=0)
    return tf.add_n([_dense_product(as_float(p), k) for p, k in zip(x, kernels)])
  if isinstance(layer, PerAgentDense):
    return tf.matmul(x, kernel)  # [N, B, D] x [N, D, U]
  if as_matmul:
    return tf.matmul(x, tf.reshape(kernel, [-1, layer.filters]))
  if isinstance(layer, tf.keras.layers.Conv2D):
    return tf.nn.conv2d(x, kernel, strides=layer.strides, padding="VALID",
                        dilations=layer.dilation_rate)
  return _dense_product(x, kernel)


def _dense_product(x, kernel):
  return tf.tensordot(x, kernel, 1) if x.shape.rank > 2 else tf.matmul(x, kernel)


def as_float(x):
  """`x` as float32 (input parts may come as integers, e.g. the uint8 window)."""
  return x if x.dtype == tf.float32 else tf.cast(x, tf.float32)


def box_sum(grid, size: int):
  """float32 `[B, G, G, C]`: per cell, the sum of `grid [B, G, G, C]` over the size x size cells around
  it, wrapping, offsets [-(size // 2), size - 1 - size // 2] per axis (exact: integer counts).

  A stride-1 average pool times size^2 (measured faster than cumulative sums or a depthwise
  convolution of ones on 2 CPU cores); rounded, so the counts come out whole.
  """
  low, high = size // 2, size - 1 - size // 2
  x = as_float(circular_pad(grid, low, high))
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


def entry_view_table(grid_size: int, local_radius: int, ego_bin: int = 0):
  """int32 `[(2 G)^2 * 4, P]`: at row ((dy + G) * 2 G + dx + G) * 4 + channel, for an entry at offset
  (dx, dy) in (-G, G)^2 from an agent's cell, the elements of that agent's views it falls in, in a
  row [window (2r + 1)^2 * 4 | egocentric view K * K * 4]:
  the window's ((j + r) * (2r + 1) + i + r) * 4 + channel for each (i, j) in [-r, r]^2 with
  (dx - i, dy - j) = 0 modulo G (several if the window wraps around onto itself), and the view's
  ((l * K + k) * 4 + channel) of its bin (k, l) (see `ego_view_table`). Unused slots hold
  -2^30 (negative whatever the agent's row offset, so dropped)."""
  g, r, side = grid_size, local_radius, 2 * local_radius + 1
  window = side * side * 4
  views = window + ((g // ego_bin) ** 2 * 4 if ego_bin else 0)
  offsets = np.arange(2 * g) - g
  # Per axis, the window positions each offset falls in: i + r for i in [-r, r], i = o modulo G.
  at = [[i + r for i in range(-r, r + 1) if (o - i) % g == 0] for o in offsets]
  per_axis = max(len(v) for v in at)
  slots = per_axis * per_axis + (1 if ego_bin else 0)
  table = np.full((2 * g, 2 * g, 4, slots), -2**30, np.int64)
  for y, rows in enumerate(at):
    for x, cols in enumerate(at):
      for p, (j, i) in enumerate((j, i) for j in rows for i in cols):
        table[y, x, :, p] = (j * side + i) * 4 + np.arange(4)
  if ego_bin:
    bins = g // ego_bin
    shift = ego_bin // 2 + ego_bin * (bins // 2)  # offset 0 falls in bin K // 2
    k = ((offsets + shift) % g) // ego_bin  # the bin of each offset, per axis
    table[..., -1] = window + (k[:, None, None] * bins + k[None, :, None]) * 4 + np.arange(4)
  return table.reshape(-1, slots).astype(np.int32)


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


def _first_layer_tables(grid_size: int, kernel: int, stride: int, padding, out_size: int,
                        channels: int):
  """int32 `[G * G * C, P]` twice: for the grid entry (cell y * G + x, channel c) at row
  (y * G + x) * C + c, the output cells (oy * H + ox) of the first layer whose windows read it, and
  the matching rows ((ky * k + kx) * C + c) of its kernel reshaped `[k * k * C, F]`. Padding (wrap
  around) can show a cell to a window twice; unused slots point at output -2^30 (negative for any
  game's offset)."""
  low = padding[0]
  per_coord = [[] for _ in range(grid_size)]  # coordinate -> [(output, kernel offset)]
  for o in range(out_size):
    for j in range(kernel):
      per_coord[(o * stride + j - low) % grid_size].append((o, j))
  p = max(len(v) for v in per_coord) ** 2
  outputs = np.full((grid_size * grid_size, channels, p), -2**30, np.int32)
  rows = np.zeros((grid_size * grid_size, channels, p), np.int32)
  for y in range(grid_size):
    for x in range(grid_size):
      pairs = [(oy * out_size + ox, ky * kernel + kx)
               for oy, ky in per_coord[y] for ox, kx in per_coord[x]]
      for i, (out, k) in enumerate(pairs):
        outputs[y * grid_size + x, :, i] = out
        rows[y * grid_size + x, :, i] = k * channels + np.arange(channels)
  return outputs.reshape(-1, p), rows.reshape(-1, p)


def _gather_cells(maps, cells):
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
