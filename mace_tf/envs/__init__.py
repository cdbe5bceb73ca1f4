"""The hunter games of the MACE paper (section 3.1) and the hidden-stag game (issue 19) as batched
TF-Agents environments."""

from mace_tf.envs.hunters import HareHunters, HiddenStag, HunterGame, StagHunters, make_game
from mace_tf.envs.observation import GRID_CHANNELS, HUNTER_FEATURES
from mace_tf.envs.rules import ACTION_NAMES, NUM_ACTIONS, GameConfig
from mace_tf.envs.wrappers import TeamRewardWrapper

__all__ = [
    "ACTION_NAMES", "GRID_CHANNELS", "HUNTER_FEATURES", "NUM_ACTIONS", "GameConfig", "HareHunters", "HiddenStag",
    "HunterGame", "StagHunters", "TeamRewardWrapper", "make_game",
]
