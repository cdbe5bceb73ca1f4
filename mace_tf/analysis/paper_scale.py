"""The Table 1 analog of runs at the paper's scale: medians over seeds, the paper's numbers, the
reference policies' rows, and curves of reward and episode length against samples.

Runs are read from `<runs_dir>/<setting>/<model>_s<seed>/` (each with `metrics.jsonl` and
`run_config.json`, as `launch.train` writes them), the paper-faithful twin's from
`<runs_dir>/<setting>_paper/...`; reference rows from
`<references_dir>/<setting>_<policy>.json` (`launch.evaluate --policy=... --budget_samples=...`).
"""

import glob
import json
import os
import re
from typing import Dict, List, Optional, Sequence

import numpy as np

from mace_tf.analysis.paper import PAPER_TABLE1
from mace_tf.analysis.tables import fmt, seed_cell
from mace_tf.train.metrics import read_metrics

SETTINGS = ("hare10", "hare10_moving", "hare20", "hare20_moving",
            "stag10", "stag10_moving", "stag20", "stag20_moving")
MODELS = ("mace", "shared", "cloned")
REFERENCES = ("random", "nearest")

_RUN_NAME = re.compile(r"^(?P<model>[a-z_]+)_s(?P<seed>\d+)$")


def cumulative_at(lines: Sequence[Dict], samples: int) -> Optional[float]:
  """The cumulative terminal reward at the first metric line at or past `samples` (None if short)."""
  for line in lines:
    if line["samples"] >= samples:
      return line["charts/cumulative_terminal_reward"]
  return None


def kl_per_dim(line: Dict) -> List[float]:
  """The per-dimension KL of a metric line (`latent/kl_dim_<k>`), in dimension order."""
  prefix = "latent/kl_dim_"
  return [v for _, v in sorted((int(k[len(prefix):]), v) for k, v in line.items()
                               if k.startswith(prefix))]


def run_summary(lines: Sequence[Dict], at_samples: Sequence[int], window: int = 3) -> Dict:
  """Cumulative reward at `at_samples`, final per-episode reward and length (mean of the last
  `window` lines with episodes), the last greedy evaluation, samples/s."""
  tail = [l for l in lines if "charts/episode_terminal_reward" in l][-window:]
  evals = [l for l in lines if "eval/greedy_terminal_reward" in l]
  mean = lambda key: float(np.mean([l[key] for l in tail])) if tail else None
  return {
      "samples": lines[-1]["samples"],
      "cumulative": {int(s): cumulative_at(lines, s) for s in at_samples},
      "episode_reward_final": mean("charts/episode_terminal_reward"),
      "episode_length_final": mean("charts/episode_length"),
      "success_final": mean("charts/success_rate"),
      "greedy_reward": evals[-1]["eval/greedy_terminal_reward"] if evals else None,
      "greedy_success": evals[-1]["eval/greedy_success_rate"] if evals else None,
      "samples_per_s": lines[-1].get("perf/samples_per_s"),
  }


def find_runs(runs_dir: str, setting: str) -> Dict[str, Dict[int, str]]:
  """{model: {seed: run directory}} under `<runs_dir>/<setting>/`."""
  out: Dict[str, Dict[int, str]] = {}
  for path in sorted(glob.glob(os.path.join(runs_dir, setting, "*"))):
    match = _RUN_NAME.match(os.path.basename(path))
    if match and os.path.exists(os.path.join(path, "metrics.jsonl")):
      out.setdefault(match["model"], {})[int(match["seed"])] = path
  return out


def seed_statistics(values: Sequence[Optional[float]]) -> Optional[Dict]:
  """Median, min and max over seeds (None when any run is short of the mark)."""
  if not values or any(v is None for v in values):
    return None
  v = np.asarray(values, np.float64)
  return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max()),
          "values": [float(x) for x in v], "seeds": len(v)}


def load_reference(references_dir: str, setting: str, policy: str) -> Optional[Dict]:
  path = os.path.join(references_dir, f"{setting}_{policy}.json")
  if not os.path.exists(path):
    return None
  with open(path) as f:
    data = json.load(f)
  budget = data["budget"]
  return {"cumulative": {int(k): v for k, v in budget["cumulative_at"].items()},
          "episode_reward": budget["episode_reward"], "episode_length": budget["episode_length"],
          "success_rate": budget["success_rate"],
          # {length: episodes} of the 100 evaluated episodes (figure 4's reference lines)
          "episode_length_counts": {int(k): v for k, v in
                                    data.get("episode_length", {}).get("counts", {}).items()}}


