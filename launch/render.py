r"""Plays one episode of a hunter game with a uniformly random policy, writes a GIF, prints statistics.

  python -m launch.render --game=hare --num_hunters=10 --num_prey=10 --output=runs/random.gif
"""

import math
import os

import launch
from absl import flags
import numpy as np

from launch import game_flags
from mace_tf.envs import hunters, render, rules

flags.DEFINE_string("output", "runs/random_episode.gif", "Where to write the GIF.")
flags.DEFINE_integer("seed", 0, "Seeds the game and the random policy.", lower_bound=0)
flags.DEFINE_integer("max_frames", 200,
                     "At most this many frames in the GIF: every k-th step is drawn, k chosen so.",
                     lower_bound=1)
flags.DEFINE_integer("cell_pixels", None, "Pixels per grid cell (default: about 400 px in all).",
                     lower_bound=1)

FLAGS = flags.FLAGS


def play_random_episode(config: rules.GameConfig, *, seed: int, max_frames: int,
                        cell_pixels=None):
  """One episode with uniformly random actions: (frames, statistics dict)."""
  env = hunters.make_game(config, batch_size=1, seed=seed)
  rng = np.random.default_rng(seed + 1)
  stride = max(1, math.ceil((config.time_limit + 1) / max_frames))
  time_step = env.reset()
  frames = [env.render(cell_pixels=cell_pixels)]
  steps = 0
  while not time_step.is_last()[0]:
    time_step = env.step(rng.integers(0, rules.NUM_ACTIONS, size=(1, config.num_hunters),
                                      dtype=np.int32))
    steps += 1
    if steps % stride == 0 or time_step.is_last()[0]:
      frames.append(env.render(cell_pixels=cell_pixels))
  stats = {k: v[0].item() for k, v in env.pop_episode_stats().items()}
  return frames, stats


def main(argv):
  del argv
  config = game_flags.game_config_or_exit("render")
  frames, stats = play_random_episode(config, seed=FLAGS.seed, max_frames=FLAGS.max_frames,
                                      cell_pixels=FLAGS.cell_pixels)
  out_dir = os.path.dirname(FLAGS.output)
  if out_dir:
    os.makedirs(out_dir, exist_ok=True)
  render.write_gif(FLAGS.output, frames)
  print(f"game: {config}")
  print("random-policy episode: " + ", ".join(f"{k}={v}" for k, v in stats.items()))
  print(f"wrote {len(frames)} frames to {FLAGS.output}")


if __name__ == "__main__":
  launch.run(main)
