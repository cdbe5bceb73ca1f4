r"""Benchmarks. `--what=env`: game steps/s of the batched numpy game with random actions.

  python -m launch.benchmark --what=env

The observation is built every step exactly as the policy consumes it (`observation.encode`).
Prints the median over `--repeats` timed runs after a warm-up and writes a JSON to `--output`.
"""

import json
import os
import platform
import sys
import time

from absl import app
from absl import flags
import numpy as np

from mace_tf.envs import hunters, rules

flags.DEFINE_enum("what", "env", ["env"], "What to measure: 'env', the game alone.")
flags.DEFINE_enum("game", rules.STAG, list(rules.GAME_KINDS), "Which game to step.")
flags.DEFINE_integer("batch_size", 64, "B, games stepped together.", lower_bound=1)
flags.DEFINE_integer("num_hunters", 20, "N.", lower_bound=1)
flags.DEFINE_integer("num_prey", 20, "M.", lower_bound=1)
flags.DEFINE_integer("grid_size", 50, "G.", lower_bound=1)
flags.DEFINE_integer("time_limit", 1000, "T.", lower_bound=1)
flags.DEFINE_boolean("moving_prey", False, "Randomly moving prey.")
flags.DEFINE_integer("steps", 1000, "Batched steps per timed run.", lower_bound=1)
flags.DEFINE_integer("repeats", 5, "Timed runs; the median is reported.", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the game and the random actions.", lower_bound=0)
flags.DEFINE_string("output", "results/benchmark_env.json", "Where to write the JSON result.")

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
      "machine": {"platform": platform.platform(), "processor": platform.processor(),
                  "cpus": os.cpu_count(), "python": platform.python_version(),
                  "numpy": np.__version__},
  }


def main(argv):
  del argv
  try:
    config = rules.GameConfig(
        kind=FLAGS.game, num_hunters=FLAGS.num_hunters, num_prey=FLAGS.num_prey,
        hit_points=2 if FLAGS.game == rules.STAG else 1, time_limit=FLAGS.time_limit,
        grid_size=FLAGS.grid_size, moving_prey=FLAGS.moving_prey)
  except ValueError as e:
    sys.exit(f"benchmark: {e}")
  result = benchmark_env(config, batch_size=FLAGS.batch_size, steps=FLAGS.steps,
                         repeats=FLAGS.repeats, seed=FLAGS.seed)
  result["command"] = "python -m launch.benchmark " + " ".join(sys.argv[1:])
  print(f"env: {FLAGS.game}, B={FLAGS.batch_size}, N={config.num_hunters}, M={config.num_prey}, "
        f"G={config.grid_size}: {result['game_steps_per_s']:,} game steps/s "
        f"({result['hunter_steps_per_s']:,} hunter-steps/s), runs {result['game_steps_per_s_runs']}")
  if FLAGS.output:
    out_dir = os.path.dirname(FLAGS.output)
    if out_dir:
      os.makedirs(out_dir, exist_ok=True)
    with open(FLAGS.output, "w") as f:
      json.dump(result, f, indent=2)
      f.write("\n")
    print(f"wrote {FLAGS.output}")


if __name__ == "__main__":
  app.run(main)
