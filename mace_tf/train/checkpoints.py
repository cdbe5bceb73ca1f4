"""A run's checkpoints: agent, optimizer, counters and RNG (TF checkpoint), the games' state (pickle),
and `run_config.json`, the settings a resumed run must not contradict."""

import dataclasses
import json
import os
import pickle
from typing import Any, Dict, Optional

import tensorflow as tf

# Settings that define a run: resuming with others would not continue the same run.
FIXED_KEYS = {"game": None, "agent": None, "train": ("num_envs", "rollout_length", "seed", "collect")}


class CheckpointMismatchError(ValueError):
  """A setting contradicts the run already in --root_dir."""


def run_config_dict(game, agent, train) -> Dict[str, Any]:
  return {"game": dataclasses.asdict(game), "agent": agent.flat_dict(),
          "train": dataclasses.asdict(train)}


def _normalize(value):
  return json.loads(json.dumps(value))  # tuples -> lists, as they come back from JSON


def check_or_write_run_config(root_dir: str, config: Dict[str, Any]) -> None:
  """Writes `run_config.json`, or checks that `config` agrees with the one already there."""
  path = os.path.join(root_dir, "run_config.json")
  config = _normalize(config)
  if os.path.exists(path):
    with open(path) as f:
      saved = json.load(f)
    for section, keys in FIXED_KEYS.items():
      for key in keys or saved.get(section, {}).keys():
        old, new = saved.get(section, {}).get(key), config[section].get(key)
        if old != new:
          raise CheckpointMismatchError(
              f"{key}={new} contradicts the run in {root_dir}, which has {key}={old}: use another "
              f"--root_dir, or the same settings to resume it")
    saved["train"] = config["train"]  # num_samples, checkpoint_every etc. may change on resume
    config = saved
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(config, f, indent=2)
  os.replace(tmp, path)


class RunCheckpointer:
  """Saves and restores a `tf.train.Checkpoint` of `trackables` plus the games' Python state."""

  def __init__(self, root_dir: str, max_to_keep: int = 3, **trackables):
    self._dir = os.path.join(root_dir, "checkpoints")
    self._checkpoint = tf.train.Checkpoint(**trackables)
    self._manager = tf.train.CheckpointManager(self._checkpoint, self._dir, max_to_keep=max_to_keep)

  def _env_path(self, checkpoint_path: str) -> str:
    return checkpoint_path + ".env.pkl"

  def save(self, env_state: Any) -> str:
    # The games' state is written first: a checkpoint that exists always has it.
    number = self._checkpoint.save_counter.numpy() + 1
    env_path = self._env_path(os.path.join(self._dir, f"ckpt-{number}"))
    os.makedirs(self._dir, exist_ok=True)
    with open(env_path + ".tmp", "wb") as f:
      pickle.dump(env_state, f)
    os.replace(env_path + ".tmp", env_path)
    path = self._manager.save()
    for stale in tf.io.gfile.glob(os.path.join(self._dir, "ckpt-*.env.pkl")):
      if stale[: -len(".env.pkl")] not in self._manager.checkpoints:
        os.remove(stale)
    return path

  def restore_latest(self) -> Optional[Any]:
    """Restores the newest checkpoint if any; returns the games' state saved with it, or None."""
    latest = self._manager.latest_checkpoint
    if latest is None:
      return None
    self._checkpoint.restore(latest).assert_existing_objects_matched()
    env_path = self._env_path(latest)
    if os.path.exists(env_path):
      with open(env_path, "rb") as f:
        return pickle.load(f)
    return None

  @property
  def latest(self) -> Optional[str]:
    return self._manager.latest_checkpoint
