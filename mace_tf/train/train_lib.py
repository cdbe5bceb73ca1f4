"""train(): collect rollouts from B games, update the agent, log, checkpoint and export. No flags here.

One iteration: the sampling policy acts L times in B games (one batched call per step for every game
and agent), the L x B samples form one `Trajectory [B, L + 1]`, the agent takes its update on it.
`--root_dir` holds the whole run: `run_config.json`, `checkpoints/`, `summaries/`, `metrics.jsonl`,
`export/<policy>/<samples>/`.
"""

import collections
import contextlib
import dataclasses
import os
import signal
import threading
import time
from typing import Callable, Dict, Optional

import numpy as np
import tensorflow as tf

from mace_tf.agents.mace.config import MaceConfig
from mace_tf.agents.tfa_ppo_config import AgentConfig
from mace_tf.envs import rules
from mace_tf.deploy import evaluation
from mace_tf.fast import graph_loop
from mace_tf.train import builder, checkpoints, export, metrics, paths


COLLECT_MODES = ("graph", "host")
UPDATES = graph_loop.UPDATES


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """How long and how a run trains.

  Attributes:
    num_envs: B, games stepped together (the A3C threads become B synchronous games).
    rollout_length: L, steps per game between updates (A3C's t_max).
    num_samples: samples to train on; one sample = one step of one game, as the paper counts.
    seed: seeds the games, the network initialization and the policy's sampling.
    checkpoint_every: samples between checkpoints (and SavedModel exports).
    log_every: samples between metric lines.
    eval_every: samples between greedy evaluations (0: only at the end).
    eval_episodes: episodes of each greedy evaluation.
    collect: "graph": the games run in TensorFlow and each collect-and-update iteration is one
      compiled function (`graph_loop.GraphLoop`); "host": the numpy games as a TF-Agents
      PyEnvironment stepped from Python, one policy call per step.
    update: how the compiled loop updates (`graph_loop.UPDATES`): "batched" (one forward and
      backward pass over the whole rollout; any num_epochs), "taped" (differentiates the passes
      made while collecting; num_epochs = 1) or "auto" (taped if num_epochs = 1, else batched).
    intra_op_threads, inter_op_threads: TensorFlow's thread pools, set when `train` starts (0: TF's
      default, one per core each). On 2 cores 1 and 2 are faster for these small ops (DESIGN.md);
      a process can set them only before its first TF op, later values are ignored with a warning.
  """

  num_envs: int = 16
  rollout_length: int = 20
  num_samples: int = 100_000
  seed: int = 0
  checkpoint_every: int = 50_000
  log_every: int = 5_000
  eval_every: int = 0
  eval_episodes: int = 100
  collect: str = "graph"
  update: str = "auto"
  intra_op_threads: int = 1
  inter_op_threads: int = 2

  def __post_init__(self):
    if self.collect not in COLLECT_MODES:
      raise ValueError(f"collect must be one of {COLLECT_MODES}, got {self.collect!r}")
    for name in ("num_envs", "rollout_length", "num_samples", "checkpoint_every", "log_every",
                 "eval_episodes"):
      if getattr(self, name) < 1:
        raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
    if self.update not in graph_loop.UPDATES:
      raise ValueError(f"update must be one of {graph_loop.UPDATES}, got {self.update!r}")
    if self.seed < 0 or self.eval_every < 0 or self.intra_op_threads < 0 or self.inter_op_threads < 0:
      raise ValueError("seed, eval_every and the thread counts must be >= 0")


def evaluate_policy(action_fn: Callable, game: rules.GameConfig, *, episodes: int,
                    seed: int) -> Dict[str, float]:
  """Plays `episodes` episodes (one per game of a batch) with `action_fn(time_step) -> [B, N]`.

  Returns mean terminal reward per episode (sum over hunters), success rate, episode length, stags
  and hares captured.
  """
  per_episode, _ = evaluation.play_episodes(action_fn, game, episodes=episodes, seed=seed)
  return {"terminal_reward": float(per_episode["total_reward"].mean()),
          "success_rate": float(per_episode["success"].mean()),
          "episode_length": float(per_episode["length"].mean()),
          "stags_captured": float(per_episode["stags_captured"].mean()),
          "hares_captured": float(per_episode["hares_captured"].mean())}


