r"""Diagnostics of learning at the paper's scale: the capacity probe, the credit gaps, the stall.

  python -m launch.diagnose --what=capacity --flagfile=launch/games/stag10.flags --ego_bins=0,5
  python -m launch.diagnose --what=credit --flagfile=launch/games/stag10.flags
  python -m launch.diagnose --what=stall --flagfile=launch/games/stag10.flags \
      --saved_model=runs/stag10/export/greedy_policy --episodes=500 --seed=1
  python -m launch.diagnose --what=captures --flagfile=launch/games/hare10.flags \
      --saved_model=runs/hare10/export/policy --policies=nearest,assigned --episodes=64 --seed=3
  python -m launch.diagnose --what=values --flagfile=launch/games/stag10.flags \
      --saved_model=runs/stag10/export/policy --episodes=128 --seed=1

capacity: fits each network's heads, supervised, to the `nearest` reference policy's actions on
states from play (half nearest, half random actions) and reports the action agreement on held-out
games: can the network represent pursuit at all? A diagnostic only; no learner trains on it.
credit: per reference policy, the steps between each capture and the terminal reward it earns, and
what gamma^gap leaves of it. stall: plays an exported policy and reports, for the episodes still
running at --stall_after, which hunters and prey are left and what the active hunters do (their
actions, and how many cells they visit to the end). captures: per policy (--policies, and the export
--saved_model if given), the median step of each episode's k-th capture and the episodes' length:
where an episode's steps go. values: a sampling export's critics (lambda = mu) per hunter status
(active, frozen on a hare, on a stag), steps --values_first..--values_last. JSON to --output.
"""

import dataclasses
import os
import sys

from absl import flags

import launch
from launch import game_flags

flags.DEFINE_enum("what", "capacity", ["capacity", "credit", "stall", "captures", "values"],
                  "Which diagnostic to run.")
flags.DEFINE_list("ego_bins", ["0", "5"], "capacity: the networks to probe, by --ego_bin (0: the "
                  "paper-faithful network; c > 0: with the egocentric whole-grid view).")
flags.DEFINE_integer("local_units", 32, "capacity: psi_i's width in the probed networks.",
                     lower_bound=1)
flags.DEFINE_enum("model", "mace", ["mace", "shared", "cloned"], "capacity: the model whose "
                  "network is probed.")
flags.DEFINE_integer("fit_steps", 2000, "capacity: supervised steps.", lower_bound=1)
flags.DEFINE_integer("steps_per_game", 300, "capacity: steps of play recorded per game.",
                     lower_bound=1)
flags.DEFINE_list("policies", ["random", "nearest"], "credit and captures: the reference policies "
                  "to play.")
flags.DEFINE_integer("episodes", 200, "credit, stall and captures: episodes per policy.",
                     lower_bound=1)
flags.DEFINE_string("saved_model", None, "stall (needed) and captures: the exported policy, "
                    ".../export/<policy>[/<version>] (its greedy_policy for the greedy stall).")
flags.DEFINE_integer("stall_after", 500, "stall: the step at which running episodes count as stalled.",
                     lower_bound=1)
flags.DEFINE_integer("values_first", 5, "values: the first step of an episode counted.",
                     lower_bound=0)
flags.DEFINE_integer("values_last", 20, "values: the last step of an episode counted.",
                     lower_bound=0)
flags.DEFINE_integer("seed", 0, "Seeds the games and the fit.", lower_bound=0)
flags.DEFINE_string("output", None, "Where the JSON goes (default: "
                    "results/paper_scale/diagnosis/<what>_<game>.json).")

FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    sys.exit(f"diagnose: unexpected arguments {argv[1:]} (flags are --name=value)")
  launch.quiet_logs()
  from mace_tf.analysis import diagnostics  # pylint: disable=g-import-not-at-top
  from mace_tf.agents import reference  # pylint: disable=g-import-not-at-top
  from mace_tf.agents.mace.config import MaceConfig, NetworkConfig  # pylint: disable=g-import-not-at-top
  try:
    game = game_flags.game_config_from_flags()
    bins = [int(b) for b in FLAGS.ego_bins]
    configs = {b: MaceConfig(model=FLAGS.model, network=NetworkConfig(ego_bin=b, local_units=FLAGS.local_units))
               for b in bins}
  except ValueError as e:
    sys.exit(f"diagnose: {e}")
  name = f"{game.kind}{game.num_hunters}_g{game.grid_size}" + ("_moving" if game.moving_prey else "")
  output = FLAGS.output or os.path.join("results", "paper_scale", "diagnosis",
                                        f"{FLAGS.what}_{name}.json")
  result = {"game": dataclasses.asdict(game), "seed": FLAGS.seed,
            "command": "python -m launch.diagnose " + " ".join(sys.argv[1:]), "rows": {}}
  if FLAGS.what == "capacity":
    for b, config in configs.items():
      print(f"probing the {FLAGS.model} network with ego_bin={b} ({FLAGS.fit_steps} fit steps)",
            flush=True)
      try:
        row = diagnostics.capacity_probe(game, config, fit_steps=FLAGS.fit_steps,
                                         steps_per_game=FLAGS.steps_per_game, seed=FLAGS.seed,
                                         log_every=max(FLAGS.fit_steps // 4, 1))
      except ValueError as e:
        sys.exit(f"diagnose: {e}")
      result["rows"][f"ego_bin={b}"] = row
      print(f"ego_bin={b}: held-out agreement {row['test_agreement']:.3f}, moves closer "
            f"{row['test_pursuit']:.3f} (reference {row['reference_pursuit']:.3f}, chance "
            f"agreement {row['chance_agreement']:.2f}); train {row['train_agreement']:.3f}",
            flush=True)
  elif FLAGS.what in ("stall", "values"):
    if not FLAGS.saved_model:
      sys.exit(f"diagnose: --what={FLAGS.what} needs --saved_model")
    try:
      if FLAGS.what == "stall":
        row = diagnostics.export_greedy_stall(FLAGS.saved_model, game, episodes=FLAGS.episodes,
                                              seed=FLAGS.seed, after=FLAGS.stall_after)
        line = diagnostics.stall_summary(row)
      else:
        first, last = FLAGS.values_first, FLAGS.values_last
        row = diagnostics.export_critic_values(FLAGS.saved_model, game, episodes=FLAGS.episodes,
                                               seed=FLAGS.seed, first=first, last=last)
        line = diagnostics.values_summary(row, first, last)
    except (ValueError, OSError) as e:
      sys.exit(f"diagnose: {e}")
    result["saved_model"] = FLAGS.saved_model
    result["rows"]["policy"] = row
    print(line, flush=True)
  elif FLAGS.what == "captures":
    players = {}
    try:
      for policy in FLAGS.policies:
        players[policy] = reference.make_reference_policy(policy, game, seed=FLAGS.seed + 1)
      if FLAGS.saved_model:
        from mace_tf.deploy import saved_policy  # pylint: disable=g-import-not-at-top
        players[FLAGS.saved_model] = saved_policy.load_for_game(FLAGS.saved_model, game).action
      for name, action_fn in players.items():
        row = diagnostics.capture_steps(action_fn, game, episodes=FLAGS.episodes, seed=FLAGS.seed)
        result["rows"][name] = row
        print(f"{name}: episode length mean {row['length_mean']:.1f}, median "
              f"{row['length_median']:.0f}; k-th capture's step, median over episodes: "
              f"{row['kth_capture_median']}", flush=True)
    except (ValueError, OSError) as e:
      sys.exit(f"diagnose: {e}")
  else:
    for policy in FLAGS.policies:
      try:
        action_fn = reference.make_reference_policy(policy, game, seed=FLAGS.seed + 1)
      except ValueError as e:
        sys.exit(f"diagnose: {e}")
      row = diagnostics.credit_gaps(action_fn, game, episodes=FLAGS.episodes, seed=FLAGS.seed)
      result["rows"][policy] = row
      print(f"{policy}: {row['captures']} captures, gap to the reward mean "
            f"{row.get('gap_mean', float('nan')):.0f} (median {row.get('gap_median', float('nan')):.0f}"
            f", p90 {row.get('gap_p90', float('nan')):.0f}) steps; rewarded "
            f"{row['rewarded_share']:.2f}; 0.99^gap leaves "
            f"{row.get('discount_left_gamma_0.99', float('nan')):.4f}", flush=True)
  os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
  launch.write_json(output, result)
  print(f"wrote {output}")


if __name__ == "__main__":
  launch.run(main)
