r"""What the latent learned: t-test map, episode snapshots, and how much the latent drives actions.

  python -m launch.inspect_latent --saved_model=runs/fig1_s2/mace/export/policy \
      --flagfile=launch/games/fig1.flags --output_dir=results/fig1_2v2/mace/latent

Needs the sampling policy's export (`.../export/policy`, which has the `joint_action` and `latent`
signatures). Writes significance.png (component x agent map of two-sided t-tests, alpha as the
paper's figure 5), snapshots.png (an episode with arrows, figure 6) and inspect_latent.json, and
prints beside the t-tests I(a_i; eps | s) and I(a_i; a_j | s) at fixed states (0 for Shared and
Cloned by construction): the t-test alone also fires on Shared's deterministic hidden layer.
"""

import os
import sys

from absl import flags
import numpy as np

import launch
from launch import game_flags

flags.DEFINE_string("saved_model", None, "The sampling policy's export: .../export/policy or "
                    ".../export/policy/<version>.")
flags.DEFINE_integer("episodes", 200, "Episodes to roll out (one per game of a batch).",
                     lower_bound=1)
flags.DEFINE_float("alpha", 0.1, "Significance level of the t-tests (the paper: 0.1).")
flags.DEFINE_integer("num_states", 100, "States at which the information terms are estimated.",
                     lower_bound=1)
flags.DEFINE_integer("num_draws", 256, "Draws of eps per state for the information terms.",
                     lower_bound=2)
flags.DEFINE_integer("seed", 0, "Seeds the games, the policy's draws and the state choice.",
                     lower_bound=0)
flags.DEFINE_string("output_dir", "runs/inspect_latent", "Where the PNGs and JSON go.")
flags.DEFINE_string("label", None, "Name in titles (default: the SavedModel path).")
flags.mark_flag_as_required("saved_model")

FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    sys.exit(f"inspect_latent: unexpected arguments {argv[1:]} (flags are --name=value)")
  launch.quiet_logs()
  from mace_tf.deploy import latent_inspection as li  # pylint: disable=g-import-not-at-top
  game, policy = game_flags.saved_policy_for_game("inspect_latent", FLAGS.saved_model,
                                                  signature="latent")
  path = policy.path
  label = FLAGS.label or path
  print(f"rolling out {FLAGS.episodes} episodes with {path}", flush=True)
  steps = li.rollout(policy, game, episodes=FLAGS.episodes, seed=FLAGS.seed)
  tests = li.latent_action_ttests(steps["latent"], steps["action"], steps["active"],
                                  alpha=FLAGS.alpha)
  info = li.latent_information(policy, steps["observation"], num_states=FLAGS.num_states,
                               num_draws=FLAGS.num_draws, seed=FLAGS.seed)
  split = li.assignment_ttests(steps, game.grid_size)
  os.makedirs(FLAGS.output_dir, exist_ok=True)
  li.plot_significance(os.path.join(FLAGS.output_dir, "significance.png"), tests,
                       title=f"{label}\nlatent vs actions, two-sided t-test, alpha = {FLAGS.alpha}")
  li.plot_snapshots(os.path.join(FLAGS.output_dir, "snapshots.png"), steps, game,
                    title=f"{label}: episode 0 (arrows: moves)")
  d, n = tests["min_p"].shape
  print(f"{len(steps['t'])} steps, success rate {steps['success'].mean():.3f}")
  print(f"t-test map (component x agent; * = significant at alpha {FLAGS.alpha}, "
        f"Bonferroni over actions):")
  for k in range(d):
    cells = " ".join(f"{tests['min_p'][k, i]:8.2g}{'*' if tests['significant'][k, i] else ' '}"
                     for i in range(n))
    print(f"  lambda_{k}: {cells}")
  print(f"significant cells: {int(tests['significant'].sum())} of {d * n}")
  print("I(a_i; eps | s), nats, per agent (mean over "
        f"{len(info['states'])} states): " + " ".join(f"{v:.4f}" for v in info["action_noise"]))
  coupling = info["action_coupling"]
  pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
  if pairs:
    values = np.array([coupling[i, j] for i, j in pairs])
    print(f"I(a_i; a_j | s), nats, over {len(pairs)} pairs: mean {values.mean():.4f}, "
          f"max {values.max():.4f}")
  if split["episodes_nearer"] + split["episodes_other"]:
    print(f"prey split (2 v 2): hunter 0 took its nearer prey in {split['episodes_nearer']} "
          f"episodes, the other in {split['episodes_other']}; per component p (t-test between the "
          f"two kinds of episode): " + " ".join(f"{v:.2g}" for v in split["p"]))
  result = {
      "saved_model": os.path.abspath(path), "seed": FLAGS.seed, "episodes": FLAGS.episodes,
      "steps": int(len(steps["t"])), "success_rate": float(steps["success"].mean()),
      "alpha": FLAGS.alpha, "min_p": tests["min_p"].tolist(), "p": tests["p"].tolist(),
      "significant": tests["significant"].astype(int).tolist(),
      "significant_cells": int(tests["significant"].sum()),
      "action_noise_information": info["action_noise"].tolist(),
      "action_coupling_information": np.nan_to_num(coupling, nan=0.0).tolist(),
      "num_states": len(info["states"]), "num_draws": FLAGS.num_draws,
      "prey_split": {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in split.items()},
      "command": "python -m launch.inspect_latent " + " ".join(sys.argv[1:]),
  }
  out = os.path.join(FLAGS.output_dir, "inspect_latent.json")
  launch.write_json(out, result)
  print(f"wrote {out}, significance.png, snapshots.png")


if __name__ == "__main__":
  launch.run(main)
