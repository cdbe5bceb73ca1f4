"""Reading what the trunk feeds its psi_i layer."""

import tensorflow as tf

from mace_tf.networks import trunk as trunk_lib


def psi_input(trunk, observation, **call_kwargs):
  """The input `[B, N, D]` of the trunk's psi_i layer (its parts concatenated) for `observation`."""
  captured = {}
  original = trunk_lib.apply_layer

  def spy(layer, x, *args, **kwargs):
    if layer is trunk._local_dense:
      parts = x if isinstance(x, (list, tuple)) else [x]
      captured["x"] = tf.concat([tf.cast(p, tf.float32) for p in parts], axis=-1)
    return original(layer, x, *args, **kwargs)

  trunk_lib.apply_layer = spy
  try:
    trunk(observation, **call_kwargs)
  finally:
    trunk_lib.apply_layer = original
  batch, n = observation["hunters"].shape[:2]
  return captured["x"].numpy().reshape(n, batch, -1).transpose(1, 0, 2)  # rows are agent-major
