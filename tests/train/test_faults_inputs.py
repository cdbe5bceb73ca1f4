"""Faults, second round (issue 21): a path, a torn line, a full disk, a signal, a damaged index or
state or export, another game, a failed start, bad inputs, --help. One test per class."""

import glob
import json
import os
import resource
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from mace_tf.deploy import saved_policy, serving
from mace_tf.envs import rules
from mace_tf.sweep import search_space
from mace_tf.train import checkpoints, metrics, train_lib
from tests.stderr_lines import our_lines
from tests.train import fault_helpers

GAME = fault_helpers.GAME
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCH_ARGS = ["--flagfile=launch/games/fig1.flags", "--num_envs=8", "--rollout_length=4",
               "--checkpoint_every=640", "--log_every=320", "--eval_episodes=4", "--noprogress"]


def train(root, num_samples, **kwargs):
  """The shared run, on the host loop (its game state is the `.npz` these tests damage)."""
  return fault_helpers.train(root, num_samples, **{"collect": "host", **kwargs})


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
  """A run trained once to 960 samples (checkpoints at 320, 640, 960; exports of each); each test
  works on its own copy (`run_copy`), so no test sees another's damage."""
  root = tmp_path_factory.mktemp("finished") / "run"
  train(root, 960)
  return root


@pytest.fixture
def run_copy(finished_run, tmp_path):
  import shutil
  root = tmp_path / "run"
  shutil.copytree(finished_run, root)
  return root


def _resumed_at(log):
  (line,) = [l for l in log if l.startswith("resumed from")]
  return int(line.rsplit(" at ", 1)[1].split()[0].replace(",", ""))


def _launch(*args, preexec_fn=None, timeout=300):
  return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                        env=dict(os.environ, PYTHONPATH=ROOT), preexec_fn=preexec_fn,
                        timeout=timeout)


def _ours(stderr):
  return "\n".join(our_lines(stderr))


def _one_line(result, program):
  err = _ours(result.stderr)
  assert "Traceback" not in result.stderr + result.stdout, result.stderr[-1500:]
  assert err.startswith(f"{program}: ") and "\n" not in err, err[-1500:]
  return err


def test_1_a_run_path_with_glob_characters_resumes_and_keeps_three_checkpoints(tmp_path):
  root = tmp_path / "run[1]*?"
  train(root, 960)  # checkpoints at 320, 640, 960
  assert len(fault_helpers.checkpoint_numbers(root)) == 3  # max_to_keep holds with the pattern characters
  log = []
  train(root, 1280, log=log)
  assert _resumed_at(log) == 960 and not [l for l in log if "does not restore" in l]
  assert all(str(tmp_path) in l for l in log if l.startswith("resumed"))  # the real path shown
  assert os.path.isdir(root / "export" / "greedy_policy" / "1280")
  assert len(fault_helpers.checkpoint_numbers(root)) == 3


