"""The network's hyperparameters: what `MaceNetwork` builds, apart from which model it is."""

import dataclasses
from typing import Tuple


MODELS = ("mace", "shared", "cloned")  # the actor-critics `MaceNetwork` builds


def require(ok: bool, message: str) -> None:
  """A config's check: ValueError(`message`) unless `ok` (one clear line for a bad setting)."""
  if not ok:
    raise ValueError(message)


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
  """Sizes of the trunk phi(s), the per-agent features psi_i(s) and the latent.

  Attributes:
    latent_dim: n, the size of lambda (and of Shared's hidden layer).
    conv_filters: the trunk's 2-layer CNN phi(s), as (filters, kernel, stride) per layer. A layer
      whose kernel equals its stride cuts the torus into patches (wrapping up to a multiple of the
      stride) and reads each cell once: the cheap layers of the default.
    trunk_units: width of the dense layer after the convolutions (the size of phi(s)).
    local_radius: each agent also reads the (2r+1) x (2r+1) window of the grid around its own cell.
    feature_radius: each agent also reads the (2R+1) x (2R+1) window of the CNN's feature map around
      its own cell (a coarse egocentric view: R = 1 with total stride 10 spans 30 x 30 cells; the
      default R = 0 reads the 10 x 10 patch holding the agent).
    local_units: width of the dense layer over those windows (shared by all agents).
    ego_bin: c > 0: each agent also reads the whole torus centred on its own cell, summed over
      c x c cells ((G / c)^2 x 4 inputs: fine up to the window, coarse beyond, see `Trunk`), so
      that prey anywhere are in its view; 0: off (the network of the paper-faithful presets).
    entity_units: U > 0: psi_i also reads every hunter and every prey cell as a set, each as its
      torus offset from hunter i and its grid channels, through a 2-layer MLP of U units, max- and
      mean-pooled (`mace_tf/networks/entities.py`): exact relative positions at any distance,
      where the egocentric view is coarse beyond its window. 0: off (the paper's network and the
      first presets). The compiled loop calls the same plain layers (tested equal).
    entity_prey_slots: how many prey cells the entity set holds (those with the most hit points);
      0: as many as there are hunters (every setting of the paper has M = N).
    latent_film: the heads also read the features scaled by the latent (FiLM-like, not in the
      paper): logits_i = W_i [lambda, phi, psi_i] + H_i [phi * G_phi lambda, psi_i * G_psi lambda]
      + b_i, so that what lambda does to the actions depends on the state. In eq. 15 lambda moves
      every state's logits by the same W_i^lambda lambda. G starts at 0 (eq. 15's heads); the
      critics do not read lambda. MACE and Shared (whose hidden layer takes lambda's place).
    shared_head_base: True: every agent's head and critic (MACE and Shared) are written as a part
      all agents share plus the agent's own, W_i [phi, psi_i] = (W + D_i) [phi, psi_i] (lambda's
      block stays W_i^lambda alone): the same functions as eq. 15's per-agent heads (fold W into
      each D_i), but the shared part learns from every agent's samples, where a per-agent head
      learns from 1 / N of them (not in the paper; the shared part starts at 0). Cloned's one head
      is all shared part already: no change there. False: eq. 15's parameters.
    value_norm: True: each critic's output is mu + sigma * v_i(s), where mu and sigma are
      non-trainable variables that the learner sets to the running mean and standard deviation of
      its value targets after every update (`MaceAgent`; MAPPO's ValueNorm, Yu et al. 2022), so
      the critic's layers learn targets of unit scale however small or large the returns are; the
      value loss is then ((V - R) / sigma)^2. The network's `values` stay in the game's units. Not
      in the paper; False: V_i = W_Vi [phi, psi_i] + b_Vi (eq. 15).
    latent_init_scale: multiplies the initial range of the heads' lambda weights W_i^lambda
      (default 1: Glorot-uniform over the whole head, as eq. 15's W). Larger starts the heads
      following lambda's noise, away from W^lambda = 0, where following eps has no first-order
      gradient (BUILD_NOTES.md, the latent). Not in the paper.
    zero_critic_init: True: every critic's output weights start at 0, so V_i(s) = 0 for every s
      until a reward arrives: before the first reward every advantage is then exactly 0 and only
      the entropy bonus moves the policy, where a random critic's noise, scaled to unit size by
      normalized advantages, drives it (hare10: gradient norm 0.00 against 0.3-0.6 over the first
      40k reward-free samples). Measured slower on hare10 (BUILD_NOTES.md, issue 17, screen 17):
      the random critic's drift helps the first clears. False: the critic's weights start as the
      heads' (Glorot-uniform over eq. 15's W). Not in the paper.
  """

  latent_dim: int = 8
  # Patch layers (kernel == stride; 5 and 2 tile the paper's 50 x 50 grid with no padding) and
  # small windows: ~9x less work per sample than FIRST_NETWORK (0.36 M multiply-adds forward
  # against 3.4 M); see DESIGN.md.
  conv_filters: Tuple[Tuple[int, int, int], ...] = ((16, 5, 5), (32, 2, 2))
  trunk_units: int = 64
  local_radius: int = 2
  feature_radius: int = 0
  local_units: int = 32
  ego_bin: int = 0
  entity_units: int = 0
  entity_prey_slots: int = 0
  latent_film: bool = False
  shared_head_base: bool = False
  value_norm: bool = False
  latent_init_scale: float = 1.0
  zero_critic_init: bool = False

  def __post_init__(self):
    require(self.latent_dim >= 1, f"latent_dim must be >= 1, got {self.latent_dim}")
    require(self.trunk_units >= 1 and self.local_units >= 1,
            "trunk_units and local_units must be >= 1")
    require(self.local_radius >= 0, f"local_radius must be >= 0, got {self.local_radius}")
    require(self.feature_radius >= 0, f"feature_radius must be >= 0, got {self.feature_radius}")
    require(self.ego_bin >= 0, f"ego_bin must be >= 0 (0: off), got {self.ego_bin}")
    require(self.entity_units >= 0, f"entity_units must be >= 0 (0: off), got {self.entity_units}")
    require(self.entity_prey_slots >= 0,
            f"entity_prey_slots must be >= 0 (0: as many as hunters), got {self.entity_prey_slots}")
    require(self.latent_init_scale > 0,
            f"latent_init_scale must be > 0, got {self.latent_init_scale}")
    require(len(self.conv_filters) >= 1
            and all(len(f) == 3 and min(f) >= 1 for f in self.conv_filters),
            f"conv_filters must be (filters, kernel, stride) triples of positive ints, got "
            f"{self.conv_filters}")
    # Tuples however given (a list from JSON or a flag), so that configs compare and hash.
    object.__setattr__(self, "conv_filters", tuple(tuple(int(v) for v in f)
                                                   for f in self.conv_filters))


# The first network design (issue 3), kept by the small-grid presets (launch/fig1.flags,
# launch/stag10_g20.flags) it was validated on: overlapping convolutions and wide egocentric windows
# (r = 3 covers a 7 x 7 grid). About 4x the work per sample of the default; learns more per sample
# on small grids (DESIGN.md).
FIRST_NETWORK = NetworkConfig(conv_filters=((16, 4, 2), (32, 3, 2)), trunk_units=128,
                              local_radius=3, feature_radius=2, local_units=64)
