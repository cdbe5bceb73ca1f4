"""Running one trial of a sweep: the base configuration (the flagfile's) with the trial's
hyperparameters, trained in the trial's own directory by `train_lib.train`, so that a rerun resumes
it from its checkpoints and a finished trial costs nothing.

A random search over Table 2's learning rates (up to 1e-1) has trials whose loss goes non-finite.
Such a trial is finished, not failed: `diverged.json` records where, a rerun does not retry it, and
its score is the cumulative terminal reward it had earned (it earns nothing after it stopped).
"""

import dataclasses
import json
import os
from typing import Dict, Tuple

from mace_tf.agents import tfa_ppo_config
from mace_tf.agents.mace.config import MaceConfig
from mace_tf.envs import rules
from mace_tf.networks.config import NetworkConfig
from mace_tf.sweep.search_space import Trial, trial_dir
from mace_tf.train import metrics, train_lib

_NETWORK_FIELDS = {f.name for f in dataclasses.fields(NetworkConfig)}
_AGENT_FIELDS = {f.name for f in dataclasses.fields(MaceConfig)} - {"network"}


def trial_configs(agent: MaceConfig, train: train_lib.TrainConfig,
                  trial: Trial) -> Tuple[tfa_ppo_config.AgentConfig, train_lib.TrainConfig]:
  """The base configs with the trial's model, seed and hyperparameters (each routed to the
  network's or the learner's config); everything else stays as the base (the flagfile) set it.
  The stock baseline's trial gets a `TFAPPOConfig` of the base's Table 2 fields."""
  unknown = set(trial.params) - _NETWORK_FIELDS - _AGENT_FIELDS
  if unknown:
    raise ValueError(f"search space: {sorted(unknown)} are not hyperparameters of MaceConfig or "
                     f"NetworkConfig")
  network = dataclasses.replace(
      agent.network, **{k: v for k, v in trial.params.items() if k in _NETWORK_FIELDS})
  agent = dataclasses.replace(
      agent, network=network, **{k: v for k, v in trial.params.items() if k in _AGENT_FIELDS})
  return tfa_ppo_config.for_model(agent, trial.model), dataclasses.replace(train, seed=trial.seed)


DIVERGED = "diverged.json"


def read_divergence(root: str):
  """`{"samples": ..., "message": ...}` if the trial in `root` stopped on a non-finite loss, else
  None."""
  path = os.path.join(root, DIVERGED)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)


def divergence(sweep_dir: str, trial: Trial):
  """`read_divergence` of the trial's directory."""
  return read_divergence(trial_dir(sweep_dir, trial))


def last_metrics(sweep_dir: str, trial: Trial):
  """The trial's last metric line, or None if it has none yet."""
  root = trial_dir(sweep_dir, trial)
  if not os.path.exists(os.path.join(root, "metrics.jsonl")):
    return None
  lines = metrics.read_metrics(root)
  return lines[-1] if lines else None


def final_metrics(sweep_dir: str, trial: Trial) -> Dict[str, float]:
  """The trial's last metric line (zeros before its first), with `"diverged": 1.0` if it stopped
  on a non-finite loss: its files read once."""
  final = dict(last_metrics(sweep_dir, trial) or {"samples": 0,
                                                   "charts/cumulative_terminal_reward": 0.0})
  if divergence(sweep_dir, trial) is not None:
    final["diverged"] = 1.0
  return final


def _done(final: Dict[str, float], num_samples: int) -> bool:
  return bool(final.get("diverged")) or final["samples"] >= num_samples


def is_finished(sweep_dir: str, trial: Trial, num_samples: int) -> bool:
  """Whether the trial's run already reached `num_samples` (its last metric line) or diverged."""
  return _done(final_metrics(sweep_dir, trial), num_samples)


def run_trial(sweep_dir: str, game: rules.GameConfig, agent: MaceConfig,
              train: train_lib.TrainConfig, trial: Trial, log_fn=None) -> Dict[str, float]:
  """Trains (or resumes, or skips if finished) one trial; writes `trial.json` beside its run and
  returns the run's final metrics (with `"diverged": 1.0` for a trial stopped by a non-finite loss)."""
  root = trial_dir(sweep_dir, trial)
  agent_config, train_config = trial_configs(agent, train, trial)
  os.makedirs(root, exist_ok=True)
  with open(os.path.join(root, "trial.json"), "w") as f:
    json.dump({"model": trial.model, "index": trial.index, "seed": trial.seed,
               "params": trial.params}, f, indent=2)
  final = final_metrics(sweep_dir, trial)
  if _done(final, train_config.num_samples):
    return final
  try:
    return train_lib.train(root_dir=root, game=game, agent_config=agent_config,
                           train_config=train_config, progress=False, log_fn=log_fn)
  except train_lib.TrainingDivergedError as e:
    last = last_metrics(sweep_dir, trial) or {"samples": 0, "charts/cumulative_terminal_reward": 0.0}
    with open(os.path.join(root, DIVERGED), "w") as f:
      json.dump({"samples": last["samples"], "message": str(e)}, f, indent=2)
    if log_fn:
      log_fn(f"{trial.name}: {e}")
    return {**last, "diverged": 1.0}


def best_finished(sweep_dir: str, trials, num_samples: int):
  """(trial, cumulative terminal reward) of the best finished trial (diverged ones included, at
  what they had earned), or None."""
  scored = []
  for t in trials:
    final = final_metrics(sweep_dir, t)
    if _done(final, num_samples):
      scored.append((t, final.get("charts/cumulative_terminal_reward", 0.0)))
  return max(scored, key=lambda p: p[1]) if scored else None
