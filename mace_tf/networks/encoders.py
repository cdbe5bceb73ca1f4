"""Observation encoders: what turns a game's observation into phi(s) `[B, F]` and every psi_i(s)
`[N, B, L]`, the two inputs of the latent, the heads and the critics (eq. 14-15).

MaceNetwork = encoder + latent + heads + critics. The encoder is chosen by the observation spec
(`make_encoder`):
* a hunter game's (`grid`, `hunters`, `time_left`): `Trunk`, the grid CNN and each hunter's views
  (`trunk.py`), with its compiled twin in `mace_tf/fast/`;
* a vector game's (`agents [N, D]`, optionally `state [S]` and `active [N]`): `VectorEncoder`, MLPs
  (plain path; the compiled loop runs the hunter games only).
"""

from typing import Mapping

import tensorflow as tf

from mace_tf.networks.config import NetworkConfig
from mace_tf.networks.trunk import Trunk

GRID_KEYS = ("grid", "hunters", "time_left")
VECTOR_KEYS = ("agents",)  # required; "state" and "active" optional


class VectorEncoder(tf.keras.layers.Layer):
  """phi(s) and psi_i(s) of per-agent vector observations.

  phi(s) = relu(W_phi x + b), x the global `state` if the observation has one, else every agent's
  observation joined (`[B, N * D]`); psi_i(s) = relu(W_psi o_i + b), agent i's own observation
  `o_i [D]` through one dense layer shared by all agents (which agent it is, the per-agent heads
  know, eq. 15; Cloned adds its one-hot). Widths: `trunk_units` and `local_units`.
  """

  def __init__(self, *, trunk_units: int, local_units: int, name: str = "vector_encoder"):
    super().__init__(name=name)
    self._phi = tf.keras.layers.Dense(trunk_units, activation="relu", name="phi")
    self._psi = tf.keras.layers.Dense(local_units, activation="relu", name="psi")

  def call(self, observation):
    agents = tf.cast(observation["agents"], tf.float32)  # [B, N, D]
    if "state" in observation:
      joint = tf.cast(observation["state"], tf.float32)
    else:
      joint = tf.reshape(agents, [tf.shape(agents)[0], agents.shape[1] * agents.shape[2]])
    phi = self._phi(joint)
    psi = self._psi(tf.transpose(agents, [1, 0, 2]))  # agent-major [N, B, L]
    return phi, psi


def observation_kind(observation_spec: Mapping) -> str:
  """"grid" or "vector", from the spec's parts; ValueError (one line) for anything else."""
  keys = set(observation_spec)
  if set(GRID_KEYS) <= keys:
    return "grid"
  if set(VECTOR_KEYS) <= keys and keys <= {"agents", "state", "active"}:
    agents = observation_spec["agents"]
    if len(agents.shape) != 2:
      raise ValueError(f"a vector observation's 'agents' part must be [N, D] per state, got shape "
                       f"{tuple(agents.shape)}")
    return "vector"
  raise ValueError(f"no encoder reads observations with parts {sorted(keys)}: a hunter game's "
                   f"{list(GRID_KEYS)} or a vector game's 'agents' [N, D] (with optional 'state' "
                   f"and 'active')")


def make_encoder(observation_spec: Mapping, config: NetworkConfig, num_agents: int):
  """The encoder for these observations (see the module doc)."""
  if observation_kind(observation_spec) == "grid":
    return Trunk(grid_size=observation_spec["grid"].shape[0], conv_filters=config.conv_filters,
                 trunk_units=config.trunk_units, local_radius=config.local_radius,
                 local_units=config.local_units, feature_radius=config.feature_radius,
                 ego_bin=config.ego_bin, entity_units=config.entity_units,
                 entity_prey_slots=config.entity_prey_slots or num_agents)
  if config.ego_bin or config.entity_units:
    raise ValueError("ego_bin and entity_units read the hunter grid: set them to 0 for a vector "
                     "observation")
  return VectorEncoder(trunk_units=config.trunk_units, local_units=config.local_units)
