r"""Summarizes training runs side by side: a Markdown table, a JSON summary and learning curves.

  python -m launch.report --runs=runs/fig1/mace,runs/fig1/shared,runs/fig1/cloned --name=fig1

Writes `results/<name>/report.md`, `summary.json`, `curves.png` and a copy of each run's
`metrics.jsonl` (`<label>_metrics.jsonl`). The label of a run is its directory's name.
"""

import os
import sys

from absl import app
from absl import flags

from mace_tf.train import run_report

flags.DEFINE_list("runs", None, "Run directories (each with metrics.jsonl and run_config.json).")
flags.DEFINE_string("name", None, "Report name: results/<name>/.")
flags.DEFINE_string("title", None, "Title of the report (default: the name).")
flags.DEFINE_string("results_dir", "results", "Where reports go.")
flags.DEFINE_list("at_samples", ["500000", "1000000"],
                  "Sample counts at which to read the cumulative terminal reward (Table 1).")
flags.DEFINE_integer("window", 3, "Metric lines averaged for the final per-episode reward.",
                     lower_bound=1)

FLAGS = flags.FLAGS


def main(argv):
  del argv
  if not FLAGS.runs or not FLAGS.name:
    sys.exit("report: --runs and --name are required")
  out_dir = os.path.join(FLAGS.results_dir, FLAGS.name)
  try:
    summaries = run_report.write_report(
        FLAGS.runs, out_dir, title=FLAGS.title or FLAGS.name,
        at_samples=[int(a) for a in FLAGS.at_samples], window=FLAGS.window,
        command="python -m launch.report " + " ".join(sys.argv[1:]))
  except ValueError as e:
    sys.exit(f"report: {e}")
  fmt = run_report.fmt
  for s in summaries:
    print(f"{s['label']}: final per-episode reward {fmt(s['episode_terminal_reward_final'])}, "
          f"greedy {fmt(s['greedy_terminal_reward'])} (success {fmt(s['greedy_success_rate'])}), "
          f"KL {fmt(s['kl_final'])}")
  print(f"wrote {out_dir}/report.md, summary.json, curves.png")


if __name__ == "__main__":
  app.run(main)
