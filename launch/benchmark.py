r"""Benchmarks.

  python -m launch.benchmark --what=env        # game steps/s of the batched numpy game, random actions
  python -m launch.benchmark --what=train      # training samples/s: mace, shared, cloned, tfa_ppo
  python -m launch.benchmark --what=scaling    # training samples/s of mace against N and against G

`env`: the observation built every step as the policy consumes it. `train`: end-to-end training of learners built as `launch.train` builds them, after `--warmup`
iterations: the median of `--repeats` timed iterations in each of `--processes` fresh processes per
model (interleaved), and the median of those, on one game, B and L; `tfa_ppo`, the stock TF-Agents
pipeline, runs with TF's default threads and with `--threads` (the faster is the reference).
"""

import dataclasses
import json
import sys

import launch
from absl import flags

from launch import config_flags, game_flags
from mace_tf.agents.tfa_ppo_config import ALL_MODELS as MODELS
from mace_tf.analysis import benchmarking
from mace_tf.envs import rules

flags.DEFINE_enum("what", "env", ["env", "train", "scaling", "train_one"],
                  "What to measure: 'env' (the game alone), 'train' (training samples/s of every "
                  "model), 'scaling' (mace's samples/s against N and G); 'train_one' is the "
                  "per-model worker 'train' starts.")
flags.DEFINE_list("models", list(MODELS), "Models for --what=train.")
flags.DEFINE_string("model", "mace", "The model of --what=train_one.")
# B, L: the presets' (launch/presets/learning.flags); the first releases measured B = 16, L = 20.
flags.DEFINE_integer("num_envs", 32, "B for --what=train and scaling (the presets' B).",
                     lower_bound=1)
flags.DEFINE_integer("rollout_length", 10, "L for --what=train and scaling (the presets' L).",
                     lower_bound=1)
flags.DEFINE_integer("ego_bin", 5, "mace_tf's network for --what=train and scaling: the egocentric "
                     "whole-grid view's bin (5: the paper presets' learning network; 0: the "
                     "paper-faithful one).", lower_bound=0)
flags.DEFINE_boolean("learning_fixes", True, "mace_tf's learner with the Stag-Hunters presets' "
                     "frozen_clock, normalize_advantages, continuing_returns, "
                     "wall_clock_continuation, shared_head_base, value_norm and gradient clip of 2 "
                     "(false: the paper's).")
flags.DEFINE_string("collect", "graph", "mace_tf's collection loop for --what=train: graph or host.")
flags.DEFINE_string("threads", "1:2", "TensorFlow intra:inter-op threads of the mace_tf "
                    "models' workers (TrainConfig's default; 0 = TF's default).")
flags.DEFINE_string("worker_threads", "0:0", "intra:inter-op threads of a --what=train_one worker.")
config_flags.validate_threads("threads", "worker_threads")
config_flags.validate_subset("models", MODELS)
flags.DEFINE_integer("warmup", 10, "Untimed iterations first (tracing, allocation).", lower_bound=0)
flags.DEFINE_list("scaling_hunters", ["2", "5", "10", "20", "40"], "N values for --what=scaling.")
flags.DEFINE_list("scaling_grids", ["10", "25", "50", "100"], "G values for --what=scaling.")
flags.DEFINE_integer("batch_size", 64, "B, games stepped together (--what=env).", lower_bound=1)
flags.DEFINE_integer("steps", 1000, "Batched steps per timed run (--what=env).", lower_bound=1)
flags.DEFINE_integer("repeats", 5, "Timed runs or iterations; the median is reported.",
                     lower_bound=1)
