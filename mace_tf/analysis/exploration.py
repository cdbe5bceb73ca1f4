"""The paper's remaining claim, faster learning (issue 19): samples to a threshold per arm over seeds,
with Welch intervals of each arm's difference from Shared.

Thresholds (`THRESHOLDS`): on stag10 the paper's MACE entry of Table 1, 30,473 cumulative terminal
reward; on hare10 a success rate of 0.5, pooled over the last `POOL` finished episodes (about one per
game: a single log window holds a handful of episodes, and early ones are the short, successful
ones). A run that never crosses within its budget is censored: it counts at its budget (a lower
bound, which flatters it) and the report says how many there are.

The report reads compact curves, `<curves_dir>/<game>_<arm>_s<seed>.jsonl` (samples, cumulative
reward, episodes, success rate per log line), which `archive` copies out of run directories, so it
rebuilds without them.
"""

import glob
import json
import os
import re
from typing import Dict, List, Optional, Sequence

from mace_tf.analysis import latent_report, tables
from mace_tf.train import metrics

THRESHOLDS = {
    "stag10": ("charts/cumulative_terminal_reward", 30473.0,
               "cumulative terminal reward >= 30,473 (the paper's MACE entry, Table 1)"),
    "hare10": ("charts/success_rate", 0.5,
               "success rate >= 0.5 over the last 32 finished episodes"),
}
POOL = 32
KEYS = ("samples", "charts/cumulative_terminal_reward", "charts/episodes", "charts/success_rate")
# A curve file: <game>_<arm>_s<seed>.jsonl (a game may hold hyphens: LBF tasks).
RUN_FILE = re.compile(r"^(?P<game>[a-z0-9-]+?)_(?P<arm>[a-z0-9_]+?)_s(?P<seed>\d+)\.jsonl$")


def archive(sources: Sequence[str], curves_dir: str, games: Sequence[str] = tuple(THRESHOLDS),
            arms: Optional[Sequence[str]] = None, keys: Sequence[str] = KEYS) -> List[str]:
  """Copies the curves (the metric `keys` of each log line) of runs into `curves_dir`. A source is
  a runs root (`<root>/<game>/<arm>_s<seed>/metrics.jsonl`) or a folder of archived metrics
  (`<game>_<arm>_s<seed>.jsonl`, as `results/learners/metrics`). Runs short of the num_samples of
  their `run_config.json` are left out. Returns the names written."""
  os.makedirs(curves_dir, exist_ok=True)
  found = {}
  for source in sources:
    for path in glob.glob(os.path.join(source, "*", "*_s[0-9]*", "metrics.jsonl")):
      run = os.path.dirname(path)
      found[f"{os.path.basename(os.path.dirname(run))}_{os.path.basename(run)}.jsonl"] = run
    for path in glob.glob(os.path.join(source, "*_s[0-9]*.jsonl")):
      found[os.path.basename(path)] = path
  written = []
  for name, where in sorted(found.items()):
    match = RUN_FILE.match(name)
    if not match or match["game"] not in games or (arms and match["arm"] not in arms):
      continue
    lines = metrics.read_metrics(where) if os.path.isdir(where) else read_jsonl(where)
    if os.path.isdir(where) and not _finished(where, lines):
      continue  # still training: a run not past its threshold yet would read as censored
    with open(os.path.join(curves_dir, name), "w") as f:
      for line in lines:
        if "charts/episodes" in line:
          f.write(json.dumps({k: line[k] for k in keys if k in line}) + "\n")
    written.append(name)
  return written


def _finished(run_dir: str, lines: Sequence[Dict]) -> bool:
  path = os.path.join(run_dir, "run_config.json")
  if not os.path.exists(path) or not lines:
    return False
  with open(path) as f:
    budget = int(json.load(f).get("train", {}).get("num_samples", 0))
  return int(lines[-1].get("samples", 0)) >= budget


def read_jsonl(path: str) -> List[Dict]:
  out = []
  with open(path) as f:
    for line in f:
      try:
        out.append(json.loads(line))
      except ValueError:
        continue
  return out


