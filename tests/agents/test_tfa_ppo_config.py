"""The stock TF-Agents PPO baseline's own config (issue 18): what it takes from a flagfile's
settings, how it is recorded, and that runs recorded before it existed still resume."""

import json
import os

import pytest

from mace_tf.agents import tfa_ppo_config
from mace_tf.agents.mace.config import MaceConfig
from mace_tf.agents.tfa_ppo_config import TFAPPOConfig
from mace_tf.envs import rules
from mace_tf.train import checkpoints, train_lib


def test_for_model_gives_each_model_its_own_class_with_the_base_settings():
  base = MaceConfig(learning_rate=3e-3, gamma=0.95, gae_lambda=0.9, ent_coef=0.05, vf_coef=0.25,
                    continuing_returns=True, kl_coef=0.0)
  ppo = tfa_ppo_config.for_model(base, "tfa_ppo")
  assert ppo == TFAPPOConfig(learning_rate=3e-3, gamma=0.95, gae_lambda=0.9, ent_coef=0.05,
                             vf_coef=0.25)
  assert not hasattr(ppo, "continuing_returns") and not hasattr(ppo, "network")
  shared = tfa_ppo_config.for_model(base, "shared")
  assert isinstance(shared, MaceConfig) and shared.model == "shared"
  assert shared.continuing_returns and shared.learning_rate == 3e-3
  with pytest.raises(ValueError, match="model must be one of"):
    tfa_ppo_config.for_model(base, "qmix")


def test_bad_values_are_the_dataclass_error():
  with pytest.raises(ValueError, match="num_epochs must be >= 1"):
    TFAPPOConfig(num_epochs=0)
  with pytest.raises(ValueError, match="gamma must be in"):
    TFAPPOConfig(gamma=1.5)
  with pytest.raises(ValueError, match="not 'mace'"):
    TFAPPOConfig(model="mace")


def test_flat_dicts_round_trip_by_model_and_old_records_read_back():
  for config in (TFAPPOConfig(learning_rate=1e-3, num_epochs=4), MaceConfig(model="cloned")):
    assert tfa_ppo_config.from_flat_dict(json.loads(json.dumps(config.flat_dict()))) == config
  # A run recorded when the baseline was MaceConfig(model="tfa_ppo") carries MACE's fields too.
  old = dict(MaceConfig().flat_dict(), model="tfa_ppo", learning_rate=2e-3)
  assert tfa_ppo_config.from_flat_dict(old) == TFAPPOConfig(learning_rate=2e-3)


def test_not_applying_names_the_changed_mace_only_settings():
  values = dict(MaceConfig().flat_dict(), continuing_returns=True, kl_coef=0.0, ego_bin=5,
                learning_rate=1.0)
  assert tfa_ppo_config.not_applying(values) == ["continuing_returns", "ego_bin", "kl_coef"]
  assert tfa_ppo_config.not_applying(MaceConfig().flat_dict()) == []


def test_a_run_recorded_with_maces_fields_resumes_under_the_new_config(tmp_path):
  game = rules.GameConfig(grid_size=20)
  old = checkpoints.run_config_dict(game, MaceConfig(), train_lib.TrainConfig())
  old["agent"].update(model="tfa_ppo", learning_rate=2e-3)
  (tmp_path / "checkpoints").mkdir()
  (tmp_path / "checkpoints" / "ckpt-1.index").write_text("")
  (tmp_path / "run_config.json").write_text(json.dumps(old))
  same = TFAPPOConfig(learning_rate=2e-3)
  defaults = train_lib.default_run_config(game, same)
  new = checkpoints.run_config_dict(game, same, train_lib.TrainConfig())
  assert checkpoints.check_run_config(str(tmp_path), new, defaults=defaults)["agent"] == \
      json.loads(json.dumps(same.flat_dict()))
  other = checkpoints.run_config_dict(game, TFAPPOConfig(learning_rate=1e-3),
                                      train_lib.TrainConfig())
  with pytest.raises(checkpoints.CheckpointMismatchError, match="learning_rate=0.001 contradicts"):
    checkpoints.check_run_config(str(tmp_path), other, defaults=defaults)
  assert os.path.exists(tmp_path / "run_config.json")
