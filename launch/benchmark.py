r"""Benchmarks.

  python -m launch.benchmark --what=env        # game steps/s of the batched numpy game, random actions
  python -m launch.benchmark --what=train      # training samples/s: mace, shared, cloned, tfa_ppo
  python -m launch.benchmark --what=scaling    # training samples/s of mace against N and against G

`env`: the observation is built every step exactly as the policy consumes it (`observation.encode`).
`train`: end-to-end training (collection + updates) after `--warmup` iterations: the median of
`--repeats` timed iterations in each of `--processes` fresh processes per model (its own, so that its
peak memory is its own; rounds interleave the models), and the median of those medians, on the same
game, observation, batch and rollout length; `tfa_ppo` is the stock TF-Agents pipeline
(`mace_tf/agents/tfa_ppo.py`: TFPyEnvironment + DynamicStepDriver + PPOClipAgent, 1 epoch, no
observation normalizer). Prints the ratios to tfa_ppo and writes a JSON to `--output`.
"""

import dataclasses
import json
import os
import platform
import sys
import time

from absl import app
from absl import flags
import numpy as np

from mace_tf.envs import hunters, rules

flags.DEFINE_enum("what", "env", ["env", "train", "scaling", "train_one"],
                  "What to measure: 'env' (the game alone), 'train' (training samples/s of every "
                  "model), 'scaling' (mace's samples/s against N and G); 'train_one' is the "
                  "per-model worker 'train' starts.")
flags.DEFINE_list("models", ["mace", "shared", "cloned", "tfa_ppo"], "Models for --what=train.")
flags.DEFINE_string("model", "mace", "The model of --what=train_one.")
flags.DEFINE_integer("num_envs", 16, "B for --what=train and scaling.", lower_bound=1)
flags.DEFINE_integer("rollout_length", 20, "L for --what=train and scaling.", lower_bound=1)
flags.DEFINE_integer("ego_bin", 5, "mace_tf's network for --what=train and scaling: the egocentric "
                     "whole-grid view's bin (5: the paper presets' learning network; 0: the "
                     "paper-faithful one).", lower_bound=0)
flags.DEFINE_boolean("learning_fixes", True, "mace_tf's loss with the presets' frozen_clock and "
                     "normalize_advantages (false: the paper's).")
flags.DEFINE_string("collect", "graph", "mace_tf's collection loop for --what=train: graph or host.")
flags.DEFINE_string("threads", "1:2", "TensorFlow intra:inter-op threads of the mace_tf "
                    "models' workers (TrainConfig's default; 0 = TF's default). tfa_ppo is measured "
                    "with TF's defaults and with these, and the faster of the two is the reference.")
flags.DEFINE_string("worker_threads", "0:0", "intra:inter-op threads of a --what=train_one worker.")
flags.DEFINE_integer("warmup", 10, "Untimed iterations first (tracing, allocation; the first "
                     "iterations run slower).", lower_bound=0)
flags.DEFINE_list("scaling_hunters", ["2", "5", "10", "20", "40"], "N values for --what=scaling.")
flags.DEFINE_list("scaling_grids", ["10", "25", "50", "100"], "G values for --what=scaling.")
flags.DEFINE_enum("game", rules.STAG, list(rules.GAME_KINDS), "Which game to step.")
flags.DEFINE_integer("batch_size", 64, "B, games stepped together.", lower_bound=1)
flags.DEFINE_integer("num_hunters", 20, "N.", lower_bound=1)
flags.DEFINE_integer("num_prey", 20, "M.", lower_bound=1)
flags.DEFINE_integer("grid_size", 50, "G.", lower_bound=1)
flags.DEFINE_integer("time_limit", 1000, "T.", lower_bound=1)
flags.DEFINE_boolean("moving_prey", False, "Randomly moving prey.")
flags.DEFINE_integer("steps", 1000, "Batched steps per timed run (--what=env).", lower_bound=1)
flags.DEFINE_integer("repeats", 5, "Timed runs or iterations; the median is reported.",
                     lower_bound=1)