def samples_to_threshold(lines: Sequence[Dict], game: str) -> Dict:
  """{"samples": the first log line's samples at the threshold (or the last line's, censored),
  "reached": bool}."""
  key, threshold, _ = THRESHOLDS[game]
  window = []  # (episodes, successes) of recent log lines
  previous = 0
  for line in lines:
    if key == "charts/cumulative_terminal_reward":
      value = line.get(key, 0.0)
    else:
      new = line["charts/episodes"] - previous
      previous = line["charts/episodes"]
      if new > 0:
        window.append((new, new * line.get(key, 0.0)))
      while len(window) > 1 and sum(e for e, _ in window[1:]) >= POOL:
        window.pop(0)
      episodes = sum(e for e, _ in window)
      value = sum(s for _, s in window) / episodes if episodes >= POOL else 0.0
    if value >= threshold:
      return {"samples": int(line["samples"]), "reached": True}
  return {"samples": int(lines[-1]["samples"]) if lines else 0, "reached": False}


def collect(curves_dir: str) -> Dict[str, Dict[str, Dict[int, Dict]]]:
  """{game: {arm: {seed: samples_to_threshold}}}."""
  out: Dict[str, Dict[str, Dict[int, Dict]]] = {}
  for path in sorted(glob.glob(os.path.join(curves_dir, "*.jsonl"))):
    match = RUN_FILE.match(os.path.basename(path))
    if match and match["game"] in THRESHOLDS:
      result = samples_to_threshold(read_jsonl(path), match["game"])
      out.setdefault(match["game"], {}).setdefault(match["arm"], {})[int(match["seed"])] = result
  return out


def table(runs: Dict, baseline: str = "shared") -> Dict[str, List[Dict]]:
  """Per game, per arm: seeds, censored runs, the mean samples with its 95% t-interval, and the
  Welch 95% interval of (arm - baseline) (negative: the arm is faster)."""
  out = {}
  for game, arms in runs.items():
    rows = []
    base = [r["samples"] for r in arms.get(baseline, {}).values()]
    for arm in sorted(arms, key=lambda a: (a != baseline, a)):
      samples = [arms[arm][s]["samples"] for s in sorted(arms[arm])]
      rows.append({"arm": arm, "seeds": len(samples),
                   "censored": sum(not r["reached"] for r in arms[arm].values()),
                   "samples": samples, "mean": latent_report.interval(samples),
                   "versus_baseline": (None if arm == baseline
                                       else latent_report.difference(samples, base))})
    out[game] = rows
  return out


def markdown(rows: Dict[str, List[Dict]], title: str, command: str) -> List[str]:
  lines = [f"# {title}", "",
           "Samples until each run first crosses its game's threshold; mean over seeds with its 95% "
           "t-interval, and the Welch 95% interval of the difference from Shared (negative: "
           "faster than Shared). Censored runs never crossed and count at their budget.", ""]
  for game, game_rows in rows.items():
    lines += [f"## {game}: {THRESHOLDS[game][2]}", "",
              "| arm | seeds | censored | mean samples (95% interval) | arm - shared (Welch 95%) "
              "| per seed |", "|---|---|---|---|---|---|"]
    for r in game_rows:
      m, d = r["mean"], r["versus_baseline"]
      mean = f"{m['mean']:,.0f}" + (f" ({m['low']:,.0f} .. {m['high']:,.0f})" if "low" in m else "")
      diff = "-" if d is None else f"{d['difference']:+,.0f} ({d['low']:+,.0f} .. {d['high']:+,.0f})"
      lines.append(f"| {r['arm']} | {r['seeds']} | {r['censored']} | {mean} | {diff} | "
                   + " / ".join(f"{s // 1000}k" for s in r["samples"]) + " |")
    lines.append("")
  return lines + [f"Command: `{command}`", ""]


ARMS = ("mace", "shared", "hold_info005")


def write(out_dir: str, title: str, command: str, sources: Sequence[str] = ()) -> Dict:
  """Archives the `ARMS` of `sources` into `<out_dir>/curves` (if any), then writes report.md and
  summary.json from the curves there."""
  curves_dir = os.path.join(out_dir, "curves")
  if sources:
    archive(sources, curves_dir, arms=ARMS)
  runs = collect(curves_dir)
  if not runs:
    raise ValueError(f"no curves <game>_<arm>_s<seed>.jsonl of {sorted(THRESHOLDS)} in {curves_dir}")
  rows = table(runs)
  tables.write_report_files(out_dir, markdown(rows, title, command),
                            {"command": command, "rows": rows})
  return rows
