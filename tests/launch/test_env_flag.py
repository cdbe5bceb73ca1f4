"""`launch.train --env=...` (issue 20): MACE on Level-Based Foraging and on the project's own
PettingZoo hunters, checkpointed, resumed to the exact sample count, exported and evaluated, as a
user runs them (subprocesses)."""

import json
import os

from tests.launch.test_launchers import run

LBF = "--env=gymnasium:lbforaging:Foraging-8x8-2p-2f-coop-v3"
SMALL = ["--num_envs=4", "--rollout_length=5", "--checkpoint_every=200", "--log_every=100",
         "--eval_episodes=4", "--noprogress"]


def read_lines(root):
  with open(os.path.join(root, "metrics.jsonl")) as f:
    return [json.loads(line) for line in f]


def test_level_based_foraging_trains_resumes_exports_and_evaluates(tmp_path):
  root = tmp_path / "lbf"
  first = run("launch.train", LBF, "--model=mace", "--num_samples=200", f"--root_dir={root}", *SMALL)
  assert first.returncode == 0, first.stderr[-2000:]
  again = run("launch.train", LBF, "--model=mace", "--num_samples=400", f"--root_dir={root}", *SMALL)
  assert again.returncode == 0, again.stderr[-2000:]
  assert "resumed from" in again.stdout + again.stderr and "at 200 samples" in again.stdout + again.stderr
  samples = [line["samples"] for line in read_lines(root)]
  assert samples == [100, 200, 300, 400]  # every line once, none lost or repeated
  assert sorted(os.listdir(root / "export" / "policy")) == ["200", "400"]
  out = tmp_path / "eval"
  ev = run("launch.evaluate", LBF, f"--saved_model={root / 'export' / 'policy'}", "--episodes=6",
           f"--output_dir={out}")
  assert ev.returncode == 0, ev.stderr[-2000:]
  with open(out / "evaluation.json") as f:
    evaluation = json.load(f)
  assert evaluation["episodes"] == 6
  assert evaluation["episode_length"]["max"] <= 50  # LBF's own time limit


def test_mace_trains_on_the_projects_pettingzoo_hunters(tmp_path):
  kwargs = json.dumps({"game": "hare", "num_hunters": 2, "num_prey": 1, "grid_size": 5,
                       "time_limit": 10})
  root = tmp_path / "pz"
  p = run("launch.train", "--env=pettingzoo:mace_tf.envs.pettingzoo", f"--env_kwargs={kwargs}",
          "--model=mace", "--num_samples=400", f"--root_dir={root}", *SMALL)
  assert p.returncode == 0, p.stderr[-2000:]
  last = read_lines(root)[-1]
  assert last["samples"] == 400 and last["charts/episodes"] >= 400 // 4 // 10 * 4 // 2
  with open(root / "run_config.json") as f:
    assert json.load(f)["game"] == {"env": "pettingzoo:mace_tf.envs.pettingzoo",
                                    "env_kwargs": kwargs, "kind": "external"}


def test_an_unsupported_env_is_one_line(tmp_path):
  p = run("launch.train", "--env=pettingzoo:tests.envs.zoo_fixtures",
          '--env_kwargs={"kind": "continuous"}', f"--root_dir={tmp_path / 'x'}", "--noprogress")
  assert p.returncode != 0
  assert "train: pettingzoo:tests.envs.zoo_fixtures: unsupported: continuous" in p.stderr
  assert "Traceback" not in p.stderr
