r"""Trains MACE, Shared or Cloned on a hunter game; checkpoints, metrics and SavedModels in --root_dir.

  python -m launch.train --flagfile=launch/stag20.flags --root_dir=runs/stag20_mace
  python -m launch.train --flagfile=launch/smoke.flags

Rerunning the same command resumes from the newest checkpoint in --root_dir.
"""

import os
import sys

from absl import app
from absl import flags

import launch
from launch import game_flags
from mace_tf.agents.mace.config import MODELS, OPTIMIZERS, MaceConfig
from mace_tf.train import checkpoints, train_lib

_d = MaceConfig()
_t = train_lib.TrainConfig()

flags.DEFINE_string("root_dir", "runs/train", "Directory of the run: checkpoints, summaries, "
                    "metrics.jsonl and export/; an existing run there is resumed.")
flags.DEFINE_enum("model", _d.model, list(MODELS), "mace: shared Gaussian latent (eq. 14-15); "
                  "shared: deterministic hidden layer instead; cloned: one head shared by all "
                  "agents; tfa_ppo: the stock TF-Agents PPO pipeline, as a baseline (needs "
                  "--grid_size >= 20).")
flags.DEFINE_integer("latent_dim", _d.latent_dim, "n, the size of the latent lambda.", lower_bound=1)
flags.DEFINE_float("learning_rate", _d.learning_rate, "eta, the optimizer's learning rate (Table 2).")
flags.DEFINE_enum("optimizer", _d.optimizer, list(OPTIMIZERS), "The optimizer.")
flags.DEFINE_float("gamma", _d.gamma, "The discount (Table 2).")
flags.DEFINE_float("gae_lambda", _d.gae_lambda, "tau, the GAE discount (Table 2).")
flags.DEFINE_float("vf_coef", _d.vf_coef, "alpha, the value-loss weight (eq. 33).")
flags.DEFINE_float("ent_coef", _d.ent_coef, "beta, the entropy weight (eq. 34).")
flags.DEFINE_float("kl_coef", _d.kl_coef, "Weight of KL(Q(lambda|s) || N(0, I)) (eq. 8; MACE only).")
flags.DEFINE_float("max_grad_norm", _d.max_grad_norm, "Global gradient-norm clip (0: none).")
flags.DEFINE_float("ppo_clip", _d.ppo_clip, "0: A2C update; > 0: PPO clipped surrogate epsilon.")
flags.DEFINE_integer("num_epochs", _d.num_epochs, "Updates per rollout (needs --ppo_clip > 0 if > 1).")
flags.DEFINE_list("conv_filters", [f"{f}:{k}:{s}" for f, k, s in _d.conv_filters],
                  "The trunk's CNN, one filters:kernel:stride per layer (kernel == stride: patch "
                  "layers, the fast kind).")
flags.DEFINE_integer("trunk_units", _d.trunk_units, "Size of phi(s), the dense layer after the CNN.")
flags.DEFINE_integer("local_units", _d.local_units, "Size of psi_i(s), each agent's own features.")
flags.DEFINE_integer("local_radius", _d.local_radius, "Each agent reads the (2r+1)^2 grid window "
                     "around its own cell.")
flags.DEFINE_integer("feature_radius", _d.feature_radius, "Each agent reads the (2R+1)^2 window "
                     "of the CNN feature map around its own cell.")
flags.DEFINE_integer("ego_bin", _d.ego_bin, "c > 0: each agent also reads the whole grid centred "
                     "on its own cell, summed over c x c cells ((G/c)^2 x 4 inputs); 0: off (the "
                     "paper-faithful network).", lower_bound=0)
flags.DEFINE_boolean("frozen_clock", _d.frozen_clock, "Stop a hunter's discount once it is frozen "
                     "(it takes no more decisions), so its terminal reward reaches its capture "
                     "undiscounted by the steps the others still play; false: the paper's "
                     "per-step discount for every agent.")
flags.DEFINE_boolean("normalize_advantages", _d.normalize_advantages, "Normalize each rollout's "
                     "advantages to mean 0, std 1 over counted agent-steps before the policy "
                     "gradient; false: as estimated (the paper).")
flags.DEFINE_integer("num_envs", _t.num_envs, "B, games played together.")
flags.DEFINE_integer("rollout_length", _t.rollout_length, "L, steps per game between updates.")
flags.DEFINE_integer("num_samples", _t.num_samples, "Samples to train on (one sample = one step of "
                     "one game).")
