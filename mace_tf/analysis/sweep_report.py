"""The sweep report: `write_report` composes the sweeps' tables (`sweeps`) and their figures
(`figures`) into report.md, summary.json and PNGs."""

import json
import os
from typing import Dict, List, Optional, Sequence

from mace_tf.analysis import figures
from mace_tf.analysis.paper import PAPER_STAG10_PER_EPISODE
from mace_tf.analysis.sweeps import (
    LEARNING, MODEL_ORDER, PAPER_FAITHFUL, archive_kl_ablation, archived_dirs, build, cell, fmt,
    hyperparameters_markdown, kl_ablation, kl_markdown, orderings_markdown, paired_markdown,
    rerun_comparison, rerun_markdown, table1_markdown)


def write_report(sweep_dirs: Sequence[str], out_dir: str, *, references_dir: str,
                 kl_ablation_dirs: Sequence[str] = (), command: str = "",
                 preset_metrics_dir: Optional[str] = None, archive_dir: Optional[str] = None,
                 at_samples: Sequence[int] = (500_000, 1_000_000), k: int = 5,
                 rerun_of: Optional[str] = None) -> List[Dict]:
  """Writes report.md, summary.json and the figures of the sweeps (and of the KL ablations' runs,
  one directory each, named by its basename) into `out_dir`; returns the tables. ValueError (one
  line) for a directory that is not a sweep or holds no ablation runs.

  `archive_dir`: each sweep not already in it is first copied there (`archive_sweep`, as
  `<archive_dir>/<basename>`), and the report is built from the copies, so that it can be rebuilt
  from them alone; so are the KL ablations' runs (`archive_kl_ablation`).
  `rerun_of`: an earlier report's summary.json; trials run again with the same seed and
  hyperparameters are compared with it (`rerun_comparison`)."""
  if archive_dir:
    sweep_dirs = archived_dirs(sweep_dirs, archive_dir)
    kl_ablation_dirs = [archive_kl_ablation(d, archive_dir) for d in kl_ablation_dirs]
  earlier = None
  if rerun_of:
    try:
      with open(rerun_of) as f:
        earlier = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
      raise ValueError(f"--rerun_of {rerun_of}: not a report's summary.json ({e})") from None
  tables = build(sweep_dirs, references_dir=references_dir, at_samples=at_samples, k=k,
                 preset_metrics_dir=preset_metrics_dir)
  ablations = {}
  for d in kl_ablation_dirs:
    ablations[os.path.basename(os.path.normpath(d))] = kl_ablation(d)
    if ablations[os.path.basename(os.path.normpath(d))] is None:
      raise ValueError(f"{d} holds no runs named <variant>_s<seed>")
  os.makedirs(out_dir, exist_ok=True)
  budget = max(at_samples)
  md = ["# Sweeps: the Table 1 analog", "",
        f"Command: `{command}`", "",
        f"Each mace_tf row is the mean [min, max] of the model's best {k} finished trials of a random "
        "search over Table 2's ranges, ranked by the cumulative total terminal reward at the sweep's "
        "budget; the same trials give every column. 'per episode' and 'length' are the sampling "
        "policy's over the last 30k samples of training, 'greedy' the final greedy evaluation. "
        "A diverged trial counts at what it had earned. 'preset's values' rows: the preset's own "
        "hyperparameters (issue 12's hand screen) over seeds, mean [min, max], outside the search. "
        "Paper rows: Table 1 (best 5 of its search); reference rows: the policy played for the "
        "same budget.", ""]
  if archive_dir:
    md += [f"Data: `{archive_dir}/` holds what this report reads of each sweep (`archive_sweep`); "
           f"rebuild it with `python -m launch.report --sweeps={','.join(sweep_dirs)} "
           f"--output_dir={out_dir}` and the same other flags.", ""]
  md += table1_markdown(tables, at_samples, k)
  stag10 = [t for t in tables if t["setting"] == "stag10"]
  if stag10:
    md += ["", "## Per-episode reward at 1M samples, stag10 frozen", "",
           "Paper (section 4): " + ", ".join(
               f"{v} {k.capitalize() if k != 'mace' else 'MACE'}"
               for k, v in PAPER_STAG10_PER_EPISODE.items()) + ".", ""]
    for t in stag10:
      for model in sorted(t["rows"], key=MODEL_ORDER.index):
        paired = " (paired draws)" if t["paired_draws"] else ""
        md.append(f"- {t['configuration']}{paired} {model}: "
                  f"{cell(t['rows'][model]['episode_reward'])} "
                  f"(sampling policy, best {len(t['rows'][model]['best'])}); greedy "
                  f"{cell(t['rows'][model]['greedy_reward'])}")
  md += ["", f"## Model orderings at {budget:,} samples (mean of the best {k})", ""]
  md += orderings_markdown(tables, budget)
  if any(t["paired"] for t in tables):
    md += ["", "## Paired draws: model against model on the same hyperparameters", "",
           "In a paired-draw sweep trial k of every model has the same Table 2 draws and seed; "
           "a - b is the difference of their cumulative terminal reward at the budget, over all "
           "trial indices where both finished (not only the best 5).", ""]
    md += paired_markdown(tables)
  reruns = rerun_comparison(tables, earlier, budget) if earlier else []
  if earlier:
    md += ["", f"## Reruns: the same trials run again (against `{rerun_of}`)", "",
           "Trials that the earlier report also ran, with the same seed and the same draws: their "
           f"cumulative terminal reward at {budget:,} samples, earlier against now. The rank "
           "correlation (Spearman) says how far a rerun keeps the trials' order; the best-k means "
           "are over these trials only.", ""]
    md += rerun_markdown(reruns) if reruns else ["No trial of these sweeps is in the earlier report."]
  md += ["", "## Compute (Ray Tune's records of the trials that ran in a sweep's invocations)", "",
         "| sweep | trials | finished | trials timed | summed trial hours | span hours |",
         "| --- | --- | --- | --- | --- | --- |"]
  for t in tables:
    c = t["compute"] or {}
    finished = sum(r.finished(t["num_samples"]) for r in t["trials"])
    md.append(f"| {t['dir']} | {len(t['trials'])} | {finished} | {c.get('trials_timed', '-')} | "
              f"{fmt(c['trial_seconds'] / 3600) if c else '-'} | "
              f"{fmt(c['span_seconds'] / 3600) if c else '-'} |")
  md += ["", "## Hyperparameters of the best trial of each model", ""]
  md += hyperparameters_markdown(tables)
  for name, ablation in ablations.items():
    md += ["", f"## KL ablation, {name} (section 4, 'Using the ELBO')", "",
           f"MACE on the {name} preset with its kl_coef (mace) and with kl_coef = 0 (mace_nokl): "
           f"median [min, max] over seeds at the end of training. Figure: kl_ablation_{name}.png.",
           ""]
    md += kl_markdown(ablation)
  md += ["", "## Figures", ""]
  for configuration in (LEARNING, PAPER_FAITHFUL):
    group = [t for t in tables if t["configuration"] == configuration]
    if not group:
      continue
    slug = configuration.replace("-", "_")
    figures.learning_curves(os.path.join(out_dir, f"figure3_{slug}.png"), group,
                            f"Cumulative terminal reward,\nbest {k} per model ({configuration})")
    figures.per_episode_curves(os.path.join(out_dir, f"per_episode_{slug}.png"), group,
                               f"Per episode, best {k}\nper model ({configuration})")
    md += [f"- `figure3_{slug}.png`: figure 3 (and 7 for Hare-Hunters at T = 1000, if swept), "
           f"{configuration}: cumulative terminal reward, mean and min-max band of the best {k}.",
           f"- `per_episode_{slug}.png`: per-episode terminal reward and episode length, the same bands."]
  figures.length_distributions(os.path.join(out_dir, "figure4.png"), tables)
  md.append(f"- `figure4.png`: figure 4, the training episode lengths of each model's best {k}, "
            "pooled over training, as shares per T/20 bin (log scale).")
  for name, ablation in ablations.items():
    figures.kl_ablation(os.path.join(out_dir, f"kl_ablation_{name}.png"), ablation, name)
    md.append(f"- `kl_ablation_{name}.png`: sigma, KL and per-episode reward with and without the "
              "KL term.")
  with open(os.path.join(out_dir, "report.md"), "w") as f:
    f.write("\n".join(md) + "\n")
  summary = {"command": command, "best_k": k, "sweeps": [{
      "dir": t["dir"], "setting": t["setting"], "paired_draws": t["paired_draws"],
      "configuration": t["configuration"],
      "game": t["game"], "num_samples": t["num_samples"], "rows": t["rows"], "paper": t["paper"],
      "compute": t["compute"], "paired": t["paired"],
      "trials": [{"name": r.name, "model": r.model, "seed": r.seed, "params": r.params,
                  "samples": r.samples, "diverged_at": r.diverged_at,
                  "cumulative": {str(s): r.cumulative_at(s) for s in at_samples}}
                 for r in t["trials"]]} for t in tables]}
  if earlier:
    summary["reruns"] = {"rerun_of": rerun_of, "rows": reruns}
  if ablations:
    summary["kl_ablation"] = {name: {v: {k2: x for k2, x in a.items() if k2 != "lines"}
                                     for v, a in ablation.items()}
                              for name, ablation in ablations.items()}
  with open(os.path.join(out_dir, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
  return tables
