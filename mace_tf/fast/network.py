"""The network's forward pass as the compiled training loop runs it: the same function as the plain
`MaceNetwork` (tests/fast/test_fast_network.py), computed from the grid's entries, with the linear
layers' weight gradients deferred (`DeferredGradients`).

* The first convolution sums kernel rows over the grid's nonzero entries (as many as hunters and
  prey) instead of convolving the `[G, G, 4]` grid; a second patch layer that tiles its output is
  one matmul on the first layer's outputs summed straight into patch order.
* Each agent's window and egocentric view are summed from the entries into one buffer, through one
  lookup table indexed by the entry's offset from the agent (`entry_view_table`): the grid itself
  is never built.
* Each linear layer goes through `apply_layer`, which hands it to a `DeferredGradients` recorder.

It reads the plain network's layers and tables and holds none of its own variables: a new network
variant is written in `mace_tf/networks` first; the fast path follows only if its layers are the
supported ones (DESIGN.md).
"""

import numpy as np
import tensorflow as tf

from mace_tf.networks.mace_network import MaceNetwork, MaceNetworkOutput
from mace_tf.networks.trunk import PerAgentDense, Trunk, cell_index, circular_pad, flatten


class FastNetwork:
  """`network(observation, noise=eps)` of a `MaceNetwork`, from the grid's entries.

  Call: `fast(observation, entries, noise, recorder)` -> `MaceNetworkOutput`, batch `[B]`;
  `entries` are the observation grid's `tf_game.GridEntries`, `recorder` a `DeferredGradients` or
  None.
  """

  def __init__(self, network: MaceNetwork):
    self._network = network
    self.trunk = FastTrunk(network.trunk)

  def __call__(self, observation, entries, noise=None, recorder=None) -> MaceNetworkOutput:
    phi, psi = self.trunk(observation, entries, recorder)
    return self._network.heads(phi, psi, noise,
                               layer_fn=lambda layer, x: apply_layer(layer, x, recorder))


