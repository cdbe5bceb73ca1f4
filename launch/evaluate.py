r"""Plays K episodes with an exported or a reference policy; reports reward (95% interval), success,
prey, lengths.

  python -m launch.evaluate --saved_model=runs/smoke/export/greedy_policy \
      --flagfile=launch/games/fig1.flags
  python -m launch.evaluate --policy=nearest --flagfile=launch/games/stag10.flags \
      --budget_samples=1000000

--policy=random|nearest|assigned plays a reference policy (`mace_tf/agents/reference.py`) instead of
an export; --budget_samples also plays B continuous games for that many samples, as training does,
and reports Table 1's quantity (the total terminal reward within the budget, and at its half).

--saved_model is a version directory (`.../export/<policy>/<samples>`) or its parent, whose newest
version is used. The game flags (usually the run's --flagfile) must describe the game the policy was
trained on. Writes `<output_dir>/evaluation.json` and a GIF of the first episode. On the dens game
(issue 19) it also plays the stag fixed in each den in turn and writes the capture rate per den and
their minimum, `worst_den_capture_rate` (pass the sampling policy: a greedy one is deterministic and
an adversary leaves it 0). A sampling policy
(`export/policy`) draws through its `joint_action` signature from seeds derived from --seed, so a
rerun gives the same numbers.
"""

import dataclasses
import os
import sys

from absl import flags
import numpy as np

import launch
from launch import game_flags

flags.DEFINE_string("saved_model", None, "The exported policy: .../export/<policy>/<version>, or "
                    ".../export/<policy> for its newest version.")
flags.DEFINE_enum("policy", None, ["random", "nearest", "assigned"], "A reference policy to play "
                  "instead of --saved_model: random actions; each active hunter steps towards its "
                  "nearest live prey; or a central planner matches hunters to prey hit points "
                  "(stags first, in pairs) and steers clear of other prey.")
flags.DEFINE_integer("budget_samples", 0, "If > 0, also play --budget_games games continuously for "
                     "this many samples and report the total terminal reward (Table 1's quantity) "
                     "at the budget and at its half.", lower_bound=0)
flags.DEFINE_integer("budget_games", 32, "B, games played together in the --budget_samples run "
                     "(the presets' --num_envs).", lower_bound=1)