def setting_table(runs_dir: str, references_dir: str, setting: str,
                  at_samples: Sequence[int] = (500_000, 1_000_000)) -> Dict:
  """Everything the report shows of one setting: per model its runs and their seed statistics,
  the paper's Table 1 entries and the reference rows."""
  def models_of(directory):
    models = {}
    for model, seeds in find_runs(runs_dir, directory).items():
      summaries = {seed: run_summary(read_metrics(path), at_samples)
                   for seed, path in seeds.items()}
      stats = {f"cumulative_{s}": seed_statistics([r["cumulative"][s] for r in summaries.values()])
               for s in at_samples}
      for key in ("episode_reward_final", "episode_length_final", "greedy_reward",
                  "success_final"):
        stats[key] = seed_statistics([r[key] for r in summaries.values()])
      models[model] = {"runs": {str(k): v for k, v in summaries.items()}, "stats": stats,
                       "dirs": {str(k): v for k, v in seeds.items()}}
    return models

  references = {p: load_reference(references_dir, setting, p) for p in REFERENCES}
  return {"setting": setting, "models": models_of(setting),
          # The paper-faithful twin's runs (`launch/<setting>_paper.flags`), if any.
          "paper_faithful": models_of(f"{setting}_paper"),
          "paper": PAPER_TABLE1.get(setting, {}),
          "references": {k: v for k, v in references.items() if v is not None},
          "at_samples": list(at_samples)}


def markdown(tables: Sequence[Dict], title: str, notes: Sequence[str] = ()) -> str:
  """The report: one Table 1 analog row per model and reference, the paper's entries beside."""
  out = [f"# {title}", ""] + list(notes) + [""]
  out += ["Cumulative total terminal reward at 500k / 1M samples (Table 1's quantity). mace_tf rows: "
          "median [min, max] over the seeds run (the seed count in the last column); per-episode "
          "reward and length: the last 30k samples of training (sampling policy); greedy: the final "
          "evaluation (100 episodes). Paper rows: the mean of its best 5 runs of a search. "
          "Reference rows: the policy played for the same budget with the presets' B = 32 games.", ""]
  head = ["setting", "row", "@ 500k", "@ 1M", "per episode (final)", "length (final)",
          "greedy per episode", "seeds"]
  out += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
  for t in tables:
    s = t["setting"]
    for model in MODELS:
      for label, group in ((f"mace_tf {model}", t["models"]),
                           (f"mace_tf {model}, paper-faithful", t.get("paper_faithful", {}))):
        m = group.get(model)
        if m is None:
          continue
        st = m["stats"]
        out.append("| " + " | ".join([
            s, label, seed_cell(st["cumulative_500000"]), seed_cell(st["cumulative_1000000"]),
            seed_cell(st["episode_reward_final"]), seed_cell(st["episode_length_final"]),
            seed_cell(st["greedy_reward"]), str(len(m["runs"]))]) + " |")
      if model in t["paper"]:
        a, b = t["paper"][model]
        out.append(f"| {s} | paper {model} | {fmt(a)} | {fmt(b)} | - | - | - | best 5 |")
    for policy, r in t["references"].items():
      out.append("| " + " | ".join([
          s, f"reference {policy}", fmt(r["cumulative"].get(500_000)),
          fmt(r["cumulative"].get(1_000_000)), fmt(r["episode_reward"]),
          fmt(r["episode_length"]), "-", "-"]) + " |")
  out.append("")
  return "\n".join(out)


def plot_setting(path: str, table: Dict) -> None:
  """Per-episode reward, episode length and cumulative reward against samples: every run, and the
  reference policies as horizontal lines (per episode, length) or their budget totals."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, axes = plt.subplots(1, 3, figsize=(15, 4))
  colors = {"mace": "tab:orange", "shared": "tab:olive", "cloned": "tab:blue"}
  groups = [(model, m, "-", model) for model, m in table["models"].items()] + [
      (model, m, "-.", f"{model}, paper-faithful")
      for model, m in table.get("paper_faithful", {}).items()]
  for model, m, style, name in groups:
    for i, (seed, run_dir) in enumerate(sorted(m["dirs"].items())):
      lines = read_metrics(run_dir)
      ep = [l for l in lines if "charts/episode_terminal_reward" in l]
      label = name if i == 0 else None
      kw = dict(color=colors.get(model), alpha=0.8, label=label, linestyle=style)
      axes[0].plot([l["samples"] for l in ep], [l["charts/episode_terminal_reward"] for l in ep], **kw)
      axes[1].plot([l["samples"] for l in ep], [l["charts/episode_length"] for l in ep], **kw)
      axes[2].plot([l["samples"] for l in lines],
                   [l["charts/cumulative_terminal_reward"] for l in lines], **kw)
  styles = {"random": ":", "nearest": "--"}
  for policy, r in table["references"].items():
    kw = dict(color="gray", linestyle=styles[policy], label=f"{policy} (reference)")
    axes[0].axhline(r["episode_reward"], **kw)
    axes[1].axhline(r["episode_length"], **kw)
    xs = sorted(r["cumulative"])
    axes[2].plot(xs, [r["cumulative"][x] for x in xs], marker="o", **kw)
  for model, (a, b) in table["paper"].items():
    axes[2].plot([500_000, 1_000_000], [a, b], marker="x", linestyle="none",
                 color=colors.get(model), label=f"paper {model}")
  axes[0].set(xlabel="samples", ylabel="terminal reward per episode", title="per episode")
  axes[1].set(xlabel="samples", ylabel="episode length", title="episode length")
  axes[2].set(xlabel="samples", ylabel="cumulative terminal reward", title="cumulative (Table 1)",
              yscale="symlog")
  for ax in axes:
    ax.grid(alpha=0.3)
  axes[2].legend(fontsize=7)
  fig.suptitle(table["setting"])
  fig.tight_layout()
  fig.savefig(path, dpi=70)
  plt.close(fig)