flags.DEFINE_integer("processes", 3, "--what=train and scaling: fresh processes per measured "
                     "setting; the median of their medians is reported (this 2-vCPU machine has "
                     "slower spells of seconds that can fill a whole process).", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the game and the random actions.", lower_bound=0)
flags.DEFINE_string("output", None, "Where to write the JSON result (default: "
                    "results/benchmark_env.json, results/benchmark.json, results/scaling.json).")
# The benchmark's own game by default: the paper's largest setting, stag20 (game_flags' flags).
flags.FLAGS.set_default("num_hunters", 20), flags.FLAGS.set_default("num_prey", 20)

FLAGS = flags.FLAGS
DEFAULT_OUTPUT = {"env": "results/benchmark_env.json", "train": "results/benchmark.json",
                  "scaling": "results/scaling.json"}


def train_one(model: str, game: rules.GameConfig) -> dict:
  """--what=train_one: one model's training samples/s in this process, built by the builder."""
  from mace_tf.train import builder, train_lib
  import tensorflow as tf
  intra, inter = (int(v) for v in FLAGS.worker_threads.split(":"))
  train_lib.set_threads(intra_op=intra, inter_op=inter)
  tf.keras.utils.set_random_seed(FLAGS.seed)
  agent = benchmarking.agent_config(model, ego_bin=FLAGS.ego_bin,
                                    learning_fixes=FLAGS.learning_fixes)
  train = train_lib.TrainConfig(num_envs=FLAGS.num_envs, rollout_length=FLAGS.rollout_length,
                                seed=FLAGS.seed, collect=FLAGS.collect)
  learner = builder.make_learner(game, agent, train)
  learner.start(None)
  result = benchmarking.train_rate(learner, warmup=FLAGS.warmup, repeats=FLAGS.repeats)
  return dict(result, model=model, threads=FLAGS.worker_threads,
              collect="tfa_driver" if model == "tfa_ppo" else FLAGS.collect)


def worker(model: str, game: rules.GameConfig, threads: str = None) -> dict:
  same = [f"--{k}={FLAGS[k].value}" for k in ("num_envs", "rollout_length", "warmup", "repeats",
                                              "seed", "collect", "ego_bin", "learning_fixes")]
  try:
    return benchmarking.run_worker(["-m", "launch.benchmark", "--what=train_one", f"--model={model}",
                                    f"--worker_threads={threads or FLAGS.threads}",
                                    *game_flags.game_flag_args(game), *same])
  except RuntimeError as e:
    sys.exit(f"benchmark: {e}")


def main_train(game: rules.GameConfig) -> dict:
  settings = {}
  for model in FLAGS.models:
    for name, threads in ([("tfa_ppo_tf_default_threads", "0:0"), ("tfa_ppo", FLAGS.threads)]
                          if model == "tfa_ppo" else [(model, FLAGS.threads)]):
      settings[name] = (model, game, threads)
  runs = benchmarking.measure_all(settings, worker, processes=FLAGS.processes)
  benchmarking.report_ratios(runs)
  return {"what": "train", "config": dataclasses.asdict(game), "runs": runs,
          **{k: FLAGS[k].value for k in ("ego_bin", "learning_fixes", "num_envs", "rollout_length",
                                         "warmup", "repeats", "processes", "seed")}}


def main_scaling(game: rules.GameConfig) -> dict:
  settings = benchmarking.scaling_settings(game, hunters=[int(v) for v in FLAGS.scaling_hunters],
                                           grids=[int(v) for v in FLAGS.scaling_grids])
  runs = benchmarking.measure_all({k: ("mace", g) for k, g in settings.items()}, worker,
                                  processes=FLAGS.processes)
  result = benchmarking.scaling_rows(settings, runs)
  return dict(result, **{k: FLAGS[k].value for k in ("num_envs", "rollout_length", "warmup",
                                                     "repeats", "processes")})


def main(argv):
  del argv
  game = game_flags.game_config_or_exit("benchmark")
  if FLAGS.what == "train_one":
    import launch
    launch.quiet_logs()
    print(json.dumps(train_one(FLAGS.model, game)))
    return
  if FLAGS.what == "env":
    result = benchmarking.benchmark_env(game, batch_size=FLAGS.batch_size, steps=FLAGS.steps,
                                        repeats=FLAGS.repeats, seed=FLAGS.seed)
    print(f"env: {game.kind}, B={FLAGS.batch_size}, N={game.num_hunters}, M={game.num_prey}, "
          f"G={game.grid_size}: {result['game_steps_per_s']:,} game steps/s "
          f"({result['hunter_steps_per_s']:,} hunter-steps/s), runs "
          f"{result['game_steps_per_s_runs']}")
  else:
    result = (main_train if FLAGS.what == "train" else main_scaling)(game)
    result["machine"] = benchmarking.machine()
  path = FLAGS.output or DEFAULT_OUTPUT[FLAGS.what]
  benchmarking.write_json(result, path, "python -m launch.benchmark " + " ".join(sys.argv[1:]))
  print(f"wrote {path}")


if __name__ == "__main__":
  launch.run(main)
