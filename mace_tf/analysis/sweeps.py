"""The report of sweeps (what `launch.report --sweeps` writes; no flags here).

The paper reports "the best 5 runs seen" of its random search (section 4, appendix 8.2). Here a
model's best 5 are its finished trials ranked by the cumulative total terminal reward at the sweep's
sample budget; the same 5 give every column (500k and 1M, per episode, length). A trial stopped by a
non-finite loss is finished at what it had earned (its cumulative reward stays flat after it
stopped); a trial still short of the budget is pending and left out.

Writes into the output directory:
  report.md       the Table 1 analog, per-episode reward at 1M, the best trials' hyperparameters,
                  the KL ablation, the model orderings against the paper's;
  summary.json    every trial's score and hyperparameters, and the tables' numbers;
  figure3_<configuration>.png   cumulative terminal reward, mean and min-max band of the best 5;
  per_episode_<configuration>.png   per-episode reward and episode length, the same bands;
  figure4.png     the distributions of training episode lengths (best 5, pooled over training);
  kl_ablation_<name>.png   sigma, KL and reward of MACE with and without the KL term.
"""

import dataclasses
import glob
import json
import os
import re
import shutil
from typing import Dict, List, Optional, Sequence

import numpy as np

from mace_tf.sweep import trials as trials_lib
from mace_tf.analysis import latent_report
from mace_tf.train import metrics
from mace_tf.analysis import paper, paper_scale, tables

LEARNING, PAPER_FAITHFUL = "learning", "paper-faithful"
MODEL_ORDER = ("mace", "shared", "cloned", "tfa_ppo")
COLORS = {"mace": "tab:orange", "shared": "tab:olive", "cloned": "tab:blue", "tfa_ppo": "tab:purple",
          "mace_nokl": "tab:red"}
PAPER_TIME_LIMIT = {"hare": 2000, "stag": 1000}  # Figure 3's T; figure 7 is Hare-Hunters at 1000
GRID_POINTS = 101
# What the report reads of a trial's metric lines: an archived sweep keeps these keys only.
REPORT_KEYS = ("samples", "charts/cumulative_terminal_reward", "charts/episode_terminal_reward",
               "charts/episode_length", "charts/episode_length_counts",
               "eval/greedy_terminal_reward")
COMPUTE = "compute.json"  # an archived sweep's record of Ray Tune's timings (`compute_time`)
# What the KL ablation reads of a run's metric lines (`kl_ablation`, `figures.kl_ablation`).
KL_ABLATION_KEYS = ("samples", "charts/cumulative_terminal_reward",
                    "charts/episode_terminal_reward", "charts/episode_length",
                    "charts/success_rate", "losses/kl", "latent/sigma_mean", "latent/sigma_min")
KL_ABLATION_ARCHIVE = "kl_ablation"  # under an archive directory: <name>/<variant>_s<seed>/


@dataclasses.dataclass
class TrialRun:
  """One trial of a sweep as its files hold it."""

  name: str
  model: str
  params: Dict
  seed: int
  lines: List[Dict]
  diverged_at: Optional[int]

  @property
  def samples(self) -> int:
    return self.lines[-1]["samples"] if self.lines else 0

  def finished(self, num_samples: int) -> bool:
    return self.diverged_at is not None or self.samples >= num_samples

  def cumulative_at(self, samples: int) -> Optional[float]:
    """Cumulative terminal reward at `samples`; a diverged trial keeps what it had earned."""
    value = paper_scale.cumulative_at(self.lines, samples)
    if value is None and self.diverged_at is not None:
      return self.lines[-1]["charts/cumulative_terminal_reward"] if self.lines else 0.0
    return value


