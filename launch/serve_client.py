r"""Plays episodes with a policy served by TF Serving (REST predict API, signature `action`).

  docker run -p 8501:8501 -v $PWD/runs/smoke/export/greedy_policy:/models/greedy_policy \
      -e MODEL_NAME=greedy_policy tensorflow/serving
  python -m launch.serve_client --server=http://localhost:8501 --model=greedy_policy \
      --flagfile=launch/games/fig1.flags

One request per step carries all K games (a batch of K in the columnar `inputs`); the game flags must describe the game
the served policy was trained on.
"""

import json
import sys

import launch
from absl import flags

from launch import game_flags

flags.DEFINE_string("server", "http://localhost:8501", "TF Serving's REST address.")
flags.DEFINE_string("model", "greedy_policy", "The served model's name (MODEL_NAME).")
flags.DEFINE_integer("version", None, "A model version to ask for (default: the newest served).",
                     lower_bound=1)
flags.DEFINE_integer("episodes", 10, "K, episodes to play (one per game of a batch).", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seeds the start positions.", lower_bound=0)
flags.DEFINE_float("timeout", 30.0, "Seconds to wait for each answer.")
flags.DEFINE_string("output", None, "Also write the summary JSON here.")

FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    sys.exit(f"serve_client: unexpected arguments {argv[1:]} (flags are --name=value)")
  from mace_tf.deploy import evaluation, serving  # pylint: disable=g-import-not-at-top
  try:
    game = game_flags.game_config_from_flags()
    client = serving.ServingClient(FLAGS.server, FLAGS.model, version=FLAGS.version,
                                   timeout=FLAGS.timeout)
    print(f"playing {FLAGS.episodes} episodes through {client.url}", flush=True)
    per_episode, _ = evaluation.play_episodes(client.action, game, episodes=FLAGS.episodes,
                                              seed=FLAGS.seed)
  except (ValueError, serving.ServingError) as e:
    sys.exit(f"serve_client: {e}")
  summary = evaluation.summarize(per_episode)
  low, high = summary["terminal_reward_ci95"]
  print(f"terminal reward per episode: {summary['terminal_reward_mean']:.3f} (95% interval "
        f"{low:.3f} .. {high:.3f}); success rate {summary['success_rate']:.3f}; mean length "
        f"{summary['episode_length']['mean']:.1f}")
  if FLAGS.output:
    try:
      with open(FLAGS.output, "w") as f:
        json.dump(summary, f, indent=2)
    except OSError as e:
      sys.exit(f"serve_client: cannot write --output={FLAGS.output}: {e.strerror or e}")
    print(f"wrote {FLAGS.output}")


if __name__ == "__main__":
  launch.run(main)
