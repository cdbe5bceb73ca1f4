"""Does the latent carry coordination, and does it help? (what `launch.report --latent` writes).

Variants are groups of runs named `<variant>_s<seed>` (`mace_s0`, `mace_info01_s2`, `shared_s1`),
found under one or more runs roots (each run with `metrics.jsonl`), and their inspections under the
inspections directory (`<variant>_s<seed>/inspect_latent.json` of `launch.inspect_latent` on the
run's final sampling export). Per variant: the mean over seeds, with a 95% t-interval, of Table 1's
cumulative terminal reward at the budget, the final per-episode reward and episode length, the
agents' mean I(a_i; eps | s), the pairs' mean I(a_i; a_j | s), KL and sigma at the end. Per run:
I(a_i; eps | s) of each agent, the largest I(a_i; a_j | s), the KL of each latent dimension, and the
paper's t-test map (its significant cells), which is shown only beside the information terms since
it also fires on Shared's deterministic features.
"""

import glob
import json
import os
import re
from typing import Collection, Dict, List, Optional, Sequence

import numpy as np

from mace_tf.analysis import paper_scale, tables
from mace_tf.train import metrics

_NAME = re.compile(r"^(?P<variant>[a-z0-9_]+?)_s(?P<seed>\d+)$")
# Two-sided 95% Student-t quantiles by degrees of freedom (seeds - 1).
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def interval(values: Sequence[float]) -> Optional[Dict]:
  """Mean and its 95% t-interval over seeds (no interval for one seed)."""
  v = np.asarray([x for x in values if x is not None], np.float64)
  if v.size == 0:
    return None
  out = {"mean": float(v.mean()), "n": int(v.size), "values": [float(x) for x in v]}
  if v.size > 1:
    half = _T95.get(v.size - 1, 1.96) * v.std(ddof=1) / np.sqrt(v.size)
    out.update(low=float(v.mean() - half), high=float(v.mean() + half))
  return out


def difference(a: Sequence[float], b: Sequence[float]) -> Optional[Dict]:
  """mean(a) - mean(b) with its 95% Welch t-interval (None with fewer than 2 seeds on a side)."""
  a = np.asarray([x for x in a if x is not None], np.float64)
  b = np.asarray([x for x in b if x is not None], np.float64)
  if a.size < 2 or b.size < 2:
    return None
  va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
  se = np.sqrt(va + vb)
  df = (va + vb) ** 2 / max(va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1), 1e-300)
  t = _T95.get(max(1, int(np.floor(df))), 1.96) if df < 10 else 2.228 if df < 11 else 1.96
  diff = float(a.mean() - b.mean())
  return {"difference": diff, "low": float(diff - t * se), "high": float(diff + t * se),
          "df": float(df)}


def mean_pair_coupling(matrix) -> float:
  """Mean of I(a_i; a_j | s) over pairs i < j of the `[N, N]` matrix."""
  m = np.asarray(matrix, np.float64)
  upper = np.triu_indices(m.shape[0], k=1)
  return float(m[upper].mean()) if upper[0].size else 0.0


def _num_samples(run_dir: str, default: int) -> int:
  path = os.path.join(run_dir, "run_config.json")
  if not os.path.exists(path):
    return default
  with open(path) as f:
    return int(json.load(f).get("train", {}).get("num_samples", default))


def collect(runs_roots: Sequence[str], inspections_dir: Optional[str],
            budget: int = 1_000_000, unfinished: Optional[List[str]] = None) -> Dict[str, Dict]:
  """{variant: {seed: numbers}} of every finished run named `<variant>_s<seed>` under the runs
  roots; `budget` is where the cumulative reward is read. A run is finished at the num_samples of
  its `run_config.json` (`budget` without one). A run short of it (still training, or stopped) is
  left out, so that no row mixes seeds at different budgets; its directory goes to `unfinished`."""
  out: Dict[str, Dict] = {}
  for root in runs_roots:
    for path in sorted(glob.glob(os.path.join(root, "*", "metrics.jsonl"))):
      name = os.path.basename(os.path.dirname(path))
      match = _NAME.match(name)
      if not match:
        continue
      lines = metrics.read_metrics(os.path.dirname(path))
      if not lines or lines[-1]["samples"] < _num_samples(os.path.dirname(path), budget):
        if unfinished is not None:
          unfinished.append(os.path.dirname(path))
        continue
      summary = paper_scale.run_summary(lines, [budget])
      last = lines[-1]
      row = {"run": os.path.dirname(path), "samples": last["samples"],
             "cumulative": summary["cumulative"][budget],
             "episode_reward": summary["episode_reward_final"],
             "episode_length": summary["episode_length_final"],
             "kl": last.get("losses/kl"), "sigma_mean": last.get("latent/sigma_mean"),
             "kl_per_dim": paper_scale.kl_per_dim(last)}
      inspection = os.path.join(inspections_dir or "", name, "inspect_latent.json")
      if inspections_dir and os.path.exists(inspection):
        with open(inspection) as f:
          info = json.load(f)
        row["noise_information"] = float(np.mean(info["action_noise_information"]))
        row["coupling_information"] = mean_pair_coupling(info["action_coupling_information"])
        row["noise_information_per_agent"] = [float(x) for x in info["action_noise_information"]]
        coupling = np.asarray(info["action_coupling_information"], np.float64)
        row["coupling_information_max"] = float(coupling.max()) if coupling.size else 0.0
        if "significant" in info:
          row["ttest_cells"] = [int(info["significant_cells"]),
                                int(np.asarray(info["significant"]).size), info.get("alpha")]
      out.setdefault(match["variant"], {})[int(match["seed"])] = row
  return out


