"""What the fault tests share: a tiny game, a run of `train_lib.train` on it, and a reader of
its checkpoint files."""

import glob
import os

from mace_tf.agents.mace.config import MaceConfig
from mace_tf.envs import rules
from mace_tf.train import train_lib

GAME = rules.GameConfig(kind=rules.HARE, num_hunters=2, num_prey=2, hit_points=1, time_limit=6,
                        grid_size=7)
B, L = 8, 4  # 32 samples per iteration


def train(root, num_samples, *, collect="graph", log=None, game=GAME, **agent):
  """`train_lib.train` on `game` (checkpoints every 320 samples, a metric line every 160)."""
  return train_lib.train(
      root_dir=str(root), game=game, agent_config=MaceConfig(model="mace", **agent),
      train_config=train_lib.TrainConfig(num_envs=B, rollout_length=L, num_samples=num_samples,
                                         seed=1, checkpoint_every=320, log_every=160,
                                         eval_episodes=4, collect=collect),
      progress=False, log_fn=(log.append if log is not None else None))


def checkpoint_numbers(root):
  """N of every `<root>/checkpoints/ckpt-N.index` on disk, ascending (any characters in `root`)."""
  return sorted(int(p.rsplit("ckpt-", 1)[1].split(".")[0])
                for p in glob.glob(os.path.join(glob.escape(str(root)), "checkpoints",
                                                "ckpt-*.index")))
