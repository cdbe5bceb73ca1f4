r"""Trains MACE, Shared or Cloned on a hunter game; checkpoints, metrics and SavedModels in --root_dir.

  python -m launch.train --flagfile=launch/stag20.flags --root_dir=runs/stag20_mace
  python -m launch.train --flagfile=launch/smoke.flags

Rerunning the same command resumes from the newest checkpoint in --root_dir.
"""

import sys

from absl import flags

import launch
from launch import config_flags, game_flags
from mace_tf.agents import tfa_ppo_config
from mace_tf.agents.mace.config import OPTIMIZERS, MaceConfig
from mace_tf.networks.config import NetworkConfig
from mace_tf.train import checkpoints, train_lib

flags.DEFINE_string("root_dir", "runs/train", "Directory of the run: checkpoints, summaries, "
                    "metrics.jsonl and export/; an existing run there is resumed.")
# One flag per field of the three configs, help from their docstrings.
# --model also takes the stock TF-Agents PPO baseline, which reads Table 2's flags only.
config_flags.define_config_flags(MaceConfig, choices={"model": tfa_ppo_config.ALL_MODELS,
                                                      "optimizer": OPTIMIZERS})
config_flags.define_config_flags(NetworkConfig)
config_flags.define_config_flags(train_lib.TrainConfig, choices={
    "collect": train_lib.COLLECT_MODES, "update": train_lib.UPDATES})
flags.DEFINE_boolean("progress", True, "Show a progress bar.")

FLAGS = flags.FLAGS


def base_configs_from_flags():
  """(GameConfig, MaceConfig, TrainConfig) the flags describe, the learner's with model "mace" where
  --model is the stock baseline (a sweep's base, shared by its models); ValueError if invalid."""
  network = config_flags.config_from_flags(NetworkConfig)
  mace_model = {"model": "mace"} if FLAGS.model == tfa_ppo_config.TFA_PPO else {}
  return (game_flags.game_config_from_flags(),
          config_flags.config_from_flags(MaceConfig, network=network, **mace_model),
          config_flags.config_from_flags(train_lib.TrainConfig))


def main(argv):
  if len(argv) > 1:
    sys.exit(f"train: unexpected arguments {argv[1:]} (flags are --name=value)")
  launch.quiet_logs()
  try:
    game, base, train = base_configs_from_flags()
    agent = tfa_ppo_config.for_model(base, FLAGS.model)
    if FLAGS.model == tfa_ppo_config.TFA_PPO:
      ignored = tfa_ppo_config.not_applying(base.flat_dict())
      if ignored:
        print(f"train: the stock PPO baseline reads Table 2's flags only; ignoring "
              f"{', '.join('--' + name for name in ignored)}", file=sys.stderr)
    result = train_lib.train(root_dir=FLAGS.root_dir, game=game, agent_config=agent,
                             train_config=train, progress=FLAGS.progress,
                             command="python -m launch.train " + " ".join(sys.argv[1:]))
  except train_lib.TrainingInterrupted as e:
    print(f"train: {e}", file=sys.stderr)
    sys.exit(130)
  except (ValueError, checkpoints.CheckpointRestoreError, checkpoints.RunLockedError,
          train_lib.RunDirectoryError, train_lib.TrainingDivergedError) as e:
    sys.exit(f"train: {e}")
  except MemoryError:
    sys.exit("train: out of memory building the games or the network: reduce --grid_size, "
             "--num_envs or the network's sizes")
  keys = ("charts/episode_terminal_reward", "charts/success_rate", "eval/greedy_terminal_reward",
          "eval/greedy_success_rate", "charts/cumulative_terminal_reward", "perf/samples_per_s")
  print("final: " + ", ".join(f"{k}={result[k]:.4g}" for k in keys if k in result))
  print(f"run directory: {FLAGS.root_dir} (metrics.jsonl, summaries/, checkpoints/, export/)")


if __name__ == "__main__":
  launch.run(main)
