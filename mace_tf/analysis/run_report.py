"""Training runs side by side (what `launch.report` writes): a Markdown table, a JSON summary, the
learning curves and a copy of each run's metrics. No flags here."""

import json
import os
import shutil
from typing import Sequence

import numpy as np

from mace_tf.analysis.paper_scale import cumulative_at, kl_per_dim
from mace_tf.analysis.tables import fmt
from mace_tf.train.metrics import read_metrics


def load_run(path):
  lines = read_metrics(path)
  with open(os.path.join(path, "run_config.json")) as f:
    config = json.load(f)
  commands = []
  if os.path.exists(os.path.join(path, "commands.txt")):
    with open(os.path.join(path, "commands.txt")) as f:
      commands = [c.strip() for c in f if c.strip()]
  if not lines:
    raise ValueError(f"{path}/metrics.jsonl has no lines")
  return lines, config, commands


def summarize(label, lines, config, commands, at_samples, window):
  last = lines[-1]
  tail = [l for l in lines[-window:] if "charts/episode_terminal_reward" in l]
  evals = [l for l in lines if "eval/greedy_terminal_reward" in l]
  return {
      "label": label,
      "model": config["agent"]["model"],
      "seed": config["train"]["seed"],
      "samples": last["samples"],
      "episodes": last["charts/episodes"],
      "episode_terminal_reward_final": float(np.mean([l["charts/episode_terminal_reward"]
                                                      for l in tail])) if tail else None,
      "success_rate_final": float(np.mean([l["charts/success_rate"] for l in tail])) if tail else None,
      "episode_length_final": float(np.mean([l["charts/episode_length"] for l in tail])) if tail else None,
      "greedy_terminal_reward": evals[-1]["eval/greedy_terminal_reward"] if evals else None,
      "greedy_success_rate": evals[-1]["eval/greedy_success_rate"] if evals else None,
      "greedy_evals": [(l["samples"], l["eval/greedy_terminal_reward"], l["eval/greedy_success_rate"])
                       for l in evals],
      "cumulative_terminal_reward": {str(s): cumulative_at(lines, s) for s in at_samples},
      "cumulative_terminal_reward_final": last["charts/cumulative_terminal_reward"],
      "kl_final": last["losses/kl"],
      "kl_per_dim_final": kl_per_dim(last),
      "sigma_mean_final": last["latent/sigma_mean"],
      "sigma_min_final": last["latent/sigma_min"],
      "samples_per_s": last["perf/samples_per_s"],
      "game": config["game"],
      "train": config["train"],
      "commands": commands,
  }


def write_markdown(path, title, summaries, at_samples):
  game = summaries[0]["game"]
  out = [f"# {title}", "",
         f"Game: {game}. One run per row; 'final' averages the last metric lines of training "
         "(sampling policy); 'greedy' is the last greedy evaluation.", ""]
  head = ["run", "model", "seed", "samples", "per-episode reward (final)", "success (final)",
          "greedy reward", "greedy success"] + [f"cumulative @ {int(s):,}" for s in at_samples] + [
              "KL", "sigma mean", "samples/s"]
  out += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
  for s in summaries:
    row = [s["label"], s["model"], s["seed"], s["samples"], s["episode_terminal_reward_final"],
           s["success_rate_final"], s["greedy_terminal_reward"], s["greedy_success_rate"]] + [
               s["cumulative_terminal_reward"][str(a)] for a in at_samples] + [
                   s["kl_final"], s["sigma_mean_final"], s["samples_per_s"]]
    out.append("| " + " | ".join(fmt(x) for x in row) + " |")
  out += ["", "## Latent (MACE runs): KL(Q || N(0, I)) per dimension at the end of training", ""]
  for s in summaries:
    if s["model"] == "mace":
      dims = ", ".join(f"{v:.4f}" for v in s["kl_per_dim_final"])
      out.append(f"- {s['label']}: KL per dimension [{dims}] nats; sigma mean "
                 f"{s['sigma_mean_final']:.3f}, min {s['sigma_min_final']:.3f}")
  out += ["", "## Greedy evaluations (samples, reward per episode, success rate)", ""]
  for s in summaries:
    out.append(f"- {s['label']}: " + "; ".join(f"{a:,}: {b:.3g}, {c:.3g}"
                                                for a, b, c in s["greedy_evals"]))
  out += ["", "## Commands", ""]
  for s in summaries:
    for c in s["commands"]:
      out.append(f"- `{c}`")
  out.append("")
  with open(path, "w") as f:
    f.write("\n".join(out))


def plot(path, title, runs):
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  fig, axes = plt.subplots(1, 2, figsize=(11, 4))
  for label, lines in runs:
    xs = [l["samples"] for l in lines if "charts/episode_terminal_reward" in l]
    ys = [l["charts/episode_terminal_reward"] for l in lines if "charts/episode_terminal_reward" in l]
    axes[0].plot(xs, ys, label=label)
    axes[1].plot([l["samples"] for l in lines],
                 [l["charts/cumulative_terminal_reward"] for l in lines], label=label)
  axes[0].set(xlabel="samples", ylabel="terminal reward per episode", title="per episode")
  axes[1].set(xlabel="samples", ylabel="cumulative terminal reward", title="cumulative (Table 1)")
  for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend()
  fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=80)
  plt.close(fig)


def write_report(run_dirs: Sequence[str], out_dir: str, *, title: str, at_samples: Sequence[int],
                 window: int, command: str) -> list:
  """Writes `out_dir/report.md`, `summary.json`, `curves.png` and `<label>_metrics.jsonl` for the
  runs (the label of a run is its directory's name); returns the runs' summaries.

  Raises:
    ValueError: a run cannot be read (the message names it).
  """
  os.makedirs(out_dir, exist_ok=True)
  summaries, curves = [], []
  for path in run_dirs:
    label = os.path.basename(os.path.normpath(path))
    try:
      lines, config, commands = load_run(path)
    except (OSError, ValueError) as e:
      raise ValueError(f"cannot read run {path}: {e}") from None
    summaries.append(summarize(label, lines, config, commands, at_samples, window))
    curves.append((label, lines))
    shutil.copyfile(os.path.join(path, "metrics.jsonl"),
                    os.path.join(out_dir, f"{label}_metrics.jsonl"))
  with open(os.path.join(out_dir, "summary.json"), "w") as f:
    json.dump({"title": title, "command": command, "runs": summaries}, f, indent=2)
  write_markdown(os.path.join(out_dir, "report.md"), title, summaries, at_samples)
  plot(os.path.join(out_dir, "curves.png"), title, curves)
  return summaries