def setting_name(game: Dict) -> str:
  """`stag10`, `hare20_moving`, ...: the paper's names; the stags_heal variant adds `_heal`, another
  time limit `_t<T>`."""
  name = (f"{game['kind']}{game['num_hunters']}" + ("_moving" if game["moving_prey"] else "")
          + ("_heal" if game.get("stags_heal") else ""))
  if game["time_limit"] != PAPER_TIME_LIMIT.get(game["kind"]):
    name += f"_t{game['time_limit']}"
  return name


def configuration_name(agent: Dict) -> str:
  """Whether the sweep's flagfile had issue 12's learning fixes or none (the paper-faithful twin)."""
  fixes = agent.get("frozen_clock") or agent.get("normalize_advantages") or agent.get("ego_bin")
  return LEARNING if fixes else PAPER_FAITHFUL


def load_sweep(sweep_dir: str) -> Dict:
  """The sweep's setting and its trials; ValueError naming what cannot be read."""
  path = os.path.join(sweep_dir, "sweep.json")
  if not os.path.exists(path):
    raise ValueError(f"{sweep_dir} is not a sweep directory (no sweep.json)")
  with open(path) as f:
    sweep = json.load(f)
  trials_dir = os.path.join(sweep_dir, "trials")
  runs = []
  for name in sorted(os.listdir(trials_dir)) if os.path.isdir(trials_dir) else []:
    root = os.path.join(trials_dir, name)
    if not os.path.exists(os.path.join(root, "trial.json")):
      continue
    with open(os.path.join(root, "trial.json")) as f:
      trial = json.load(f)
    lines = metrics.read_metrics(root) if os.path.exists(os.path.join(root, "metrics.jsonl")) else []
    diverged = trials_lib.read_divergence(root)
    runs.append(TrialRun(name=name, model=trial["model"], params=trial["params"],
                         seed=trial["seed"], lines=lines,
                         diverged_at=diverged["samples"] if diverged else None))
  setting = setting_name(sweep["game"])
  paired = bool(sweep.get("paired_draws"))
  return {"dir": sweep_dir, "setting": setting, "paired_draws": paired,
          "label": setting + (" (paired draws)" if paired else ""),
          "configuration": configuration_name(sweep["agent"]), "game": sweep["game"],
          "num_samples": sweep["num_samples"], "models": sweep["models"], "trials": runs}


def compute_time(sweep_dir: str) -> Optional[Dict]:
  """What the sweep's trials cost, from Ray Tune's records (`<sweep>/ray/tune/*/result.json`), or
  an archived sweep's copy of them (`compute.json`): the trials' summed wall seconds, and the span
  from the first start to the last end."""
  archived = os.path.join(sweep_dir, COMPUTE)
  if os.path.exists(archived):
    with open(archived) as f:
      return json.load(f)
  spans = []
  for path in glob.glob(os.path.join(sweep_dir, "ray", "tune", "*", "result.json")):
    with open(path) as f:
      lines = [json.loads(l) for l in f if l.strip()]
    if lines:
      end, total = lines[-1]["timestamp"], lines[-1]["time_total_s"]
      spans.append((end - total, end, total))
  if not spans:
    return None
  return {"trials_timed": len(spans), "trial_seconds": float(sum(t for _, _, t in spans)),
          "span_seconds": float(max(e for _, e, _ in spans) - min(b for b, _, _ in spans))}


