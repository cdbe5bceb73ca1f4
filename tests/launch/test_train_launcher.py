"""launch.train as a user runs it: resume after SIGKILL, and one clear line for bad input."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = ["--game=hare", "--num_hunters=2", "--num_prey=2", "--time_limit=6", "--grid_size=7",
         "--num_envs=8", "--rollout_length=8", "--log_every=1000", "--progress=false"]


def train_args(root, *extra):
  return [sys.executable, "-m", "launch.train", f"--root_dir={root}", *SMALL, *extra]


def run(args, timeout=600):
  return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def checkpoint_samples(root):
  """Sample counts of the checkpoints written so far, from the greedy exports made with them."""
  base = os.path.join(root, "export", "greedy_policy")
  if not os.path.isdir(base):
    return []
  return sorted(int(v) for v in os.listdir(base) if v.isdigit())


# Slow (a minute or more: it trains until two checkpoints exist). A run stopped by SIGTERM or Ctrl-C
# resumes to the exact sample count in the suite (tests/train/test_faults_inputs.py).
@pytest.mark.slow
def test_sigkill_mid_run_resumes_with_the_sample_count_intact(tmp_path):
  root = str(tmp_path / "run")
  proc = subprocess.Popen(train_args(root, "--num_samples=10000000", "--checkpoint_every=2000"),
                          cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  try:
    deadline = time.time() + 300
    while len(checkpoint_samples(root)) < 2 and time.time() < deadline:
      time.sleep(0.5)
    assert len(checkpoint_samples(root)) >= 2, "no checkpoints were written"
  finally:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
  with open(os.path.join(root, "checkpoints", "checkpoint")) as f:
    newest = f.read().split('"')[1]  # model_checkpoint_path: "ckpt-N"
  # The sample count saved in the newest checkpoint, read back with TF.
  import tensorflow as tf
  reader = tf.train.load_checkpoint(os.path.join(root, "checkpoints", newest))
  saved = int(reader.get_tensor("samples/.ATTRIBUTES/VARIABLE_VALUE"))
  assert saved > 0 and saved % 64 == 0
  target = saved + 640
  p = run(train_args(root, f"--num_samples={target}", "--checkpoint_every=2000"))
  assert p.returncode == 0, p.stderr[-3000:]
  assert f"at {saved:,} samples" in p.stdout + p.stderr
  with open(os.path.join(root, "metrics.jsonl")) as f:
    samples = [json.loads(line)["samples"] for line in f]
  assert samples == sorted(set(samples)), "metric lines duplicated or out of order after resume"
  assert samples[-1] == target
  assert checkpoint_samples(root)[-1] == target


# ~40 s on a 2-vCPU AMD EPYC (two launcher processes); the library's contradiction errors are
# test_train_lib's, the launcher's one-line path test_bad_input_is_one_clear_line's.
@pytest.mark.slow
def test_contradicting_checkpoint_is_one_clear_line(tmp_path):
  root = str(tmp_path / "run")
  assert run(train_args(root, "--num_samples=64", "--eval_episodes=4")).returncode == 0
  p = run(train_args(root, "--num_samples=128", "--num_hunters=3"))
  assert p.returncode != 0
  assert "train: num_hunters=3 contradicts the run in" in p.stderr
  assert "Traceback" not in p.stderr


def test_bad_input_is_one_clear_line(tmp_path):
  cases = [
      (["--model=transformer"], "flag --model=transformer: value should be one of"),
      (["--learning_rate=-0.1"], "train: learning_rate must be > 0, got -0.1"),
      (["--flagfile=launch/does_not_exist.flags"], "Unable to open flagfile"),
      (["--game=stag", "--num_prey=3"], "train: num_prey must be even for Stag-Hunters"),
  ]
  for args, words in cases:
    p = run([sys.executable, "-m", "launch.train", f"--root_dir={tmp_path / 'bad'}", *args])
    assert p.returncode != 0, args
    assert words in p.stderr, (args, p.stderr[-2000:])
    assert "Traceback" not in p.stderr, args