class FastTrunk:
  """`trunk(observation)` of a `Trunk` from the grid's entries: `fast(observation, entries,
  recorder)` -> `(phi [B, F], psi [N, B, L])`."""

  def __init__(self, trunk: Trunk):
    self._trunk = trunk
    g, r, c = trunk.grid_size, trunk.local_radius, trunk.ego_bin
    self._view_sizes = ((2 * r + 1) ** 2 * 4,) + (((g // c) ** 2 * 4,) if c else ())
    self._entry_view_table = tf.constant(entry_view_table(g, r, c), name="entry_view_table")
    _, first_kernel, first_stride = conv_spec(trunk.convs[0])
    self._first_size = h = trunk.map_sizes[1]
    outputs, rows = _first_layer_tables(g, first_kernel, first_stride, trunk.paddings[0], h,
                                        channels=4)
    # If the second layer is a patch layer that tiles the first one's output exactly, the first
    # layer's outputs are summed straight into the second one's patch order (patch by patch,
    # (dy, dx) inside), so that the second layer is one matmul with no reshuffle.
    self._second_patch = None
    layers = list(zip(trunk.convs, trunk.paddings))
    if len(layers) > 1:
      _, k2, s2 = conv_spec(trunk.convs[1])
      if k2 == s2 and h % s2 == 0:
        oy, ox = np.divmod(np.arange(h * h), h)
        order = (((oy // s2) * (h // s2) + ox // s2) * s2 + oy % s2) * s2 + ox % s2
        outputs = np.where(outputs >= 0, order[np.maximum(outputs, 0)], outputs).astype(np.int32)
        self._second_patch = s2
    self._layers = layers
    self._first_outputs = tf.constant(outputs, name="first_layer_outputs")
    self._first_padding = bool((outputs < 0).any())
    self._first_rows = tf.constant(rows, name="first_layer_rows")

  def __call__(self, observation, entries, recorder=None):
    """`(phi [B, F], psi [N, B, L])`, as `Trunk.call` gives them."""
    trunk = self._trunk
    feature_map = self.feature_map(observation, entries, recorder)
    phi = apply_layer(trunk.phi_dense,
                      tf.concat([flatten(feature_map), observation["time_left"]], axis=-1),
                      recorder)
    psi = apply_layer(trunk.psi_dense,
                      self.psi_input(observation, entries, feature_map, recorder), recorder)
    n, batch = tf.shape(observation["hunters"])[1], tf.shape(phi)[0]
    return phi, tf.reshape(psi, [n, batch, psi.shape[-1]])

  def feature_map(self, observation, entries, recorder=None):
    """`Trunk.feature_map`: the CNN's output `[B, H, H, F]`, its first layer from the entries."""
    # The batch from time_left: the fast path never reads the grid, so it need not be built.
    x, layers = self.first_layers_from_entries(entries, tf.shape(observation["time_left"])[0],
                                               recorder)
    for conv, (low, high) in layers:
      x = apply_layer(conv, circular_pad(x, low, high), recorder)
    return x

  def psi_input(self, observation, entries, feature_map, recorder=None):
    """`Trunk.psi_input` in parts, `[views [N * B, V], agent features [N * B, D - V]]` (and the
    pooled entities with `entity_units`): each part goes through its rows of psi's kernel, not
    concatenated, and the views (inputs) need no gradient."""
    trunk = self._trunk
    hunters = tf.transpose(observation["hunters"], [1, 0, 2])  # [N, B, 3]
    cell = cell_index(hunters, trunk.grid_size)  # [N, B]
    parts = (self.views_from_entries(entries, cell)
             + [trunk.agent_features(observation, feature_map, cell)])
    if trunk.entities is not None:  # the plain encoder on the observation (its grid is built)
      parts.append(trunk.entities(
          observation, layer_fn=lambda layer, x: apply_layer(layer, x, recorder)))
    return parts

  def views_from_entries(self, entries, cell):
    """`[views [N * B, V]]`: one part, the window `(2r + 1)^2 * 4` and, with `ego_bin`, the
    egocentric view `K * K * 4` side by side, as the grid's gathers give them, from the grid's
    entries: each entry adds its value to the elements it falls in of every agent's views of its
    game, B N (N + M) P additions into one buffer, instead of building the [B, G, G, 4] grid and
    box-summing it."""
    g = self._trunk.grid_size
    n, batch = tf.shape(cell)[0], tf.shape(cell)[1]
    # An entry's key and an agent's key differ by the entry's offset from the agent (per axis in
    # (-G, G), shifted by G) and its channel: `entry_view_table` maps that to the P elements of
    # the agent's views it falls in. One subtraction and one lookup per (agent, entry) pair.
    entry_cell, channel = tf.math.floordiv(entries.index, 4), entries.index % 4
    entry_key = ((entry_cell // g + g) * (2 * g) + entry_cell % g + g) * 4 + channel  # [B * E]
    agent_key = ((cell // g) * (2 * g) + cell % g) * 4  # [N, B]
    offset_key = tf.reshape(entry_key, [1, batch, -1]) - agent_key[..., None]  # [N, B, E]
    element = tf.gather(self._entry_view_table, offset_key)  # [N, B, E, P]
    width = sum(self._view_sizes)
    row = tf.reshape(tf.range(n * batch) * width, [n, batch, 1, 1])
    values = tf.broadcast_to(tf.reshape(tf.cast(entries.value, tf.float32), [1, batch, -1, 1]),
                             tf.shape(element))
    # unsorted_segment_sum, not scatter_nd: its forward measured 0.25 against 0.41 ms (N = 20,
    # B = 16); the views are inputs, so their gradient (where scatter_nd is cheaper) is never
    # taken. Unused slots stay negative, and unsorted_segment_sum drops negative segments.
    views = tf.math.unsorted_segment_sum(tf.reshape(values, [-1]), tf.reshape(element + row, [-1]),
                                         n * batch * width)
    # One part, the views side by side: their rows of psi's kernel are adjacent (`Trunk.psi_input`).
    return [tf.reshape(views, [n * batch, width])]

  def first_layers_from_entries(self, entries, batch, recorder):
    """The first convolution (and the second, if a patch layer) from the grid's entries.

    Returns the feature map `[B, H, H, F]` and the (layer, padding) pairs still to apply.
    """
    conv = self._trunk.convs[0]
    if not conv.built:
      g = self._trunk.grid_size
      conv.build(tf.TensorShape([None, g, g, 4]))
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
    second, s = self._trunk.convs[1], self._second_patch
    patches = tf.reshape(x, [-1, s * s * conv.filters])  # [B * (H / s)^2, s * s * F]
    x = apply_layer(second, patches, recorder, as_matmul=True)
    return tf.reshape(x, [batch, h // s, h // s, second.filters]), self._layers[2:]


def conv_spec(conv):
  """(filters, kernel, stride) of a square Conv2D."""
  return conv.filters, conv.kernel_size[0], conv.strides[0]


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
  """`x` as float32 (input parts may come as integers, e.g. uint8 counts)."""
  return x if x.dtype == tf.float32 else tf.cast(x, tf.float32)


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