def archive_sweep(sweep_dir: str, dest: str) -> str:
  """Copies what the report reads of a sweep into `dest` (replacing an earlier copy): `sweep.json`,
  per trial its `trial.json`, its divergence record and the `REPORT_KEYS` of its metric lines, and
  the compute time. `dest` is then a directory that `load_sweep` and `build` read like the sweep
  itself, small enough to commit (~1/4 of the metrics, no checkpoints or exports), so that the
  report can be rebuilt after the sweep's directory is gone. Returns `dest`."""
  sweep = load_sweep(sweep_dir)  # ValueError for a directory that is not a sweep
  os.makedirs(dest, exist_ok=True)
  shutil.copyfile(os.path.join(sweep_dir, "sweep.json"), os.path.join(dest, "sweep.json"))
  compute = compute_time(sweep_dir)
  if compute is not None:
    with open(os.path.join(dest, COMPUTE), "w") as f:
      json.dump(compute, f)
  for run in sweep["trials"]:
    src, out = os.path.join(sweep_dir, "trials", run.name), os.path.join(dest, "trials", run.name)
    os.makedirs(out, exist_ok=True)
    for name in ("trial.json", trials_lib.DIVERGED):
      if os.path.exists(os.path.join(src, name)):
        shutil.copyfile(os.path.join(src, name), os.path.join(out, name))
    with open(os.path.join(out, "metrics.jsonl"), "w") as f:
      for line in run.lines:
        f.write(json.dumps({k: line[k] for k in REPORT_KEYS if k in line}) + "\n")
  return dest


def archived_dirs(sweep_dirs: Sequence[str], archive_dir: str) -> List[str]:
  """`archive_sweep` of each sweep into `<archive_dir>/<basename>` (a sweep already there is kept as
  it is); the archived directories. ValueError if two sweeps share a basename."""
  out = []
  for d in sweep_dirs:
    dest = os.path.join(archive_dir, os.path.basename(os.path.normpath(d)))
    if dest in out:
      raise ValueError(f"two sweeps would be archived as {dest}: give sweep directories with "
                       f"different names")
    if os.path.realpath(d) != os.path.realpath(dest):
      archive_sweep(d, dest)
    out.append(dest)
  return out


def archive_kl_ablation(ablation_dir: str, archive_dir: str) -> str:
  """Copies the `KL_ABLATION_KEYS` of each run `<variant>_s<seed>` of a KL ablation into
  `<archive_dir>/kl_ablation/<basename>/` (replacing an earlier copy; a directory already there is
  kept as it is), which `kl_ablation` reads like the runs. ValueError if it holds no such runs.
  Returns the copy's directory."""
  name = os.path.basename(os.path.normpath(ablation_dir))
  dest = os.path.join(archive_dir, KL_ABLATION_ARCHIVE, name)
  if os.path.realpath(ablation_dir) == os.path.realpath(dest):
    return dest
  runs = paper_scale.find_runs(os.path.dirname(os.path.normpath(ablation_dir)), name)
  if not runs:
    raise ValueError(f"{ablation_dir} holds no runs named <variant>_s<seed>")
  for seeds in runs.values():
    for path in seeds.values():
      out = os.path.join(dest, os.path.basename(path))
      os.makedirs(out, exist_ok=True)
      with open(os.path.join(out, "metrics.jsonl"), "w") as f:
        for line in metrics.read_metrics(path):
          f.write(json.dumps({k: line[k] for k in KL_ABLATION_KEYS if k in line}) + "\n")
  return dest


def rerun_comparison(tables: Sequence[Dict], earlier: Dict, budget: int) -> List[Dict]:
  """The trials of `tables` that an earlier report's summary (`earlier`, its summary.json) also
  ran with the same seed and hyperparameters: per (setting, configuration, model) the pairs of
  cumulative terminal rewards at `budget` (earlier, now), their Spearman rank correlation, the
  median of now / earlier, and both best-k means (k = the earlier report's best_k). Settings
  without such trials are left out."""
  k = earlier.get("best_k", 5)
  old_by_key = {}
  for sweep in earlier.get("sweeps", []):
    for trial in sweep["trials"]:
      old_by_key[(sweep["setting"], sweep["configuration"], trial["name"], trial["seed"],
                  json.dumps(trial["params"], sort_keys=True))] = trial["cumulative"].get(str(budget))
  out = []
  for t in tables:
    for model in sorted(t["by_model"], key=MODEL_ORDER.index):
      pairs = []
      for run in t["by_model"][model]:
        old = old_by_key.get((t["setting"], t["configuration"], run.name, run.seed,
                              json.dumps(run.params, sort_keys=True)))
        new = run.cumulative_at(budget) if run.finished(t["num_samples"]) else None
        if old is not None and new is not None:
          pairs.append((run.name, float(old), float(new)))
      if not pairs:
        continue
      old_v, new_v = np.array([p[1] for p in pairs]), np.array([p[2] for p in pairs])
      best = lambda v: float(np.mean(np.sort(v)[::-1][:k]))
      out.append({"setting": t["setting"], "configuration": t["configuration"], "model": model,
                  "pairs": pairs, "spearman": _spearman(old_v, new_v),
                  "median_ratio": float(np.median(new_v / np.maximum(old_v, 1e-9))),
                  "best_k": k, "best_earlier": best(old_v), "best_now": best(new_v)})
  return out


