"""The latent report: intervals over seeds, the Welch difference, the pairs' coupling, the verdicts."""

import json

import numpy as np
import pytest

from mace_tf.analysis import latent_report


def test_interval_and_difference_by_hand():
  s = latent_report.interval([1.0, 2.0, 3.0])
  half = 4.303 * 1.0 / np.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
  assert s["mean"] == 2.0 and s["low"] == pytest.approx(2 - half) and s["high"] == pytest.approx(2 + half)
  assert "low" not in latent_report.interval([5.0])
  d = latent_report.difference([10.0, 12.0, 14.0], [1.0, 2.0, 3.0])
  se = np.sqrt(4 / 3 + 1 / 3)
  df = (5 / 3) ** 2 / ((4 / 3) ** 2 / 2 + (1 / 3) ** 2 / 2)  # Welch-Satterthwaite: 2.94
  assert d["difference"] == 10.0 and d["df"] == pytest.approx(df)
  assert d["low"] == pytest.approx(10 - 4.303 * se)  # floor(df) = 2
  assert latent_report.difference([1.0], [1.0, 2.0]) is None


def test_mean_pair_coupling_reads_the_upper_triangle():
  m = [[9, 1, 2], [1, 9, 3], [2, 3, 9]]
  assert latent_report.mean_pair_coupling(m) == pytest.approx(2.0)


def test_collect_and_verdicts(tmp_path):
  runs, inspections = tmp_path / "runs", tmp_path / "insp"
  for variant, finals, length in (("mace_x", (300.0, 310.0, 320.0), 50.0),
                                  ("shared", (100.0, 110.0, 120.0), 50.0)):
    for seed, final in enumerate(finals):
      root = runs / f"{variant}_s{seed}"
      root.mkdir(parents=True)
      (root / "metrics.jsonl").write_text(json.dumps({
          "samples": 1_000_000, "charts/cumulative_terminal_reward": final,
          "charts/episode_terminal_reward": 7.0, "charts/episode_length": length + seed,
          "charts/success_rate": 0.0, "losses/kl": 0.5, "latent/kl_dim_0": 0.4,
          "latent/kl_dim_1": 0.1}) + "\n")
      if variant == "mace_x":
        (inspections / root.name).mkdir(parents=True)
        (inspections / root.name / "inspect_latent.json").write_text(json.dumps({
            "action_noise_information": [0.1, 0.3],
            "action_coupling_information": [[0, 0.02], [0.02, 0]],
            "significant": [[True, False], [False, False]], "significant_cells": 1,
            "alpha": 0.1}))
  short = runs / "shared_s7"  # still training: left out, and named
  short.mkdir()
  (short / "metrics.jsonl").write_text(json.dumps({
      "samples": 940_000, "charts/cumulative_terminal_reward": 1e9}) + "\n")
  unfinished = []
  variants = latent_report.collect([str(runs)], str(inspections), unfinished=unfinished)
  assert unfinished == [str(short)] and 7 not in variants["shared"]
  assert sorted(variants) == ["mace_x", "shared"] and sorted(variants["mace_x"]) == [0, 1, 2]
  assert variants["mace_x"][1]["noise_information"] == pytest.approx(0.2)
  assert variants["mace_x"][1]["coupling_information"] == pytest.approx(0.02)
  rows = latent_report.table(variants)
  text = "\n".join(latent_report.markdown(rows, "t", variants=variants, unfinished=unfinished))
  assert f"Left out, short of their num_samples: `{short}`" in text
  assert "- mace_x: cumulative: 200 [" in text and "(better); episode_length:" in text
  assert "episode_length: 0 [" in text and "(not distinguishable)" in text
  # Per run: each agent's information, the largest pair, KL per dimension, the t-test beside them.
  assert "| mace_x_s1 | 0.1 0.3 | 0.02 | 0.4 0.1 | 1 of 4 (alpha 0.1) |" in text
  assert "| shared_s0 | - | - | 0.4 0.1 | - |" in text


def test_a_variant_meets_shared_at_its_own_settings():
  names = ["shared", "shared_b02", "mace_marg_b02", "mace_info005", "mace_film_b02", "shared_kl_b02"]
  assert latent_report.reference_for("mace_marg_b02", names) == "shared_b02"
  assert latent_report.reference_for("mace_info005", names) == "shared"
  assert latent_report.reference_for("shared_b02", names) == "shared"  # never itself
  assert latent_report.reference_for("mace_x_kl_b02", names) == "shared_kl_b02"  # longest tail
  assert latent_report.reference_for("mace_b03", names) == "shared"  # no shared_b03 ran
  # In the verdicts: the matched baseline is named, and the difference is taken against it.
  run = lambda c: {"cumulative": c, "episode_length": 10.0}
  variants = {"shared": {0: run(100.0), 1: run(101.0)}, "shared_b02": {0: run(10.0), 1: run(11.0)},
              "mace_marg_b02": {0: run(20.0), 1: run(21.0)}}
  text = "\n".join(latent_report.markdown(latent_report.table(variants), "t", variants=variants))
  assert "- mace_marg_b02 (against shared_b02): cumulative: 10 [" in text
  assert "- shared_b02: cumulative: -90 [" in text
  # Without the preset's Shared, the variants that have their matched baseline are still compared.
  del variants["shared"]
  text = "\n".join(latent_report.markdown(latent_report.table(variants), "t", variants=variants))
  assert "- mace_marg_b02 (against shared_b02): cumulative: 10 [" in text
  assert "- shared_b02" not in text


def test_short_runs_are_judged_on_per_episode_reward():
  run = lambda r: {"cumulative": None, "episode_reward": r, "episode_length": 4.0}
  variants = {"shared": {0: run(1.0), 1: run(1.1), 2: run(0.9)},
              "mace_y": {0: run(1.8), 1: run(1.9), 2: run(1.7)}}
  text = "\n".join(latent_report.markdown(latent_report.table(variants), "t", variants=variants))
  line = next(l for l in text.splitlines() if l.startswith("- mace_y"))
  assert "cumulative" not in line and "episode_reward: 0.8 [" in line and line.endswith("(better)")
