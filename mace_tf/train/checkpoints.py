"""A run's checkpoints: agent, optimizer, counters and RNG (TF checkpoint), the games' state (`.npz`),
`run_config.json` (the settings a resumed run must not contradict) and the run's lock."""

import dataclasses
import fcntl
import glob
import json
import os
import re
import socket
from typing import Any, Callable, Dict, List, Optional

import numpy as np
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


def with_defaults(saved: Dict[str, Any], defaults: Dict[str, Any]) -> Dict[str, Any]:
  """`saved` (one section of a saved config) with the fields it lacks at their `defaults`.

  A field the library gained after a run or sweep began is absent from its saved config; the run
  behaved as the field's default does, so that is the value to compare against on resume.
  """
  return {**_normalize(defaults), **saved}


def checkpoint_numbers(directory: str) -> List[int]:
  """The numbers N of the TF checkpoints in `directory` (`ckpt-N.index`), ascending."""
  if not os.path.isdir(directory):
    return []
  found = (re.fullmatch(r"ckpt-(\d+)\.index", name) for name in os.listdir(directory))
  return sorted(int(m.group(1)) for m in found if m)


def has_checkpoint(root_dir: str) -> bool:
  """Whether `root_dir` holds a TF checkpoint (`checkpoints/ckpt-N.index`): a run that exists."""
  return bool(checkpoint_numbers(os.path.join(root_dir, "checkpoints")))


def check_run_config(root_dir: str, config: Dict[str, Any], *,
                     defaults: Dict[str, Any]) -> Dict[str, Any]:
  """Checks `config` against the run in `root_dir`; returns what `run_config.json` is to hold.

  A run exists once its first checkpoint does: `run_config.json` is written with it
  (`write_run_config`), so a start that failed or diverged before any checkpoint pins nothing,
  and its `run_config.json`, if any, is replaced. `defaults`: the config of default settings
  (`train_lib.default_run_config()`); a field the saved config lacks is compared at its default.

  Raises:
    CheckpointMismatchError: a fixed setting contradicts the run, or its `run_config.json` is
      not a JSON object (one line naming the file).
  """
  path = os.path.join(root_dir, "run_config.json")
  config = _normalize(config)
  if not (os.path.exists(path) and has_checkpoint(root_dir)):
    return config
  try:
    with open(path) as f:
      saved = json.load(f)
  except (ValueError, UnicodeDecodeError) as e:
    raise CheckpointMismatchError(
        f"{path} is not valid JSON ({e}); restore it, or move the run directory away") from None
  if not isinstance(saved, dict) or not all(isinstance(saved.get(s, {}), dict) for s in FIXED_KEYS):
    raise CheckpointMismatchError(
        f"{path} is not a run configuration (a JSON object with sections {sorted(FIXED_KEYS)}); "
        f"restore it, or move the run directory away")
  for section, keys in FIXED_KEYS.items():
    old_section = with_defaults(saved.get(section, {}), defaults[section])
    # Only the config's own fields are compared: a saved field that its class does not have (a
    # run recorded before the stock baseline had its own config carries MACE's fields) cannot
    # contradict it, and one the saved config lacks is compared at its default.
    for key in keys or config[section]:
      old, new = old_section.get(key), config[section].get(key)
      if old != new:
        raise CheckpointMismatchError(
            f"{key}={new} contradicts the run in {root_dir}, which has {key}={old}: use another "
            f"--root_dir, or the same settings to resume it")
  # The settings are the same; the file now names every field, and the budgets (num_samples,
  # checkpoint_every etc.) may change on resume.
  return {**saved, **{s: config[s] for s in config if s in FIXED_KEYS}}


def write_run_config(root_dir: str, config: Dict[str, Any]) -> None:
  """Writes `run_config.json` atomically (a temporary file, then a rename)."""
  path = os.path.join(root_dir, "run_config.json")
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(config, f, indent=2)
  os.replace(tmp, path)


class CheckpointRestoreError(RuntimeError):
  """No checkpoint of a run directory restores."""


