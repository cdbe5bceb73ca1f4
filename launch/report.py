r"""Reports on training runs side by side, or on sweeps as the paper's Table 1 and figures.

  python -m launch.report --runs=runs/fig1/mace,runs/fig1/shared,runs/fig1/cloned --name=fig1
  python -m launch.report --sweeps=runs/sweeps/stag10,runs/sweeps/hare10 --output_dir=results/sweeps \
      --kl_ablation=runs/kl_ablation/stag10

With --runs: `results/<name>/report.md`, `summary.json`, `curves.png` and a copy of each run's
`metrics.jsonl` (`<label>_metrics.jsonl`); the label of a run is its directory's name.
With --sweeps (directories of `launch.sweep`): in --output_dir the Table 1 analog (mean of each
model's best 5 trials, with their spread, the paper's numbers and the reference rows), figures 3 and
4, per-episode reward at 1M, the best trials' hyperparameters and the KL ablation
(`mace_tf/analysis/sweeps.py` says exactly how). The report is built from copies of what it reads of
each sweep, in --archive_dir (default <output_dir>/data), small enough to commit: passed as
--sweeps, they rebuild it once the sweeps' own directories are gone.
With --latent_runs: variants of runs <variant>_s<seed> side by side with their launch.inspect_latent
measures, means with 95% intervals over seeds, against Shared (`mace_tf/analysis/latent_report.py`).
With --dens / --exploration: issue 19's hidden-stag report and exploration study; with --lbf,
issue 20's Level-Based Foraging report.
"""

import os
import sys

import launch
from absl import flags

from mace_tf.analysis import dens_report, exploration, lbf_report, run_report, sweep_report, sweeps, tables

flags.DEFINE_list("runs", None, "Run directories (each with metrics.jsonl and run_config.json).")
flags.DEFINE_list("sweeps", None, "Sweep directories (launch.sweep's --sweep_dir), in place of --runs.")
flags.DEFINE_string("output_dir", None, "Where the sweep report goes (with --sweeps).")
flags.DEFINE_list("kl_ablation", [], "With --sweeps: directories of MACE runs <variant>_s<seed> "
                  "(mace: with the KL term, mace_nokl: kl_coef = 0), one KL ablation each.")
flags.DEFINE_string("references_dir", "results/paper_scale/references",
                    "The reference policies' rows: <setting>_<random|nearest>.json of launch.evaluate.")
flags.DEFINE_list("latent_runs", None, "Runs roots whose runs <variant>_s<seed> the latent report "
                  "compares (e.g. runs/latent/stag10,runs/paper_scale/stag10), in place of --runs.")
flags.DEFINE_string("inspections", None, "With --latent_runs: the launch.inspect_latent outputs, "
                    "<variant>_s<seed>/inspect_latent.json (default: --output_dir).")
flags.DEFINE_string("preset_metrics", "results/paper_scale/metrics",
                    "With --sweeps: metrics <setting>[_paper]_<model>_s<seed>.jsonl of the presets' "
                    "own values over seeds, rows beside the search ('' for none).")
flags.DEFINE_string("archive_dir", "", "With --sweeps: copy what the report reads (no checkpoints) "
                    "here and build from the copies. Default: <output_dir>/data; 'none' to skip.")
flags.DEFINE_string("rerun_of", None, "With --sweeps: an earlier report's summary.json; trials rerun "
                    "with the same seed and draws are compared with it (rank correlation, best-k).")
flags.DEFINE_integer("best", 5, "With --sweeps: the best trials per model that a row averages "
                     "(the paper: 5).", lower_bound=1)
flags.DEFINE_string("dens", None, "A hidden-stag results directory (<game>/<model>_s<seed>/ with "
                    "evaluation.json): writes its report.md there (mace_tf/analysis/dens_report.py).")
flags.DEFINE_string("exploration", None, "An exploration-study directory: its report.md from the "
                    "curves in <dir>/curves (mace_tf/analysis/exploration.py).")
flags.DEFINE_string("lbf", None, "A Level-Based Foraging results directory: its report.md from "
                    "<dir>/curves and <dir>/random (mace_tf/analysis/lbf_report.py).")
flags.DEFINE_list("exploration_sources", [], "With --exploration or --lbf: runs roots or metrics "
                  "folders whose curves are first copied into <dir>/curves.")
flags.DEFINE_string("name", None, "Report name: results/<name>/.")
flags.DEFINE_string("title", None, "Title of the report (default: the name).")
flags.DEFINE_string("results_dir", "results", "Where reports go.")
flags.DEFINE_list("at_samples", ["500000", "1000000"],
                  "Sample counts at which to read the cumulative terminal reward (Table 1).")
