"""Other people's games as batched environments (`mace_tf/envs/external.py`, issue 20)."""

import json

import numpy as np
import pytest

from mace_tf.envs import external

FIXTURES = "pettingzoo:tests.envs.zoo_fixtures"


def fixture(kind, batch_size=2):
  return external.ExternalGame(external.ExternalConfig(FIXTURES, json.dumps({"kind": kind})),
                               batch_size=batch_size, seed=0)


@pytest.mark.parametrize("env, kwargs, message", [
    ("gymnasium:NoSuchGame-v0", "{}", "doesn't exist"),
    ("pettingzoo:json", "{}", "module json has no parallel_env"),
    (FIXTURES, '{"kind": "continuous"}', "unsupported: continuous or non-Discrete actions"),
    (FIXTURES, '{"kind": "dict"}', "unsupported: a Dict observation"),
])
def test_unsupported_games_are_one_line(env, kwargs, message):
  with pytest.raises(ValueError, match=message) as e:
    external.ExternalGame(external.ExternalConfig(env, kwargs), batch_size=1)
  assert "\n" not in str(e.value)


@pytest.mark.parametrize("env, kwargs, message", [
    ("wolf:pack", "{}", "pettingzoo:<module> or gymnasium:<id>"),
    (FIXTURES, "{kind: 1}", "--env_kwargs is not JSON"),
    (FIXTURES, "[1, 2]", "a JSON object"),
])
def test_bad_flags_are_one_line(env, kwargs, message):
  with pytest.raises(ValueError, match=message):
    external.ExternalConfig(env, kwargs)


def test_agents_appearing_mid_episode_are_refused():
  env = fixture("appearing")
  env.reset()
  env.step(np.ones((2, 2), np.int32))
  with pytest.raises(external.UnsupportedEnvError, match="appear mid-episode"):
    env.step(np.ones((2, 2), np.int32))


def test_an_agent_that_leaves_is_masked_and_paid_nothing_after():
  env = fixture("leaving")
  first = env.reset()
  assert first.observation["agents"].shape == (2, 2, 2)
  assert first.observation["state"].shape == (2, 4)  # no state(): the observations joined
  rewards, active, types = [], [], []
  for _ in range(5):
    step = env.step(np.ones((2, 2), np.int32))
    rewards.append(step.reward[0].tolist())
    active.append(step.observation["active"][0].tolist())
    types.append(int(step.step_type[0]))
  assert types == [1, 1, 1, 2, 0]  # MID x 3, LAST at t = 4, then the next episode's FIRST
  assert rewards[:4] == [[1, 1], [1, 1], [1, 0], [1, 0]]  # agent_1 left after step 2
  assert active[:4] == [[1, 1], [1, 0], [1, 0], [0, 0]]
  stats = env.pop_episode_stats()
  np.testing.assert_array_equal(stats["total_reward"], [6.0, 6.0])
  np.testing.assert_array_equal(stats["length"], [4, 4])


def test_level_based_foraging_reads_as_two_agents_with_tuple_spaces():
  env = external.ExternalGame(
      external.ExternalConfig("gymnasium:lbforaging:Foraging-8x8-2p-2f-coop-v3"), batch_size=3,
      seed=1)
  first = env.reset()
  assert env.action_spec().shape == (2,) and env.action_spec().maximum == 5
  assert first.observation["agents"].shape == (3, 2, 12)
  again = external.ExternalGame(env.config, batch_size=3, seed=1).reset()
  np.testing.assert_array_equal(again.observation["agents"], first.observation["agents"])