def test_2_a_damaged_metrics_line_costs_only_itself(run_copy):
  root = run_copy  # lines at 160, 320, ..., 960; checkpoints at 320, 640, 960
  path = root / "metrics.jsonl"
  lines = path.read_text().splitlines()
  lines[1] = lines[1][: len(lines[1]) // 2]  # line 2 (320 samples) torn
  path.write_text("\n".join(lines) + "\n")
  log = []
  train(root, 1280, log=log)
  samples = [l["samples"] for l in metrics.read_metrics(str(root))]
  assert samples == [160, 480, 640, 800, 960, 1120, 1280]  # all but the damaged one
  assert any("dropped 1 damaged line" in l for l in log)
  final = metrics.read_metrics(str(root))[-1]["charts/cumulative_terminal_reward"]
  at_960 = [l for l in metrics.read_metrics(str(root)) if l["samples"] == 960][0]
  assert final >= at_960["charts/cumulative_terminal_reward"]


def _limit_file_size(limit):
  def apply():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
  return apply


@pytest.mark.slow  # ~40 s: two launcher processes (the soak also fills the disk)
def test_3_a_full_disk_is_one_line_leaves_nothing_half_written_and_resumes(tmp_path):
  root = tmp_path / "run"
  args = ["launch.train", *LAUNCH_ARGS, f"--root_dir={root}", "--num_samples=1280"]
  # No file may exceed 64 kB: the checkpoints' and exports' variable files do (a full disk).
  full = _launch(*args, preexec_fn=_limit_file_size(64 * 1024))
  assert full.returncode != 0
  err = _one_line(full, "train")
  assert "cannot" in err and "rerun the same command" in err
  assert not glob.glob(str(root / "export" / "*" / "*.tmp"))
  freed = _launch(*args)
  assert freed.returncode == 0, freed.stderr[-1500:]
  assert metrics.read_metrics(str(root))[-1]["samples"] == 1280


@pytest.mark.parametrize("what", ["lock_is_a_directory", "metrics_is_a_directory",
                                  "checkpoints_is_a_file"])
def test_3_other_os_errors_in_the_run_directory_are_one_line(tmp_path, what):
  root = tmp_path / "run"
  root.mkdir()
  name = {"lock_is_a_directory": ".lock", "metrics_is_a_directory": "metrics.jsonl",
          "checkpoints_is_a_file": "checkpoints"}[what]
  if what == "checkpoints_is_a_file":
    (root / name).write_text("")
  else:
    (root / name).mkdir()
  with pytest.raises(train_lib.RunDirectoryError) as e:
    train(root, 320)
  assert name in str(e.value) and "\n" not in str(e.value)


@pytest.mark.slow  # ~35 s each: two launcher processes (the soak also sends both signals)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_4_a_signal_stops_at_a_step_boundary_after_saving(tmp_path, sig):
  root = tmp_path / "run"
  args = ["launch.train", *LAUNCH_ARGS, f"--root_dir={root}", "--num_samples=200000"]
  p = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=ROOT))
  deadline = time.time() + 120
  while not os.path.exists(root / "metrics.jsonl") and time.time() < deadline:
    time.sleep(0.2)
  time.sleep(1.0)
  p.send_signal(sig)
  out, err = p.communicate(timeout=120)
  assert p.returncode == 130 and "Traceback" not in err + out, err[-1500:]
  (line,) = _ours(err).splitlines()
  assert line.startswith(f"train: stopped by {sig.name}: saved at ")
  saved = int(line.split("saved at ")[1].split()[0].replace(",", ""))
  assert os.path.isfile(root / "export" / "policy" / str(saved) / "saved_model.pb")
  assert os.path.isfile(root / "export" / "greedy_policy" / str(saved) / "saved_model.pb")
  resumed = _launch(*args[:-1], f"--num_samples={saved + 320}")
  assert resumed.returncode == 0 and f"at {saved:,} samples" in resumed.stdout


def test_4_an_export_a_stop_cut_short_is_redone_on_resume(run_copy):
  root = run_copy
  export_dir = root / "export" / "greedy_policy" / "960"
  import shutil
  shutil.rmtree(export_dir)  # the save was stopped between the checkpoint and its export
  log = []
  train(root, 960, log=log)
  assert _resumed_at(log) == 960 and (export_dir / "saved_model.pb").is_file()


@pytest.mark.parametrize("damage", [b"", b"\xff\xfe\x00garbage\x80"])
def test_5_a_damaged_checkpoint_index_is_rebuilt_from_the_files(run_copy, damage):
  root = run_copy
  (root / "checkpoints" / "checkpoint").write_bytes(damage)
  log = []
  train(root, 960, log=log)
  warning = [l for l in log if "checkpoint index" in l]
  assert len(warning) == 1 and str(root / "checkpoints" / "checkpoint") in warning[0]
  assert _resumed_at(log) == 960


def test_6_game_states_that_fail_validation_fall_back_to_the_older_checkpoint(run_copy):
  root = run_copy
  numbers = fault_helpers.checkpoint_numbers(root)
  for number, damage in zip(numbers[::-1], ("extra_key", "bad_rng")):  # the two newest
    path = root / "checkpoints" / f"ckpt-{number}.env.npz"
    with np.load(path) as f:
      arrays = dict(f)
    if damage == "extra_key":
      arrays["game.surprise"] = np.zeros(3)
    else:
      arrays["rng_json"] = np.asarray(json.dumps({"bit_generator": "PCG64", "state": "?"}))
    np.savez(str(path)[: -len(".npz")], **arrays)
  log = []
  train(root, 960, log=log)
  assert sum("does not restore" in l and "saved game state" in l for l in log) == 2, log
  assert _resumed_at(log) == 320


def test_6_a_game_state_off_the_grid_does_not_load():
  from mace_tf.envs import hunters
  env = hunters.make_game(GAME, batch_size=2, seed=0)
  env.reset()
  state = env.get_state()
  env.check_state(state)  # the state it made is one of its own
  state["game"].prey_pos[0, 0, 1] = GAME.grid_size
  with pytest.raises(ValueError, match="prey_pos lies outside the 7 x 7 grid"):
    env.check_state(state)


