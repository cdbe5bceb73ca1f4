"""Faults a run survives: corrupt checkpoints, divergence, a second trainer, kills, a bad directory."""

import glob
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from mace_tf.train import checkpoints, metrics, train_lib
from tests.train.fault_helpers import checkpoint_numbers, train

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# The host loop's fallback (the same checkpoint code) runs with --runslow.
@pytest.mark.parametrize("collect", ["graph", pytest.param("host", marks=pytest.mark.slow)])
def test_a_truncated_newest_checkpoint_falls_back_to_the_one_before(tmp_path, collect):
  root = tmp_path / "run"
  train(root, 960, collect=collect)  # checkpoints at 320, 640, 960
  newest = checkpoint_numbers(root)[-1]
  data = glob.glob(str(root / "checkpoints" / f"ckpt-{newest}.data-*"))[0]
  with open(data, "r+b") as f:  # a full disk: the file cut in half
    f.truncate(os.path.getsize(data) // 2)
  log = []
  final = train(root, 1280, collect=collect, log=log)
  warnings = [l for l in log if l.startswith("warning:")]
  assert len(warnings) == 1 and f"ckpt-{newest}" in warnings[0] and "\n" not in warnings[0]
  assert any(l.startswith("resumed from") and f"ckpt-{newest - 1}" in l and "640 samples" in l
             for l in log)
  assert metrics.read_metrics(str(root))[-1]["samples"] == 1280 and final
  samples = [l["samples"] for l in metrics.read_metrics(str(root))]
  assert samples == sorted(set(samples))  # the lines after 640 were rewritten, not duplicated


def test_a_missing_game_state_counts_as_a_broken_checkpoint(tmp_path):
  root = tmp_path / "run"
  train(root, 640, collect="host")
  newest = checkpoint_numbers(root)[-1]
  os.remove(root / "checkpoints" / f"ckpt-{newest}.env.npz")
  log = []
  train(root, 960, collect="host", log=log)
  assert any("does not restore" in l for l in log)
  assert any(f"ckpt-{newest - 1}" in l and "320 samples" in l for l in log if "resumed" in l)


def test_no_checkpoint_restoring_is_one_clear_error(tmp_path):
  root = tmp_path / "run"
  train(root, 640)
  for data in glob.glob(str(root / "checkpoints" / "ckpt-*.data-*")):
    with open(data, "r+b") as f:
      f.truncate(10)
  with pytest.raises(checkpoints.CheckpointRestoreError, match="no checkpoint in .*checkpoints "
                     "restores") as e:
    train(root, 960)
  assert "\n" not in str(e.value)


def test_game_state_is_not_pickled(tmp_path):
  root = tmp_path / "run"
  train(root, 320, collect="host")
  (state,) = glob.glob(str(root / "checkpoints" / "*.env.npz"))
  with np.load(state, allow_pickle=False) as arrays:  # loads no code, or raises
    assert "game.hunter_pos" in arrays and json.loads(str(arrays["rng_json"]))
  assert not glob.glob(str(root / "checkpoints" / "*.pkl"))


def test_a_diverging_run_stops_naming_the_term_and_saves_nothing_non_finite(tmp_path):
  root = tmp_path / "run"
  with pytest.raises(train_lib.TrainingDivergedError) as e:
    train(root, 100_000, learning_rate=1e4, max_grad_norm=0.0)
  message = str(e.value)
  assert "went non-finite in the update after" in message and "losses/" in message
  assert "\n" not in message
  for number in checkpoint_numbers(root):
    reader = tf.train.load_checkpoint(str(root / "checkpoints" / f"ckpt-{number}"))
    for name in reader.get_variable_to_shape_map():
      value = reader.get_tensor(name)
      if np.issubdtype(np.asarray(value).dtype, np.floating):
        assert np.isfinite(value).all(), name
  for saved in glob.glob(str(root / "export" / "*" / "*" / "variables" / "variables.index")):
    reader = tf.train.load_checkpoint(saved[: -len(".index")])
    for name in reader.get_variable_to_shape_map():
      value = np.asarray(reader.get_tensor(name))
      if np.issubdtype(value.dtype, np.floating):
        assert np.isfinite(value).all(), (saved, name)
  numbers = checkpoint_numbers(root)  # the message names the last good one, or says none
  assert (f"ckpt-{numbers[-1]}" if numbers else "none (no checkpoint yet)") in message


def test_a_forced_nan_names_the_first_non_finite_term():
  from mace_tf.train import builder
  with pytest.raises(builder.DivergenceError, match="losses/value"):
    builder.check_finite([("losses/policy_gradient", 1.0), ("losses/value", float("nan")),
                          ("losses/entropy", float("inf"))])
  builder.check_finite([("a", 0.0), ("b", -3.0)])


def test_a_second_trainer_is_refused_and_a_dead_ones_lock_is_not(tmp_path):
  root = tmp_path / "run"
  root.mkdir()
  with checkpoints.RunLock(str(root)):  # a live trainer (this process holds the lock)
    with pytest.raises(checkpoints.RunLockedError, match="in use by a live trainer"):
      train(root, 320)
  # A trainer killed while holding the lock: the kernel released it with the process.
  holder = subprocess.Popen([sys.executable, "-c", (
      "import fcntl, sys, time; f = open(sys.argv[1], 'a+'); "
      "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)"),
      str(root / ".lock")], stdout=subprocess.PIPE, text=True)
  assert holder.stdout.readline().strip() == "locked"
  with pytest.raises(checkpoints.RunLockedError):
    train(root, 320)
  holder.kill()
  holder.wait()
  train(root, 320)  # the lock file is still there; it blocks nothing
  assert os.path.exists(root / ".lock")


def test_an_unusable_run_directory_is_one_clear_line(tmp_path):
  blocker = tmp_path / "a_file"
  blocker.write_text("")
  with pytest.raises(train_lib.RunDirectoryError, match="cannot create the run directory"):
    train(blocker / "run", 320)


def _last_samples(root):
  """The samples of the last metric line (0 before any: the file may exist and be empty)."""
  path = os.path.join(root, "metrics.jsonl")
  lines = metrics.read_metrics(str(root)) if os.path.exists(path) else []
  return lines[-1]["samples"] if lines else 0


def _kill_and_resume(root, *, kills, num_samples, seed, signals=(signal.SIGKILL,),
                     full_disk_at=None):
  """Runs `launch.train` on `root`, stopping it at random moments `kills` times with a signal drawn
  from `signals` (rerunning after each), then lets it finish. Run number `full_disk_at` (if given)
  runs with no file allowed past 64 kB (a full disk) until it fails; the next run has the space
  back. Returns, per stop, (samples of the last metric line before it, at the stop, the output)."""
  rng = random.Random(seed)
  args = [sys.executable, "-m", "launch.train", "--flagfile=launch/games/fig1.flags",
          f"--root_dir={root}", f"--num_samples={num_samples}", "--num_envs=8",
          "--rollout_length=4", "--checkpoint_every=640", "--log_every=320", "--eval_episodes=4",
          "--noprogress", "--learning_rate=0.003"]
  env = dict(os.environ, PYTHONPATH=ROOT)
  lost = []
  for k in range(kills):
    before = _last_samples(root)
    if k == full_disk_at:
      full = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,
                            preexec_fn=_no_file_past(64 * 1024))
      assert full.returncode != 0 and "Traceback" not in full.stderr, full.stderr[-2000:]
      assert not glob.glob(os.path.join(root, "export", "*", "*.tmp"))
      lines = metrics.read_metrics(str(root))
      lost.append((before, lines[-1]["samples"] if lines else 0, full.stdout + full.stderr))
      continue
    p = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    # Past start-up (~6-10 s of imports and tracing) into training, checkpoint writes included.
    time.sleep(rng.uniform(6.0, 14.0))
    p.send_signal(rng.choice(signals))
    out, _ = p.communicate()
    assert "Traceback" not in out, out[-2000:]
    lines = metrics.read_metrics(str(root)) if os.path.exists(
        os.path.join(root, "metrics.jsonl")) else []
    at_kill = lines[-1]["samples"] if lines else 0
    lost.append((before, at_kill, out))
  final = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
  assert final.returncode == 0, final.stdout[-2000:] + final.stderr[-2000:]
  return lost, final.stdout