flags.DEFINE_integer("processes", 3, "--what=train and scaling: fresh processes per measured "
                     "setting, run in interleaved rounds; the median of their medians is reported "
                     "(this 2-vCPU machine has slower spells of seconds that can fill a whole process, "
                     "see BUILD_NOTES.md).",
                     lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the game and the random actions.", lower_bound=0)
flags.DEFINE_string("output", None, "Where to write the JSON result (default: "
                    "results/benchmark_env.json, results/benchmark.json, results/scaling.json).")

FLAGS = flags.FLAGS


def benchmark_env(config: rules.GameConfig, *, batch_size: int, steps: int, repeats: int,
                  seed: int) -> dict:
  """Game steps/s (one game step = one step of one of the B games) with random actions."""
  env = hunters.make_game(config, batch_size=batch_size, seed=seed)
  rng = np.random.default_rng(seed + 1)
  shape = (batch_size, config.num_hunters)
  env.reset()

  def run(n):
    start = time.perf_counter()
    for _ in range(n):
      env.step(rng.integers(0, rules.NUM_ACTIONS, size=shape, dtype=np.int32))
    return time.perf_counter() - start

  run(min(steps, 100))  # warm-up
  rates = [steps * batch_size / run(steps) for _ in range(repeats)]
  episodes = env.pop_episode_stats()
  median = float(np.median(rates))
  return {
      "what": "env",
      "config": {"game": config.kind, "num_hunters": config.num_hunters,
                 "num_prey": config.num_prey, "hit_points": config.hit_points,
                 "time_limit": config.time_limit, "grid_size": config.grid_size,
                 "moving_prey": config.moving_prey, "batch_size": batch_size},
      "steps_per_run": steps, "repeats": repeats, "seed": seed,
      "game_steps_per_s_runs": [round(r) for r in rates],
      "game_steps_per_s": round(median),
      "hunter_steps_per_s": round(median * config.num_hunters),
      "episodes_finished": int(episodes["length"].size),
      "machine": machine(),
  }


def machine() -> dict:
  return {"platform": platform.platform(), "processor": platform.processor(),
          "cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__}


def benchmark_train_one(model: str, config: rules.GameConfig, *, num_envs: int,
                        rollout_length: int, warmup: int, repeats: int, seed: int,
                        collect: str) -> dict:
  """Training samples/s of one model in this process (median over timed iterations)."""
  import resource

  import tensorflow as tf
  intra, inter = (int(v) for v in FLAGS.worker_threads.split(":"))
  tf.config.threading.set_intra_op_parallelism_threads(intra)
  tf.config.threading.set_inter_op_parallelism_threads(inter)

  if model == "tfa_ppo":
    from mace_tf.agents.tfa_ppo import TFAPPOLoop
    loop = TFAPPOLoop(config, num_envs=num_envs, rollout_length=rollout_length, seed=seed)
    run = lambda: loop.run_iteration()[1]
  else:
    from tf_agents.specs import tensor_spec
    from mace_tf.agents.mace.agent import MaceAgent
    from mace_tf.agents.mace.config import MaceConfig, NetworkConfig
    from mace_tf.fast import graph_loop
    from mace_tf.train import train_lib
    tf.random.set_seed(seed)
    env = hunters.make_game(config, batch_size=num_envs, seed=seed)
    agent = MaceAgent(tensor_spec.from_spec(env.time_step_spec()),
                      tensor_spec.from_spec(env.action_spec()),
                      config=MaceConfig(model=model, network=NetworkConfig(ego_bin=FLAGS.ego_bin),
                                        frozen_clock=FLAGS.learning_fixes,
                                        normalize_advantages=FLAGS.learning_fixes))
    if collect == "graph":
      loop = graph_loop.GraphLoop(agent, config, num_envs=num_envs, rollout_length=rollout_length,
                                  seed=seed)
    else:
      env.reset()
      loop = train_lib.HostLoop(agent, env, rollout_length=rollout_length, seed=seed)
    run = lambda: (loop.run_iteration(), num_envs * rollout_length)[1]
  for _ in range(warmup):
    run()
  rates = []
  for _ in range(repeats):
    start = time.perf_counter()
    samples = run()
    rates.append(samples / (time.perf_counter() - start))
  return {"model": model, "samples_per_s": float(np.median(rates)),
          "samples_per_s_runs": [round(r) for r in rates],
          "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
          "collect": "tfa_driver" if model == "tfa_ppo" else collect,
          "threads": FLAGS.worker_threads}


def _run_worker(model: str, config: rules.GameConfig, threads: str = None) -> dict:
  """`--what=train_one` in a fresh process; returns its JSON line."""
  import subprocess
  args = [sys.executable, "-m", "launch.benchmark", "--what=train_one", f"--model={model}",
          f"--game={config.kind}", f"--num_hunters={config.num_hunters}",
          f"--num_prey={config.num_prey}", f"--grid_size={config.grid_size}",
          f"--time_limit={config.time_limit}", f"--moving_prey={config.moving_prey}",
          f"--num_envs={FLAGS.num_envs}", f"--rollout_length={FLAGS.rollout_length}",
          f"--warmup={FLAGS.warmup}", f"--repeats={FLAGS.repeats}", f"--seed={FLAGS.seed}",
          f"--collect={FLAGS.collect}", f"--worker_threads={threads or FLAGS.threads}",
          f"--ego_bin={FLAGS.ego_bin}", f"--learning_fixes={FLAGS.learning_fixes}"]
  p = subprocess.run(args, capture_output=True, text=True)
  if p.returncode != 0:
    sys.exit(f"benchmark: the {model} worker failed:\n{p.stderr[-3000:]}")
  return json.loads(p.stdout.strip().splitlines()[-1])


def _game(**overrides) -> rules.GameConfig:
  settings = dict(kind=FLAGS.game, num_hunters=FLAGS.num_hunters, num_prey=FLAGS.num_prey,
                  hit_points=2 if FLAGS.game == rules.STAG else 1, time_limit=FLAGS.time_limit,
                  grid_size=FLAGS.grid_size, moving_prey=FLAGS.moving_prey)
  settings.update(overrides)
  return rules.GameConfig(**settings)


def _write(result: dict, default_path: str) -> None:
  path = FLAGS.output or default_path
  result["command"] = "python -m launch.benchmark " + " ".join(sys.argv[1:])
  out_dir = os.path.dirname(path)
  if out_dir:
    os.makedirs(out_dir, exist_ok=True)
  with open(path, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
  print(f"wrote {path}")


def _measure_all(settings) -> dict:
  """Each of `settings` (name -> (model, game, threads)) in `--processes` fresh worker processes,
  interleaved by round (so that a slow spell of the machine is shared); per name the worker results
  of the first round, with `samples_per_s` the median of the processes' medians."""
  per_name = {name: [] for name in settings}
  for round_ in range(FLAGS.processes):
    for name, (model, game, threads) in settings.items():
      r = _run_worker(model, game, threads)
      per_name[name].append(r)
      print(f"  round {round_ + 1}/{FLAGS.processes}: {name} {r['samples_per_s']:,.0f} samples/s",
            flush=True)
  out = {}
  for name, results in per_name.items():
    medians = [r["samples_per_s"] for r in results]
    out[name] = dict(results[0], samples_per_s=float(np.median(medians)),
                     process_medians=[round(m) for m in medians],
                     samples_per_s_runs=[x for r in results for x in r["samples_per_s_runs"]],
                     peak_rss_mib=max(r["peak_rss_mib"] for r in results))
  return out


def main_train(config: rules.GameConfig) -> None:
  settings = {}
  for model in FLAGS.models:
    for name, threads in ([("tfa_ppo_tf_default_threads", "0:0"), ("tfa_ppo", FLAGS.threads)]
                          if model == "tfa_ppo" else [(model, FLAGS.threads)]):
      settings[name] = (model, config, threads)
  runs = _measure_all(settings)
  for name, r in runs.items():
    print(f"{name} (threads {r['threads']}): {r['samples_per_s']:,.0f} samples/s (process "
          f"medians {r['process_medians']}), peak RSS {r['peak_rss_mib']:,.0f} MiB", flush=True)
  if "tfa_ppo" in runs:
    # The stock pipeline's better thread setting is the reference.
    best = max(("tfa_ppo", "tfa_ppo_tf_default_threads"), key=lambda k: runs[k]["samples_per_s"])
    base = runs[best]["samples_per_s"]
    print(f"reference: {best}")
    for model, r in runs.items():
      r["ratio_to_tfa_ppo"] = r["samples_per_s"] / base
      print(f"{model} / tfa_ppo = {r['ratio_to_tfa_ppo']:.2f}x")
  _write({"what": "train", "config": dataclasses.asdict(config), "ego_bin": FLAGS.ego_bin,
          "learning_fixes": FLAGS.learning_fixes, "num_envs": FLAGS.num_envs,
          "rollout_length": FLAGS.rollout_length, "warmup": FLAGS.warmup,
          "repeats": FLAGS.repeats, "processes": FLAGS.processes, "seed": FLAGS.seed, "runs": runs,
          "machine": machine()},
         "results/benchmark.json")


def main_scaling() -> None:
  settings, axes = {}, {}  # name -> (model, game, threads); name -> (the row's axis, value)
  for n in (int(v) for v in FLAGS.scaling_hunters):
    game = _game(num_hunters=n, num_prey=max(2, n - n % 2) if FLAGS.game == rules.STAG else n)
    settings[f"N = {n}"], axes[f"N = {n}"] = ("mace", game, None), ("num_hunters", n)
  for g in (int(v) for v in FLAGS.scaling_grids):
    settings[f"G = {g}"], axes[f"G = {g}"] = ("mace", _game(grid_size=g), None), ("grid_size", g)
  runs = _measure_all(settings)
  rows = {"num_hunters": [], "grid_size": []}
  for name, r in runs.items():
    _, game, _ = settings[name]
    axis, value = axes[name]
    row = {axis: value, "samples_per_s": r["samples_per_s"],
           "process_medians": r["process_medians"]}
    if axis == "num_hunters":
      row["num_prey"] = game.num_prey
    rows[axis].append(row)
    print(f"N = {game.num_hunters}, M = {game.num_prey}, G = {game.grid_size}: "
          f"{r['samples_per_s']:,.0f} samples/s (process medians {r['process_medians']})",
          flush=True)
  first, last = rows["num_hunters"][0], rows["num_hunters"][-1]
  drop = first["samples_per_s"] / last["samples_per_s"]
  print(f"samples/s falls {drop:.2f}x from N = {first['num_hunters']} to N = {last['num_hunters']}")
  _write({"what": "scaling", "num_envs": FLAGS.num_envs, "rollout_length": FLAGS.rollout_length,
          "warmup": FLAGS.warmup, "repeats": FLAGS.repeats, "processes": FLAGS.processes,
          "rows": rows, "fall_from_first_to_last_n": drop, "machine": machine()},
         "results/scaling.json")


def main(argv):
  del argv
  try:
    config = _game()
  except ValueError as e:
    sys.exit(f"benchmark: {e}")
  if FLAGS.what == "train_one":
    import launch
    launch.quiet_logs()
    print(json.dumps(benchmark_train_one(
        FLAGS.model, config, num_envs=FLAGS.num_envs, rollout_length=FLAGS.rollout_length,
        warmup=FLAGS.warmup, repeats=FLAGS.repeats, seed=FLAGS.seed, collect=FLAGS.collect)))
    return
  if FLAGS.what == "train":
    main_train(config)
    return
  if FLAGS.what == "scaling":
    main_scaling()
    return
  result = benchmark_env(config, batch_size=FLAGS.batch_size, steps=FLAGS.steps,
                         repeats=FLAGS.repeats, seed=FLAGS.seed)
  print(f"env: {FLAGS.game}, B={FLAGS.batch_size}, N={config.num_hunters}, M={config.num_prey}, "
        f"G={config.grid_size}: {result['game_steps_per_s']:,} game steps/s "
        f"({result['hunter_steps_per_s']:,} hunter-steps/s), runs {result['game_steps_per_s_runs']}")
  _write(result, "results/benchmark_env.json")


if __name__ == "__main__":
  app.run(main)
