"""Reading what the trunk feeds its psi_i layer."""

import tensorflow as tf

from mace_tf.networks import trunk as trunk_lib


def psi_input(trunk, observation, **call_kwargs):
  """The input `[B, N, D]` of the trunk's psi_i layer (its parts concatenated) for `observation`."""
  captured = {}
  original = trunk_lib.apply_layer

  def spy(layer, x, *args, **kwargs):
    if layer is trunk._local_dense:
      captured["x"] = tf.concat(x, axis=-1) if isinstance(x, (list, tuple)) else x
    return original(layer, x, *args, **kwargs)

  trunk_lib.apply_layer = spy
  try:
    trunk(observation, **call_kwargs)
  finally:
    trunk_lib.apply_layer = original
  return captured["x"].numpy()
