"""The search space of the paper's random search (appendix 8.2, Table 2) and the trials drawn from it.

A trial is fixed by (sweep seed, model, index): its hyperparameters, its training seed and its
directory, so that a rerun of a sweep names the same trials and can skip or resume them.

Paired draws (`paired=True`): trial `index` of every model draws the axes all models share, and its
training seed, from one stream keyed by (sweep seed, index); only a model's own axes (MACE's
kl_coef and latent_dim) come from its own stream. Models are then compared on the same
hyperparameters, so that a row's luck in the draws is every row's.
"""

import dataclasses
import math
import os
import zlib
from typing import Dict, Mapping, Sequence, Tuple

import numpy as np

LOG_UNIFORM, UNIFORM, CHOICE = "log_uniform", "uniform", "choice"


@dataclasses.dataclass(frozen=True)
class Axis:
  """One hyperparameter's range: `kind` log_uniform or uniform over [low, high], or a choice of
  `values`; `models`: the models it applies to (None: all)."""

  name: str
  kind: str
  low: float = 0.0
  high: float = 0.0
  values: Tuple = ()
  models: Tuple[str, ...] = None

  def __post_init__(self):
    if self.kind not in (LOG_UNIFORM, UNIFORM, CHOICE):
      raise ValueError(f"search space: {self.name}: kind must be {LOG_UNIFORM}, {UNIFORM} or "
                       f"{CHOICE}, got {self.kind!r}")
    if self.kind == CHOICE and not self.values:
      raise ValueError(f"search space: {self.name}: a choice needs values")
    if self.kind != CHOICE and not self.low <= self.high:
      raise ValueError(f"search space: {self.name}: low {self.low} > high {self.high}")
    if self.kind == LOG_UNIFORM and self.low <= 0:
      raise ValueError(f"search space: {self.name}: a log-uniform range needs low > 0")

  def sample(self, rng: np.random.Generator):
    if self.kind == CHOICE:
      return self.values[int(rng.integers(len(self.values)))]
    if self.kind == LOG_UNIFORM:
      return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
    return float(rng.uniform(self.low, self.high))


# Table 2's ranges; kl_coef and latent_dim are MACE's extra axes (not given by the paper).
TABLE2 = (
    Axis("learning_rate", LOG_UNIFORM, 1e-6, 1e-1),
    Axis("gamma", UNIFORM, 0.9, 0.99),
    Axis("gae_lambda", UNIFORM, 0.9, 0.99),
    Axis("vf_coef", UNIFORM, 0.1, 0.5),
    Axis("ent_coef", UNIFORM, 0.0, 0.01),
    Axis("kl_coef", LOG_UNIFORM, 1e-5, 1e-1, models=("mace",)),
    Axis("latent_dim", CHOICE, values=(2, 4, 8, 16), models=("mace",)),
)


def parse_space(spec: Mapping[str, Sequence]) -> Tuple[Axis, ...]:
  """A search space from `{name: [kind, low, high]}` or `{name: ["choice", v1, v2, ...]}` (a JSON
  file's content); ValueError with one line naming the bad entry."""
  if not isinstance(spec, Mapping):
    raise ValueError(f"search space: expected a JSON object {{name: [kind, ...]}}, got a "
                     f"{type(spec).__name__}")
  axes = []
  for name, entry in spec.items():
    if not isinstance(entry, (list, tuple)) or not entry:
      raise ValueError(f"search space: {name}: expected [kind, ...], got {entry!r}")
    kind, rest = entry[0], list(entry[1:])
    if kind == CHOICE:
      if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rest):
        raise ValueError(f"search space: {name}: a choice takes numbers, got {entry!r}")
      axes.append(Axis(name, CHOICE, values=tuple(rest)))
    elif len(rest) != 2 or not all(isinstance(v, (int, float)) for v in rest):
      raise ValueError(f"search space: {name}: expected [{kind!r}, low, high], got {entry!r}")
    else:
      axes.append(Axis(name, kind, float(rest[0]), float(rest[1])))
  return tuple(axes)


@dataclasses.dataclass(frozen=True)
class Trial:
  """One trial of a sweep: its model, index, training seed, hyperparameters and directory name."""

  model: str
  index: int
  seed: int
  params: Dict[str, object]

  @property
  def name(self) -> str:
    return f"{self.model}_t{self.index:03d}"


def draw_trial(space: Sequence[Axis], *, model: str, index: int, sweep_seed: int,
               paired: bool = False) -> Trial:
  """Trial `index` of `model` in a sweep: the same (sweep_seed, model, index) draws the same
  hyperparameters and seed whatever the other trials (each has its own random stream). `paired`:
  the axes of every model and the seed from the stream of (sweep_seed, index), shared by all models
  (module docstring)."""
  model_key = zlib.crc32(model.encode())
  rng = np.random.default_rng([sweep_seed, model_key, index])
  if not paired:
    params = {a.name: a.sample(rng) for a in space if a.models is None or model in a.models}
    return Trial(model=model, index=index, seed=int(rng.integers(2**31 - 1)), params=params)
  shared = np.random.default_rng([sweep_seed, index])
  params = {a.name: a.sample(shared) for a in space if a.models is None}
  seed = int(shared.integers(2**31 - 1))
  params.update({a.name: a.sample(rng) for a in space
                 if a.models is not None and model in a.models})
  return Trial(model=model, index=index, seed=seed, params=params)


def trials(space: Sequence[Axis], *, models: Sequence[str], count: int,
           sweep_seed: int, paired: bool = False) -> Tuple[Trial, ...]:
  """`count` trials per model, interleaved by index (so that a partial sweep covers every model)."""
  return tuple(draw_trial(space, model=m, index=i, sweep_seed=sweep_seed, paired=paired)
               for i in range(count) for m in models)


def trial_dir(sweep_dir: str, trial: Trial) -> str:
  return os.path.join(sweep_dir, "trials", trial.name)
