"""The stock TF-Agents PPO baseline's own hyperparameters, and which config class a model reads.

The baseline (`mace_tf.agents.tfa_ppo`) is TF-Agents' `PPOClipAgent` with its own network: it reads
Table 2's fields only. MACE's loss options (latent bonuses, frozen clock, continuing returns,
annealing, the network's sizes) do not exist for it, so they are not in its config.
"""

import dataclasses
from typing import Dict, Union

from mace_tf.agents.mace.config import MODELS as MACE_MODELS
from mace_tf.agents.mace.config import MaceConfig
from mace_tf.networks.config import require

TFA_PPO = "tfa_ppo"
ALL_MODELS = MACE_MODELS + (TFA_PPO,)


@dataclasses.dataclass(frozen=True)
class TFAPPOConfig:
  """Hyperparameters of the stock TF-Agents PPO pipeline (the speed and learning baseline).

  Attributes:
    model: always "tfa_ppo" (recorded in `run_config.json` beside MACE's models).
    learning_rate: Adam's step size (Table 2's eta).
    num_epochs: PPOClipAgent's epochs over each rollout.
    gamma: discount (Table 2).
    gae_lambda: tau, the generalized-advantage discount (Table 2).
    ent_coef: beta, PPOClipAgent's entropy regularization.
    vf_coef: alpha, PPOClipAgent's value-loss weight.
  """

  model: str = TFA_PPO
  learning_rate: float = 7e-4
  num_epochs: int = 1
  gamma: float = 0.99
  gae_lambda: float = 0.95
  ent_coef: float = 0.01
  vf_coef: float = 0.5

  def __post_init__(self):
    require(self.model == TFA_PPO, f"TFAPPOConfig is the {TFA_PPO} baseline's, not {self.model!r}")
    require(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")
    require(self.num_epochs >= 1, f"num_epochs must be >= 1, got {self.num_epochs}")
    require(0 <= self.gamma <= 1, f"gamma must be in [0, 1], got {self.gamma}")
    require(0 <= self.gae_lambda <= 1, f"gae_lambda must be in [0, 1], got {self.gae_lambda}")
    for name in ("ent_coef", "vf_coef"):
      require(getattr(self, name) >= 0, f"{name} must be >= 0, got {getattr(self, name)}")

  def flat_dict(self) -> dict:
    return dataclasses.asdict(self)

  @classmethod
  def from_flat_dict(cls, values: dict) -> "TFAPPOConfig":
    """Its fields out of `values` (a `run_config.json` agent section, whatever else it holds: runs
    recorded before this class carry MACE's fields too)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})


AgentConfig = Union[MaceConfig, TFAPPOConfig]


def not_applying(values: Dict) -> list:
  """The names in `values` (learner fields by name, e.g. from flags) that differ from MaceConfig's
  defaults and that the stock baseline does not read: what a launcher tells the user it ignores."""
  own = {f.name for f in dataclasses.fields(TFAPPOConfig)}
  defaults = MaceConfig().flat_dict()
  return sorted(k for k, v in values.items()
                if k not in own and k in defaults and v != defaults[k])


def for_model(base: MaceConfig, model: str) -> AgentConfig:
  """The config of `model` with `base`'s settings (a flagfile's, shared by a sweep's models): a
  MaceConfig for mace, shared and cloned; for tfa_ppo, base's Table 2 fields."""
  require(model in ALL_MODELS, f"model must be one of {ALL_MODELS}, got {model!r}")
  if model == TFA_PPO:
    return TFAPPOConfig.from_flat_dict(dict(base.flat_dict(), model=TFA_PPO))
  return dataclasses.replace(base, model=model)


def from_flat_dict(values: dict) -> AgentConfig:
  """The agent config that `flat_dict` wrote, of either class (by its `model`)."""
  if values.get("model") == TFA_PPO:
    return TFAPPOConfig.from_flat_dict(values)
  return MaceConfig.from_flat_dict(values)