def test_7_an_export_refuses_another_game_even_of_the_same_shapes(finished_run):
  root = finished_run
  path = str(root / "export" / "greedy_policy")
  saved_policy.load_for_game(path, GAME)
  import dataclasses
  for other in (dataclasses.replace(GAME, time_limit=7), dataclasses.replace(GAME, moving_prey=True),
                rules.GameConfig(kind=rules.STAG, num_hunters=2, num_prey=2, hit_points=2,
                                 time_limit=6, grid_size=7)):
    with pytest.raises(saved_policy.SpecMismatchError, match="trained on another game") as e:
      saved_policy.load_for_game(path, other)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("damage", ["truncated_pb", "random_pb", "no_variables"])
def test_8_a_damaged_saved_model_is_one_line(run_copy, damage):
  version = run_copy / "export" / "greedy_policy" / "320"
  if damage == "truncated_pb":
    pb = version / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[:100])
  elif damage == "random_pb":
    (version / "saved_model.pb").write_bytes(np.random.default_rng(0).bytes(4000))
  else:
    for f in glob.glob(str(version / "variables" / "*")):
      os.remove(f)
  with pytest.raises(OSError) as e:
    saved_policy.load_for_game(str(version), GAME)
  assert "does not load as a SavedModel" in str(e.value) and "\n" not in str(e.value)


def test_9_a_start_that_fails_before_a_checkpoint_pins_nothing(tmp_path):
  root = tmp_path / "run"
  # marginal_samples needs more games than B = 8: the start fails after checking the settings.
  with pytest.raises(ValueError, match="marginal_samples"):
    train(root, 320, entropy_bonus="marginal", marginal_samples=20)
  assert not (root / "run_config.json").exists()
  train(root, 320, learning_rate=1e-3)  # the corrected command is not "a contradiction"
  assert json.loads((root / "run_config.json").read_text())["agent"]["learning_rate"] == 1e-3


@pytest.mark.parametrize("content", ["[1, 2]", "{not json"])
def test_10_a_damaged_run_config_is_one_line_naming_it(run_copy, content):
  root = run_copy
  (root / "run_config.json").write_text(content)
  with pytest.raises(checkpoints.CheckpointMismatchError) as e:
    train(root, 1280)
  assert "run_config.json" in str(e.value) and "\n" not in str(e.value)


def test_10_bad_inputs_of_the_library_are_one_line():
  for spec in ([["learning_rate", "log_uniform", 1e-4, 1e-2]], {"latent_dim": ["choice", "big"]}):
    with pytest.raises(ValueError, match="search space") as e:
      search_space.parse_space(spec)
    assert "\n" not in str(e.value)
  for answer in ([[0, 1]], {"outputs": [[0.6, 1.2]]}, {"outputs": [0, 1]}):
    with pytest.raises(serving.ServingError) as e:
      serving.action_from_response(answer)
    assert "\n" not in str(e.value)
  np.testing.assert_array_equal(serving.action_from_response({"outputs": [[0, 4]]}), [[0, 4]])


def test_10_bad_launcher_inputs_are_one_line(tmp_path):
  blocker = tmp_path / "a_file"
  blocker.write_text("")
  huge = _launch("launch.train", "--flagfile=launch/smoke.flags", "--grid_size=100000",
                 f"--root_dir={tmp_path / 'huge'}", "--noprogress")
  assert huge.returncode != 0 and "memory" in _one_line(huge, "train")
  evaluate = _launch("launch.evaluate", "--flagfile=launch/games/fig1.flags", "--policy=random",
                     "--episodes=2", f"--output_dir={blocker / 'out'}")
  assert evaluate.returncode != 0 and "output_dir" in _one_line(evaluate, "evaluate")
  for bad in ("--models=mace,nope", "--threads=two"):
    result = _launch("launch.benchmark", "--what=train", bad)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert bad.split("=")[0] in _ours(result.stderr).splitlines()[0]


def test_11_every_launchers_help_lists_its_own_flags_grouped_and_exits_0():
  for launcher, groups, must in [
      ("train", ("learner:", "network:", "game:", "run:"), ("--continuing_returns", "--root_dir")),
      ("evaluate", ("game:", "run:"), ("--grid_size", "--saved_model")),
      ("serve_client", ("game:", "run:"), ("--grid_size", "--server"))]:
    result = _launch(f"launch.{launcher}", "--help")
    assert result.returncode == 0, result.stderr[-500:]
    lines = result.stdout.splitlines()
    assert all(g in lines for g in groups), (launcher, groups)
    assert all(any(l.strip().startswith(m + ":") or l.strip().startswith(m + " ") for l in lines)
               for m in must), launcher
    assert not any("--tt_" in l or "--xla_" in l for l in lines)  # not TF's or absl's own
