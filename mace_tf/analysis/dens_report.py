"""The hidden-stag game's report (issue 19): the team's value against a best-responding stag per model
over seeds, beside the latent's measures.

Reads, under one results directory, `<game>/<model>_s<seed>/evaluation.json` (`launch.evaluate` on
the run's final sampling export: `worst_den_capture_rate` and the per-den rates) and, where present,
`inspect_latent.json` beside it (`launch.inspect_latent`: I(a_i; a_j | s) at the start state, the
only state of a one-step game), and `metrics.jsonl` beside it (the run's metrics, for the KL, sigma
and the training success rate against the adversary at the end).
"""

import glob
import json
import os
import re
from typing import Dict, List

import numpy as np

from mace_tf.analysis import latent_report, tables
from mace_tf.train import metrics

_RUN = re.compile(r"^(?P<model>[a-z0-9_]+?)_s(?P<seed>\d+)$")
MODELS = ("mace", "shared", "cloned")
# What the theory gives each kind of team against the best response (rules.py): 1/K with a shared
# coin, at most K^-N without one.
THEORY = {"dens2": {"shared coin": 1 / 2, "independent, at best": 1 / 4},
          "dens3": {"shared coin": 1 / 3, "independent, at best": 1 / 27}}


def _last(lines: List[Dict], key: str):
  values = [line[key] for line in lines if key in line]
  return values[-1] if values else None


def collect(results_dir: str) -> Dict[str, Dict[str, Dict[int, Dict]]]:
  """{game: {model: {seed: numbers}}} of every evaluated run under `results_dir`."""
  out: Dict[str, Dict[str, Dict[int, Dict]]] = {}
  for path in sorted(glob.glob(os.path.join(results_dir, "*", "*", "evaluation.json"))):
    run_dir = os.path.dirname(path)
    game = os.path.basename(os.path.dirname(run_dir))
    match = _RUN.match(os.path.basename(run_dir))
    if not match:
      continue
    with open(path) as f:
      evaluation = json.load(f)
    numbers = {"worst_den": evaluation["worst_den_capture_rate"],
               "per_den": [r["capture_rate"] for r in evaluation["per_den"]]}
    inspection = os.path.join(run_dir, "inspect_latent.json")
    if os.path.exists(inspection):
      with open(inspection) as f:
        info = json.load(f)
      numbers["coupling"] = latent_report.mean_pair_coupling(info["action_coupling_information"])
      numbers["noise"] = float(np.mean(info["action_noise_information"]))
    if os.path.exists(os.path.join(run_dir, "metrics.jsonl")):
      lines = metrics.read_metrics(run_dir)
      numbers.update(train_success=_last(lines, "charts/success_rate"),
                     kl=_last(lines, "losses/kl"), sigma=_last(lines, "latent/sigma_mean"),
                     samples=_last(lines, "samples"))
    out.setdefault(game, {}).setdefault(match["model"], {})[int(match["seed"])] = numbers
  return out


def _median_range(values) -> str:
  v = [x for x in values if x is not None]
  if not v:
    return "-"
  return f"{np.median(v):.3f} [{min(v):.3f}, {max(v):.3f}]"


def _mean_interval(values) -> str:
  i = latent_report.interval(values)
  if i is None:
    return "-"
  if "low" not in i:
    return f"{i['mean']:.3f}"
  return f"{i['mean']:.3f} ({i['low']:.3f} .. {i['high']:.3f})"


def markdown(runs: Dict, title: str, command: str) -> List[str]:
  lines = [f"# {title}", "",
           "The team's value against a best-responding stag: `worst_den_capture_rate` of "
           "`launch.evaluate` on each run's final sampling export (1,000 episodes per den). "
           "Median [min, max] and mean (95% t-interval) over seeds; per seed in seed order.", ""]
  fmt = tables.fmt
  for game in sorted(runs):
    theory = ", ".join(f"{k} {v:.3f}" for k, v in THEORY.get(game, {}).items())
    lines += [f"## {game}" + (f" (theory: {theory})" if theory else ""), "",
              "| model | seeds | worst den: median [min, max] | mean (95% interval) | per seed "
              "| training success (adversary) | I(a_i; a_j \\| s) | KL | sigma |",
              "|---|---|---|---|---|---|---|---|---|"]
    for model in [m for m in MODELS if m in runs[game]] + sorted(set(runs[game]) - set(MODELS)):
      seeds = runs[game][model]
      col = lambda k: [seeds[s].get(k) for s in sorted(seeds)]
      per_seed = " / ".join(f"{x:.3f}" for x in col("worst_den"))
      coupling = col("coupling")
      lines.append(
          f"| {model} | {len(seeds)} | {_median_range(col('worst_den'))} "
          f"| {_mean_interval(col('worst_den'))} | {per_seed} "
          f"| {_median_range(col('train_success'))} "
          f"| {_median_range(coupling) if any(c is not None for c in coupling) else '-'} "
          f"| {fmt(np.median([x for x in col('kl') if x is not None])) if any(col('kl')) else '-'} "
          f"| {fmt(np.median([x for x in col('sigma') if x is not None])) if any(col('sigma')) else '-'} |")
    lines.append("")
  lines += [f"Command: `{command}`", ""]
  return lines


def write(results_dir: str, title: str, command: str) -> Dict:
  runs = collect(results_dir)
  if not runs:
    raise ValueError(f"no evaluated runs (<game>/<model>_s<seed>/evaluation.json) under {results_dir}")
  tables.write_report_files(results_dir, markdown(runs, title, command),
                            {"command": command, "runs": runs})
  return runs
