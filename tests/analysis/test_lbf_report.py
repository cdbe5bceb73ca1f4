"""The Level-Based Foraging report (issue 20) on hand-built curves: windowed returns, per-model
medians over seeds, random play beside them, archived from run directories."""

import json
import os

import pytest

from mace_tf.analysis import lbf_report


def line(samples, episode_return, episodes):
  return {"samples": samples, "charts/episode_terminal_reward": episode_return,
          "charts/episodes_in_window": episodes, "charts/episodes": samples // 50}


def test_windowed_returns_weigh_each_line_by_its_episodes():
  lines = [line(10_000, 0.0, 10), line(20_000, 1.0, 30), line(30_000, 0.5, 0)]
  assert lbf_report.windowed_returns(lines, window=2) == pytest.approx([0.75, 1.0])
  assert lbf_report.windowed_returns(lines[2:], window=1) == []  # no episode: no value
  summary = lbf_report.run_summary([line(10_000 * (k + 1), r, 10)
                                    for k, r in enumerate([0, 0, 0, 0, 1, 1, 1, 1, 1, 0])])
  # Windows of 5 lines: 0.2, 0.4, 0.6, 0.8, 1.0, 0.8: the best 1.0, the final 0.8.
  assert summary == {"final": pytest.approx(0.8), "best": pytest.approx(1.0), "samples": 100_000,
                     "greedy": None}


def test_report_medians_over_seeds_with_random_play(tmp_path):
  runs = tmp_path / "runs" / "8x8-2p-2f-coop"
  for model, finals in (("mace", [0.9, 0.5, 0.7]), ("shared", [0.1, 0.2, 0.3])):
    for seed, final in enumerate(finals):
      run = runs / f"{model}_s{seed}"
      run.mkdir(parents=True)
      with open(run / "metrics.jsonl", "w") as f:
        for k in range(6):
          f.write(json.dumps(dict(line(10_000 * (k + 1), final if k >= 1 else 0.0, 8),
                                  **({"eval/greedy_terminal_reward": final / 2} if k == 5 else {})))
                  + "\n")
      with open(run / "run_config.json", "w") as f:
        json.dump({"train": {"num_samples": 60_000}}, f)
  unfinished = runs / "cloned_s0"  # short of its budget: left out
  unfinished.mkdir()
  (unfinished / "metrics.jsonl").write_text(json.dumps(line(10_000, 1.0, 8)) + "\n")
  (unfinished / "run_config.json").write_text(json.dumps({"train": {"num_samples": 60_000}}))
  out = tmp_path / "lbf"
  (out / "random").mkdir(parents=True)
  (out / "random" / "8x8-2p-2f-coop.json").write_text(
      json.dumps({"terminal_reward_mean": 0.004, "episodes": 1000}))
  table = lbf_report.write(str(out), "LBF", "cmd", sources=[str(tmp_path / "runs")])
  t = table["8x8-2p-2f-coop"]
  assert set(t["models"]) == {"mace", "shared"}
  assert t["models"]["mace"]["final"]["median"] == pytest.approx(0.7)
  assert t["models"]["shared"]["final"]["min"] == pytest.approx(0.1)
  assert t["models"]["mace"]["best"]["max"] == pytest.approx(0.9)
  assert t["models"]["mace"]["greedy"]["median"] == pytest.approx(0.35)
  assert t["random"] == {"return": 0.004, "episodes": 1000}
  report = (out / "report.md").read_text()
  assert "| mace | 3 | 60,000 | 0.7 [0.5, 0.9] | 0.7 [0.5, 0.9] | 0.35 [0.25, 0.45] |" in report and "| random play |" in report
  assert os.path.exists(out / "curves.png")
  assert sorted(os.listdir(out / "curves"))[0] == "8x8-2p-2f-coop_mace_s0.jsonl"
  # It rebuilds from its own copies once the runs are gone.
  again = lbf_report.write(str(out), "LBF", "cmd")
  assert again == json.loads(json.dumps(table))
