r"""The Table 1 analog of the runs at the paper's scale, with curves: results/paper_scale/.

  python -m launch.paper_scale --runs_dir=runs/paper_scale --output_dir=results/paper_scale

Reads `<runs_dir>/<setting>/<model>_s<seed>/` (what `scripts/paper_scale_runs.sh` trains) and the
reference rows `<output_dir>/references/<setting>_<policy>.json` (`launch.evaluate --policy=...
--budget_samples=1000000`, which that script also writes); writes `report.md`, `summary.json`,
`<setting>.png` (reward per episode, episode length and cumulative reward against samples, the
references as lines) and copies of every run's `metrics.jsonl` under `metrics/`.
"""

import os
import shlex
import shutil
import sys

import launch
from absl import flags

flags.DEFINE_string("runs_dir", "runs/paper_scale", "Where the runs are: <setting>/<model>_s<seed>.")
flags.DEFINE_string("output_dir", "results/paper_scale", "Where the report goes.")
flags.DEFINE_list("settings", None, "Settings to report (default: every one with runs).")
flags.DEFINE_string("title", "Learning at the paper's scale (50 x 50, issue 12)", "Report title.")
flags.DEFINE_string("made_by", "scripts/paper_scale_runs.sh", "What trained the runs (the report's note).")

FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    sys.exit(f"paper_scale: unexpected arguments {argv[1:]} (flags are --name=value)")
  from mace_tf.analysis import paper_scale  # pylint: disable=g-import-not-at-top
  settings = FLAGS.settings or [s for s in paper_scale.SETTINGS
                                if os.path.isdir(os.path.join(FLAGS.runs_dir, s))]
  unknown = [s for s in settings if s not in paper_scale.SETTINGS]
  if unknown or not settings:
    sys.exit(f"paper_scale: no runs to report in {FLAGS.runs_dir}" if not settings else
             f"paper_scale: unknown settings {unknown}; known: {list(paper_scale.SETTINGS)}")
  references_dir = os.path.join(FLAGS.output_dir, "references")
  os.makedirs(os.path.join(FLAGS.output_dir, "metrics"), exist_ok=True)
  tables = []
  for setting in settings:
    try:
      table = paper_scale.setting_table(FLAGS.runs_dir, references_dir, setting)
    except (OSError, ValueError, KeyError) as e:
      sys.exit(f"paper_scale: cannot read the runs of {setting}: {e}")
    tables.append(table)
    paper_scale.plot_setting(os.path.join(FLAGS.output_dir, f"{setting}.png"), table)
    for suffix, group in (("", table["models"]), ("_paper", table["paper_faithful"])):
      for model, m in group.items():
        for seed, run_dir in m["dirs"].items():
          shutil.copyfile(os.path.join(run_dir, "metrics.jsonl"), os.path.join(
              FLAGS.output_dir, "metrics", f"{setting}{suffix}_{model}_s{seed}.jsonl"))
    print(f"{setting}: " + ", ".join(
        f"{model} {len(m['runs'])} seed(s), median @ 1M "
        f"{(m['stats']['cumulative_1000000'] or {}).get('median', float('nan')):,.0f}"
        for model, m in sorted(table["models"].items())), flush=True)
  command = "python -m launch.paper_scale " + shlex.join(sys.argv[1:])  # quoted: reruns as is
  notes = [f"Made by `{command}` from the runs of `{FLAGS.made_by}` (their commands are in each "
           f"run's `commands.txt`; the metrics are copied under `metrics/`)."]
  with open(os.path.join(FLAGS.output_dir, "report.md"), "w") as f:
    f.write(paper_scale.markdown(tables, FLAGS.title, notes))
  launch.write_json(os.path.join(FLAGS.output_dir, "summary.json"),
                    {"command": command, "settings": tables})
  print(f"wrote {FLAGS.output_dir}/report.md, summary.json and one PNG per setting")


if __name__ == "__main__":
  launch.run(main)
