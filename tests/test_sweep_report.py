"""The sweep report on hand-built sweeps: best-5 ranking, means and spreads, diverged and pending
trials, curves, the length distribution, the KL ablation's statistics."""

import json
import os

import numpy as np
import pytest

from mace_tf.analysis import sweep_report
from mace_tf.analysis import sweeps as report

GAME = {"kind": "stag", "num_hunters": 10, "num_prey": 10, "hit_points": 2, "time_limit": 1000,
        "grid_size": 50, "moving_prey": False}
LEARNING = {"model": "mace", "ego_bin": 5, "frozen_clock": True, "normalize_advantages": True}


def write_trial(sweep, name, *, finals, per_episode=1.0, samples=1_000_000, diverged=None,
                seed=1, params=None):
  """A trial whose cumulative reward rises linearly to `finals` over `samples` (lines every 100k)."""
  root = sweep / "trials" / name
  root.mkdir(parents=True)
  (root / "trial.json").write_text(json.dumps({"model": name.split("_t")[0], "index": 0,
                                               "seed": seed, "params": params or {"gamma": 0.9}}))
  lines = []
  for s in range(100_000, samples + 1, 100_000):
    counts = [0] * 20
    counts[s // 100_000 % 20] = 2
    lines.append({"samples": s, "charts/cumulative_terminal_reward": finals * s / samples,
                  "charts/episode_terminal_reward": per_episode, "charts/episode_length": 50.0,
                  "charts/episode_length_counts": counts, "latent/sigma_mean": 0.5,
                  "losses/kl": 0.1})
  (root / "metrics.jsonl").write_text("".join(json.dumps(l) + "\n" for l in lines))
  if diverged is not None:
    (root / "diverged.json").write_text(json.dumps({"samples": diverged, "message": "x"}))


def make_sweep(tmp_path, agent=LEARNING, name="s", paired=None):
  sweep = tmp_path / name
  sweep.mkdir()
  setting = {"game": GAME, "agent": agent, "num_samples": 1_000_000, "models": ["mace", "shared"],
             "sweep_seed": 0}
  if paired is not None:  # sweeps before paired draws have no such key
    setting["paired_draws"] = paired
  (sweep / "sweep.json").write_text(json.dumps(setting))
  return sweep


def test_the_row_is_the_mean_of_the_best_five_finished_trials(tmp_path):
  sweep = make_sweep(tmp_path)
  for i, final in enumerate([100.0, 700.0, 300.0, 500.0, 200.0, 600.0]):
    write_trial(sweep, f"mace_t{i:03d}", finals=final, per_episode=final / 100)
  write_trial(sweep, "mace_t006", finals=400.0, per_episode=4.0, samples=300_000,
              diverged=300_000)  # earned 400
  write_trial(sweep, "mace_t007", finals=9000.0, samples=500_000)  # pending: left out
  write_trial(sweep, "shared_t000", finals=50.0)
  (table,) = report.build([str(sweep)], references_dir=str(tmp_path / "none"))
  assert table["setting"] == "stag10" and table["configuration"] == report.LEARNING
  row = table["rows"]["mace"]
  assert row["best"] == ["mace_t001", "mace_t005", "mace_t003", "mace_t006", "mace_t002"]
  assert row["trials"] == 8 and row["finished"] == 7 and row["diverged"] == 1
  at_1m = row["cumulative"]["1000000"]
  assert at_1m == {"mean": pytest.approx((700 + 600 + 500 + 400 + 300) / 5), "min": 300.0,
                   "max": 700.0, "n": 5}
  # At 500k the same five: half of each, and the diverged trial's 400 (all it earned).
  assert row["cumulative"]["500000"]["mean"] == pytest.approx((350 + 300 + 250 + 400 + 150) / 5)
  # Per episode: the last 30k samples, here the 1M line (the diverged one: its last line).
  assert row["episode_reward"]["mean"] == pytest.approx((7 + 6 + 5 + 4 + 3) / 5)
  assert table["rows"]["shared"]["cumulative"]["1000000"]["n"] == 1


def test_curves_and_length_distribution(tmp_path):
  sweep = make_sweep(tmp_path)
  write_trial(sweep, "mace_t000", finals=1000.0)
  write_trial(sweep, "mace_t001", finals=400.0, samples=400_000, diverged=400_000)
  (table,) = report.build([str(sweep)], references_dir=str(tmp_path))
  runs = {r.name: r for r in table["trials"]}
  grid = np.array([0.0, 50_000, 400_000, 1_000_000])
  np.testing.assert_allclose(
      report.curve(runs["mace_t000"], "charts/cumulative_terminal_reward", grid,
                   flat_after_end=True), [0, 50, 400, 1000])
  np.testing.assert_allclose(  # flat once it stopped
      report.curve(runs["mace_t001"], "charts/cumulative_terminal_reward", grid,
                   flat_after_end=True), [0, 50, 400, 400])
  per_episode = report.curve(runs["mace_t001"], "charts/episode_length", grid, flat_after_end=False)
  assert per_episode[2] == 50.0 and np.isnan(per_episode[3])
  counts = report.length_distribution([runs["mace_t000"]])
  # Lines at 100k ... 1M put 2 episodes in bins 1 ... 10.
  np.testing.assert_array_equal(counts, [0] + [2] * 10 + [0] * 9)


def test_names_of_settings_and_configurations():
  assert report.setting_name(GAME) == "stag10"
  assert report.setting_name({**GAME, "kind": "hare", "num_hunters": 20, "moving_prey": True,
                              "time_limit": 2000}) == "hare20_moving"
  assert report.setting_name({**GAME, "kind": "hare", "time_limit": 1000}) == "hare10_t1000"
  assert report.configuration_name(LEARNING) == report.LEARNING
  assert report.configuration_name({"ego_bin": 0, "frozen_clock": False,
                                    "normalize_advantages": False}) == report.PAPER_FAITHFUL


def test_write_report_tables_orderings_and_errors(tmp_path):
  sweep = make_sweep(tmp_path)
  for i, final in enumerate([3000.0, 5000.0]):
    write_trial(sweep, f"mace_t{i:03d}", finals=final, params={"learning_rate": 0.004})
  write_trial(sweep, "shared_t000", finals=4500.0)
  faithful = make_sweep(tmp_path, agent={"model": "mace", "ego_bin": 0}, name="p")
  write_trial(faithful, "mace_t000", finals=10.0)
  ablation = tmp_path / "kl" / "stag10"
  for variant, kl in (("mace", 0.2), ("mace_nokl", 0.0)):
    for seed in (0, 1):
      root = ablation / f"{variant}_s{seed}"
      root.mkdir(parents=True)
      (root / "metrics.jsonl").write_text(json.dumps(
          {"samples": 1000, "charts/cumulative_terminal_reward": 10.0 + seed, "losses/kl": kl,
           "latent/sigma_mean": 1.0 - kl, "latent/sigma_min": 0.5,
           "charts/episode_terminal_reward": 1.0, "charts/episode_length": 9.0,
           "charts/success_rate": 0.0}) + "\n")
  tune = sweep / "ray" / "tune"
  for i, (end, total) in enumerate(((1000.0, 100.0), (1500.0, 300.0))):  # spans 900 .. 1500
    (tune / f"t{i}").mkdir(parents=True)
    (tune / f"t{i}" / "result.json").write_text(json.dumps({"timestamp": end,
                                                            "time_total_s": total}) + "\n")
  presets = tmp_path / "presets"
  presets.mkdir()
  for name, final in (("stag10_mace_s0", 100.0), ("stag10_mace_s1", 300.0),
                      ("stag10_paper_mace_s0", 7.0), ("stag10_moving_mace_s0", 1e6)):
    (presets / f"{name}.jsonl").write_text(json.dumps({
        "samples": 1_000_000, "charts/cumulative_terminal_reward": final,
        "charts/episode_terminal_reward": 2.0, "charts/episode_length": 9.0,
        "charts/success_rate": 0.0}) + "\n")
  out = tmp_path / "out"
  sweep_report.write_report([str(sweep), str(faithful)], str(out), references_dir=str(tmp_path),
                      kl_ablation_dirs=[str(ablation)], command="cmd",
                      preset_metrics_dir=str(presets))
  text = (out / "report.md").read_text()
  assert "| stag10 | learning | mace_tf mace (best 2) | 2,000 [1,500, 2,500] | 4,000 [3,000, 5,000] |" in text
  assert "| stag10 | paper | paper mace (best 5) | 1,515 | 3,047 |" in text
  # The presets' runs of the setting and configuration only (not stag10_moving's, not the twin's).
  # (One metric line at 1M: it is also the first line at or past 500k.)
  assert ("| stag10 | learning | mace_tf mace, preset's values (2 seeds) | 200 [100, 300] | "
          "200 [100, 300] |") in text
  assert "| stag10 | paper-faithful | mace_tf mace, preset's values (1 seeds) | 7 | 7 |" in text
  assert ("- stag10 (learning): ours shared > mace; paper mace > cloned > shared; a different order "
          "of mace, shared") in text
  assert "- stag10 (paper-faithful): ours mace\n" in text  # one model: no order to compare
  assert "| stag10 | learning | mace | mace_t001 (seed 1) | 5,000 | learning_rate=0.004 |" in text
  assert "| mace_nokl | 2 | 10.5 [10, 11] | 1 [1, 1] | 0 [0, 0] | 1 [1, 1] |" in text
  for png in ("figure3_learning.png", "figure3_paper_faithful.png", "per_episode_learning.png",
              "figure4.png", "kl_ablation_stag10.png"):
    assert (out / png).stat().st_size > 1000, png
  summary = json.loads((out / "summary.json").read_text())
  assert summary["sweeps"][0]["compute"] == {"trials_timed": 2, "trial_seconds": 400.0,
                                             "span_seconds": 600.0}
  assert summary["kl_ablation"]["stag10"]["mace"]["kl"]["median"] == pytest.approx(0.2)
  assert [t["name"] for t in summary["sweeps"][0]["trials"]] == ["mace_t000", "mace_t001",
                                                                 "shared_t000"]
  with pytest.raises(ValueError, match="not a sweep directory"):
    report.build([str(tmp_path / "kl")], references_dir=str(tmp_path))


def test_an_archived_sweep_rebuilds_the_same_report(tmp_path):
  sweep = make_sweep(tmp_path, name="stag10")
  for i, final in enumerate([3000.0, 5000.0, 1000.0]):
    write_trial(sweep, f"mace_t{i:03d}", finals=final)
  write_trial(sweep, "shared_t000", finals=800.0, samples=300_000, diverged=300_000)
  (sweep / "trials" / "shared_t000" / "checkpoints").mkdir()  # not copied
  (sweep / "ray" / "tune" / "t0").mkdir(parents=True)
  (sweep / "ray" / "tune" / "t0" / "result.json").write_text(
      json.dumps({"timestamp": 50.0, "time_total_s": 20.0}) + "\n")
  archive = tmp_path / "results" / "data"
  (out_dir,) = report.archived_dirs([str(sweep)], str(archive))
  assert out_dir == str(archive / "stag10")
  (original,) = report.build([str(sweep)], references_dir=str(tmp_path))
  (copy,) = report.build([out_dir], references_dir=str(tmp_path))
  assert copy["rows"] == original["rows"] and copy["setting"] == "stag10"
  assert copy["compute"] == original["compute"] == {"trials_timed": 1, "trial_seconds": 20.0,
                                                    "span_seconds": 20.0}
  assert [r.diverged_at for r in copy["trials"]] == [None, None, None, 300_000]
  # Only the report's keys of each line, and no checkpoints.
  line = json.loads((archive / "stag10" / "trials" / "mace_t000" / "metrics.jsonl")
                    .read_text().splitlines()[0])
  assert set(line) == set(report.REPORT_KEYS) - {"eval/greedy_terminal_reward"}
  assert not (archive / "stag10" / "trials" / "shared_t000" / "checkpoints").exists()
  # Archiving the archive again leaves it as it is; two sweeps of one name are refused.
  assert report.archived_dirs([out_dir], str(archive)) == [out_dir]
  (tmp_path / "elsewhere").mkdir()
  other = make_sweep(tmp_path / "elsewhere", name="stag10")
  with pytest.raises(ValueError, match="two sweeps would be archived as"):
    report.archived_dirs([str(sweep), str(other)], str(archive))
  # write_report with an archive: built from the copies, which the report names.
  sweep_report.write_report([str(sweep)], str(tmp_path / "out"), references_dir=str(tmp_path),
                      archive_dir=str(archive))
  summary = json.loads((tmp_path / "out" / "summary.json").read_text())
  assert summary["sweeps"][0]["dir"] == out_dir
  assert f"--sweeps={out_dir}" in (tmp_path / "out" / "report.md").read_text()


def test_a_paired_sweep_is_labelled_beside_an_unpaired_one(tmp_path):
  plain, paired = make_sweep(tmp_path), make_sweep(tmp_path, name="p", paired=True)
  for sweep, final in ((plain, 100.0), (paired, 200.0)):
    write_trial(sweep, "mace_t000", finals=final)
  out = tmp_path / "out"
  tables = sweep_report.write_report([str(plain), str(paired)], str(out), references_dir=str(tmp_path))
  assert [(t["setting"], t["label"], t["paired_draws"]) for t in tables] == [
      ("stag10", "stag10", False), ("stag10", "stag10 (paired draws)", True)]
  text = (out / "report.md").read_text()
  assert "| stag10 | learning | mace_tf mace (best 1) | 50 | 100 |" in text
  assert "| stag10 (paired draws) | learning | mace_tf mace (best 1) | 100 | 200 |" in text
  assert "- learning (paired draws) mace: 1" in text
  assert tables[0]["paired"] == [] and "## Paired draws" in text

  # Paired differences: trial k against trial k, over the indices both finished.
  both = make_sweep(tmp_path, name="both", paired=True)
  for k, (m, s) in enumerate([(300.0, 100.0), (500.0, 200.0), (400.0, 400.0)]):
    write_trial(both, f"mace_t{k:03d}", finals=m)
    write_trial(both, f"shared_t{k:03d}", finals=s)
  write_trial(both, "mace_t003", finals=9000.0, samples=500_000)  # pending: no pair
  (table,) = report.build([str(both)], references_dir=str(tmp_path))
  (pair,) = table["paired"]
  assert pair["models"] == ["mace", "shared"] and pair["trials"] == ["000", "001", "002"]
  assert pair["wins"] == 2
  d = pair["difference"]  # differences 200, 300, 0: mean 166.7, sd 152.8, t(2) = 4.303
  assert d["mean"] == pytest.approx(500 / 3)
  assert d["high"] - d["mean"] == pytest.approx(4.303 * np.std([200, 300, 0], ddof=1) / np.sqrt(3))
  # The paper's rows still found by the setting's name.
  assert text.count("| paper mace (best 5) | 1,515 | 3,047 |") == 2


def test_an_archived_kl_ablation_gives_the_same_statistics(tmp_path):
  ablation = tmp_path / "kl" / "stag10"
  for variant, kl in (("mace", 0.2), ("mace_nokl", 0.0)):
    for seed in (0, 1):
      root = ablation / f"{variant}_s{seed}"
      root.mkdir(parents=True)
      lines = [{"samples": s, "charts/cumulative_terminal_reward": 10.0 * s + seed,
                "losses/kl": kl, "latent/sigma_mean": 1.0 - kl, "latent/sigma_min": 0.5,
                "charts/episode_terminal_reward": 1.0 + seed, "charts/episode_length": 9.0,
                "charts/success_rate": 0.5, "perf/samples_per_s": 9.0}
               for s in (1, 2)]
      (root / "metrics.jsonl").write_text("".join(json.dumps(l) + "\n" for l in lines))
  (ablation / "notes").mkdir()  # not a run: not copied
  archive = tmp_path / "data"
  dest = report.archive_kl_ablation(str(ablation), str(archive))
  assert dest == str(archive / "kl_ablation" / "stag10")
  assert sorted(os.listdir(dest)) == ["mace_nokl_s0", "mace_nokl_s1", "mace_s0", "mace_s1"]
  line = json.loads((archive / "kl_ablation" / "stag10" / "mace_s1" / "metrics.jsonl")
                    .read_text().splitlines()[-1])
  assert "perf/samples_per_s" not in line and line["charts/cumulative_terminal_reward"] == 21.0
  original, copy = report.kl_ablation(str(ablation)), report.kl_ablation(dest)
  for variant in ("mace", "mace_nokl"):
    for key in ("cumulative", "episode_reward", "kl", "sigma_mean", "sigma_min"):
      assert copy[variant][key] == original[variant][key], (variant, key)
  assert copy["mace"]["cumulative"]["values"] == [20.0, 21.0]
  assert report.archive_kl_ablation(dest, str(archive)) == dest  # the archive itself: kept
  with pytest.raises(ValueError, match="holds no runs"):
    report.archive_kl_ablation(str(tmp_path / "kl" / "none"), str(archive))
  # write_report with an archive reads the ablation from its copy.
  sweep = make_sweep(tmp_path)
  write_trial(sweep, "mace_t000", finals=10.0)
  sweep_report.write_report([str(sweep)], str(tmp_path / "out"), references_dir=str(tmp_path),
                      kl_ablation_dirs=[str(ablation)], archive_dir=str(tmp_path / "data2"))
  summary = json.loads((tmp_path / "out" / "summary.json").read_text())
  assert summary["kl_ablation"]["stag10"]["mace_nokl"]["kl"]["median"] == 0.0
  assert (tmp_path / "data2" / "kl_ablation" / "stag10" / "mace_s0" / "metrics.jsonl").exists()


def test_a_rerun_is_compared_trial_by_trial_with_the_earlier_report(tmp_path):
  earlier = make_sweep(tmp_path, name="earlier")
  now = make_sweep(tmp_path, name="now")
  # mace: 4 trials rerun with the same seed and draws; their order kept but for one swap.
  for i, (old, new) in enumerate(((100.0, 150.0), (200.0, 400.0), (300.0, 250.0), (400.0, 600.0))):
    write_trial(earlier, f"mace_t{i:03d}", finals=old, seed=i)
    write_trial(now, f"mace_t{i:03d}", finals=new, seed=i)
  # Not compared: another seed, other draws, a pending rerun, a trial only run now.
  write_trial(earlier, "mace_t004", finals=50.0, seed=4)
  write_trial(now, "mace_t004", finals=5.0, seed=99)
  write_trial(earlier, "mace_t005", finals=50.0, seed=5, params={"gamma": 0.9})
  write_trial(now, "mace_t005", finals=5.0, seed=5, params={"gamma": 0.95})
  write_trial(earlier, "mace_t006", finals=50.0, seed=6)
  write_trial(now, "mace_t006", finals=5.0, seed=6, samples=500_000)
  write_trial(now, "shared_t000", finals=5.0)
  sweep_report.write_report([str(earlier)], str(tmp_path / "old"), references_dir=str(tmp_path),
                      k=2)
  old_summary = str(tmp_path / "old" / "summary.json")
  # Under the earlier sweep's setting: the directory names differ, the setting does not.
  sweep_report.write_report([str(now)], str(tmp_path / "new"), references_dir=str(tmp_path),
                      rerun_of=old_summary)
  summary = json.loads((tmp_path / "new" / "summary.json").read_text())
  (row,) = summary["reruns"]["rows"]
  assert row["model"] == "mace" and [p[0] for p in row["pairs"]] == [
      "mace_t000", "mace_t001", "mace_t002", "mace_t003"]
  # Ranks earlier 1 2 3 4, now 1 3 2 4: rho = 1 - 6 * 2 / (4 * 15) = 0.8.
  assert row["spearman"] == pytest.approx(0.8)
  assert row["median_ratio"] == pytest.approx(np.median([1.5, 2.0, 250 / 300, 1.5]))
  assert row["best_k"] == 2 and row["best_earlier"] == pytest.approx(350.0)
  assert row["best_now"] == pytest.approx(500.0)
  text = (tmp_path / "new" / "report.md").read_text()
  assert "| stag10 | learning | mace | 4 | 0.80 | 1.50 | 350 | 500 |" in text
  with pytest.raises(ValueError, match="not a report's summary.json"):
    sweep_report.write_report([str(now)], str(tmp_path / "x"), references_dir=str(tmp_path),
                        rerun_of=str(tmp_path / "missing.json"))


def test_the_committed_sweep_report_rebuilds_unchanged_from_its_archived_data(tmp_path,
                                                                             monkeypatch):
  # results/sweeps/archived/ as committed, rebuilt from its data/ alone with its own command's
  # flags: every line is the same but the one that names the output directory.
  import re
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  archived = os.path.join(root, "results", "sweeps", "archived")
  with open(os.path.join(archived, "summary.json")) as f:
    command = json.load(f)["command"]
  flags = dict(re.findall(r"--(\w+)=(\S+)", command))
  data = os.path.join(archived, "data")
  sweeps = [os.path.join(data, os.path.basename(p)) for p in flags["sweeps"].split(",")]
  ablations = [os.path.join(data, "kl_ablation", os.path.basename(p))
               for p in flags["kl_ablation"].split(",")]
  monkeypatch.chdir(root)  # the report names its inputs relative to the repository
  sweep_report.write_report(
      [os.path.relpath(s, root) for s in sweeps], str(tmp_path), command=command,
      references_dir="results/paper_scale/references", kl_ablation_dirs=ablations,
      preset_metrics_dir="results/paper_scale/metrics",
      archive_dir="results/sweeps/archived/data", rerun_of=flags["rerun_of"])
  with open(os.path.join(archived, "report.md")) as f:
    committed = f.read().splitlines()
  rebuilt = (tmp_path / "report.md").read_text().splitlines()
  assert len(rebuilt) == len(committed)
  differ = [(a, b) for a, b in zip(committed, rebuilt) if a != b]
  assert len(differ) == 1 and differ[0][0].startswith("Data:")
  assert differ[0][1].replace(str(tmp_path), "results/sweeps/archived") == differ[0][0]
