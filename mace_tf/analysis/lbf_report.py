"""Level-Based Foraging against a published table (issue 20): MACE, Shared and Cloned over seeds on
two of EPyMARL's LBF tasks, with random play beside them.

The quantity is LBF's episode return summed over agents (each food's reward is shared by the agents
that load it, normalized so that all food in an episode is worth 1 in total: 1 is the ceiling).
Per run: the return averaged over the last `WINDOW` log lines (episode-weighted: the last ~50k
samples) and its best such average over training (EPyMARL's tables report maximum returns over
training as well as averages). Per model: the median over seeds, with min and max.

The report reads compact curves, `<dir>/curves/<task>_<model>_s<seed>.jsonl`, that `archive`
copies out of run directories (`exploration.archive`), and the random-play evaluations
`<dir>/random/<task>.json` of `launch.evaluate --policy=random`; it rebuilds without the runs.
"""

import json
import os
from typing import Dict, List, Optional, Sequence, Tuple

from mace_tf.analysis import exploration, figures, paper_scale, tables

TASKS = {"8x8-2p-2f-coop": "lbforaging:Foraging-8x8-2p-2f-coop-v3",
         "10x10-3p-3f": "lbforaging:Foraging-10x10-3p-3f-v3"}
MODELS = ("mace", "shared", "cloned")
WINDOW = 5
KEYS = ("samples", "charts/episodes", "charts/episode_terminal_reward", "charts/episodes_in_window",
        "eval/greedy_terminal_reward")
RETURN = "charts/episode_terminal_reward"


def windowed(lines: Sequence[Dict], window: int = WINDOW) -> List[Tuple[int, float]]:
  """Per log line from the `window`-th on that has episodes in its window: (its samples, the mean
  episode return over it and the `window - 1` lines before, each line weighted by the episodes it
  averages)."""
  out = []
  for i in range(window - 1, len(lines)):
    part = lines[i - window + 1:i + 1]
    weights = [l.get("charts/episodes_in_window", 0) for l in part]
    if sum(weights) > 0:
      mean = sum(w * l.get(RETURN, 0.0) for w, l in zip(weights, part)) / sum(weights)
      out.append((int(lines[i]["samples"]), mean))
  return out


def windowed_returns(lines: Sequence[Dict], window: int = WINDOW) -> List[float]:
  """The returns of `windowed`."""
  return [r for _, r in windowed(lines, window)]


def curve(lines: Sequence[Dict], window: int = 3):
  """(samples, windowed return) of a run's log lines, for plotting."""
  points = windowed(lines, window)
  return [s for s, _ in points], [r for _, r in points]


def run_summary(lines: Sequence[Dict]) -> Optional[Dict]:
  """{"final", "best", "greedy", "samples"} of one run's curve (greedy: the return of the greedy
  policy at the run's end, None if not evaluated); None if it is shorter than the window."""
  returns = windowed_returns(lines)
  if not returns:
    return None
  return {"final": returns[-1], "best": max(returns), "samples": int(lines[-1]["samples"]),
          "greedy": lines[-1].get("eval/greedy_terminal_reward")}


def collect(curves_dir: str) -> Dict[str, Dict[str, Dict[int, Dict]]]:
  """{task: {model: {seed: run_summary, with the run's plotting `curve`}}} of the curves in
  `curves_dir` (each file read once)."""
  out: Dict[str, Dict[str, Dict[int, Dict]]] = {}
  for name in sorted(os.listdir(curves_dir)) if os.path.isdir(curves_dir) else []:
    match = exploration.RUN_FILE.match(name)
    if not match or match["game"] not in TASKS:
      continue
    lines = exploration.read_jsonl(os.path.join(curves_dir, name))
    summary = run_summary(lines)
    if summary:
      out.setdefault(match["game"], {}).setdefault(match["arm"], {})[int(match["seed"])] = dict(
          summary, curve=curve(lines))
  return out


