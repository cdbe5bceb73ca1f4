"""Reading what a trunk feeds its psi_i layer, through the public seams (no patching)."""

import tensorflow as tf

from mace_tf.fast.network import FastTrunk


def psi_input(trunk, observation, grid_entries=None):
  """psi_i's input `[B, N, D]` for `observation`: the plain trunk's (`Trunk.psi_input`), or with
  `grid_entries` the fast path's (`FastTrunk.psi_input`, its parts concatenated)."""
  if grid_entries is None:
    x = trunk.psi_input(observation, trunk.feature_map(observation["grid"]))
  else:
    fast = FastTrunk(trunk)
    x = tf.concat(fast.psi_input(observation, grid_entries,
                                 fast.feature_map(observation, grid_entries)), axis=-1)
  batch, n = observation["hunters"].shape[:2]
  return x.numpy().reshape(n, batch, -1).transpose(1, 0, 2)  # rows are agent-major
