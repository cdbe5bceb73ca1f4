"""Flags that choose a game, shared by every launcher, and the GameConfig they describe."""

import dataclasses
import sys
from typing import List, Optional

from absl import flags

from launch import config_flags
from mace_tf.envs import rules

flags.DEFINE_enum("game", rules.STAG, list(rules.GAME_KINDS),
                  "Which game: 'hare' (Hare-Hunters, eq. 12), 'stag' (Stag-Hunters, eq. 13) or "
                  "'dens' (the hidden-stag game against an adversary, issue 19; rules.py).")
flags.DEFINE_integer("num_hunters", 10, "N, the number of hunters (agents).", lower_bound=1)
flags.DEFINE_integer("num_prey", 10, "M, the number of prey (even for Stag-Hunters: M/2 stags; "
                     "the dens game: K, the number of dens, <= 4).", lower_bound=1)
flags.DEFINE_integer("hit_points", None,
                     "H: hit points of every prey in Hare-Hunters (default 1), of the stags in "
                     "Stag-Hunters (default 2; hares have 1).", lower_bound=1)
flags.DEFINE_integer("time_limit", None,
                     "T, steps per episode (default: the paper's 2000 for Hare-Hunters, 1000 for "
                     "Stag-Hunters; the dens game: 3, also the dens' distance D).", lower_bound=1)
flags.DEFINE_integer("grid_size", 50, "G, the side of the periodic grid (the paper uses 50).",
                     lower_bound=1)
flags.DEFINE_boolean("moving_prey", False, "Prey with hit points left move at random every step.")
flags.DEFINE_boolean("stags_heal", False,
                     "Stag-Hunters, a coordination-hard variant (not the paper's): a wounded stag "
                     "that takes no hit in a step heals and releases its frozen hunters, so hunters "
                     "must hit it in consecutive steps.")

flags.DEFINE_string("env", None,
                    "Another package's game instead of --game (issue 20): pettingzoo:<module> (a "
                    "PettingZoo ParallelEnv from <module>.parallel_env(**env_kwargs)) or "
                    "gymnasium:<id> (a multi-agent Gymnasium env with Tuple spaces, e.g. "
                    "gymnasium:lbforaging:Foraging-8x8-2p-2f-coop-v3). Discrete actions, Box "
                    "observations. The --game flags are then ignored.")
flags.DEFINE_string("env_kwargs", "{}", "With --env: the constructor's keyword arguments, a JSON "
                    "object, e.g. '{\"game\": \"hare\", \"num_hunters\": 2}'.")

FLAGS = flags.FLAGS
config_flags.set_group("game", ["game", "num_hunters", "num_prey", "hit_points", "time_limit",
                                "grid_size", "moving_prey", "stags_heal", "env", "env_kwargs"])

DEFAULT_HIT_POINTS = {rules.HARE: 1, rules.STAG: 2, rules.DENS: 1}
DEFAULT_TIME_LIMIT = {rules.HARE: 2000, rules.STAG: 1000, rules.DENS: 3}


def game_config_or_exit(program: str):
  """`game_config_from_flags()`, or exit with one line `<program>: <why>` for invalid flags."""
  try:
    return game_config_from_flags()
  except ValueError as e:
    sys.exit(f"{program}: {e}")


def game_config_from_flags() -> rules.GameConfig:
  """The GameConfig the game flags describe, or the `ExternalConfig` of --env (raises ValueError with
  a clear message if invalid)."""
  if FLAGS.env:
    from mace_tf.envs import external  # pylint: disable=g-import-not-at-top
    return external.ExternalConfig(env=FLAGS.env, env_kwargs=FLAGS.env_kwargs)
  kind = FLAGS.game
  return rules.GameConfig(
      kind=kind,
      num_hunters=FLAGS.num_hunters,
      num_prey=FLAGS.num_prey,
      hit_points=FLAGS.hit_points if FLAGS.hit_points is not None else DEFAULT_HIT_POINTS[kind],
      time_limit=FLAGS.time_limit if FLAGS.time_limit is not None else DEFAULT_TIME_LIMIT[kind],
      grid_size=FLAGS.grid_size,
      moving_prey=FLAGS.moving_prey,
      stags_heal=FLAGS.stags_heal,
  )


def game_flag_args(game: rules.GameConfig) -> List[str]:
  """The command-line flags that describe `game` (the inverse of game_config_from_flags)."""
  if game.kind == "external":
    return [f"--env={game.env}", f"--env_kwargs={game.env_kwargs}"]
  return [f"--game={game.kind}"] + [f"--{k}={v}" for k, v in dataclasses.asdict(game).items()
                                    if k != "kind"]


def saved_policy_for_game(program: str, saved_model: str, *, signature: Optional[str] = None):
  """(the game the flags describe, the export at `saved_model` checked against it).

  `saved_model` is a version directory or its parent (newest version); `signature`, if given, must
  be among the export's. Anything wrong exits with one line, `<program>: <reason>`.
  """
  from mace_tf.deploy import saved_policy  # pylint: disable=g-import-not-at-top
  try:
    game = game_config_from_flags()
    policy = saved_policy.load_for_game(saved_model, game)
    if signature is not None and not policy.has(signature):
      raise ValueError(f"{policy.path} has no '{signature}' signature: pass the sampling policy's "
                       f"export (.../export/policy), not the greedy one")
  except (ValueError, OSError) as e:  # OSError: missing or damaged SavedModel
    sys.exit(f"{program}: {e}")
  return game, policy