flags.DEFINE_integer("seed", _t.seed, "Seeds games, initialization and sampling.")
flags.DEFINE_integer("checkpoint_every", _t.checkpoint_every, "Samples between checkpoints and "
                     "SavedModel exports.")
flags.DEFINE_integer("log_every", _t.log_every, "Samples between metric lines.")
flags.DEFINE_integer("eval_every", _t.eval_every, "Samples between greedy evaluations (0: at the "
                     "end only).")
flags.DEFINE_integer("eval_episodes", _t.eval_episodes, "Episodes per greedy evaluation.")
flags.DEFINE_enum("collect", _t.collect, list(train_lib.COLLECT_MODES),
                  "graph: games in TensorFlow, collect-and-update compiled in one function (fast); "
                  "host: numpy games stepped from Python, one policy call per step.")
flags.DEFINE_enum("update", _t.update, ["auto", "batched", "taped"],
                  "--collect=graph's update: batched (one forward/backward pass over the rollout; "
                  "any --num_epochs), taped (differentiates the collection passes; 1 epoch) or "
                  "auto (taped for 1 epoch, else batched).")
flags.DEFINE_integer("intra_op_threads", _t.intra_op_threads, "TensorFlow's intra-op threads "
                     "(0: one per core); 1 is fastest on 2 cores for these small ops.")
flags.DEFINE_integer("inter_op_threads", _t.inter_op_threads, "TensorFlow's inter-op threads "
                     "(0: one per core).")
flags.DEFINE_boolean("progress", True, "Show a progress bar.")

FLAGS = flags.FLAGS


def _conv_filters(layers):
  try:
    return tuple(tuple(int(v) for v in layer.split(":")) for layer in layers)
  except ValueError:
    raise ValueError(f"--conv_filters takes filters:kernel:stride per layer, got {layers}") from None


def configs_from_flags():
  game = game_flags.game_config_from_flags()
  agent = MaceConfig(
      model=FLAGS.model, latent_dim=FLAGS.latent_dim, learning_rate=FLAGS.learning_rate,
      optimizer=FLAGS.optimizer, gamma=FLAGS.gamma, gae_lambda=FLAGS.gae_lambda,
      vf_coef=FLAGS.vf_coef, ent_coef=FLAGS.ent_coef, kl_coef=FLAGS.kl_coef,
      max_grad_norm=FLAGS.max_grad_norm, ppo_clip=FLAGS.ppo_clip, num_epochs=FLAGS.num_epochs,
      local_radius=FLAGS.local_radius, feature_radius=FLAGS.feature_radius,
      conv_filters=_conv_filters(FLAGS.conv_filters), trunk_units=FLAGS.trunk_units,
      local_units=FLAGS.local_units, ego_bin=FLAGS.ego_bin, frozen_clock=FLAGS.frozen_clock,
      normalize_advantages=FLAGS.normalize_advantages)
  train = train_lib.TrainConfig(
      num_envs=FLAGS.num_envs, rollout_length=FLAGS.rollout_length, num_samples=FLAGS.num_samples,
      seed=FLAGS.seed, checkpoint_every=FLAGS.checkpoint_every, log_every=FLAGS.log_every,
      eval_every=FLAGS.eval_every, eval_episodes=FLAGS.eval_episodes, collect=FLAGS.collect,
      update=FLAGS.update, intra_op_threads=FLAGS.intra_op_threads,
      inter_op_threads=FLAGS.inter_op_threads)
  return game, agent, train


def main(argv):
  if len(argv) > 1:
    sys.exit(f"train: unexpected arguments {argv[1:]} (flags are --name=value)")
  launch.quiet_logs()
  try:
    game, agent, train = configs_from_flags()
    os.makedirs(FLAGS.root_dir, exist_ok=True)
    with open(os.path.join(FLAGS.root_dir, "commands.txt"), "a") as f:
      f.write("python -m launch.train " + " ".join(sys.argv[1:]) + "\n")
    result = train_lib.train(root_dir=FLAGS.root_dir, game=game, agent_config=agent,
                             train_config=train, progress=FLAGS.progress)
  except (ValueError, checkpoints.CheckpointMismatchError) as e:
    sys.exit(f"train: {e}")
  keys = ("charts/episode_terminal_reward", "charts/success_rate", "eval/greedy_terminal_reward",
          "eval/greedy_success_rate", "charts/cumulative_terminal_reward", "perf/samples_per_s")
  print("final: " + ", ".join(f"{k}={result[k]:.4g}" for k in keys if k in result))
  print(f"run directory: {FLAGS.root_dir} (metrics.jsonl, summaries/, checkpoints/, export/)")


if __name__ == "__main__":
  app.run(main)