flags.DEFINE_integer("episodes", 100, "K, episodes to play (one per game of a batch).",
                     lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seeds the start positions (and a sampling policy's draws).",
                     lower_bound=0)
flags.DEFINE_string("output_dir", "runs/evaluate", "Where evaluation.json and episode.gif go.")
flags.DEFINE_boolean("gif", True, "Write a GIF of the first episode.")
flags.DEFINE_integer("cell_pixels", None, "Pixels per grid cell in the GIF (default ~400 px).",
                     lower_bound=1)
flags.mark_flags_as_mutual_exclusive(["saved_model", "policy"], required=True)

FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    sys.exit(f"evaluate: unexpected arguments {argv[1:]} (flags are --name=value)")
  launch.quiet_logs()
  from mace_tf.deploy import evaluation  # pylint: disable=g-import-not-at-top
  from mace_tf.envs import render  # pylint: disable=g-import-not-at-top
  from mace_tf.agents import reference  # pylint: disable=g-import-not-at-top
  from mace_tf.envs import hunters  # pylint: disable=g-import-not-at-top
  if FLAGS.policy:
    try:
      game = game_flags.game_config_from_flags()
      spec = hunters.make_game(game, batch_size=1).action_spec()  # the game's own action count
      reference.make_reference_policy(FLAGS.policy, game)  # a policy the game cannot play: one line
    except ValueError as e:
      sys.exit(f"evaluate: {e}")
    path = f"reference:{FLAGS.policy}"
    make_action_fn = lambda: reference.make_reference_policy(
        FLAGS.policy, game, seed=FLAGS.seed + 1, num_actions=int(spec.maximum) + 1)
  else:
    game, policy = game_flags.saved_policy_for_game("evaluate", FLAGS.saved_model)
    path = os.path.abspath(policy.path)

    def make_action_fn():
      if not policy.has("joint_action"):
        return policy.action
      rng = np.random.default_rng(FLAGS.seed + 1)  # a sampling policy: seeded draws, runs repeat
      return lambda time_step: policy.joint_action(
          time_step.observation, rng.integers(0, 2**31 - 1, size=2))["action"]

  try:  # the output directory first: an unwritable one is one line before minutes of play
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    with open(os.path.join(FLAGS.output_dir, ".write_test"), "w"):
      pass
    os.remove(os.path.join(FLAGS.output_dir, ".write_test"))
  except OSError as e:
    sys.exit(f"evaluate: cannot write to --output_dir={FLAGS.output_dir}: {e.strerror or e}")
  print(f"playing {FLAGS.episodes} episodes of {game} with {path}", flush=True)
  action_fn = make_action_fn()
  per_episode, frames = evaluation.play_episodes(
      action_fn, game, episodes=FLAGS.episodes, seed=FLAGS.seed,
      record_game=0 if FLAGS.gif else None, cell_pixels=FLAGS.cell_pixels)
  summary = evaluation.summarize(per_episode)
  summary.update(saved_model=path, game=dataclasses.asdict(game), seed=FLAGS.seed,
                 command="python -m launch.evaluate " + " ".join(sys.argv[1:]))
  if game.kind == "dens":
    summary.update(evaluation.per_den_capture(make_action_fn, game, episodes=FLAGS.episodes,
                                              seed=FLAGS.seed))
    print("capture rate per den: " + ", ".join(
        f"{r['den']}: {r['capture_rate']:.3f} ({r['capture_rate_ci95'][0]:.3f} .. "
        f"{r['capture_rate_ci95'][1]:.3f})" for r in summary["per_den"])
          + f"; worst den {summary['worst_den_capture_rate']:.3f}")
  if FLAGS.budget_samples:
    print(f"playing {FLAGS.budget_games} games for {FLAGS.budget_samples:,} samples", flush=True)
    half = FLAGS.budget_samples // 2
    budget = reference.cumulative_reward_run(
        make_action_fn(), game, num_samples=FLAGS.budget_samples, batch_size=FLAGS.budget_games,
        seed=FLAGS.seed, at_samples=[half, FLAGS.budget_samples])
    summary["budget"] = budget
    print(f"total terminal reward within {half:,} / {FLAGS.budget_samples:,} samples: "
          f"{budget['cumulative_at'][half]:,.1f} / {budget['cumulative']:,.1f} "
          f"({budget['episodes']:,} episodes, {budget['episode_reward']:.3f} per episode, "
          f"mean length {budget['episode_length']:.1f})")
  out = os.path.join(FLAGS.output_dir, "evaluation.json")
  launch.write_json(out, summary)
  low, high = summary["terminal_reward_ci95"]
  lengths = summary["episode_length"]
  print(f"terminal reward per episode: {summary['terminal_reward_mean']:.3f} "
        f"(95% interval {low:.3f} .. {high:.3f}); success rate {summary['success_rate']:.3f}; "
        f"stags {summary['stags_captured_mean']:.2f}, hares {summary['hares_captured_mean']:.2f} "
        f"per episode")
  print(f"episode length: mean {lengths['mean']:.1f}, min {lengths['min']}, "
        f"p10 {lengths['p10']:.0f}, "
        f"median {lengths['median']:.0f}, p90 {lengths['p90']:.0f}, max {lengths['max']}")
  print(f"wrote {out}")
  frames = [f for f in frames if f is not None]
  if FLAGS.gif and not frames:
    print("no GIF: this game renders no RGB frames (an --env made without render_mode=rgb_array)")
  elif FLAGS.gif:
    gif = os.path.join(FLAGS.output_dir, "episode.gif")
    render.write_gif(gif, frames)
    print(f"wrote {gif} ({len(frames)} frames)")


if __name__ == "__main__":
  launch.run(main)
