"""Flags generated from the config dataclasses: every field is a flag, with its docstring's help."""

import dataclasses

from absl import flags
import pytest

from launch import config_flags
from mace_tf.agents.mace.config import MODELS, MaceConfig
from mace_tf.networks.config import NetworkConfig
from mace_tf.train.train_lib import TrainConfig


@pytest.mark.parametrize("cls", [MaceConfig, NetworkConfig, TrainConfig])
def test_every_field_is_documented_and_becomes_a_flag(cls):
  docs = config_flags.attribute_docs(cls)
  fv = flags.FlagValues()
  config_flags.define_config_flags(cls, flag_values=fv)
  for field in dataclasses.fields(cls):
    if dataclasses.is_dataclass(field.type) or field.name == "network":
      assert field.name not in fv
      continue
    assert field.name in fv, field.name
    assert fv[field.name].help == docs[field.name] or fv[field.name].help.startswith(
        docs[field.name])
    assert len(docs[field.name]) > 10  # a sentence, not a stub


def test_attribute_docs_join_continuation_lines_and_shared_entries():
  docs = config_flags.attribute_docs(TrainConfig)
  assert docs["intra_op_threads"] == docs["inter_op_threads"]
  assert "later values are ignored" in docs["intra_op_threads"]  # the entry's third line
  model = config_flags.attribute_docs(MaceConfig)["model"]
  assert "in place of lambda" in model and "TFAPPOConfig" in model


def test_flags_build_the_configs_and_invalid_values_are_the_dataclass_error():
  fv = flags.FlagValues()
  config_flags.define_config_flags(MaceConfig, choices={"model": MODELS}, flag_values=fv)
  config_flags.define_config_flags(NetworkConfig, flag_values=fv)
  fv(["prog", "--model=shared", "--kl_coef=0", "--conv_filters=8:5:5,4:2:2", "--ego_bin=5",
      "--frozen_clock"])
  network = config_flags.config_from_flags(NetworkConfig, fv)
  config = config_flags.config_from_flags(MaceConfig, fv, network=network)
  assert config == MaceConfig(model="shared", kl_coef=0.0, frozen_clock=True,
                              network=NetworkConfig(conv_filters=((8, 5, 5), (4, 2, 2)), ego_bin=5))
  # Defaults are the dataclass' own.
  fv2 = flags.FlagValues()
  config_flags.define_config_flags(NetworkConfig, flag_values=fv2)
  fv2(["prog"])
  assert config_flags.config_from_flags(NetworkConfig, fv2) == NetworkConfig()
  fv2["conv_filters"].value = ["8:5"]
  with pytest.raises(ValueError, match="triples of positive ints"):
    config_flags.config_from_flags(NetworkConfig, fv2)
  fv2["conv_filters"].value = ["8:5:5"]
  fv2["ego_bin"].value = -1
  with pytest.raises(ValueError, match="ego_bin must be >= 0"):
    config_flags.config_from_flags(NetworkConfig, fv2)
