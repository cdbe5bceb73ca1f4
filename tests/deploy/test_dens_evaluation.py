"""The team's value against a best-responding stag (issue 19): per-den evaluation of scripted teams
against hand computations, and a trained MACE export of the dens game played by decentralized agents
against its centralized play."""

import numpy as np
import pytest

from mace_tf.deploy import evaluation, saved_policy
from mace_tf.envs import rules
from tests.deploy.exports import export_agent

DENS2 = rules.GameConfig(kind=rules.DENS, num_hunters=2, num_prey=2, time_limit=1, grid_size=3)


def team(choose):
  """An action function from `choose(batch) -> [B, N]` den indices."""
  return lambda time_step: np.array(rules.DEN_ACTIONS)[choose(len(time_step.step_type))]


def test_wilson_interval_by_hand():
  # p = 0.5, n = 10: centre 0.5, half 1.96 sqrt(0.025 + 0.0096) / 1.384 = 0.2634
  np.testing.assert_allclose(evaluation.wilson_interval(5, 10), (0.2366, 0.7634), atol=1e-4)
  # p = 0: the interval still has width (0 .. z^2 / (n + z^2) = 0.2775)
  np.testing.assert_allclose(evaluation.wilson_interval(0, 10), (0.0, 0.2775), atol=1e-4)


def test_a_deterministic_team_is_worth_nothing_against_the_best_response():
  out = evaluation.per_den_capture(lambda: team(lambda b: np.zeros((b, 2), int)), DENS2,
                                   episodes=200, seed=0)
  assert [r["capture_rate"] for r in out["per_den"]] == [1.0, 0.0]
  assert out["worst_den_capture_rate"] == 0.0


def test_a_shared_coin_is_worth_one_over_k_in_every_den():
  def make():
    rng = np.random.default_rng(3)
    return team(lambda b: np.repeat(rng.integers(0, 2, (b, 1)), 2, axis=1))
  out = evaluation.per_den_capture(make, DENS2, episodes=2000, seed=0)
  for row in out["per_den"]:
    low, high = row["capture_rate_ci95"]
    assert low < 0.5 < high and high - low < 0.05
  # The same draws in every den (a fresh, equally seeded policy per den): the two rates sum to 1.
  assert sum(r["capture_rate"] for r in out["per_den"]) == pytest.approx(1.0)


def test_per_den_evaluation_is_for_the_dens_game_only():
  with pytest.raises(ValueError, match="dens game, not 'stag'"):
    evaluation.per_den_capture(lambda: None, rules.GameConfig(kind=rules.STAG), episodes=1, seed=0)


@pytest.fixture(scope="module")
def dens_export(tmp_path_factory):
  # 60 updates of 4 x 5 steps: enough for weights that use the latent somewhat; the test below
  # compares two ways of playing the same export, so it needs no particular skill.
  _, paths = export_agent(tmp_path_factory.mktemp("dens"), "mace", game=DENS2, iterations=60)
  return saved_policy.SavedPolicy(paths["policy"])


def test_decentralized_agents_play_a_dens_export_at_its_centralized_value(dens_export):
  policy = dens_export
  policy.check_game(DENS2)

  def centralized():
    rng = np.random.default_rng(1)
    return lambda ts: policy.joint_action(ts.observation, rng.integers(0, 2**31, 2))["action"]

  def decentralized():  # each agent its own call; only the seed is shared, as a broadcast coin
    rng = np.random.default_rng(2)

    def act(ts):
      seed = rng.integers(0, 2**31, 2)
      return np.stack([policy.agent_action(ts.observation, i, seed) for i in range(2)], axis=1)
    return act

  joint = evaluation.per_den_capture(centralized, DENS2, episodes=1000, seed=0)
  apart = evaluation.per_den_capture(decentralized, DENS2, episodes=1000, seed=0)
  for j, a in zip(joint["per_den"], apart["per_den"]):
    # Independent draws of the same distribution: a two-sample z-test at the 0.1% level.
    p = (j["capture_rate"] + a["capture_rate"]) / 2
    se = np.sqrt(2 * p * (1 - p) / 1000)
    assert abs(j["capture_rate"] - a["capture_rate"]) <= 3.29 * se + 1e-9, (j, a)
  # Both play the same distribution: with the same seed the same actions, agent by agent.
  obs = {k: v[:1] for k, v in
         evaluation.hunters.make_game(DENS2, batch_size=1).reset().observation.items()}
  for seed in ([1, 2], [3, 4], [5, 6]):
    joint_action = policy.joint_action(obs, np.array(seed))["action"][0]
    assert [int(policy.agent_action(obs, i, np.array(seed))[0]) for i in range(2)] == list(joint_action)
