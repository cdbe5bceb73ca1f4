r"""Random search over Table 2's ranges (appendix 8.2) on Ray Tune; every trial a full training run.

  python -m launch.sweep --flagfile=launch/stag10.flags --models=mace,shared,cloned,tfa_ppo \
      --trials=8 --sweep_dir=sweeps/stag10

The flagfile sets everything the search does not (a learning fix of the presets stays fixed). Each
trial trains in `<sweep_dir>/trials/<model>_tNNN/` (its own seed, metrics.jsonl, checkpoints,
exports). Rerunning continues: finished trials are skipped, unfinished ones resume from their
checkpoints. Local Ray by default; `--ray_address` joins an existing cluster.
"""

import dataclasses
import json
import os
import sys

from absl import flags

import launch
from launch import train as train_flags  # the flags of launch.train: game, configs, budgets
from mace_tf.sweep import search_space as ss
from mace_tf.sweep import trials as trials_lib
from mace_tf.train import checkpoints, train_lib

flags.DEFINE_list("models", ["mace", "shared", "cloned"], "Models to search, each with --trials.")
flags.DEFINE_integer("trials", 4, "Trials per model.", lower_bound=1)
flags.DEFINE_string("sweep_dir", None, "Directory of the sweep (required).")
flags.DEFINE_integer("sweep_seed", 0, "Seeds the draws of the trials' hyperparameters and seeds.")
flags.DEFINE_boolean("paired_draws", False, "Trial k of every model takes the same draws of the "
                     "axes all models share (Table 2's) and the same training seed; only MACE's "
                     "own axes differ. Default (false): each model its own draws, as the sweeps "
                     "of results/REPRODUCTION.md.")
flags.DEFINE_string("search_space", None, "A JSON file {name: [kind, low, high] or ['choice', ...]} "
                    "in place of Table 2's ranges.")
flags.DEFINE_string("ray_address", None, "An existing Ray cluster (host:port); default: local Ray.")
flags.DEFINE_integer("cpus_per_trial", 1, "CPUs per trial (also its TF thread pools).",
                     lower_bound=1)

FLAGS = flags.FLAGS


def _setting(game, agent, train) -> dict:
  """What a sweep directory is for: the game and the flagfile's configs (checked on rerun)."""
  return {"game": dataclasses.asdict(game), "agent": agent.flat_dict(),
          "num_samples": train.num_samples, "models": list(FLAGS.models),
          "sweep_seed": FLAGS.sweep_seed, "paired_draws": FLAGS.paired_draws}


def _check_sweep_dir(setting: dict) -> None:
  path = os.path.join(FLAGS.sweep_dir, "sweep.json")
  normalized = json.loads(json.dumps(setting))
  if os.path.exists(path):
    with open(path) as f:
      saved = json.load(f)
    defaults = train_lib.default_run_config()
    for key, old in (("game", checkpoints.with_defaults(saved.get("game", {}), defaults["game"])),
                     ("agent", checkpoints.with_defaults(saved.get("agent", {}),
                                                         defaults["agent"])),
                     ("sweep_seed", saved.get("sweep_seed")),
                     ("paired_draws", saved.get("paired_draws", False))):
      if old != normalized[key]:
        raise ValueError(f"{FLAGS.sweep_dir} holds a sweep of another setting ({key} differs): "
                         f"use another --sweep_dir")
  os.makedirs(FLAGS.sweep_dir, exist_ok=True)
  with open(path, "w") as f:
    json.dump(normalized, f, indent=2)


def _space():
  if FLAGS.search_space is None:
    return ss.TABLE2
  try:
    with open(FLAGS.search_space) as f:
      return ss.parse_space(json.load(f))
  except (OSError, json.JSONDecodeError) as e:
    raise ValueError(f"search space {FLAGS.search_space}: {e}") from None


def main(argv):
  if len(argv) > 1:
    sys.exit(f"sweep: unexpected arguments {argv[1:]}")
  launch.quiet_logs()
  if not FLAGS.sweep_dir:
    sys.exit("sweep: --sweep_dir is required")
  try:
    game, agent, train = train_flags.base_configs_from_flags()
    train = dataclasses.replace(train, intra_op_threads=FLAGS.cpus_per_trial, inter_op_threads=1)
    space = _space()
    _check_sweep_dir(_setting(game, agent, train))
    all_trials = ss.trials(space, models=FLAGS.models, count=FLAGS.trials,
                           sweep_seed=FLAGS.sweep_seed, paired=FLAGS.paired_draws)
    for t in all_trials:
      trials_lib.trial_configs(agent, train, t)  # a bad axis is one line here, not in a worker
  except ValueError as e:
    sys.exit(f"sweep: {e}")
  todo = [t for t in all_trials
          if not trials_lib.is_finished(FLAGS.sweep_dir, t, train.num_samples)]
  print(f"sweep: {len(all_trials) - len(todo)} of {len(all_trials)} trials finished, "
        f"{len(todo)} to run", flush=True)
  if todo:
    from mace_tf.sweep import tune_runner  # Ray is imported only when there is work
    try:
      tune_runner.run(FLAGS.sweep_dir, game, agent, train, todo, total=len(all_trials),
                      address=FLAGS.ray_address, cpus_per_trial=FLAGS.cpus_per_trial)
    except (tune_runner.RayUnavailableError, RuntimeError) as e:
      sys.exit(f"sweep: {e}")
  best = trials_lib.best_finished(FLAGS.sweep_dir, all_trials, train.num_samples)
  if best:
    print(f"sweep: best so far {best[0].name}: cumulative terminal reward {best[1]:,.0f}")


if __name__ == "__main__":
  launch.run(main)
