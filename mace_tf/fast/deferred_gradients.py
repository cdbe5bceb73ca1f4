"""DeferredGradients: the weight gradients of many small forward passes as one op per layer.

The compiled training loop differentiates the L forward passes it made while collecting (batch B
each). Left to the tape, every pass's backward computes, per layer, both dL/dx = dz W^T and
dL/dW = x^T dz: 2 L small ops per layer, each dominated by its fixed cost on a CPU. But
dL/dW = sum_t x_t^T dz_t is a single product over the L passes stacked. So, in a pass run with a
`DeferredGradients`, each linear layer computes its pre-activation z = x W + b with W and b behind
`stop_gradient` and records (x, z); one `tape.gradient(loss, [z ...])` then runs the backward passes
through the activations only, and `gradients()` forms each layer's dL/dW and dL/db with one op over
all the recorded passes. The same gradients as the tape's (tested), in fewer, larger ops.

Layers: Keras `Dense` (any input rank; the input whole or as a list of parts), Keras `Conv2D`
("valid" padding, as the trunk uses it) and `PerAgentDense`. Variables of other layers get their
gradients from the tape as usual.
"""

import collections
from typing import List, Sequence

import tensorflow as tf

from mace_tf.fast.network import as_float, build_layer, pre_activation
from mace_tf.networks.trunk import PerAgentDense


class DeferredGradients:
  """Records the linear layers' (input, pre-activation) of forward passes; see the module doc.

  Usage (inside `tape`): `recorder = DeferredGradients(tape)`, run the passes with
  `FastNetwork(network)(observation, entries, noise, recorder)`, compute the loss; then (tape
  closed) `recorder.gradients(loss, variables)`.
  """

  def __init__(self, tape: tf.GradientTape):
    self._tape = tape
    self._records = collections.defaultdict(list)  # layer -> [(x, z)]
    self._layers = {}  # id(layer) -> layer, in first-use order
    self._as_matmul = {}  # id(layer) -> whether its records are patches and a matmul

  def apply(self, layer, x, as_matmul: bool = False):
    """The layer's output on `x`, its weights held constant on the tape; records (x, z).

    `as_matmul`: a Conv2D applied to its patches `[M, k * k * C]` (see `network.apply_layer`).
    """
    if not isinstance(layer, (PerAgentDense, tf.keras.layers.Conv2D, tf.keras.layers.Dense)):
      raise TypeError(f"{layer.name}: {type(layer).__name__} is not a deferrable layer")
    build_layer(layer, x, as_matmul)
    if isinstance(layer, tf.keras.layers.Conv2D) and not as_matmul and (
        layer.padding != "valid" or layer.data_format != "channels_last"):
      raise ValueError(f"{layer.name}: only 'valid', channels-last convolutions are deferred")
    z = pre_activation(layer, x, tf.stop_gradient(layer.kernel), as_matmul)
    if layer.use_bias:
      z = z + tf.stop_gradient(layer.bias)
    self._tape.watch(z)
    self._records[id(layer)].append((x, z))
    self._as_matmul[id(layer)] = as_matmul
    self._layers.setdefault(id(layer), layer)
    activation = getattr(layer, "activation", None)
    return z if activation is None else activation(z)

  def gradients(self, loss, variables: Sequence[tf.Variable]) -> List[tf.Tensor]:
    """dL/dv for each of `variables` (None where the loss does not depend on it).

    Call once, after the tape has stopped recording.
    """
    owned = {}  # id(variable) -> (layer, "kernel" | "bias")
    for layer in self._layers.values():
      owned[id(layer.kernel)] = (layer, "kernel")
      if getattr(layer, "bias", None) is not None:
        owned[id(layer.bias)] = (layer, "bias")
    others = [v for v in variables if id(v) not in owned]
    records = [(key, x, z) for key, pairs in self._records.items() for x, z in pairs]
    grads = self._tape.gradient(loss, [z for _, _, z in records] + others)
    per_layer = collections.defaultdict(lambda: ([], []))
    for (key, x, _), dz in zip(records, grads):
      if dz is not None:  # e.g. the bootstrap pass, whose outputs the loss reads without gradient
        per_layer[key][0].append(x)
        per_layer[key][1].append(dz)
    weight_grads = {}
    for key, (xs, dzs) in per_layer.items():
      layer = self._layers[key]
      batch_axis = 1 if isinstance(layer, PerAgentDense) else 0  # PerAgentDense: [N, B, ...]
      dz = tf.concat(dzs, axis=batch_axis)
      if isinstance(xs[0], (list, tuple)):  # a Dense over input parts: the parts' blocks stacked
        units = layer.kernel.shape[-1]
        flat_dzs = [tf.reshape(d, [-1, units]) for d in dzs]
        weight_grads[id(layer.kernel)] = tf.concat(
            [tf.add_n([tf.matmul(as_float(tf.reshape(x, [-1, x.shape[-1]])), d, transpose_a=True)
                       for x, d in zip(part, flat_dzs)]) for part in zip(*xs)], axis=0)
      else:
        x = tf.concat(xs, axis=batch_axis)
        weight_grads[id(layer.kernel)] = _kernel_gradient(layer, x, dz, self._as_matmul[key])
      if getattr(layer, "bias", None) is not None:
        weight_grads[id(layer.bias)] = (
            tf.reduce_sum(dz, axis=1, keepdims=True) if isinstance(layer, PerAgentDense)
            else tf.reduce_sum(tf.reshape(dz, [-1, layer.bias.shape[-1]]), axis=0))
    other_grads = dict(zip((id(v) for v in others), grads[len(records):]))
    return [weight_grads.get(id(v)) if id(v) in owned else other_grads[id(v)] for v in variables]


def _kernel_gradient(layer, x, dz, as_matmul):
  """dL/dW = sum over every recorded row of x^T dz, in one op."""
  if isinstance(layer, PerAgentDense):
    return tf.matmul(x, dz, transpose_a=True)  # [N, B, D]^T [N, B, U]
  if as_matmul:
    return tf.reshape(tf.matmul(x, dz, transpose_a=True), tf.shape(layer.kernel))
  if isinstance(layer, tf.keras.layers.Conv2D):
    return tf.compat.v1.nn.conv2d_backprop_filter(
        x, tf.shape(layer.kernel), dz, strides=[1, *layer.strides, 1], padding="VALID",
        dilations=[1, *layer.dilation_rate, 1])
  d, units = layer.kernel.shape
  return tf.matmul(tf.reshape(x, [-1, d]), tf.reshape(dz, [-1, units]), transpose_a=True)
