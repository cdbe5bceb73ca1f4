"""The statistics of launch.inspect_latent, against hand computations."""

import math

import numpy as np
import pytest

from mace_tf.deploy import latent_inspection as li


def test_welch_t_test_golden_values():
  # Equal sizes 2 and variances: df = 2, where P(|T| > t) = 1 - t / sqrt(2 + t^2).
  t, p = li.welch_t_test([0.0, 2.0], [3.0, 5.0])
  assert t == pytest.approx(-3 / math.sqrt(2))
  assert p == pytest.approx(1 - 3 / math.sqrt(13), rel=1e-6)
  # One group without variance: df = 1 (Cauchy), P(|T| > 4) = 1 - 2 atan(4) / pi.
  t, p = li.welch_t_test([0.0, 2.0], [5.0, 5.0, 5.0])
  assert t == pytest.approx(-4.0)
  assert p == pytest.approx(1 - 2 * math.atan(4) / math.pi, rel=1e-6)
  assert li.welch_t_test([1.0, 1.0], [1.0, 1.0]) == (0.0, 1.0)  # undefined: not significant
  assert li.welch_t_test([1.0], [2.0, 3.0]) == (0.0, 1.0)


def test_ttests_find_the_component_that_goes_with_an_action():
  rng = np.random.default_rng(0)
  s = 400
  action = rng.integers(0, 5, size=(s, 2))
  latent = rng.standard_normal((s, 3))
  latent[:, 0] += 1.5 * (action[:, 0] == 2)  # component 0 moves with agent 0 choosing action 2
  active = np.ones((s, 2), bool)
  tests = li.latent_action_ttests(latent, action, active, alpha=0.1)
  assert tests["significant"][0, 0]
  assert tests["p"][0, 0, 2] < 1e-10
  assert not tests["significant"][0, 1] and not tests["significant"][1:, :].any()
  # An agent that always takes one action (or is never active) cannot be tested.
  action[:, 1] = 3
  active[:, 0] = False
  tests = li.latent_action_ttests(latent, action, active, alpha=0.1)
  assert not tests["tested"].any() and not tests["significant"].any()


def test_information_terms_golden_values():
  onehot = np.eye(5)
  # The latent decides both agents' actions together: 1 bit each, fully coupled.
  coupled = np.stack([np.stack([onehot[0], onehot[0]]), np.stack([onehot[1], onehot[1]])])
  info = li.information_from_probs(coupled)
  np.testing.assert_allclose(info["action_noise"], [math.log(2)] * 2, rtol=1e-9)
  assert info["action_coupling"][0, 1] == pytest.approx(math.log(2))
  # Agent 1 ignores the latent: no noise information for it, no coupling.
  split = np.stack([np.stack([onehot[0], onehot[4]]), np.stack([onehot[1], onehot[4]])])
  info = li.information_from_probs(split)
  np.testing.assert_allclose(info["action_noise"], [math.log(2), 0.0], atol=1e-12)
  assert info["action_coupling"][0, 1] == pytest.approx(0.0, abs=1e-12)
  # Shared / Cloned: the same probabilities whatever eps: exactly zero.
  same = np.tile(np.array([[[0.1, 0.2, 0.3, 0.2, 0.2], [0.5, 0.1, 0.1, 0.2, 0.1]]]), (64, 1, 1))
  info = li.information_from_probs(same)
  assert np.abs(info["action_noise"]).max() < 1e-12 and info["action_coupling"][0, 1] < 1e-12


def test_assignments_tell_the_two_ways_to_split_two_prey():
  steps = {
      # episode 0: hunter 0 took prey 1, the one nearer to it; episode 1: it took the farther;
      # episode 2 failed.
      "final_targets": np.array([[1, 0], [1, 0], [0, -1]]),
      "success": np.array([True, True, False]),
      "start_hunter_pos": np.array([[[5, 5], [0, 0]], [[0, 1], [5, 5]], [[0, 0], [1, 1]]]),
      "start_prey_pos": np.array([[[1, 1], [6, 5]], [[0, 0], [4, 4]], [[2, 2], [3, 3]]]),
  }
  np.testing.assert_array_equal(li.assignments(steps, 7), [1, 0, -1])
  # torus: (0, 0) and (6, 6) on a 7 x 7 grid are 2 steps apart
  assert li.torus_distance([0, 0], [6, 6], 7) == 2
