"""The 8 paper presets: the learning defaults of issue 12, each with its paper-faithful twin."""

import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SETTINGS = ["hare10", "hare10_moving", "hare20", "hare20_moving", "stag10", "stag10_moving",
            "stag20", "stag20_moving"]

BOOLEANS = {"frozen_clock", "normalize_advantages", "moving_prey"}


def read_flags(name):
  """{flag: value} of a flagfile, nested --flagfile included, later lines winning."""
  out = {}
  with open(os.path.join(ROOT, name)) as f:
    for line in f:
      line = line.strip()
      if not line or line.startswith("#"):
        continue
      key, _, value = line.lstrip("-").partition("=")
      if key == "flagfile":
        out.update(read_flags(value))
      elif not value and key not in BOOLEANS and key[2:] in BOOLEANS:  # --noname
        out[key[2:]] = "false"
      else:
        out[key] = value or "true"
  return out


@pytest.mark.parametrize("setting", SETTINGS)
def test_preset_has_the_learning_fixes_and_its_twin_the_paper_configuration(setting):
  preset = read_flags(f"launch/{setting}.flags")
  paper = read_flags(f"launch/{setting}_paper.flags")
  assert preset["ego_bin"] == "5" and preset["frozen_clock"] == "true"
  assert preset["normalize_advantages"] == "true" and preset["rollout_length"] == "10"
  assert preset["num_envs"] == "32" and preset["gamma"] == "0.95"
  assert paper["ego_bin"] == "0" and paper["frozen_clock"] == "false"
  assert paper["normalize_advantages"] == "false" and paper["rollout_length"] == "20"
  assert paper["num_envs"] == "16" and paper["gamma"] == "0.99"
  assert paper["learning_rate"] == "0.002"
  # Everything else, the game included, is the same.
  fixes = {"ego_bin", "frozen_clock", "normalize_advantages", "rollout_length", "num_envs",
           "learning_rate", "gamma"}
  assert {k: v for k, v in preset.items() if k not in fixes} == {
      k: v for k, v in paper.items() if k not in fixes}
  assert preset["grid_size"] == "50" and preset["num_samples"] == "1000000"