def _spearman(a: np.ndarray, b: np.ndarray) -> Optional[float]:
  """Spearman's rank correlation (average ranks for ties); None for fewer than 3 pairs or a
  constant side."""
  if len(a) < 3:
    return None
  rank = lambda v: np.array([np.mean(np.flatnonzero(np.sort(v) == x)) for x in v])
  ra, rb = rank(a), rank(b)
  if ra.std() == 0 or rb.std() == 0:
    return None
  return float(np.corrcoef(ra, rb)[0, 1])


def rerun_markdown(rows: Sequence[Dict]) -> List[str]:
  out = ["| setting | configuration | model | trials | rank correlation | median now / earlier "
         "| best-k mean earlier | best-k mean now |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
  for r in rows:
    rho = "-" if r["spearman"] is None else f"{r['spearman']:.2f}"
    out.append(f"| {r['setting']} | {r['configuration']} | {r['model']} | {len(r['pairs'])} | "
               f"{rho} | {r['median_ratio']:.2f} | {fmt(r['best_earlier'])} | "
               f"{fmt(r['best_now'])} |")
  return out


def best_trials(runs: Sequence[TrialRun], num_samples: int, k: int = 5) -> List[TrialRun]:
  """The `k` finished trials with the highest cumulative terminal reward at `num_samples`."""
  done = [r for r in runs if r.finished(num_samples)]
  return sorted(done, key=lambda r: -r.cumulative_at(num_samples))[:k]


def _near(run: TrialRun, samples: int, key: str, window: int) -> Optional[float]:
  """Mean of `key` over the last metric lines (at most `window` samples back) at or before
  `samples` that have it: the sampling policy's per-episode numbers there."""
  upto = min(samples, run.samples)
  values = [l[key] for l in run.lines if key in l and upto - window < l["samples"] <= upto]
  return float(np.mean(values)) if values else None


def _spread(values: Sequence[Optional[float]]) -> Optional[Dict]:
  values = [v for v in values if v is not None]
  if not values:
    return None
  return {"mean": float(np.mean(values)), "min": float(min(values)), "max": float(max(values)),
          "n": len(values)}


def model_row(runs: Sequence[TrialRun], num_samples: int, at_samples: Sequence[int], *,
              k: int = 5, window: int = 30_000) -> Dict:
  """One model's row of the Table 1 analog: mean, min and max over its best `k` trials."""
  best = best_trials(runs, num_samples, k)
  return {
      "trials": len(runs), "finished": sum(r.finished(num_samples) for r in runs),
      "diverged": sum(r.diverged_at is not None for r in runs), "best": [r.name for r in best],
      "cumulative": {str(s): _spread([r.cumulative_at(s) for r in best]) for s in at_samples},
      "episode_reward": _spread([_near(r, num_samples, "charts/episode_terminal_reward", window)
                                 for r in best]),
      "episode_length": _spread([_near(r, num_samples, "charts/episode_length", window)
                                 for r in best]),
      "greedy_reward": _spread([r.lines[-1].get("eval/greedy_terminal_reward") for r in best
                                if r.lines]),
  }


def curve(run: TrialRun, key: str, grid: np.ndarray, *, flat_after_end: bool) -> np.ndarray:
  """`key` of a trial on a sample grid (linear between metric lines). Past a diverged trial's end
  its cumulative reward stays flat; other quantities are NaN there."""
  xs = np.array([l["samples"] for l in run.lines if key in l], np.float64)
  ys = np.array([l[key] for l in run.lines if key in l], np.float64)
  if xs.size == 0:
    return np.full(grid.shape, np.nan)
  out = np.interp(grid, np.concatenate([[0.0], xs]),
                  np.concatenate([[0.0 if flat_after_end else ys[0]], ys]))
  if not flat_after_end:
    out[grid > xs[-1]] = np.nan
  return out


def length_distribution(runs: Sequence[TrialRun]) -> Optional[np.ndarray]:
  """The pooled counts of training episode lengths (`charts/episode_length_counts` of every line)."""
  counts = [np.asarray(l["charts/episode_length_counts"]) for r in runs for l in r.lines
            if "charts/episode_length_counts" in l]
  return np.sum(counts, axis=0) if counts else None


def preset_rows(metrics_dir: str, setting: str, configuration: str,
                at_samples: Sequence[int]) -> Dict[str, Dict]:
  """The presets' own hyperparameters run over seeds (issue 12), beside the search: {model: row}
  from `<metrics_dir>/<setting>[_paper]_<model>_s<seed>.jsonl` (`results/paper_scale/metrics/`)."""
  prefix = setting + ("_paper" if configuration == PAPER_FAITHFUL else "") + "_"
  rows = {}
  for model in MODEL_ORDER:
    paths = sorted(glob.glob(os.path.join(metrics_dir, f"{prefix}{model}_s*.jsonl")))
    paths = [p for p in paths if re.fullmatch(rf"{re.escape(prefix)}{model}_s\d+\.jsonl",
                                              os.path.basename(p))]
    if not paths:
      continue
    runs = []
    for path in paths:
      with open(path) as f:
        runs.append([json.loads(line) for line in f if line.strip()])
    summaries = [paper_scale.run_summary(r, at_samples) for r in runs]
    rows[model] = {
        "seeds": len(runs),
        "cumulative": {str(a): _spread([s["cumulative"][a] for s in summaries])
                       for a in at_samples},
        "episode_reward": _spread([s["episode_reward_final"] for s in summaries]),
        "episode_length": _spread([s["episode_length_final"] for s in summaries]),
        "greedy_reward": _spread([s["greedy_reward"] for s in summaries])}
  return rows


def build(sweep_dirs: Sequence[str], *, references_dir: str,
          at_samples: Sequence[int] = (500_000, 1_000_000), k: int = 5,
          preset_metrics_dir: Optional[str] = None) -> List[Dict]:
  """Every sweep's rows: per model its Table 1 analog row, the presets' runs (if
  `preset_metrics_dir`), and the paper's and reference rows."""
  tables = []
  for d in sweep_dirs:
    sweep = load_sweep(d)
    by_model = {m: [r for r in sweep["trials"] if r.model == m] for m in sweep["models"]}
    references = {p: paper_scale.load_reference(references_dir, sweep["setting"], p)
                  for p in paper_scale.REFERENCES}
    tables.append({
        **sweep, "by_model": by_model, "compute": compute_time(d),
        "rows": {m: model_row(rs, sweep["num_samples"], at_samples, k=k)
                 for m, rs in by_model.items()},
        "presets": (preset_rows(preset_metrics_dir, sweep["setting"], sweep["configuration"],
                                at_samples) if preset_metrics_dir else {}),
        "paper": paper.PAPER_TABLE1.get(sweep["setting"], {}),
        "references": {p: r for p, r in references.items() if r is not None}})
    tables[-1]["paired"] = paired_differences(tables[-1])
  return tables


fmt = tables.fmt


def cell(s: Optional[Dict]) -> str:
  if s is None:
    return "-"
  return fmt(s["mean"]) if s["n"] == 1 else f"{fmt(s['mean'])} [{fmt(s['min'])}, {fmt(s['max'])}]"


def _ordering(scores: Dict[str, float]) -> str:
  return " > ".join(m for m, _ in sorted(scores.items(), key=lambda p: -p[1]))


def table1_markdown(tables: Sequence[Dict], at_samples: Sequence[int], k: int) -> List[str]:
  label = lambda s: f"@ {s / 1e6:g}M" if s % 1_000_000 == 0 else f"@ {s / 1000:g}k"
  head = (["setting", "configuration", "row"] + [label(s) for s in at_samples]
          + ["per episode @ end", "length @ end", "greedy @ end", "trials (finished, diverged)"])
  out = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
  for t in tables:
    s, c = t["label"], t["configuration"]
    for model in sorted(t["rows"], key=MODEL_ORDER.index):
      row = t["rows"][model]
      best = len(row["best"])
      out.append("| " + " | ".join(
          [s, c, f"mace_tf {model} (best {best})"]
          + [cell(row["cumulative"][str(a)]) for a in at_samples]
          + [cell(row["episode_reward"]), cell(row["episode_length"]), cell(row["greedy_reward"]),
             f"{row['trials']} ({row['finished']}, {row['diverged']})"]) + " |")
    for model in sorted(t.get("presets", {}), key=MODEL_ORDER.index):
      row = t["presets"][model]
      out.append("| " + " | ".join(
          [s, c, f"mace_tf {model}, preset's values ({row['seeds']} seeds)"]
          + [cell(row["cumulative"][str(a)]) for a in at_samples]
          + [cell(row["episode_reward"]), cell(row["episode_length"]), cell(row["greedy_reward"]),
             "-"]) + " |")
    if c == LEARNING:  # the paper's and the references' rows once per setting
      for model, values in t["paper"].items():
        out.append("| " + " | ".join([s, "paper", f"paper {model} (best 5)"]
                                     + [fmt(v) for v in values] + ["-"] * 4) + " |")
      for policy, r in t["references"].items():
        out.append("| " + " | ".join(
            [s, "reference", policy] + [fmt(r["cumulative"].get(a)) for a in at_samples]
            + [fmt(r["episode_reward"]), fmt(r["episode_length"]), "-", "-"]) + " |")
  return out


def orderings_markdown(tables: Sequence[Dict], budget: int) -> List[str]:
  out = []
  for t in tables:
    ours = {m: r["cumulative"][str(budget)]["mean"] for m, r in t["rows"].items()
            if r["cumulative"].get(str(budget))}
    paper = {m: v[1] for m, v in t["paper"].items()}
    line = f"- {t['label']} ({t['configuration']}): ours {_ordering(ours) or '-'}"
    common = {m: v for m, v in ours.items() if m in paper}
    if len(common) >= 2:
      agree = _ordering(common) == _ordering({m: paper[m] for m in common})
      line += (f"; paper {_ordering(paper)}; {'the same' if agree else 'a different'} order of "
               f"{', '.join(sorted(common, key=MODEL_ORDER.index))}")
    out.append(line)
  return out


def hyperparameters_markdown(tables: Sequence[Dict], num_show: int = 1) -> List[str]:
  out = ["| setting | configuration | model | trial | score | hyperparameters |",
         "| --- | --- | --- | --- | --- | --- |"]
  for t in tables:
    by_name = {r.name: r for r in t["trials"]}
    for model in sorted(t["rows"], key=MODEL_ORDER.index):
      for name in t["rows"][model]["best"][:num_show]:
        r = by_name[name]
        params = ", ".join(f"{p}={v:.3g}" if isinstance(v, float) else f"{p}={v}"
                           for p, v in r.params.items())
        out.append(f"| {t['label']} | {t['configuration']} | {model} | {name} (seed {r.seed}) | "
                   f"{fmt(r.cumulative_at(t['num_samples']))} | {params} |")
  return out


def paired_differences(table: Dict) -> List[Dict]:
  """For a paired-draw sweep: per pair of models (a, b), the differences a - b of the cumulative
  terminal reward at the budget between their trials of the same index (same Table 2 draws and
  seed), over the indices where both finished; their mean with a 95% t-interval, and how often a
  came out ahead. Empty for an unpaired sweep."""
  if not table["paired_draws"]:
    return []
  budget = table["num_samples"]
  scores = {m: {r.name.rsplit("_t", 1)[1]: r.cumulative_at(budget) for r in runs
                if r.finished(budget)}
            for m, runs in table["by_model"].items()}
  models = sorted(scores, key=MODEL_ORDER.index)
  out = []
  for i, a in enumerate(models):
    for b in models[i + 1:]:
      common = sorted(set(scores[a]) & set(scores[b]))
      diffs = [scores[a][k] - scores[b][k] for k in common]
      out.append({"models": [a, b], "trials": common,
                  "difference": latent_report.interval(diffs),
                  "wins": sum(d > 0 for d in diffs)})
  return out


def paired_markdown(tables: Sequence[Dict]) -> List[str]:
  out = ["| setting | a - b | trials paired | mean difference at the budget [95% t-interval] "
         "| a ahead |", "| --- | --- | --- | --- | --- |"]
  for t in tables:
    for p in t["paired"]:
      d = p["difference"]
      cell = "-" if d is None else (
          f"{fmt(d['mean'])} [{fmt(d['low'])}, {fmt(d['high'])}]" if "low" in d else fmt(d["mean"]))
      out.append(f"| {t['label']} | {p['models'][0]} - {p['models'][1]} | {len(p['trials'])} | "
                 f"{cell} | {p['wins']} of {len(p['trials'])} |")
  return out


def kl_ablation(ablation_dir: str) -> Optional[Dict]:
  """MACE with (`mace_s<seed>`) and without (`mace_nokl_s<seed>`) the KL term: per variant the
  seed statistics of the final cumulative reward, per-episode reward, KL and sigma."""
  runs = paper_scale.find_runs(os.path.dirname(os.path.normpath(ablation_dir)),
                               os.path.basename(os.path.normpath(ablation_dir)))
  if not runs:
    return None
  out = {}
  for variant, seeds in runs.items():
    lines = {seed: metrics.read_metrics(path) for seed, path in seeds.items()}
    last = {seed: ls[-1] for seed, ls in lines.items()}
    stat = lambda key: paper_scale.seed_statistics([l.get(key) for l in last.values()])
    out[variant] = {
        "seeds": sorted(lines), "samples": [l["samples"] for l in last.values()],
        "cumulative": stat("charts/cumulative_terminal_reward"),
        "episode_reward": paper_scale.seed_statistics(
            [paper_scale.run_summary(ls, [])["episode_reward_final"] for ls in lines.values()]),
        "kl": stat("losses/kl"), "sigma_mean": stat("latent/sigma_mean"),
        "sigma_min": stat("latent/sigma_min"), "lines": lines}
  return out


def kl_markdown(ablation: Dict) -> List[str]:
  st = lambda s: "-" if s is None else (
      f"{fmt(s['median'])} [{fmt(s['min'])}, {fmt(s['max'])}]" if s["seeds"] > 1
      else fmt(s["median"]))
  out = ["| variant | seeds | cumulative @ end | per episode @ end | KL @ end | sigma mean @ end "
         "| sigma min @ end |", "| --- | --- | --- | --- | --- | --- | --- |"]
  for variant in sorted(ablation):
    a = ablation[variant]
    out.append(f"| {variant} | {len(a['seeds'])} | {st(a['cumulative'])} | "
               f"{st(a['episode_reward'])} | {st(a['kl'])} | {st(a['sigma_mean'])} | "
               f"{st(a['sigma_min'])} |")
  return out