def set_threads(*, intra_op: int, inter_op: int, log_fn: Optional[Callable[[str], None]] = print):
  """Sets TF's thread pools (0 = TF's default); says so if TF already runs with other sizes."""
  current = (tf.config.threading.get_intra_op_parallelism_threads(),
             tf.config.threading.get_inter_op_parallelism_threads())
  if current == (intra_op, inter_op):
    return
  try:
    tf.config.threading.set_intra_op_parallelism_threads(intra_op)
    tf.config.threading.set_inter_op_parallelism_threads(inter_op)
  except RuntimeError:  # TF is initialized: the pools are fixed for this process
    if log_fn:
      log_fn(f"note: TensorFlow already runs with intra_op={current[0]}, inter_op={current[1]} "
             f"threads in this process; intra_op_threads={intra_op}, "
             f"inter_op_threads={inter_op} take effect in a new process")


def train(*, root_dir: str, game: rules.GameConfig, agent_config: AgentConfig,
          train_config: TrainConfig, progress: bool = True,
          log_fn: Optional[Callable[[str], None]] = print,
          command: Optional[str] = None) -> Dict[str, float]:
  """Trains (or resumes training) a MACE / Shared / Cloned agent, or the stock TF-Agents PPO
  baseline (a `TFAPPOConfig`); returns the final metrics.

  SIGINT (Ctrl-C) and SIGTERM, while it trains in the main thread, stop it at the next iteration
  boundary: it saves a checkpoint and its exports there and raises TrainingInterrupted.

  Raises (each with a one-line message):
    checkpoints.CheckpointMismatchError: a setting contradicts the run already in `root_dir`.
    checkpoints.CheckpointRestoreError: checkpoints exist but none restores.
    checkpoints.RunLockedError: a live trainer holds `root_dir`.
    RunDirectoryError: `root_dir`, or a file in it, cannot be created, read or written (a full
      disk, a file where a directory belongs...).
    TrainingDivergedError: a loss term or the gradient went non-finite.
    TrainingInterrupted: SIGINT or SIGTERM stopped it (after saving).
  """
  _check_writable(root_dir)
  with _StopSignals() as stop, _os_errors_as_one_line(root_dir):
    with checkpoints.RunLock(root_dir):
      if command:  # the run's history of commands, for reports
        with open(os.path.join(root_dir, "commands.txt"), "a") as f:
          f.write(command + "\n")
      return _train_locked(root_dir=root_dir, game=game, agent_config=agent_config,
                           train_config=train_config, progress=progress, log_fn=log_fn, stop=stop)


class _StopSignals:
  """While active (main thread only), SIGINT and SIGTERM set `requested` (the signal's name)
  instead of interrupting: the loop stops at its next iteration boundary, never mid-save."""

  def __init__(self):
    self.requested = None
    self._previous = {}

  def _handle(self, signum, frame):
    del frame
    self.requested = signal.Signals(signum).name

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      for sig in (signal.SIGINT, signal.SIGTERM):
        self._previous[sig] = signal.signal(sig, self._handle)
    return self

  def __exit__(self, *exc):
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)


@contextlib.contextmanager
def _os_errors_as_one_line(root_dir: str):
  """An OS error on a file of the run (a full disk, a directory where a file belongs, a file where
  a directory belongs) becomes a RunDirectoryError naming the file and what to do."""
  try:
    yield
  except OSError as e:
    name = paths.display(e.filename) if e.filename else root_dir
    raise RunDirectoryError(
        f"cannot use {name}: {e.strerror or e}; fix it (free space, remove what is in the way) and "
        f"rerun the same command to resume from the last checkpoint") from None
  except _WriteFailed as e:
    raise RunDirectoryError(
        f"cannot write the run in {root_dir}: {e}; fix it (free space, remove what is in the "
        f"way) and rerun the same command to resume from the last checkpoint") from None


class _WriteFailed(Exception):
  """TensorFlow failed to write a checkpoint, an export or a summary (its message's first line)."""


@contextlib.contextmanager
def _writing():
  """Around TensorFlow's writes into the run: any error of theirs is a write that failed (a full
  disk, a file too large, a directory in the way), not a bug of the learner."""
  try:
    yield
  except tf.errors.OpError as e:
    raise _WriteFailed(paths.display(str(e.message).strip().splitlines()[0][:200])) from None


