"""The hidden-stag report over seeds, on hand-built evaluations."""

import json

from mace_tf.analysis import dens_report


def write_run(root, game, name, rates, coupling=None, kl=None):
  run = root / game / name
  run.mkdir(parents=True)
  with open(run / "evaluation.json", "w") as f:
    json.dump({"worst_den_capture_rate": min(rates),
               "per_den": [{"den": k, "capture_rate": r} for k, r in enumerate(rates)]}, f)
  if coupling is not None:
    with open(run / "inspect_latent.json", "w") as f:
      json.dump({"action_coupling_information": [[0.0, coupling], [coupling, 0.0]],
                 "action_noise_information": [0.5, 0.7]}, f)
  if kl is not None:
    with open(run / "metrics.jsonl", "w") as f:
      f.write(json.dumps({"samples": 10, "losses/kl": kl, "charts/success_rate": 0.4}) + "\n")


def test_medians_ranges_and_latent_columns(tmp_path):
  for seed, (rates, coupling) in enumerate([([0.5, 0.4], 0.3), ([0.45, 0.47], 0.4),
                                            ([0.2, 0.6], 0.1)]):
    write_run(tmp_path, "dens2", f"mace_s{seed}", rates, coupling, kl=10.0 + seed)
  write_run(tmp_path, "dens2", "shared_s0", [0.25, 0.24])
  runs = dens_report.write(str(tmp_path), "t", "cmd")
  mace = runs["dens2"]["mace"]
  assert [mace[s]["worst_den"] for s in range(3)] == [0.4, 0.45, 0.2]
  assert mace[1]["coupling"] == 0.4  # the one pair's I(a_0; a_1 | s)
  assert mace[2]["kl"] == 12.0 and mace[0]["train_success"] == 0.4
  report = (tmp_path / "report.md").read_text()
  row = next(l for l in report.splitlines() if l.startswith("| mace"))
  assert "0.400 [0.200, 0.450]" in row  # median [min, max] of the worst dens
  assert "0.300 [0.100, 0.400]" in row  # the couplings
  assert "shared coin 0.500" in report