def reference_for(variant: str, names: Collection[str], reference: str = "shared") -> str:
  """The baseline a variant is compared with: `<reference>_<tail>` where the variant's name ends in
  `_<tail>` and that baseline ran (the longest such tail), else `reference` itself. So a variant
  played at other settings than the preset's (`mace_marg_b02`, beta 0.2) meets Shared at the same
  settings (`shared_b02`), not Shared at the preset's."""
  parts = variant.split("_")
  for k in range(1, len(parts)):
    candidate = f"{reference}_{'_'.join(parts[k:])}"
    if candidate != variant and candidate in names:
      return candidate
  return reference


def table(variants: Dict[str, Dict]) -> Dict[str, Dict]:
  keys = ("cumulative", "episode_reward", "episode_length", "noise_information",
          "coupling_information", "kl", "sigma_mean")
  return {v: {"seeds": sorted(runs), **{k: interval([r.get(k) for r in runs.values()])
                                        for k in keys}}
          for v, runs in variants.items()}


def _cell(s: Optional[Dict], digits: int = 3) -> str:
  if s is None:
    return "-"
  f = lambda x: tables.fmt(x, digits)
  return f(s["mean"]) if "low" not in s else f"{f(s['mean'])} [{f(s['low'])}, {f(s['high'])}]"


def markdown(rows: Dict[str, Dict], title: str, reference: str = "shared",
             variants: Optional[Dict[str, Dict]] = None,
             unfinished: Sequence[str] = ()) -> List[str]:
  out = [f"# {title}", "",
         "Mean over seeds [95% t-interval]. Reward and length: the last 30k samples of training "
         "(sampling policy); cumulative: Table 1's quantity at 1M samples. Information terms: "
         "`launch.inspect_latent` on the final sampling export (nats; 0 for Shared and Cloned by "
         "construction).", "",
         "| variant | seeds | cumulative @ 1M | per episode | length | I(a_i; eps \\| s) "
         "| I(a_i; a_j \\| s) | KL | sigma |", "| --- |" + " --- |" * 8]
  for v in sorted(rows):
    r = rows[v]
    out.append(f"| {v} | {', '.join(map(str, r['seeds']))} | " + " | ".join(
        _cell(r[k]) for k in ("cumulative", "episode_reward", "episode_length",
                              "noise_information", "coupling_information", "kl", "sigma_mean"))
               + " |")
  if variants:
    out += ["", "Per run: I(a_i; eps | s) of each agent and the largest I(a_i; a_j | s) (nats), KL "
            "of each latent dimension at the end, and the t-test map's significant cells (of "
            "latent dimensions x agents; it also fires without a latent, so read it beside the "
            "information terms).", "",
            "| run | I(a_i; eps \\| s) per agent | max I(a_i; a_j \\| s) | KL per dimension "
            "| t-test cells |", "| --- | --- | --- | --- | --- |"]
    f = lambda xs: " ".join(tables.fmt(x, 2) for x in xs) if xs else "-"
    for v in sorted(variants):
      for seed in sorted(variants[v]):
        r = variants[v][seed]
        cells = r.get("ttest_cells")
        out.append(f"| {v}_s{seed} | {f(r.get('noise_information_per_agent'))} | "
                   f"{f([r['coupling_information_max']]) if 'coupling_information_max' in r else '-'}"
                   f" | {f(r.get('kl_per_dim'))} | "
                   f"{f'{cells[0]} of {cells[1]} (alpha {cells[2]})' if cells else '-'} |")
  variants = variants or {}
  bases = {v: reference_for(v, variants, reference) for v in variants}
  compared = sorted(v for v, b in bases.items() if b in variants and v != b)
  if compared:
    out += ["", f"Against {reference} (or `{reference}_<tail>`, for a variant named `..._<tail>` "
            "where that ran: the baseline at the same settings): the difference of means with "
            "its 95% Welch interval; 'better' or 'worse' only where the interval excludes 0 "
            "(cumulative and per-episode reward: higher is better; episode length: lower is "
            "better).", ""]
    for v in compared:
      base = bases[v]
      verdicts = []
      for key, sign in (("cumulative", 1), ("episode_length", -1), ("episode_reward", 1)):
        a = [r.get(key) for r in variants[v].values()]
        b = [r.get(key) for r in variants[base].values()]
        if all(x is None for x in a + b):  # e.g. no cumulative at 1M for runs of 150k samples
          continue
        d = difference(a, b)
        if d is None:
          verdicts.append(f"{key}: too few seeds")
          continue
        if d["low"] > 0 or d["high"] < 0:  # the interval excludes 0: its sign says which way
          word = "better" if sign * d["difference"] > 0 else "worse"
        else:
          word = "not distinguishable"
        verdicts.append(f"{key}: {_cell({'mean': d['difference'], **d})} ({word})")
      out.append(f"- {v}" + (f" (against {base})" if base != reference else "") + ": "
                 + "; ".join(verdicts))
  if unfinished:
    out += ["", "Left out, short of their num_samples: " + ", ".join(f"`{u}`" for u in unfinished)]
  out.append("")
  return out


def write(output_dir: str, variants: Dict, unfinished: List[str], title: str, command: str):
  """Writes `report.md` and `summary.json` of `collect`'s variants into `output_dir`; returns the
  table's rows."""
  rows = table(variants)
  tables.write_report_files(output_dir, markdown(rows, title, variants=variants,
                                                 unfinished=unfinished)
                            + [f"Command: `{command}`", ""],
                            {"command": command, "variants": variants, "rows": rows})
  return rows