def _check_writable(root_dir: str) -> None:
  """Raises RunDirectoryError (one line) if `root_dir` cannot be created, read or written."""
  try:
    os.makedirs(root_dir, exist_ok=True)
  except OSError as e:
    raise RunDirectoryError(f"cannot create the run directory {root_dir}: {e.strerror}") from None
  if not os.access(root_dir, os.R_OK | os.W_OK | os.X_OK):
    raise RunDirectoryError(f"the run directory {root_dir} is not readable and writable by this "
                            f"user; fix its permissions or use another --root_dir")


class RunDirectoryError(RuntimeError):
  """The run directory cannot be used."""


class TrainingDivergedError(RuntimeError):
  """A loss term or the gradient went non-finite; training stopped before saving it."""


class TrainingInterrupted(RuntimeError):
  """SIGINT or SIGTERM stopped training at an iteration boundary, after a checkpoint."""


def default_run_config(game=None, agent_config=None) -> Dict:
  """`run_config.json`'s sections at the default settings: what a field that a run's or a sweep's
  saved config lacks (the library gained it later) is compared at on resume. The game section's
  defaults are the hunter games' unless `game` is another kind (an external game's are its own);
  the agent section's are those of `agent_config`'s class (MaceConfig's if None)."""
  default_game = game if getattr(game, "kind", None) == "external" else rules.GameConfig()
  default_agent = type(agent_config)() if agent_config is not None else MaceConfig()
  return checkpoints.run_config_dict(default_game, default_agent, TrainConfig())