def _check_continuous(root, num_samples):
  lines = metrics.read_metrics(str(root))
  samples = [l["samples"] for l in lines]
  assert samples == sorted(set(samples)), "duplicate or unordered metric lines"
  per_iteration = 8 * 4
  assert samples[-1] == -(-num_samples // per_iteration) * per_iteration  # the exact count
  # One line per log_every (320, a multiple of B L) crossing: none missing.
  assert samples == [320 * k for k in range(1, len(samples) + 1)]
  cumulative = [l["charts/cumulative_terminal_reward"] for l in lines]
  assert all(b >= a for a, b in zip(cumulative, cumulative[1:]))  # rewards here are >= 0
  return lines


@pytest.mark.slow  # ~55 s; the soak below does the same 20 times
def test_kills_at_random_moments_leave_a_run_that_completes_exactly(tmp_path):
  root = tmp_path / "run"
  kills, out = _kill_and_resume(str(root), kills=2, num_samples=12_800, seed=0)
  _check_continuous(root, 12_800)
  assert max(_losses(kills, out)) <= 640  # at most one checkpoint interval


def _losses(kills, final_out):
  """Per kill, the samples of training lost: the last metric line before it minus the sample
  count the next run resumed from (its "resumed from ... at N samples" line; 0 if none)."""
  outs = [out for _, _, out in kills[1:]] + [final_out]
  lost = []
  for (_, at_kill, _), out in zip(kills, outs):
    resumed = [l for l in out.splitlines() if l.startswith("resumed from")]
    start = int(resumed[0].rsplit(" at ", 1)[1].split()[0].replace(",", "")) if resumed else 0
    lost.append(max(0, at_kill - start))
  return lost


def _no_file_past(limit):
  def apply():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
  return apply


def _check_exports(root):
  """Every checkpoint kept has both policies exported at its sample count."""
  for number in checkpoint_numbers(root):
    reader = tf.train.load_checkpoint(os.path.join(root, "checkpoints", f"ckpt-{number}"))
    samples = int(reader.get_tensor("samples/.ATTRIBUTES/VARIABLE_VALUE"))
    for name in ("policy", "greedy_policy"):
      assert os.path.isfile(os.path.join(root, "export", name, str(samples), "saved_model.pb")), (
          name, samples)


@pytest.mark.slow
def test_soak_twenty_kills_in_a_row(tmp_path):
  root = tmp_path / "run"
  # SIGKILL, SIGINT (Ctrl-C) and SIGTERM at random moments, and one run on a full disk.
  kills, out = _kill_and_resume(str(root), kills=20, num_samples=64_000, seed=1,
                                signals=(signal.SIGKILL, signal.SIGINT, signal.SIGTERM),
                                full_disk_at=7)
  _check_continuous(root, 64_000)
  _check_exports(str(root))
  lost = _losses(kills, out)
  assert max(lost) <= 640  # at most one checkpoint interval
  corrupt = sum("does not restore" in o for _, _, o in kills) + ("does not restore" in out)
  print(json.dumps({"kills": len(kills), "samples_lost_per_kill": lost,
                    "killed_in_training": sum(at > before for before, at, _ in kills),
                    "broken_checkpoints_survived": corrupt}))
