"""launch.sweep on local Ray: a tiny sweep end to end, a rerun that repeats nothing, clear errors."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["--flagfile=launch/smoke.flags", "--models=mace,shared", "--trials=2",
        "--num_samples=768", "--checkpoint_every=256", "--log_every=256", "--eval_episodes=4"]  # B L = 256


def sweep(*args, timeout=300):
  return subprocess.run([sys.executable, "-m", "launch.sweep", *args], cwd=ROOT,
                        capture_output=True, text=True, timeout=timeout)


# Slow (about 2 minutes on 2 cores, and past its own time limit when the machine is busy): Ray Tune
# end to end. A trial's configs, resume and skip run in the suite (tests/test_sweep_trials.py).
@pytest.mark.slow
def test_a_tiny_sweep_runs_end_to_end_and_a_rerun_repeats_no_finished_trial(tmp_path):
  d = tmp_path / "sweep"
  # A relative --sweep_dir: Tune runs each trial in a directory of its own, not in this one.
  p = sweep(*TINY, f"--sweep_dir={os.path.relpath(d, ROOT)}")
  assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
  assert "sweep: 0 of 4 trials finished, 4 to run" in p.stdout
  assert "sweep: 4 of 4 done" in p.stdout and "best so far" in p.stdout
  names = sorted(os.listdir(d / "trials"))
  assert names == ["mace_t000", "mace_t001", "shared_t000", "shared_t001"]
  seeds, stamps = set(), {}
  for name in names:
    trial = json.loads((d / "trials" / name / "trial.json").read_text())
    seeds.add(trial["seed"])
    assert ("kl_coef" in trial["params"]) == name.startswith("mace")
    lines = [json.loads(l) for l in (d / "trials" / name / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["samples"] == 768
    run_config = json.loads((d / "trials" / name / "run_config.json").read_text())
    assert run_config["agent"]["learning_rate"] == trial["params"]["learning_rate"]
    assert run_config["agent"]["model"] == name.split("_")[0]
    stamps[name] = os.path.getmtime(d / "trials" / name / "metrics.jsonl")
  assert len(seeds) == 4
  # A sweep begun before the library gained a field (at its default) is still the same setting.
  saved = json.loads((d / "sweep.json").read_text())
  del saved["agent"]["entropy_bonus"], saved["agent"]["marginal_samples"]
  del saved["game"]["stags_heal"], saved["paired_draws"]
  (d / "sweep.json").write_text(json.dumps(saved))
  p = sweep(*TINY, f"--sweep_dir={d}")
  assert p.returncode == 0 and "sweep: 4 of 4 trials finished, 0 to run" in p.stdout
  assert {n: os.path.getmtime(d / "trials" / n / "metrics.jsonl") for n in names} == stamps
  # The same directory for another setting is refused.
  p = sweep(*TINY, f"--sweep_dir={d}", "--grid_size=9")
  assert p.returncode != 0 and "holds a sweep of another setting" in p.stderr
  p = sweep(*TINY, f"--sweep_dir={d}", "--paired_draws")
  assert p.returncode != 0 and "another setting (paired_draws differs)" in p.stderr
  # The report turns it into the table and the figures.
  out = tmp_path / "report"
  p = subprocess.run([sys.executable, "-m", "launch.report", f"--sweeps={d}", f"--output_dir={out}",
                      "--at_samples=512,768"], cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert p.returncode == 0, p.stderr[-3000:]
  text = (out / "report.md").read_text()
  summary = json.loads((out / "summary.json").read_text())
  (table,) = summary["sweeps"]
  assert table["compute"]["trials_timed"] == 4 and table["compute"]["trial_seconds"] > 0
  for model in ("mace", "shared"):
    finals = sorted((t["cumulative"]["768"] for t in table["trials"] if t["model"] == model),
                    reverse=True)
    row = table["rows"][model]
    assert row["finished"] == 2 and len(row["best"]) == 2
    assert row["cumulative"]["768"]["mean"] == sum(finals) / 2
    assert f"| hare2_t6 | paper-faithful | mace_tf {model} (best 2) |" in text
  for png in ("figure3_paper_faithful.png", "per_episode_paper_faithful.png", "figure4.png"):
    assert (out / png).stat().st_size > 1000


def test_bad_input_is_one_line_each(tmp_path):
  space = tmp_path / "space.json"
  space.write_text(json.dumps({"gamma": ["uniform", 0.99, 0.9]}))
  p = sweep(*TINY, f"--sweep_dir={tmp_path / 'a'}", f"--search_space={space}")
  assert p.returncode != 0
  assert p.stderr.strip().splitlines()[-1] == "sweep: search space: gamma: low 0.99 > high 0.9"
  p = sweep(*TINY, f"--sweep_dir={tmp_path / 'b'}", "--ray_address=127.0.0.1:1", timeout=120)
  assert p.returncode != 0
  assert p.stderr.strip().splitlines()[-1].startswith("sweep: cannot reach the Ray cluster at "
                                                      "127.0.0.1:1")
  assert "Traceback" not in p.stderr
