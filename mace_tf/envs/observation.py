"""Game state -> observation: the only place where the observation is defined.

The observation is a dict of three arrays (leading batch axis B when batched):

* `grid`: uint8 `[G, G, 4]`, indexed `[y, x, channel]` (row y, column x, as an image):
    - channel 0 `active_hunters`: number of active hunters in the cell;
    - channel 1 `frozen_hunters`: number of frozen hunters in the cell;
    - channel 2 `stag_hp`: remaining hit points of the stags in the cell (always 0 in Hare-Hunters);
    - channel 3 `hare_hp`: remaining hit points of the other prey in the cell (Hare-Hunters' prey are
      all here). Prey at 0 hit points no longer appear.
  Four channels whatever N: the cost of a convolution over the grid does not grow with the number of
  hunters. `GameConfig` bounds N and M * H by 255, so no count or sum overflows.
* `hunters`: int32 `[N, 3]`: row i is hunter i's `(x, y, active)`. This is what makes every hunter
  distinguishable: a per-agent head reads its own row (or the trunk's features at its own cell).
* `time_left`: float32 `[1]`: the fraction of the time limit left, `(T - t) / T`, in (0, 1] before
  the last step and 0 on a time-out.
"""

from typing import Dict

import numpy as np
from tf_agents.specs import array_spec

from mace_tf.envs import rules

GRID_CHANNELS = ("active_hunters", "frozen_hunters", "stag_hp", "hare_hp")
HUNTER_FEATURES = ("x", "y", "active")


def observation_spec(config: rules.GameConfig) -> Dict[str, array_spec.BoundedArraySpec]:
  g, n = config.grid_size, config.num_hunters
  return {
      "grid": array_spec.BoundedArraySpec((g, g, len(GRID_CHANNELS)), np.uint8, 0, 255, "grid"),
      "hunters": array_spec.BoundedArraySpec((n, len(HUNTER_FEATURES)), np.int32, 0, max(g - 1, 1),
                                             "hunters"),
      "time_left": array_spec.BoundedArraySpec((1,), np.float32, 0.0, 1.0, "time_left"),
  }


def encode(config: rules.GameConfig, state: rules.GameState) -> Dict[str, np.ndarray]:
  """The batched observation of `state`: `grid [B, G, G, 4]`, `hunters [B, N, 3]`, `time_left [B, 1]`."""
  b, g, c = state.batch_size, config.grid_size, len(GRID_CHANNELS)
  grid = np.zeros(b * g * g * c, dtype=np.uint8)
  games = np.arange(b, dtype=np.int64)[:, None]

  def cell_index(pos, channel):
    return ((games * g + pos[..., 1]) * g + pos[..., 0]) * c + channel

  np.add.at(grid, cell_index(state.hunter_pos, np.where(state.hunter_active, 0, 1)).ravel(), 1)
  alive = state.prey_hp > 0
  prey_channel = np.where(config.prey_is_stag, 2, 3)[None, :]
  np.add.at(grid, cell_index(state.prey_pos, prey_channel)[alive],
            state.prey_hp[alive].astype(np.uint8))
  hunters = np.concatenate([state.hunter_pos, state.hunter_active[..., None].astype(np.int32)],
                           axis=-1)
  time_left = ((config.time_limit - state.t) / config.time_limit).astype(np.float32)[:, None]
  return {"grid": grid.reshape(b, g, g, c), "hunters": hunters, "time_left": time_left}


ACTIVE_COLUMN = HUNTER_FEATURES.index("active")


def active_agents(observation):
  """Bool `[..., N]`: which agents still act, for any observation the networks read: a hunter game's
  `hunters[..., active]` column; a vector game's `active` part (`[..., N]`, nonzero = acting) if it
  has one; else every agent (shape from its `agents` part `[..., N, D]`). Works on numpy arrays and
  on tensors."""
  if "hunters" in observation:
    return observation["hunters"][..., ACTIVE_COLUMN] > 0
  if "active" in observation:
    return observation["active"] > 0
  agents = observation["agents"]
  if isinstance(agents, np.ndarray):
    return np.ones(agents.shape[:-1], bool)
  import tensorflow as tf  # pylint: disable=g-import-not-at-top (only tensors get here)
  return tf.ones(tf.shape(agents)[:-1], tf.bool)