class RunCheckpointer:
  """Saves and restores a `tf.train.Checkpoint` of `trackables` plus the games' state.

  A checkpoint is the pair (TF checkpoint `ckpt-N`, games' state `ckpt-N.env.npz`, an `.npz` of plain
  arrays that loads no code). The games' state is written first (to a temporary name, then renamed),
  then the TF checkpoint, whose `checkpoint` index file TensorFlow rewrites last: a kill at any
  moment leaves the index naming the old pair or the new one, and a state file whose TF checkpoint
  never landed is an orphan that the next save removes. On restore, a checkpoint that fails
  (truncated or missing data, a missing or unreadable state file) is reported in one line and the
  next older one is tried.
  """

  def __init__(self, root_dir: str, max_to_keep: int = 3, env_codec=None,
               log_fn: Callable[[str], None] = print, **trackables):
    """`env_codec`: (to_arrays, from_arrays) for the games' state, or None if the run has none
    (the compiled loop keeps its games in TF variables)."""
    self._dir = os.path.join(root_dir, "checkpoints")
    self._codec = env_codec
    self._log = log_fn or (lambda _: None)
    self.restored = None  # the checkpoint restore_latest used
    self._checkpoint = tf.train.Checkpoint(**trackables)
    self._repair_index()
    self._manager = tf.train.CheckpointManager(self._checkpoint, self._dir, max_to_keep=max_to_keep)

  def _repair_index(self) -> None:
    """Rebuilds a damaged `checkpoint` index (empty, random bytes, unparsable) from the checkpoint
    files on disk, newest last, with one warning line: the intact checkpoints stay reachable."""
    index = os.path.join(self._dir, "checkpoint")
    if not os.path.isfile(index):
      return
    try:
      state = tf.train.get_checkpoint_state(self._dir)
      if state is not None and state.model_checkpoint_path:
        return
      reason = "it names no checkpoint"
    except Exception as e:  # pylint: disable=broad-except  (any parse failure: text, protobuf)
      reason = f"{type(e).__name__}: {str(e).strip().splitlines()[0][:100] if str(e).strip() else ''}"
    numbers = checkpoint_numbers(self._dir)
    self._log(f"warning: the checkpoint index {index} is damaged ({reason}); rebuilt from the "
              f"{len(numbers)} checkpoints on disk")
    os.remove(index)
    if numbers:
      names = [f"ckpt-{n}" for n in numbers]
      # Relative names, as the CheckpointManager writes them (the directory may move), with
      # their files' times: the manager keeps only checkpoints newer than the last preserved time.
      times = [os.path.getmtime(os.path.join(self._dir, f"{name}.index")) for name in names]
      tf.compat.v1.train.update_checkpoint_state(
          self._dir, names[-1], names, all_model_checkpoint_timestamps=times,
          last_preserved_timestamp=min(times) - 1.0)

  @staticmethod
  def _env_path(checkpoint_path: str) -> str:
    return checkpoint_path + ".env.npz"

  def save(self, env_state: Any = None) -> str:
    number = int(self._checkpoint.save_counter.numpy()) + 1
    os.makedirs(self._dir, exist_ok=True)
    if self._codec is not None:
      env_path = self._env_path(os.path.join(self._dir, f"ckpt-{number}"))
      tmp = env_path + ".tmp.npz"
      np.savez(tmp, **self._codec[0](env_state))
      os.replace(tmp, env_path)
    path = self._manager.save()
    kept = set(self._manager.checkpoints)
    for stale in glob.glob(os.path.join(glob.escape(self._dir), "ckpt-*.env.npz*")):
      if stale.endswith(".tmp.npz") or stale[: -len(".env.npz")] not in kept:
        os.remove(stale)
    return path

  def restore_latest(self) -> Optional[Any]:
    """Restores the newest checkpoint that restores; returns the games' state saved with it (None
    without a codec or without checkpoints).

    Raises:
      CheckpointRestoreError: checkpoints exist but none restores (one line naming the directory).
    """
    candidates = list(reversed(self._manager.checkpoints))
    if not candidates:
      return None
    for path in candidates:
      try:
        env_state = None
        if self._codec is not None:
          with np.load(self._env_path(path), allow_pickle=False) as arrays:
            env_state = self._codec[1](arrays)
        self._checkpoint.restore(path).assert_existing_objects_matched()
      except (OSError, ValueError, KeyError, IndexError, TypeError, AssertionError,
              tf.errors.OpError) as e:
        reason = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        self._log(f"warning: checkpoint {path} does not restore ({type(e).__name__}: {reason}); "
                  f"trying the next older one")
        continue
      self.restored = path
      return env_state
    raise CheckpointRestoreError(
        f"no checkpoint in {self._dir} restores ({len(candidates)} tried); move the directory "
        f"away to start the run afresh")

  @property
  def latest(self) -> Optional[str]:
    return self._manager.latest_checkpoint


class RunLock:
  """One trainer per run directory: an exclusive `flock` on `<root_dir>/.lock`, held while the
  trainer lives. The kernel drops it when the process dies, however it dies, so a killed trainer's
  lock never blocks the next one."""

  def __init__(self, root_dir: str):
    self._path = os.path.join(root_dir, ".lock")
    self._file = None

  def acquire(self) -> None:
    """Raises RunLockedError if a live trainer holds the directory."""
    self._file = open(self._path, "a+")
    try:
      fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      self._file.seek(0)
      holder = self._file.read().strip() or "another process"
      self._file.close()
      self._file = None
      raise RunLockedError(f"{os.path.dirname(self._path)} is in use by a live trainer "
                           f"({holder}); wait for it to finish or use another --root_dir") from None
    self._file.seek(0)
    self._file.truncate()
    self._file.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
    self._file.flush()

  def release(self) -> None:
    if self._file is not None:
      fcntl.flock(self._file, fcntl.LOCK_UN)
      self._file.close()
      self._file = None

  def __enter__(self):
    self.acquire()
    return self

  def __exit__(self, *exc):
    self.release()


class RunLockedError(RuntimeError):
  """A live trainer holds the run directory."""
