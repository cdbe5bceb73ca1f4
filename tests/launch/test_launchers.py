"""The absl entry points, run as a user runs them (subprocesses)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.stderr_lines import our_lines

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


@pytest.mark.slow  # ~60 s: a worker process per model and round
def test_benchmark_train_measures_every_model_against_stock_ppo(tmp_path):
  out = tmp_path / "train.json"
  p = run("launch.benchmark", "--what=train", "--models=mace,tfa_ppo", "--num_hunters=2",
          "--num_prey=2", "--grid_size=20", "--time_limit=20", "--num_envs=2", "--rollout_length=4",
          "--warmup=1", "--repeats=2", "--processes=2", f"--output={out}")
  assert p.returncode == 0, p.stderr[-3000:]
  result = json.loads(out.read_text())
  for r in result["runs"].values():  # the median of two processes' medians is their mean
    assert len(r["process_medians"]) == 2
    assert abs(r["samples_per_s"] - sum(r["process_medians"]) / 2) <= 1
  # The stock pipeline runs with TF's default threads and with mace_tf's; the faster is the reference.
  assert set(result["runs"]) == {"mace", "tfa_ppo", "tfa_ppo_tf_default_threads"}
  assert result["runs"]["mace"]["threads"] == result["runs"]["tfa_ppo"]["threads"] == "1:2"
  assert result["runs"]["tfa_ppo_tf_default_threads"]["threads"] == "0:0"
  for r in result["runs"].values():
    assert r["samples_per_s"] > 0 and r["peak_rss_mib"] > 100 and len(r["samples_per_s_runs"]) == 4
  reference = max(result["runs"][k]["samples_per_s"]
                  for k in ("tfa_ppo", "tfa_ppo_tf_default_threads"))
  ratio = result["runs"]["mace"]["samples_per_s"] / reference
  assert abs(result["runs"]["mace"]["ratio_to_tfa_ppo"] - ratio) < 1e-9
  assert "mace / tfa_ppo =" in p.stdout


@pytest.mark.slow  # ~45 s: a worker process per setting
def test_benchmark_scaling_reports_each_n_and_g_and_the_fall(tmp_path):
  out = tmp_path / "scaling.json"
  p = run("launch.benchmark", "--what=scaling", "--scaling_hunters=2,3", "--scaling_grids=8",
          "--ego_bin=2",
          "--num_hunters=2", "--num_prey=2", "--time_limit=20", "--num_envs=2",
          "--rollout_length=2", "--warmup=1", "--repeats=2", "--processes=1", f"--output={out}")
  assert p.returncode == 0, p.stderr[-3000:]
  result = json.loads(out.read_text())
  by_n, by_g = result["rows"]["num_hunters"], result["rows"]["grid_size"]
  assert [r["num_hunters"] for r in by_n] == [2, 3] and [r["grid_size"] for r in by_g] == [8]
  assert [r["num_prey"] for r in by_n] == [2, 2]  # stag: M even, at least 2
  for r in by_n + by_g:
    assert r["samples_per_s"] > 0 and len(r["process_medians"]) == 1
  fall = by_n[0]["samples_per_s"] / by_n[1]["samples_per_s"]
  assert abs(result["fall_from_first_to_last_n"] - fall) < 1e-9
  assert f"falls {fall:.2f}x from N = 2 to N = 3" in p.stdout


SMALL_GAME = ["--game=stag", "--num_hunters=3", "--num_prey=4", "--hit_points=2", "--time_limit=9",
              "--grid_size=8"]


def test_evaluate_reports_interval_and_gif_and_refuses_another_game(exported, tmp_path):
  _, paths = exported
  p = run("launch.evaluate", f"--saved_model={os.path.dirname(paths['greedy_policy'])}",
          *SMALL_GAME, "--episodes=20", f"--output_dir={tmp_path}")
  assert p.returncode == 0, p.stderr[-3000:]
  summary = json.loads((tmp_path / "evaluation.json").read_text())
  low, high = summary["terminal_reward_ci95"]
  assert low <= summary["terminal_reward_mean"] <= high
  assert summary["episodes"] == 20 == sum(summary["episode_length"]["counts"].values())
  assert 1 <= summary["episode_length"]["min"] <= summary["episode_length"]["max"] <= 9
  with Image.open(tmp_path / "episode.gif") as im:
    assert im.n_frames >= 2
  p = run("launch.evaluate", f"--saved_model={paths['greedy_policy']}", "--game=stag",
          "--num_hunters=4", "--num_prey=4", "--grid_size=8", f"--output_dir={tmp_path}")
  assert p.returncode != 0 and "Traceback" not in p.stderr
  # One line of ours (TF 2.15 prints its cuDNN/cuFFT registration notices before any setting).
  lines = our_lines(p.stderr)
  assert len(lines) == 1 and lines[0].startswith("evaluate:") and "N = 3 hunters" in lines[0]
  p = run("launch.evaluate", f"--saved_model={tmp_path}/nothing", *SMALL_GAME)
  assert p.returncode != 0 and "evaluate: no SavedModel at" in p.stderr


def test_inspect_latent_mace_against_shared(exported, exported_shared, tmp_path):
  results = {}
  for name, (_, paths) in (("mace", exported), ("shared", exported_shared)):
    out = tmp_path / name
    p = run("launch.inspect_latent", f"--saved_model={paths['policy']}", *SMALL_GAME,
            "--episodes=30", "--num_states=10", "--num_draws=64", f"--output_dir={out}")
    assert p.returncode == 0, p.stderr[-3000:]
    assert "I(a_i; eps | s)" in p.stdout and "t-test map" in p.stdout
    results[name] = json.loads((out / "inspect_latent.json").read_text())
    for png in ("significance.png", "snapshots.png"):
      with Image.open(out / png) as im:
        assert im.size[0] > 100
  # Shared's actions do not depend on eps and its heads are independent: both terms are zero.
  assert max(results["shared"]["action_noise_information"]) < 1e-9
  assert np.max(results["shared"]["action_coupling_information"]) < 1e-9
  # MACE's sampled lambda moves its action probabilities.
  assert min(results["mace"]["action_noise_information"]) > 1e-6
  assert np.asarray(results["mace"]["min_p"]).shape == (4, 3)
  p = run("launch.inspect_latent", f"--saved_model={exported[1]['greedy_policy']}", *SMALL_GAME)
  assert p.returncode != 0 and "no 'latent' signature" in p.stderr


def test_evaluating_a_sampling_policy_repeats_with_its_seed(exported, tmp_path):
  _, paths = exported
  summaries = []
  for run_dir in ("a", "b"):
    p = run("launch.evaluate", f"--saved_model={paths['policy']}", *SMALL_GAME, "--episodes=16",
            "--seed=4", "--gif=false", f"--output_dir={tmp_path / run_dir}")
    assert p.returncode == 0, p.stderr[-3000:]
    summaries.append(json.loads((tmp_path / run_dir / "evaluation.json").read_text()))
  for key in ("terminal_reward_mean", "success_rate", "episode_length"):
    assert summaries[0][key] == summaries[1][key]


def test_evaluate_plays_a_reference_policy_and_its_budget_run(tmp_path):
  p = run("launch.evaluate", "--policy=nearest", "--game=hare", "--num_hunters=1", "--num_prey=1",
          "--grid_size=3", "--time_limit=4", "--episodes=10", "--budget_samples=400",
          "--budget_games=4", "--nogif", f"--output_dir={tmp_path}")
  assert p.returncode == 0, p.stderr[-3000:]
  result = json.loads((tmp_path / "evaluation.json").read_text())
  assert result["saved_model"] == "reference:nearest" and result["success_rate"] == 1.0
  # Every 1-step episode is followed by the restart step: 200 episodes in 400 samples, 1 each.
  assert result["budget"]["cumulative"] == 200.0 and result["budget"]["episodes"] == 200
  assert "total terminal reward within 200 / 400 samples: 100.0 / 200.0" in p.stdout
  p = run("launch.evaluate", "--policy=nearest", "--saved_model=x", "--game=hare")
  assert p.returncode != 0 and "Exactly one of (saved_model, policy)" in p.stderr


def test_diagnose_credit_writes_the_gaps(tmp_path):
  out = tmp_path / "credit.json"
  p = run("launch.diagnose", "--what=credit", "--game=hare", "--num_hunters=1", "--num_prey=1",
          "--grid_size=3", "--time_limit=5", "--episodes=10", f"--output={out}")
  assert p.returncode == 0, p.stderr[-3000:]
  rows = json.loads(out.read_text())["rows"]
  assert rows["nearest"]["gap_mean"] == 0.0 and rows["nearest"]["captures"] == 10
  assert "nearest: 10 captures" in p.stdout


def test_diagnose_stall_plays_an_export_and_needs_one(exported, tmp_path):
  out = tmp_path / "stall.json"
  p = run("launch.diagnose", "--what=stall", f"--saved_model={exported[1]['greedy_policy']}",
          *SMALL_GAME, "--episodes=12", "--stall_after=3", f"--output={out}")
  assert p.returncode == 0, p.stderr[-3000:]
  row = json.loads(out.read_text())["rows"]["policy"]
  # Every episode running at step 3 is counted once in each histogram at that step.
  running = row["running_at_after"]
  assert sum(row["active_hunters"]) == sum(row["live_stags"]) == running <= 12
  assert row["timeouts"] <= running and len(row["action_share"]) == 5
  assert "of 12 episodes still running at step 3" in p.stdout
  p = run("launch.diagnose", "--what=stall", *SMALL_GAME)
  assert p.returncode != 0 and "diagnose: --what=stall needs --saved_model" in p.stderr
  p = run("launch.diagnose", "--what=stall", f"--saved_model={exported[1]['greedy_policy']}",
          *SMALL_GAME, "--stall_after=9", f"--output={out}")
  assert p.returncode != 0 and "diagnose: after must be in (0, 9)" in p.stderr


def _fake_run(path, model, seed, cumulative_per_line, length):
  path.mkdir(parents=True)
  (path / "run_config.json").write_text(json.dumps({"agent": {"model": model},
                                                     "train": {"seed": seed}}))
  lines = []
  for k, c in enumerate(cumulative_per_line, start=1):
    lines.append({"samples": 250_000 * k, "charts/cumulative_terminal_reward": c,
                  "charts/episode_terminal_reward": c / 1000, "charts/episode_length": length,
                  "charts/success_rate": 0.0})
  lines[-1]["eval/greedy_terminal_reward"] = 7.0
  lines[-1]["eval/greedy_success_rate"] = 0.0
  (path / "metrics.jsonl").write_text("\n".join(json.dumps(l) for l in lines) + "\n")


def test_paper_scale_report_takes_medians_over_seeds_beside_the_paper_and_references(tmp_path):
  runs, out = tmp_path / "runs", tmp_path / "out"
  for seed, scale in ((0, 1), (1, 3), (2, 2)):
    _fake_run(runs / "stag10" / f"mace_s{seed}", "mace", seed,
              [100 * scale, 1000 * scale, 2000 * scale, 4000 * scale], 200)
  _fake_run(runs / "stag10" / "shared_s0", "shared", 0, [10, 20, 30, 40], 900)
  _fake_run(runs / "stag10_paper" / "mace_s0", "mace", 0, [5, 15, 25, 35], 990)
  (out / "references").mkdir(parents=True)
  (out / "references" / "stag10_nearest.json").write_text(json.dumps({"budget": {
      "cumulative_at": {"500000": 76832.1, "1000000": 153683.8}, "episode_reward": 4.8,
      "episode_length": 30.2, "success_rate": 0.0}}))
  p = run("launch.paper_scale", f"--runs_dir={runs}", f"--output_dir={out}")
  assert p.returncode == 0, p.stderr[-3000:]
  report = (out / "report.md").read_text()
  # MACE at 500k (the second line): 1,000 / 3,000 / 2,000 -> median 2,000; at 1M 8,000 [4,000, 12,000].
  assert "| stag10 | mace_tf mace | 2,000 [1,000, 3,000] | 8,000 [4,000, 12,000] |" in report
  assert "| stag10 | paper mace | 1,515 | 3,047 |" in report
  assert "| stag10 | reference nearest | 76,832 | 153,684 | 4.8 | 30.2 |" in report
  assert "| stag10 | mace_tf shared | 20 | 40 |" in report
  assert "| stag10 | mace_tf mace, paper-faithful | 15 | 35 |" in report  # the twin's runs
  assert (out / "stag10.png").exists() and (out / "metrics" / "stag10_mace_s1.jsonl").exists()
  assert (out / "metrics" / "stag10_paper_mace_s0.jsonl").exists()
  summary = json.loads((out / "summary.json").read_text())
  assert summary["settings"][0]["models"]["mace"]["stats"]["cumulative_1000000"]["median"] == 8000
