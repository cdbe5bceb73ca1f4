"""launch.report's library: a runs table that reads Table 1's cumulative reward at the budgets."""

import json

import pytest

from mace_tf.analysis import run_report


def _run(path, model, cumulative, kl_dims=(0.5, 0.25)):
  path.mkdir(parents=True)
  (path / "run_config.json").write_text(json.dumps(
      {"game": {"kind": "stag"}, "agent": {"model": model}, "train": {"seed": 4}}))
  (path / "commands.txt").write_text("python -m launch.train --seed=4\n")
  lines = []
  for k, c in enumerate(cumulative, start=1):
    line = {"samples": 250_000 * k, "charts/episodes": 10 * k, "charts/cumulative_terminal_reward": c,
            "charts/episode_terminal_reward": float(k), "charts/success_rate": 0.1 * k,
            "charts/episode_length": 100.0 / k, "losses/kl": 0.1, "latent/sigma_mean": 0.9,
            "latent/sigma_min": 0.5, "perf/samples_per_s": 1234.0}
    line.update({f"latent/kl_dim_{i}": v for i, v in enumerate(kl_dims)})
    lines.append(line)
  lines[-1].update({"eval/greedy_terminal_reward": 6.5, "eval/greedy_success_rate": 0.25})
  (path / "metrics.jsonl").write_text("\n".join(json.dumps(l) for l in lines) + "\n")


def test_report_reads_the_budgets_the_final_window_and_the_greedy_evaluation(tmp_path):
  _run(tmp_path / "runs" / "mace", "mace", [100, 300, 600, 1000])
  _run(tmp_path / "runs" / "shared", "shared", [10, 20, 30, 40])
  out = tmp_path / "out"
  summaries = run_report.write_report(
      [str(tmp_path / "runs" / "mace"), str(tmp_path / "runs" / "shared")], str(out), title="t",
      at_samples=[500_000, 1_000_000], window=2, command="cmd")
  mace = summaries[0]
  assert mace["cumulative_terminal_reward"] == {"500000": 300, "1000000": 1000}
  assert mace["episode_terminal_reward_final"] == pytest.approx(3.5)  # lines 3 and 4
  assert mace["greedy_terminal_reward"] == 6.5 and mace["kl_per_dim_final"] == [0.5, 0.25]
  report = (out / "report.md").read_text()
  assert "| mace | mace | 4 | 1,000,000 | 3.5 | 0.35 | 6.5 | 0.25 | 300 | 1,000 |" in report
  assert "KL per dimension [0.5000, 0.2500]" in report and "python -m launch.train" in report
  assert (out / "curves.png").exists() and (out / "shared_metrics.jsonl").exists()
  assert json.loads((out / "summary.json").read_text())["command"] == "cmd"


def test_an_unreadable_run_is_named(tmp_path):
  with pytest.raises(ValueError, match="cannot read run .*nowhere"):
    run_report.write_report([str(tmp_path / "nowhere")], str(tmp_path / "out"), title="t",
                            at_samples=[1], window=1, command="c")


def test_kl_per_dim_is_in_dimension_order_past_ten_dimensions():
  from mace_tf.analysis import paper_scale
  line = {"samples": 10, **{f"latent/kl_dim_{k}": float(k) for k in (10, 2, 0, 11, 1)}}
  assert paper_scale.kl_per_dim(line) == [0.0, 1.0, 2.0, 10.0, 11.0]  # not "10" before "2"
