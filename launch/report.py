r"""Summarizes training runs side by side: a Markdown table, a JSON summary and learning curves.

  python -m launch.report --runs=runs/fig1/mace,runs/fig1/shared,runs/fig1/cloned --name=fig1

Writes `results/<name>/report.md`, `summary.json`, `curves.png` and a copy of each run's
`metrics.jsonl` (`<label>_metrics.jsonl`). The label of a run is its directory's name.
"""

import json
import os
import shutil
import sys

from absl import app
from absl import flags
import numpy as np

from mace_tf.train.paper_scale import cumulative_at

flags.DEFINE_list("runs", None, "Run directories (each with metrics.jsonl and run_config.json).")
flags.DEFINE_string("name", None, "Report name: results/<name>/.")
flags.DEFINE_string("title", None, "Title of the report (default: the name).")
flags.DEFINE_string("results_dir", "results", "Where reports go.")
flags.DEFINE_list("at_samples", ["500000", "1000000"],
                  "Sample counts at which to read the cumulative terminal reward (Table 1).")
flags.DEFINE_integer("window", 3, "Metric lines averaged for the final per-episode reward.",
                     lower_bound=1)

FLAGS = flags.FLAGS


def load_run(path):
  with open(os.path.join(path, "metrics.jsonl")) as f:
    lines = [json.loads(line) for line in f if line.strip()]
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
  kl_dims = sorted(k for k in last if k.startswith("latent/kl_dim_"))
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
      "kl_per_dim_final": [last[k] for k in kl_dims],
      "sigma_mean_final": last["latent/sigma_mean"],
      "sigma_min_final": last["latent/sigma_min"],
      "samples_per_s": last["perf/samples_per_s"],
      "game": config["game"],
      "train": config["train"],
      "commands": commands,
  }


def fmt(x, digits=3):
  if x is None:
    return "-"
  if isinstance(x, float):
    return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"
  return f"{x:,}" if isinstance(x, int) else str(x)


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


def main(argv):
  del argv
  if not FLAGS.runs or not FLAGS.name:
    sys.exit("report: --runs and --name are required")
  at_samples = [int(a) for a in FLAGS.at_samples]
  out_dir = os.path.join(FLAGS.results_dir, FLAGS.name)
  os.makedirs(out_dir, exist_ok=True)
  summaries, curves = [], []
  for path in FLAGS.runs:
    label = os.path.basename(os.path.normpath(path))
    try:
      lines, config, commands = load_run(path)
    except (OSError, ValueError) as e:
      sys.exit(f"report: cannot read run {path}: {e}")
    summaries.append(summarize(label, lines, config, commands, at_samples, FLAGS.window))
    curves.append((label, lines))
    shutil.copyfile(os.path.join(path, "metrics.jsonl"),
                    os.path.join(out_dir, f"{label}_metrics.jsonl"))
  title = FLAGS.title or FLAGS.name
  with open(os.path.join(out_dir, "summary.json"), "w") as f:
    json.dump({"title": title, "command": "python -m launch.report " + " ".join(sys.argv[1:]),
               "runs": summaries}, f, indent=2)
  write_markdown(os.path.join(out_dir, "report.md"), title, summaries, at_samples)
  plot(os.path.join(out_dir, "curves.png"), title, curves)
  for s in summaries:
    print(f"{s['label']}: final per-episode reward {fmt(s['episode_terminal_reward_final'])}, "
          f"greedy {fmt(s['greedy_terminal_reward'])} (success {fmt(s['greedy_success_rate'])}), "
          f"KL {fmt(s['kl_final'])}")
  print(f"wrote {out_dir}/report.md, summary.json, curves.png")


if __name__ == "__main__":
  app.run(main)
