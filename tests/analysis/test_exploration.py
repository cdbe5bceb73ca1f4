"""The exploration study's measure (samples to a threshold) on hand-built curves, and its report."""

import json
import os

import pytest

from mace_tf.analysis import exploration


def line(samples, episodes, success=0.0, cumulative=0.0):
  return {"samples": samples, "charts/episodes": episodes, "charts/success_rate": success,
          "charts/cumulative_terminal_reward": cumulative}


def test_stag10_crosses_at_the_first_line_at_the_papers_entry():
  lines = [line(10_000, 5, cumulative=100.0), line(20_000, 9, cumulative=30_472.0),
           line(30_000, 12, cumulative=30_473.0), line(40_000, 15, cumulative=40_000.0)]
  assert exploration.samples_to_threshold(lines, "stag10") == {"samples": 30_000, "reached": True}


def test_hare10_needs_32_episodes_pooled_before_a_rate_counts():
  # 4 episodes all won: a rate of 1.0 over too few episodes does not count.
  lines = [line(10_000, 4, success=1.0)]
  # 28 more at 0.25 (7 won): 11 / 32 = 0.34 < 0.5.
  lines.append(line(20_000, 32, success=0.25))
  # 32 more at 0.5: the window drops the oldest lines once the newer ones hold 32: 16 / 32.
  lines.append(line(30_000, 64, success=0.5))
  assert exploration.samples_to_threshold(lines, "hare10") == {"samples": 30_000, "reached": True}
  assert exploration.samples_to_threshold(lines[:2], "hare10") == {"samples": 20_000,
                                                                    "reached": False}


def test_report_from_curves_with_welch_interval(tmp_path):
  curves = tmp_path / "curves"
  curves.mkdir()
  for arm, crossings in (("shared", [100, 200, 300]), ("mace", [200, 300, 400])):
    for seed, k in enumerate(crossings):
      with open(curves / f"stag10_{arm}_s{seed}.jsonl", "w") as f:
        f.write(json.dumps(line(k * 1000, 10, cumulative=31_000.0)) + "\n")
  rows = exploration.write(str(tmp_path), "t", "cmd")["stag10"]
  shared, mace = rows
  assert shared["arm"] == "shared" and shared["mean"]["mean"] == 200_000
  # mean difference 100k; each arm's variance of the mean 1e10 / 3; Welch df = 4 (t = 2.776)
  d = mace["versus_baseline"]
  assert d["difference"] == 100_000
  assert d["high"] - d["difference"] == pytest.approx(2.776 * (2 * 1e10 / 3) ** 0.5, rel=1e-3)
  assert os.path.exists(tmp_path / "report.md")


def test_unfinished_runs_are_not_archived(tmp_path):
  run = tmp_path / "runs" / "stag10" / "mace_s0"
  run.mkdir(parents=True)
  with open(run / "metrics.jsonl", "w") as f:
    f.write(json.dumps(line(10_000, 3, cumulative=5.0)) + "\n")
  with open(run / "run_config.json", "w") as f:
    json.dump({"train": {"num_samples": 20_000}}, f)
  assert exploration.archive([str(tmp_path / "runs")], str(tmp_path / "curves")) == []
  with open(run / "metrics.jsonl", "a") as f:
    f.write(json.dumps(line(20_000, 6, cumulative=9.0)) + "\n")
  assert exploration.archive([str(tmp_path / "runs")], str(tmp_path / "curves")) == [
      "stag10_mace_s0.jsonl"]