def _train_locked(*, root_dir, game, agent_config, train_config, progress, log_fn, stop):
  # The settings are checked now and committed with the first checkpoint: a start that fails
  # before one pins nothing.
  run_config = checkpoints.check_run_config(
      root_dir, checkpoints.run_config_dict(game, agent_config, train_config),
      defaults=default_run_config(game, agent_config))
  committed = checkpoints.has_checkpoint(root_dir)
  if committed:
    checkpoints.write_run_config(root_dir, run_config)
  tc = train_config
  set_threads(intra_op=tc.intra_op_threads, inter_op=tc.inter_op_threads, log_fn=log_fn)
  # Keras's initializers take no seed from tf.random.set_seed alone: without this, the initial
  # weights differed from process to process at the same seed.
  tf.keras.utils.set_random_seed(tc.seed)
  learner = builder.make_learner(game, agent_config, tc)
  # Every path TensorFlow reads goes through a glob-free alias of the run directory.
  tf_root = paths.literal_dir(root_dir)
  say = lambda line: log_fn(paths.display(line)) if log_fn else None

  samples = tf.Variable(0, dtype=tf.int64, name="samples")
  episodes = tf.Variable(0, dtype=tf.int64, name="episodes")
  cumulative_reward = tf.Variable(0.0, dtype=tf.float64, name="cumulative_terminal_reward")
  checkpointer = checkpoints.RunCheckpointer(
      tf_root, env_codec=learner.env_codec, log_fn=say, samples=samples, episodes=episodes,
      cumulative_reward=cumulative_reward, **learner.trackables)
  writer = metrics.MetricsWriter(tf_root)
  env_state = checkpointer.restore_latest()
  if checkpointer.restored:
    say(f"resumed from {checkpointer.restored} at {int(samples.numpy()):,} samples")
  learner.start(env_state)
  damaged = writer.truncate_after(int(samples.numpy()))
  if damaged:
    say(f"warning: dropped {damaged} damaged line(s) of {writer.path}; the others are kept")
  exporter = export.PolicyExporter(tf_root, learner.policies, samples,
                                   game=dataclasses.asdict(game))

  def export_now():
    with _writing():
      exporter.export(int(samples.numpy()))

  if checkpointer.restored and not exporter.has(int(samples.numpy())):
    export_now()  # the save that wrote this checkpoint was stopped before its exports completed

  def greedy_eval():
    return evaluate_policy(learner.greedy_action, game, episodes=tc.eval_episodes,
                           seed=tc.seed + 10_000)

  def save():
    nonlocal committed
    with _writing():
      checkpointer.save(learner.env_state())
    if not committed:
      checkpoints.write_run_config(root_dir, run_config)
      committed = True
    export_now()

  window = collections.defaultdict(list)  # episode statistics since the last metric line
  pbar = None
  if progress:
    from tqdm import tqdm  # Imported here: only interactive runs draw a bar.
    pbar = tqdm(total=tc.num_samples, initial=int(samples.numpy()), unit="samples", smoothing=0.05,
                dynamic_ncols=True)
  start_samples, start_time = int(samples.numpy()), time.perf_counter()
  last = {"log": start_samples // tc.log_every, "ckpt": start_samples // tc.checkpoint_every,
          "eval": start_samples // tc.eval_every if tc.eval_every else 0}
  final = {}
  loss_info = None
  try:
    while int(samples.numpy()) < tc.num_samples and not stop.requested:
      try:
        loss_info, stats, new_samples = learner.run_iteration()
      except builder.DivergenceError as e:
        # Nothing of this update is saved: the last checkpoint holds the last finite weights.
        raise TrainingDivergedError(
            f"training diverged: {e.term} went non-finite in the update after "
            f"{int(samples.numpy()):,} samples; nothing non-finite was saved; the last good "
            f"checkpoint is {paths.display(checkpointer.latest or '') or 'none (no checkpoint yet)'}"
        ) from None
      samples.assign_add(new_samples)
      episodes.assign_add(stats["length"].size)
      cumulative_reward.assign_add(float(stats["total_reward"].sum()))
      for k, v in stats.items():
        window[k].extend(v.tolist())
      s = int(samples.numpy())
      if pbar is not None:
        pbar.update(new_samples)
        if window["total_reward"]:
          pbar.set_postfix(episodes=int(episodes.numpy()),
                           reward=f"{np.mean(window['total_reward']):.3f}", refresh=False)
      done = s >= tc.num_samples
      if s // tc.log_every > last["log"] or done:
        last["log"] = s // tc.log_every
        scalars = {
            "charts/episodes": int(episodes.numpy()),
            "charts/cumulative_terminal_reward": float(cumulative_reward.numpy()),
            "perf/samples_per_s": (s - start_samples) / (time.perf_counter() - start_time),
            **learner.loss_scalars(loss_info), **_episode_scalars(window, game.time_limit)}
        if done or (tc.eval_every and s // tc.eval_every > last["eval"]):
          last["eval"] = s // tc.eval_every if tc.eval_every else 0
          scalars.update({f"eval/greedy_{k}": v for k, v in greedy_eval().items()})
        with _writing():
          writer.write(s, scalars)
        final = scalars
        window = collections.defaultdict(list)
      if s // tc.checkpoint_every > last["ckpt"] or done or stop.requested:
        last["ckpt"] = s // tc.checkpoint_every
        save()
  finally:
    if pbar is not None:
      pbar.close()
  if stop.requested:
    where = (f"saved at {int(samples.numpy()):,} samples" if loss_info is not None
             else f"nothing new to save ({int(samples.numpy()):,} samples)")
    raise TrainingInterrupted(f"stopped by {stop.requested}: {where}; rerun the same command to "
                              f"resume")
  if loss_info is None:
    say(f"nothing to do: the run in {root_dir} already has {int(samples.numpy()):,} samples")
    # A finished run's result is its last metrics line, not an empty dict.
    lines = metrics.read_metrics(root_dir) if os.path.exists(
        os.path.join(root_dir, "metrics.jsonl")) else []
    final = lines[-1] if lines else final
  return final


EPISODE_LENGTH_BINS = 20


def episode_length_counts(lengths, time_limit: int):
  """Counts of episode lengths in `EPISODE_LENGTH_BINS` equal bins over [0, T] (T in the last bin):
  summed over metric lines they give the length distribution of training (figure 4)."""
  # An external game's T is not known ahead (0): its longest episode stands in.
  top = time_limit if time_limit > 0 else max(max(lengths, default=1), 1)
  counts, _ = np.histogram(lengths, bins=EPISODE_LENGTH_BINS, range=(0, top))
  return [int(c) for c in counts]


def _episode_scalars(window, time_limit: int) -> Dict[str, float]:
  if not window["total_reward"]:
    return {}
  return {
      "charts/episode_length_counts": episode_length_counts(window["length"], time_limit),
      "charts/episode_terminal_reward": float(np.mean(window["total_reward"])),
      "charts/episode_length": float(np.mean(window["length"])),
      "charts/success_rate": float(np.mean(window["success"])),
      "charts/stags_captured": float(np.mean(window["stags_captured"])),
      "charts/hares_captured": float(np.mean(window["hares_captured"])),
      "charts/episodes_in_window": len(window["total_reward"]),
  }
