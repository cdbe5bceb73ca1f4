"""The absl entry points, run as a user runs them (subprocesses)."""

import json
import os
import subprocess
import sys

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*args):
  return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                        timeout=300)


def test_render_writes_a_gif_and_prints_statistics(tmp_path):
  out = tmp_path / "ep.gif"
  p = run("launch.render", "--game=hare", "--num_hunters=2", "--num_prey=2", "--grid_size=7",
          "--time_limit=30", "--max_frames=10", f"--output={out}")
  assert p.returncode == 0, p.stderr
  assert "random-policy episode: total_reward=" in p.stdout
  with Image.open(out) as im:
    assert 2 <= im.n_frames <= 11


def test_render_bad_game_is_one_clear_line(tmp_path):
  p = run("launch.render", "--game=stag", "--num_prey=5", f"--output={tmp_path / 'x.gif'}")
  assert p.returncode != 0
  assert "render: num_prey must be even for Stag-Hunters" in p.stderr
  assert "Traceback" not in p.stderr


def test_benchmark_env_writes_json(tmp_path):
  out = tmp_path / "b.json"
  p = run("launch.benchmark", "--what=env", "--batch_size=8", "--num_hunters=4", "--num_prey=4",
          "--grid_size=10", "--steps=50", "--repeats=2", f"--output={out}")
  assert p.returncode == 0, p.stderr
  result = json.loads(out.read_text())
  assert result["game_steps_per_s"] > 0 and len(result["game_steps_per_s_runs"]) == 2
  assert abs(result["hunter_steps_per_s"] - 4 * result["game_steps_per_s"]) <= 4
  assert "game steps/s" in p.stdout


def test_benchmark_train_measures_every_model_against_stock_ppo(tmp_path):
  out = tmp_path / "train.json"
  p = run("launch.benchmark", "--what=train", "--models=mace,tfa_ppo", "--num_hunters=2",
          "--num_prey=2", "--grid_size=20", "--time_limit=20", "--num_envs=2", "--rollout_length=4",
          "--warmup=1", "--repeats=2", f"--output={out}")
  assert p.returncode == 0, p.stderr[-3000:]
  result = json.loads(out.read_text())
  assert set(result["runs"]) == {"mace", "tfa_ppo"}
  for r in result["runs"].values():
    assert r["samples_per_s"] > 0 and r["peak_rss_mib"] > 100 and len(r["samples_per_s_runs"]) == 2
  ratio = result["runs"]["mace"]["samples_per_s"] / result["runs"]["tfa_ppo"]["samples_per_s"]
  assert abs(result["runs"]["mace"]["ratio_to_tfa_ppo"] - ratio) < 1e-9
  assert "mace / tfa_ppo =" in p.stdout
