"""Every hyperparameter of the MACE learner and its baselines, with the paper's names; the network's
own sizes are a `NetworkConfig` inside."""

import dataclasses

from mace_tf.networks import config as network_config
from mace_tf.networks.config import NetworkConfig, require

MODELS = network_config.MODELS
OPTIMIZERS = ("adam", "rmsprop")
ENTROPY_BONUSES = ("per_sample", "marginal")


@dataclasses.dataclass(frozen=True)
class MaceConfig:
  """Hyperparameters of the model and of its ELBO actor-critic loss.

  Attributes:
    model: "mace" (shared Gaussian latent lambda, eq. 14-15), "shared" (a deterministic hidden layer
      in place of lambda: no sampling, no KL) or "cloned" (one head and one critic shared by every
      agent, each agent told its index). The stock TF-Agents PPO baseline has its own config,
      `mace_tf.agents.tfa_ppo_config.TFAPPOConfig`.
    network: the network's sizes (`mace_tf.networks.config.NetworkConfig`).
    frozen_clock: True: a hunter's discount (gamma and the GAE decay) stops once it is frozen, as it
      takes no more decisions: the terminal reward it earned reaches its capturing step undiscounted
      by the steps the others still play. False: every agent discounts every step (the paper).
    continuing_returns: True: returns run on across episode ends, as in a continuing task: the
      value of an episode's last step is that of the next episode's first (the reset is a
      transition with no reward and no discount), so a hunter's return also counts the episodes
      that a quicker end lets start sooner, the quantity of Table 1 (reward per sample). The game's
      rewards are unchanged. False: every return stops at its episode's end (the paper).
    wall_clock_continuation: with frozen_clock and continuing_returns: True: the next episode's
      value reaches every hunter discounted by the wall-clock steps to it, frozen steps included
      (`losses.wall_clock_boundary_discounts`); the frozen clock then pauses only the hunter's own
      terminal reward. False: a frozen hunter's clock stops for the next episode too, so a hunter
      that freezes early (a near hare) reaches the next episode sooner in its own time than one
      that walks on to a stag.
    normalize_advantages: True: the policy-gradient term uses the rollout's advantages normalized
      to mean 0 and standard deviation 1 over counted agent-steps; False: as estimated (the paper).
    advantage_std_floor: with normalize_advantages, the rollout's advantages are divided by
      max(their standard deviation, this floor) (in the returns' units): a rollout with no reward,
      whose advantages are only the critic's noise, is not scaled up to unit variance. 0: the
      standard deviation alone (as before).
    scale_rewards: True: the returns and advantages are computed from rewards divided by the root
      mean square of every counted reward seen so far (`losses.running_rms_scale`; checkpointed):
      a rare reward is amplified, a step without reward stays 0, so the optimal policy is
      unchanged; the critic learns values in those units. False: as the game pays (the paper).
    learning_rate: eta (Table 2).
    anneal_learning_rate: True: the learning rate falls linearly from learning_rate to 0 over the
      run's num_samples / (num_envs x rollout_length) updates (a resume with a larger num_samples
      stretches the rest of the schedule); False: constant (the paper).
    anneal_ent_coef: True: beta (ent_coef) falls linearly to 0 over the run's updates, as the
      learning rate does; False: constant (the paper).
    optimizer: "adam" or "rmsprop".
    gamma: discount (Table 2).
    gae_lambda: tau, the generalized-advantage discount (Table 2).
    vf_coef: alpha, weight of the value loss (eq. 33).
    ent_coef: beta, weight of the entropy bonus (eq. 34); 0 disables it.
    entropy_bonus: "per_sample": the bonus is sum_i H(P(a_i | lambda, s)) for the sampled lambda
      (eq. 34, the paper). "marginal" (MACE only): sum_i H(P(a_i | s)) of the lambda-marginal
      policy, estimated from marginal_samples + 1 draws of lambda; it equals the per-sample entropy
      plus I(a_i; lambda | s), so it rewards a policy that uses the latent where eq. 34 penalizes it.
    latent_info_coef: weight of a bonus sum_i I(a_i; lambda | s) (MACE only; 0 disables it), the
      marginal entropy minus the per-sample entropies' mean over the same draws: rewards using the
      latent without changing the per-sample entropy bonus.
    latent_decode_coef: weight of a bonus on D, the contrastive bound on the joint
      I(a_1 .. a_N; lambda | s) (MACE only; 0 disables it): how much more likely the joint action
      taken is under the lambda it was drawn with than under K other draws
      (`losses.latent_decodability`), with its score-function gradient; MAVEN's decodability term
      with the heads as the decoder.
    hold_latent: False: every step draws its own eps (the paper). True (MACE only): while
      collecting, a game draws eps at the first step of each episode and keeps it to the episode's
      end, so lambda = mu(s) + sigma(s) eps follows the state but its noise is committed for the
      episode (MAVEN's episode-long latent). The loss is unchanged (it reads the eps collected).
      The exported sampling policy still draws eps per step; its `latent` signature plays a held
      eps.
    marginal_samples: K, the extra draws of lambda per state for entropy_bonus="marginal",
      latent_info_coef and latent_decode_coef: the eps of K other games of the rollout at the same step (independent of
      this game's; at most B - 1).
    kl_coef: weight of KL(Q(lambda | s) || N(0, I)) (eq. 8); 0 disables it (MACE only).
    max_grad_norm: global gradient-norm clipping; 0 disables it.
    ppo_clip: 0 for the A2C update (one gradient step per rollout, as A3C's rule); > 0 for a
      PPO-style clipped surrogate with this epsilon.
    num_epochs: gradient steps per rollout with ppo_clip > 0 (must be 1 for A2C).
  """

  model: str = "mace"
  network: NetworkConfig = NetworkConfig()
  frozen_clock: bool = False
  continuing_returns: bool = False
  wall_clock_continuation: bool = False
  normalize_advantages: bool = False
  advantage_std_floor: float = 0.0
  scale_rewards: bool = False
  learning_rate: float = 7e-4
  anneal_learning_rate: bool = False
  anneal_ent_coef: bool = False
  optimizer: str = "adam"
  gamma: float = 0.99
  gae_lambda: float = 0.95
  vf_coef: float = 0.5
  ent_coef: float = 0.01
  entropy_bonus: str = "per_sample"
  latent_info_coef: float = 0.0
  latent_decode_coef: float = 0.0
  hold_latent: bool = False
  marginal_samples: int = 8
  kl_coef: float = 1e-3
  max_grad_norm: float = 0.5
  ppo_clip: float = 0.0
  num_epochs: int = 1

  def __post_init__(self):
    require(self.model in MODELS, f"model must be one of {MODELS}, got {self.model!r}")
    require(self.optimizer in OPTIMIZERS,
            f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
    require(isinstance(self.network, NetworkConfig),
            f"network must be a NetworkConfig, got {type(self.network).__name__}")
    require(self.entropy_bonus in ENTROPY_BONUSES,
            f"entropy_bonus must be one of {ENTROPY_BONUSES}, got {self.entropy_bonus!r}")
    require(self.entropy_bonus == "per_sample" or self.model == "mace",
            f"entropy_bonus='marginal' needs the latent of model='mace', not {self.model!r}")
    require(self.latent_info_coef == 0 or self.model == "mace",
            f"latent_info_coef > 0 needs the latent of model='mace', not {self.model!r}")
    require(self.latent_decode_coef == 0 or self.model == "mace",
            f"latent_decode_coef > 0 needs the latent of model='mace', not {self.model!r}")
    require(not self.hold_latent or self.model == "mace",
            f"hold_latent needs the latent of model='mace', not {self.model!r}")
    require(not self.network.latent_film or self.model in ("mace", "shared"),
            f"latent_film needs a latent: model 'mace' or 'shared', not {self.model!r}")
    require(self.marginal_samples >= 1,
            f"marginal_samples must be >= 1, got {self.marginal_samples}")
    require(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")
    require(0 <= self.gamma <= 1, f"gamma must be in [0, 1], got {self.gamma}")
    require(0 <= self.gae_lambda <= 1, f"gae_lambda must be in [0, 1], got {self.gae_lambda}")
    for name in ("advantage_std_floor", "vf_coef", "ent_coef", "kl_coef", "latent_info_coef",
                 "latent_decode_coef", "max_grad_norm", "ppo_clip"):
      require(getattr(self, name) >= 0, f"{name} must be >= 0, got {getattr(self, name)}")
    require(not self.wall_clock_continuation or (self.frozen_clock and self.continuing_returns),
            "wall_clock_continuation corrects the frozen clock's discount of the next episode: it "
            "needs frozen_clock and continuing_returns")
    require(self.num_epochs >= 1, f"num_epochs must be >= 1, got {self.num_epochs}")
    require(self.ppo_clip > 0 or self.num_epochs == 1,
            "num_epochs > 1 needs the clipped surrogate (ppo_clip > 0): A2C takes one step per "
            "rollout")

  @property
  def draws_marginal(self) -> bool:
    """Whether the loss draws more lambdas (the marginal bonus, the information or the
    decodability bonus)."""
    return (self.entropy_bonus == "marginal" or self.latent_info_coef > 0
            or self.latent_decode_coef > 0)

  @property
  def anneals(self) -> bool:
    """Whether a coefficient follows the run's progress (the agent needs its total_updates)."""
    return self.anneal_learning_rate or self.anneal_ent_coef

  @property
  def latent_dim(self) -> int:
    """n, the size of lambda (the network's)."""
    return self.network.latent_dim

  def flat_dict(self) -> dict:
    """Every field, the network's beside the learner's (as `run_config.json` records them)."""
    out = dataclasses.asdict(self)
    return {"model": out.pop("model"), **out.pop("network"), **out}  # the fields' old order

  @classmethod
  def from_flat_dict(cls, values: dict) -> "MaceConfig":
    """The inverse of `flat_dict`."""
    net = {f.name for f in dataclasses.fields(NetworkConfig)}
    return cls(network=NetworkConfig(**{k: v for k, v in values.items() if k in net}),
               **{k: v for k, v in values.items() if k not in net})
