"""Every hyperparameter of the MACE agent and its baselines, with the paper's names."""

import dataclasses
from typing import Tuple

MODELS = ("mace", "shared", "cloned", "tfa_ppo")
OPTIMIZERS = ("adam", "rmsprop")


# The first network design (issue 3), kept by the small-grid presets (launch/fig1.flags,
# launch/stag10_g20.flags) it was validated on: overlapping convolutions and wide egocentric windows
# (r = 3 covers a 7 x 7 grid). About 4x the work per sample of the default; learns more per sample
# on small grids (BUILD_NOTES.md, issue 4). `MaceConfig(**FIRST_NETWORK, ...)`.
FIRST_NETWORK = dict(conv_filters=((16, 4, 2), (32, 3, 2)), trunk_units=128, local_radius=3,
                     feature_radius=2, local_units=64)


@dataclasses.dataclass(frozen=True)
class MaceConfig:
  """Hyperparameters of the model and of its ELBO actor-critic loss.

  Attributes:
    model: "mace" (shared Gaussian latent lambda, eq. 14-15), "shared" (a deterministic hidden layer
      in place of lambda: no sampling, no KL) or "cloned" (one head and one critic shared by every
      agent, each agent told its index).
    latent_dim: n, the size of lambda (and of Shared's hidden layer).
    conv_filters: the trunk's 2-layer CNN phi(s), as (filters, kernel, stride) per layer. A layer whose
      kernel equals its stride cuts the torus into patches (wrapping up to a multiple of the
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
    frozen_clock: True: a hunter's discount (gamma and the GAE decay) stops once it is frozen, as it
      takes no more decisions: the terminal reward it earned reaches its capturing step undiscounted
      by the steps the others still play. False: every agent discounts every step (the paper).
    normalize_advantages: True: the policy-gradient term uses the rollout's advantages normalized
      to mean 0 and standard deviation 1 over counted agent-steps; False: as estimated (the paper).
    learning_rate: eta (Table 2).
    optimizer: "adam" or "rmsprop".
    gamma: discount (Table 2).
    gae_lambda: tau, the generalized-advantage discount (Table 2).
    vf_coef: alpha, weight of the value loss (eq. 33).
    ent_coef: beta, weight of the entropy bonus (eq. 34); 0 disables it.
    kl_coef: weight of KL(Q(lambda | s) || N(0, I)) (eq. 8); 0 disables it (MACE only).
    max_grad_norm: global gradient-norm clipping; 0 disables it.
    ppo_clip: 0 for the A2C update (one gradient step per rollout, as A3C's rule); > 0 for a
      PPO-style clipped surrogate with this epsilon.
    num_epochs: gradient steps per rollout with ppo_clip > 0 (must be 1 for A2C).
  """

  model: str = "mace"
  latent_dim: int = 8
  # Patch layers (kernel == stride; 5 and 2 tile the paper's 50 x 50 grid with no padding) and
  # small windows: ~9x less work per sample than FIRST_NETWORK (0.36 M multiply-adds forward
  # against 3.4 M); see BUILD_NOTES.md, issue 4.
  conv_filters: Tuple[Tuple[int, int, int], ...] = ((16, 5, 5), (32, 2, 2))
  trunk_units: int = 64
  local_radius: int = 2
  feature_radius: int = 0
  local_units: int = 32
  ego_bin: int = 0
  frozen_clock: bool = False
  normalize_advantages: bool = False
  learning_rate: float = 7e-4
  optimizer: str = "adam"
  gamma: float = 0.99
  gae_lambda: float = 0.95
  vf_coef: float = 0.5
  ent_coef: float = 0.01
  kl_coef: float = 1e-3
  max_grad_norm: float = 0.5
  ppo_clip: float = 0.0
  num_epochs: int = 1

  def __post_init__(self):
    def need(ok, msg):
      if not ok:
        raise ValueError(msg)
    need(self.model in MODELS, f"model must be one of {MODELS}, got {self.model!r}")
    need(self.optimizer in OPTIMIZERS,
         f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
    need(self.latent_dim >= 1, f"latent_dim must be >= 1, got {self.latent_dim}")
    need(self.trunk_units >= 1 and self.local_units >= 1, "trunk_units and local_units must be >= 1")
    need(self.local_radius >= 0, f"local_radius must be >= 0, got {self.local_radius}")
    need(self.feature_radius >= 0, f"feature_radius must be >= 0, got {self.feature_radius}")
    need(self.ego_bin >= 0, f"ego_bin must be >= 0 (0: off), got {self.ego_bin}")
    need(len(self.conv_filters) >= 1 and all(len(f) == 3 and min(f) >= 1 for f in self.conv_filters),
         f"conv_filters must be (filters, kernel, stride) triples of positive ints, got "
         f"{self.conv_filters}")
    need(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")
    need(0 <= self.gamma <= 1, f"gamma must be in [0, 1], got {self.gamma}")
    need(0 <= self.gae_lambda <= 1, f"gae_lambda must be in [0, 1], got {self.gae_lambda}")
    for name in ("vf_coef", "ent_coef", "kl_coef", "max_grad_norm", "ppo_clip"):
      need(getattr(self, name) >= 0, f"{name} must be >= 0, got {getattr(self, name)}")
    need(self.num_epochs >= 1, f"num_epochs must be >= 1, got {self.num_epochs}")
    need(self.ppo_clip > 0 or self.num_epochs == 1 or self.model == "tfa_ppo",
         "num_epochs > 1 needs the clipped surrogate (ppo_clip > 0): A2C takes one step per rollout")