flags.DEFINE_integer("window", 3, "Metric lines averaged for the final per-episode reward.",
                     lower_bound=1)

FLAGS = flags.FLAGS
TITLES = {"dens": "Issue 19: the hidden-stag game", "exploration": "Issue 19: samples to a threshold",
          "lbf": "Issue 20: Level-Based Foraging"}


def _sweeps_main():
  if not FLAGS.output_dir:
    sys.exit("report: --sweeps needs --output_dir")
  at = [int(a) for a in FLAGS.at_samples]
  try:
    tables = sweep_report.write_report(
        FLAGS.sweeps, FLAGS.output_dir, references_dir=FLAGS.references_dir,
        kl_ablation_dirs=FLAGS.kl_ablation, at_samples=at, k=FLAGS.best,
        preset_metrics_dir=FLAGS.preset_metrics or None,
        rerun_of=FLAGS.rerun_of,
        archive_dir=(None if FLAGS.archive_dir == "none"
                     else FLAGS.archive_dir or os.path.join(FLAGS.output_dir, "data")),
        command="python -m launch.report " + " ".join(sys.argv[1:]))
  except (OSError, ValueError) as e:
    sys.exit(f"report: {e}")
  for t in tables:
    for model, row in t["rows"].items():
      score = row["cumulative"][str(max(at))]
      print(f"{t['setting']} {t['configuration']} {model}: {row['finished']} of {row['trials']} "
            f"trials finished; best {len(row['best'])} mean "
            f"{sweeps.fmt(score['mean'] if score else None)} at {max(at):,} samples")
  print(f"wrote {FLAGS.output_dir}/report.md, summary.json and the figures")


def _latent_main():
  from mace_tf.analysis import latent_report  # pylint: disable=g-import-not-at-top
  if not FLAGS.output_dir:
    sys.exit("report: --latent_runs needs --output_dir")
  unfinished = []
  variants = latent_report.collect(FLAGS.latent_runs, FLAGS.inspections or FLAGS.output_dir,
                                   unfinished=unfinished)
  for run in unfinished:
    print(f"report: left out {run}: short of its num_samples (still training, or stopped)")
  if not variants:
    sys.exit(f"report: no runs named <variant>_s<seed> under {', '.join(FLAGS.latent_runs)}")
  rows = latent_report.write(FLAGS.output_dir, variants, unfinished,
                             FLAGS.title or "The latent: use and effect",
                             "python -m launch.report " + " ".join(sys.argv[1:]))
  print(f"wrote {FLAGS.output_dir}/report.md and summary.json ({len(rows)} variants)")


def main(argv):
  del argv
  command = "python -m launch.report " + " ".join(sys.argv[1:])
  reports = {"dens": lambda d, t: dens_report.write(d, t, command),
             "exploration": lambda d, t: exploration.write(d, t, command, FLAGS.exploration_sources),
             "lbf": lambda d, t: lbf_report.write(d, t, command, FLAGS.exploration_sources)}
  asked = [(name, FLAGS[name].value) for name in reports if FLAGS[name].value]
  try:
    for name, directory in asked:
      reports[name](directory, FLAGS.title or TITLES[name])
  except (OSError, ValueError) as e:
    sys.exit(f"report: {e}")
  if asked:
    return print("wrote " + ", ".join(f"{d}/report.md" for _, d in asked))
  if FLAGS.latent_runs:
    return _latent_main()
  if FLAGS.sweeps:
    if FLAGS.runs:
      sys.exit("report: give --runs or --sweeps, not both")
    return _sweeps_main()
  if not FLAGS.runs or not FLAGS.name:
    sys.exit("report: --runs and --name (or --sweeps and --output_dir) are required")
  out_dir = os.path.join(FLAGS.results_dir, FLAGS.name)
  try:
    summaries = run_report.write_report(
        FLAGS.runs, out_dir, title=FLAGS.title or FLAGS.name,
        at_samples=[int(a) for a in FLAGS.at_samples], window=FLAGS.window,
        command=command)
  except ValueError as e:
    sys.exit(f"report: {e}")
  fmt = tables.fmt
  for s in summaries:
    print(f"{s['label']}: final per-episode reward {fmt(s['episode_terminal_reward_final'])}, "
          f"greedy {fmt(s['greedy_terminal_reward'])} (success {fmt(s['greedy_success_rate'])}), "
          f"KL {fmt(s['kl_final'])}")
  print(f"wrote {out_dir}/report.md, summary.json, curves.png")


if __name__ == "__main__":
  launch.run(main)