def rows(runs: Dict[str, Dict[str, Dict[int, Dict]]], random_dir: str) -> Dict[str, Dict]:
  """Per task: per model the seed statistics of the final and best returns and the budget; the
  random-play return (None if not evaluated)."""
  out = {}
  for task, models in sorted(runs.items(), key=lambda item: list(TASKS).index(item[0])):
    by_model = {}
    for model in [m for m in MODELS if m in models] + sorted(set(models) - set(MODELS)):
      seeds = models[model]
      by_model[model] = {
          "final": paper_scale.seed_statistics([seeds[s]["final"] for s in sorted(seeds)]),
          "best": paper_scale.seed_statistics([seeds[s]["best"] for s in sorted(seeds)]),
          "greedy": paper_scale.seed_statistics([seeds[s]["greedy"] for s in sorted(seeds)]),
          "samples": min(r["samples"] for r in seeds.values())}
    path = os.path.join(random_dir, f"{task}.json")
    random = None
    if os.path.exists(path):
      with open(path) as f:
        evaluation = json.load(f)
      random = {"return": evaluation["terminal_reward_mean"], "episodes": evaluation["episodes"]}
    out[task] = {"env": TASKS[task], "models": by_model, "random": random}
  return out


def markdown(table: Dict[str, Dict], title: str, command: str, notes: Sequence[str]) -> List[str]:
  lines = [f"# {title}", "",
           f"Episode return summed over agents (1 = all food collected), averaged over the last "
           f"{WINDOW} log lines (~{WINDOW * 10}k samples; `final`) and the best such average over "
           f"training (`best`), both of the sampling policy that trains; `greedy`: the greedy "
           f"policy (each agent's most likely action) over the end-of-run evaluation's episodes. "
           f"Median over seeds [min, max]. Random play: `launch.evaluate --policy=random`.", ""]
  for task, t in table.items():
    lines += [f"## {task} (`{t['env']}`)", "",
              "| model | seeds | samples | final return | best return | greedy return |",
              "| --- | --- | --- | --- | --- | --- |"]
    for model, r in t["models"].items():
      lines.append(f"| {model} | {r['final']['seeds']} | {tables.fmt(r['samples'])} | "
                   f"{tables.seed_cell(r['final'])} | {tables.seed_cell(r['best'])} | "
                   f"{tables.seed_cell(r['greedy'])} |")
    if t["random"]:
      lines.append(f"| random play | {t['random']['episodes']} episodes | - | "
                   f"{tables.fmt(t['random']['return'])} | - | - |")
    lines.append("")
  return lines + list(notes) + ["", f"Command: `{command}`", ""]


def write(out_dir: str, title: str, command: str, sources: Sequence[str] = ()) -> Dict:
  """Archives the runs of `sources` (runs roots `<root>/<task>/<model>_s<seed>/`) into
  `<out_dir>/curves`, then writes report.md, summary.json and curves.png from the curves and the
  random-play evaluations there. `<out_dir>/notes.md`, if present, is appended to the report (the
  comparison with the published table and the diagnosis, written by hand)."""
  curves_dir = os.path.join(out_dir, "curves")
  if sources:
    exploration.archive(sources, curves_dir, games=tuple(TASKS), keys=KEYS)
  runs = collect(curves_dir)
  if not runs:
    raise ValueError(f"no curves <task>_<model>_s<seed>.jsonl of {sorted(TASKS)} in {curves_dir}")
  table = rows(runs, os.path.join(out_dir, "random"))
  notes_path = os.path.join(out_dir, "notes.md")
  notes = []
  if os.path.exists(notes_path):
    with open(notes_path) as f:
      notes = f.read().splitlines()
  tables.write_report_files(out_dir, markdown(table, title, command, notes),
                            {"command": command, "tasks": table})
  curves = {task: {model: [runs[task][model][seed]["curve"] for seed in sorted(runs[task][model])]
                   for model in runs[task]} for task in table}  # TASKS' order
  figures.return_curves(os.path.join(out_dir, "curves.png"), curves, title)
  return table
