"""The game flags: a GameConfig written as flags reads back as the same GameConfig."""

from absl import flags
from absl.testing import flagsaver

from launch import game_flags
from mace_tf.envs import rules


def test_a_game_written_as_flags_reads_back_the_same():
  game = rules.GameConfig(kind=rules.STAG, num_hunters=3, num_prey=4, hit_points=3, time_limit=17,
                          grid_size=9, moving_prey=True, stags_heal=True)
  args = game_flags.game_flag_args(game)
  assert args[0] == "--game=stag" and "--stags_heal=True" in args
  with flagsaver.flagsaver():
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["prog", *args])
    assert game_flags.game_config_from_flags() == game
