"""DeferredGradients: the same weight gradients as the tape, for every deferrable layer."""

import numpy as np
import pytest
import tensorflow as tf

from mace_tf.fast.deferred_gradients import DeferredGradients
from mace_tf.fast.network import apply_layer
from mace_tf.networks.trunk import PerAgentBias, PerAgentDense


def _layers():
  tf.random.set_seed(3)
  conv = tf.keras.layers.Conv2D(3, 2, strides=2, activation="relu", bias_initializer="ones")
  dense = tf.keras.layers.Dense(4, activation="tanh", bias_initializer="ones")
  per_agent = PerAgentDense(2, 4, initializer="glorot_uniform")
  shared = tf.keras.layers.Dense(4, use_bias=False)  # on [B, N, D]
  bias = PerAgentBias(2, 4, initializer="ones")  # not deferrable: its gradient comes from the tape
  return conv, dense, per_agent, shared, bias


def _loss_of_passes(layers, inputs, recorder=None):
  conv, dense, per_agent, shared, bias = layers
  total = 0.0
  for t, x in enumerate(inputs):  # passes of different sizes, each used differently by the loss
    h = apply_layer(conv, x, recorder)  # [B, 2, 2, 3]
    h = tf.reshape(h, [-1, 12])
    h = apply_layer(dense, [h[:, :5], h[:, 5:]], recorder)  # [B, 4], input in two parts
    per = tf.stack([h, 2.0 * h], axis=1)  # [B, N = 2, 4]
    out = (tf.transpose(apply_layer(per_agent, tf.transpose(per, [1, 0, 2]), recorder), [1, 0, 2])
           + apply_layer(shared, per, recorder) + bias(per))
    total += (t + 1.0) * tf.reduce_sum(tf.sin(out))
  return total


@pytest.mark.parametrize("batch_sizes", [(3, 3, 3), (1, 4, 2)])
def test_deferred_weight_gradients_equal_the_tapes(batch_sizes):
  rng = np.random.default_rng(0)
  inputs = [tf.constant(rng.normal(size=(b, 4, 4, 2)), tf.float32) for b in batch_sizes]
  layers = _layers()
  _loss_of_passes(layers, inputs[:1])  # builds
  variables = [v for layer in layers for v in layer.trainable_variables]
  assert len(variables) == 8
  with tf.GradientTape() as tape:
    plain = _loss_of_passes(layers, inputs)
  expected = tape.gradient(plain, variables)
  with tf.GradientTape() as tape:
    recorder = DeferredGradients(tape)
    deferred = _loss_of_passes(layers, inputs, recorder)
  got = recorder.gradients(deferred, variables)
  np.testing.assert_allclose(float(deferred), float(plain), rtol=1e-6)
  for v, a, b in zip(variables, got, expected):
    assert a is not None, v.name
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6, err_msg=v.name)
  # The deferred pass computed no weight gradient on the tape: 3 conv + 3 x 4 dense layer records.
  assert sum(len(r) for r in recorder._records.values()) == 3 * 4


def test_a_pass_the_loss_does_not_read_adds_nothing():
  layers = _layers()
  x = tf.ones([2, 4, 4, 2])
  _loss_of_passes(layers, [x])
  variables = [v for layer in layers for v in layer.trainable_variables]
  with tf.GradientTape() as tape:
    expected_loss = _loss_of_passes(layers, [x])
  expected = tape.gradient(expected_loss, variables)
  with tf.GradientTape() as tape:
    recorder = DeferredGradients(tape)
    _loss_of_passes(layers, [3.0 * x], recorder)  # recorded, but not in the loss
    loss = _loss_of_passes(layers, [x], recorder)
  for v, a, b in zip(variables, recorder.gradients(loss, variables), expected):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6, err_msg=v.name)


def test_unsupported_layers_are_refused():
  layer = tf.keras.layers.Conv2D(2, 3, padding="same")
  with tf.GradientTape() as tape:
    with pytest.raises(ValueError, match="valid"):
      DeferredGradients(tape).apply(layer, tf.ones([1, 4, 4, 1]))
    with pytest.raises(TypeError, match="not a deferrable layer"):
      DeferredGradients(tape).apply(tf.keras.layers.LayerNormalization(), tf.ones([1, 4]))


def test_a_dense_layer_over_input_parts_is_the_layer_on_their_concatenation():
  layer = tf.keras.layers.Dense(3, activation="relu", bias_initializer="ones")
  # Multiples of 1/8 of a few units: every product and sum is exact in float32, so the two orders
  # of summation agree whatever kernels the matmuls use.
  a, b = (tf.round(8 * tf.random.normal(shape, seed=seed)) / 8
          for shape, seed in (([2, 4, 5], 1), ([2, 4, 2], 2)))
  layer(tf.concat([a, b], axis=-1))  # builds
  layer.kernel.assign(tf.round(8 * layer.kernel) / 8)
  whole = layer(tf.concat([a, b], axis=-1))
  np.testing.assert_allclose(apply_layer(layer, [a, b]).numpy(), whole.numpy(), rtol=1e-6)


def test_an_unbuilt_patch_conv_is_built_from_its_patches():
  conv = tf.keras.layers.Conv2D(3, 2, strides=2, bias_initializer="ones")
  x = tf.random.normal([1, 4, 4, 2], seed=4)
  # Patches [M, k * k * C] in the kernel's (dy, dx, channel) order, patch by patch.
  patches = tf.reshape(tf.transpose(tf.reshape(x, [1, 2, 2, 2, 2, 2]), [0, 1, 3, 2, 4, 5]), [4, 8])
  out = apply_layer(conv, patches, as_matmul=True)  # builds the kernel [2, 2, 2, 3]
  assert conv.kernel.shape == (2, 2, 2, 3)
  np.testing.assert_allclose(out.numpy(), tf.reshape(conv(x), [4, 3]).numpy(), rtol=1e-5,
                             atol=1e-6)
