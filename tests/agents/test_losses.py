"""The loss terms against hand computations."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from mace_tf.agents.mace import losses

tfd = tfp.distributions


def test_gae_by_hand():
  # gamma 0.9, tau 0.5; episode ends after step 2:
  # d2 = 1 - 0.6 = 0.4; d1 = 0.9 * 0.6 - 0.4 = 0.14; d0 = 0.9 * 0.4 - 0.5 = -0.14
  # A2 = 0.4; A1 = 0.14 + 0.45 * 0.4 = 0.32; A0 = -0.14 + 0.45 * 0.32 = 0.004
  rewards = tf.constant([[[0.0], [0.0], [1.0]]])
  values = tf.constant([[[0.5], [0.4], [0.6], [0.9]]])
  adv, ret = losses.generalized_advantages(rewards=rewards, values=values,
                                           dones=tf.constant([[False, False, True]]),
                                           gamma=0.9, gae_lambda=0.5)
  np.testing.assert_allclose(adv.numpy()[0, :, 0], [0.004, 0.32, 0.4], atol=1e-6)
  np.testing.assert_allclose(ret.numpy()[0, :, 0], [0.504, 0.72, 1.0], atol=1e-6)


def test_gae_cuts_at_episode_end_and_bootstraps_past_the_rollout():
  # The episode ends after step 0; steps 1, 2 bootstrap from V(s_3) = 0.9:
  # A2 = 0.9 * 0.9 - 0.6 = 0.21; A1 = (0.9 * 0.6 - 0.4) + 0.45 * 0.21 = 0.2345; A0 = 1 - 0.5 = 0.5
  rewards = tf.constant([[[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]])  # two agents: the second gets 0
  values = tf.constant([[[0.5, 0.0], [0.4, 0.0], [0.6, 0.0], [0.9, 0.0]]])
  adv, _ = losses.generalized_advantages(rewards=rewards, values=values,
                                         dones=tf.constant([[True, False, False]]),
                                         gamma=0.9, gae_lambda=0.5)
  np.testing.assert_allclose(adv.numpy()[0, :, 0], [0.5, 0.2345, 0.21], atol=1e-6)
  np.testing.assert_allclose(adv.numpy()[0, :, 1], [0.0, 0.0, 0.0], atol=1e-6)


def test_gae_with_a_dynamic_number_of_steps_is_the_same_recursion():
  # A static T is unrolled, a dynamic one scanned: the two paths agree on the by-hand case above.
  spec = lambda *shape: tf.TensorSpec([1, None, *shape], tf.float32)
  gae = tf.function(
      lambda rewards, values, dones: losses.generalized_advantages(
          rewards=rewards, values=values, dones=dones, gamma=0.9, gae_lambda=0.5),
      input_signature=[spec(1), spec(1), tf.TensorSpec([1, None], tf.bool)])
  adv, ret = gae(tf.constant([[[0.0], [0.0], [1.0]]]), tf.constant([[[0.5], [0.4], [0.6], [0.9]]]),
                 tf.constant([[False, False, True]]))
  np.testing.assert_allclose(adv.numpy()[0, :, 0], [0.004, 0.32, 0.4], atol=1e-6)
  np.testing.assert_allclose(ret.numpy()[0, :, 0], [0.504, 0.72, 1.0], atol=1e-6)


def test_kl_is_the_closed_form_and_matches_tfp():
  mean = tf.constant([[0.5, -1.0, 0.0]])
  stddev = tf.constant([[1.0, 0.5, 2.0]])
  # 0.5 * sum(mu^2 + s^2 - 1 - log s^2)
  by_hand = 0.5 * ((0.25 + 1 - 1 - 0) + (1 + 0.25 - 1 - np.log(0.25)) + (0 + 4 - 1 - np.log(4)))
  np.testing.assert_allclose(losses.kl_to_standard_normal(mean, stddev).numpy(), [by_hand],
                             rtol=1e-6)
  q = tfd.Independent(tfd.Normal(mean, stddev), 1)
  p = tfd.Independent(tfd.Normal(tf.zeros(3), tf.ones(3)), 1)
  np.testing.assert_allclose(losses.kl_to_standard_normal(mean, stddev).numpy(),
                             tfd.kl_divergence(q, p).numpy(), rtol=1e-6)
  assert float(losses.kl_to_standard_normal(tf.zeros([1, 4]), tf.ones([1, 4]))[0]) == 0.0


def test_policy_gradient_value_and_entropy_by_hand():
  log_probs = tf.constant([[[-1.0, -2.0], [-0.5, -0.1]]])  # [B=1, T=2, N=2]
  advantages = tf.constant([[[2.0, 1.0], [-1.0, 3.0]]])
  agent_mask = tf.constant([[[True, False], [True, True]]])
  mask = tf.constant([[True, True]])
  # step 0: -(-1 * 2) = 2 (agent 1 masked); step 1: -(-0.5 * -1 + -0.1 * 3) = -0.2; mean 0.9
  pg = losses.policy_gradient_loss(log_probs=log_probs, advantages=advantages,
                                   agent_mask=agent_mask, mask=mask)
  np.testing.assert_allclose(pg.numpy(), 0.9, rtol=1e-6)
  # A masked step does not count, in the sum or in the average.
  pg = losses.policy_gradient_loss(log_probs=log_probs, advantages=advantages,
                                   agent_mask=agent_mask, mask=tf.constant([[True, False]]))
  np.testing.assert_allclose(pg.numpy(), 2.0, rtol=1e-6)
  v = losses.value_loss(values=tf.constant([[[1.0, 0.0], [0.5, 0.5]]]),
                        returns=tf.constant([[[0.0, 0.0], [0.0, 1.0]]]), mask=mask)
  np.testing.assert_allclose(v.numpy(), (1.0 + 0.5) / 2, rtol=1e-6)
  logits = tf.math.log(tf.constant([[[[0.5, 0.5, 1e-12, 1e-12, 1e-12], [0.2] * 5]]]))
  ent = losses.entropy(logits=logits, agent_mask=tf.constant([[[True, True]]]),
                       mask=tf.constant([[True]]))
  np.testing.assert_allclose(ent.numpy(), np.log(2) + np.log(5), rtol=1e-5)


def test_clipped_surrogate_clips():
  lp_old = tf.zeros([1, 1, 1])
  adv = tf.ones([1, 1, 1])
  mask, amask = tf.constant([[True]]), tf.constant([[[True]]])
  # ratio e^1 > 1.2: clipped to 1.2 for a positive advantage.
  loss = losses.clipped_surrogate_loss(log_probs=tf.ones([1, 1, 1]), old_log_probs=lp_old,
                                       advantages=adv, agent_mask=amask, mask=mask, clip=0.2)
  np.testing.assert_allclose(loss.numpy(), -1.2, rtol=1e-6)


def test_frozen_clock_gae_by_hand_with_a_hunter_frozen_after_step_0():
  # Two hunters, 3 steps, the episode ends after step 2 with reward 1 for both. Hunter 0 is active
  # at step 0 only (it captures in the transition out of step 0), hunter 1 at every step.
  # gamma 0.9, tau 0.5; V of hunter 0: 0.5, 0.4, 0.6 (and 0.9 after the end, unused).
  # Hunter 0's clock stops from step 1 on (gamma = tau = 1 there):
  #   d2 = 1 - 0.6 = 0.4;  d1 = 1 * 0.6 - 0.4 = 0.2;  d0 = 0.9 * 0.4 - 0.5 = -0.14
  #   A2 = 0.4;  A1 = 0.2 + 1 * 0.4 = 0.6;  A0 = -0.14 + 0.45 * 0.6 = 0.13
  # Hunter 1 (values 0 throughout) keeps the paper's discount:
  #   d2 = 1, d1 = d0 = 0;  A2 = 1, A1 = 0.45, A0 = 0.2025
  active = tf.constant([[[True, True], [False, True], [False, True]]])
  gamma, tau = losses.frozen_clock_discounts(active=active, gamma=0.9, gae_lambda=0.5)
  np.testing.assert_allclose(gamma.numpy()[0], [[0.9, 0.9], [1.0, 0.9], [1.0, 0.9]])
  np.testing.assert_allclose(tau.numpy()[0], [[0.5, 0.5], [1.0, 0.5], [1.0, 0.5]])
  rewards = tf.constant([[[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]])
  values = tf.constant([[[0.5, 0.0], [0.4, 0.0], [0.6, 0.0], [0.9, 0.0]]])
  dones = tf.constant([[False, False, True]])
  adv, ret = losses.generalized_advantages(rewards=rewards, values=values, dones=dones,
                                           gamma=gamma, gae_lambda=tau)
  np.testing.assert_allclose(adv.numpy()[0, :, 0], [0.13, 0.6, 0.4], atol=1e-6)
  np.testing.assert_allclose(ret.numpy()[0, :, 0], [0.63, 1.0, 1.0], atol=1e-6)
  np.testing.assert_allclose(adv.numpy()[0, :, 1], [0.2025, 0.45, 1.0], atol=1e-6)
  # With every hunter active the per-agent discounts are the scalar ones (the paper's GAE).
  all_active = tf.ones_like(active)
  g, t = losses.frozen_clock_discounts(active=all_active, gamma=0.9, gae_lambda=0.5)
  a_vec, _ = losses.generalized_advantages(rewards=rewards, values=values, dones=dones, gamma=g,
                                           gae_lambda=t)
  a_scalar, _ = losses.generalized_advantages(rewards=rewards, values=values, dones=dones,
                                              gamma=0.9, gae_lambda=0.5)
  np.testing.assert_allclose(a_vec.numpy(), a_scalar.numpy(), atol=1e-7)


def test_advantage_normalization_uses_only_counted_agent_steps():
  # Counted: 1, 3 (mean 2, std 1); the masked 100 is left out of the statistics.
  adv = tf.constant([[[1.0, 100.0], [3.0, 0.0]]])
  mask = tf.constant([[[True, False], [True, False]]])
  out = losses.normalize_advantages(adv, mask).numpy()
  np.testing.assert_allclose(out[0, :, 0], [-1.0, 1.0], atol=1e-6)
  np.testing.assert_allclose(out[0, 0, 1], 98.0, atol=1e-4)
  # A floor above the std (1): divided by the floor instead; below it, no change.
  out = losses.normalize_advantages(adv, mask, std_floor=4.0).numpy()
  np.testing.assert_allclose(out[0, :, 0], [-0.25, 0.25], atol=1e-6)
  out = losses.normalize_advantages(adv, mask, std_floor=0.5).numpy()
  np.testing.assert_allclose(out[0, :, 0], [-1.0, 1.0], atol=1e-6)


def _entropy(p):
  p = np.asarray(p, np.float64)
  return float(-(p * np.log(p)).sum())


def test_marginal_entropy_by_hand_with_two_draws():
  # One game, one step, two agents (the second frozen), 3 actions; draws lambda_0 and lambda_1.
  logits = np.array([[[[0.0, 1.0, 2.0], [5.0, 0.0, 0.0]]]], np.float32)  # [1, 1, 2, 3]
  shifts = np.array([[[[[2.0, 0.0, -2.0], [0.0, 9.0, 0.0]]]]], np.float32)  # [1, 1, 1, 2, 3]
  soft = lambda z: np.exp(z) / np.exp(z).sum()
  mean = 0.5 * (soft(np.array([0.0, 1.0, 2.0])) + soft(np.array([2.0, 1.0, 0.0])))
  got = losses.marginal_entropy(logits=logits, shifts=shifts,
                                agent_mask=np.array([[[True, False]]]), mask=np.array([[True]]))
  np.testing.assert_allclose(float(got), _entropy(mean), rtol=1e-6)
  _, info = losses.marginal_and_information(logits=logits, shifts=shifts,
                                            agent_mask=np.array([[[True, False]]]),
                                            mask=np.array([[True]]))
  per_draw = _entropy(soft(np.array([0.0, 1.0, 2.0])))  # both draws: the same entropy (mirrored)
  np.testing.assert_allclose(float(info), _entropy(mean) - per_draw, rtol=1e-5)
  # The per-sample entropy is the same for both draws (mirrored logits), and below the marginal's.
  assert _entropy(soft(np.array([0.0, 1.0, 2.0]))) < _entropy(mean)


def test_marginal_entropy_estimate_approaches_the_exact_value():
  # logits = b + w * lambda with lambda ~ N(mu, sigma^2), d = 1: the exact marginal P(a | s) by
  # Gauss-Hermite quadrature against the estimate from K draws.
  b, w, mu, sigma = np.array([0.3, -0.2, 0.0, 0.5, 0.1]), np.array([2.0, -1.5, 0.0, 0.7, -3.0]), 0.2, 1.3
  soft = lambda z: np.exp(z - z.max(-1, keepdims=True)) / np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True)
  nodes, weights = np.polynomial.hermite_e.hermegauss(80)
  exact_p = (weights[:, None] * soft(b + w * (mu + sigma * nodes)[:, None])).sum(0) / weights.sum()
  exact = _entropy(exact_p)
  rng = np.random.default_rng(0)
  eps = rng.standard_normal(4001)
  logits0 = (b + w * (mu + sigma * eps[0]))[None, None, None].astype(np.float32)  # [1, 1, 1, 5]
  shifts = (w * sigma * (eps[1:] - eps[0])[:, None])[:, None, None, None].astype(np.float32)
  got, info = losses.marginal_and_information(
      logits=logits0, shifts=shifts, agent_mask=np.ones([1, 1, 1], bool), mask=np.ones([1, 1], bool))
  assert abs(float(got) - exact) < 0.01, (float(got), exact)
  # I(a; lambda | s) = H(P(a | s)) - E H(P(a | lambda, s)), the expectation by quadrature too.
  exact_conditional = (weights * np.array([_entropy(soft(b + w * (mu + sigma * x)))
                                           for x in nodes])).sum() / weights.sum()
  assert exact - exact_conditional > 0.1  # the latent moves this policy
  assert abs(float(info) - (exact - exact_conditional)) < 0.01, (float(info), exact - exact_conditional)


def test_latent_decodability_by_hand_with_two_draws():
  # One game, two steps (the second not counted), two agents (the second frozen at step 0), 3
  # actions; draws lambda_0 (under which the actions were taken) and lambda_1.
  logits = np.array([[[[0.0, 1.0, 2.0], [5.0, 0.0, 0.0]],
                      [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]], np.float32)  # [1, 2, 2, 3]
  shifts = np.array([[[[[2.0, 0.0, -2.0], [0.0, 9.0, 0.0]],
                       [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]]], np.float32)  # [1, 1, 2, 2, 3]
  actions = np.array([[[2, 1], [0, 0]]], np.int32)
  agent_mask = np.array([[[True, False], [True, True]]])
  mask = np.array([[True, False]])
  log_soft = lambda z: z - np.log(np.exp(z).sum())
  ll0 = log_soft(np.array([0.0, 1.0, 2.0]))[2]  # agent 1 is frozen: only agent 0 counts
  ll1 = log_soft(np.array([2.0, 1.0, -0.0]))[2]
  expected = ll0 - np.log(0.5 * (np.exp(ll0) + np.exp(ll1)))
  mean, per_step = losses.latent_decodability(logits=logits, shifts=shifts, actions=actions,
                                              agent_mask=agent_mask, mask=mask)
  np.testing.assert_allclose(float(mean), expected, rtol=1e-5)
  np.testing.assert_allclose(per_step.numpy()[0, 0], expected, rtol=1e-5)
  assert 0 < expected < np.log(2)  # the bound: at most log(K + 1)
  # Step 1: every draw gives the same logits, so nothing is decodable: D = 0.
  np.testing.assert_allclose(per_step.numpy()[0, 1], 0.0, atol=1e-6)
  # The surrogate's value is 0 (its weight is centred over counted steps, here one); its gradient
  # is (D - b) grad log P, which is 0 here too, since b = D.
  log_probs = tf.Variable(np.array([[[-0.5, -1.0], [-2.0, -3.0]]], np.float32))
  with tf.GradientTape() as tape:
    s = losses.decodability_surrogate(per_step=per_step, log_probs=log_probs,
                                      agent_mask=agent_mask, mask=mask)
  np.testing.assert_allclose(float(s), 0.0, atol=1e-7)
  np.testing.assert_allclose(tape.gradient(s, log_probs).numpy(), 0.0, atol=1e-7)


def test_decodability_surrogate_weights_each_step_by_its_centred_d():
  per_step = tf.constant([[1.0, 3.0, 100.0]])  # the third step is not counted
  mask = np.array([[True, True, False]])
  agent_mask = np.array([[[True, True], [True, False], [True, True]]])
  log_probs = tf.Variable(np.zeros([1, 3, 2], np.float32))
  with tf.GradientTape() as tape:
    s = losses.decodability_surrogate(per_step=per_step, log_probs=log_probs,
                                      agent_mask=agent_mask, mask=mask)
  # Baseline b = 2; weights -1 and +1 over the 2 counted steps, each agent counted.
  np.testing.assert_allclose(tape.gradient(s, log_probs).numpy(),
                             [[[-0.5, -0.5], [0.5, 0.0], [0.0, 0.0]]], atol=1e-7)


def test_continuing_returns_carry_past_an_episode_end_by_hand():
  # One hunter, 4 steps: step 1's transition ends the episode (reward 1), step 2 is its LAST
  # (the auto-reset), step 3 the next episode's FIRST. gamma 0.9, tau 0.5; V = 0.2, 0.5, 0.3, 0.4
  # and 0.1 to bootstrap. The reset gets gamma = tau = 1:
  #   d3 = 0.9 * 0.1 - 0.4 = -0.31;  d2 = 0.4 - 0.3 = 0.1;  d1 = 1 + 0.9 * 0.3 - 0.5 = 0.77;
  #   d0 = 0.9 * 0.5 - 0.2 = 0.25
  #   A3 = -0.31;  A2 = 0.1 - 0.31 = -0.21;  A1 = 0.77 + 0.45 * -0.21 = 0.6755;
  #   A0 = 0.25 + 0.45 * 0.6755 = 0.553975
  # Episodic (the paper), the return stops at the end: A1 = 1 - 0.5 = 0.5, A0 = 0.25 + 0.225.
  boundary = tf.constant([[False, False, True, False]])
  gamma, tau = losses.continuing_discounts(boundary=boundary, gamma=0.9, gae_lambda=0.5)
  np.testing.assert_allclose(gamma.numpy()[0, :, 0], [0.9, 0.9, 1.0, 0.9])
  np.testing.assert_allclose(tau.numpy()[0, :, 0], [0.5, 0.5, 1.0, 0.5])
  rewards = tf.constant([[[0.0], [1.0], [0.0], [0.0]]])
  values = tf.constant([[[0.2], [0.5], [0.3], [0.4], [0.1]]])
  adv, _ = losses.generalized_advantages(rewards=rewards, values=values,
                                         dones=tf.zeros([1, 4], tf.bool), gamma=gamma,
                                         gae_lambda=tau)
  np.testing.assert_allclose(adv.numpy()[0, :, 0], [0.553975, 0.6755, -0.21, -0.31], atol=1e-6)
  episodic, _ = losses.generalized_advantages(rewards=rewards, values=values,
                                              dones=tf.constant([[False, True, False, False]]),
                                              gamma=0.9, gae_lambda=0.5)
  np.testing.assert_allclose(episodic.numpy()[0, :2, 0], [0.475, 0.5], atol=1e-6)
  # With tau = 1 the reset is invisible: the return into the LAST step is the reward plus the
  # discounted return from the next episode's FIRST step, whatever V(s_LAST) is.
  for v_last in (0.3, -5.0):
    values = tf.constant([[[0.2], [0.5], [v_last], [0.4], [0.1]]])
    g, t = losses.continuing_discounts(boundary=boundary, gamma=0.9, gae_lambda=1.0)
    _, ret = losses.generalized_advantages(rewards=rewards, values=values,
                                           dones=tf.zeros([1, 4], tf.bool), gamma=g, gae_lambda=t)
    np.testing.assert_allclose(ret.numpy()[0, 1, 0], 1.0 + 0.9 * ret.numpy()[0, 3, 0], atol=1e-6)
    # Per-agent discounts (the frozen clock's) keep their values off the boundary.
    g2, _ = losses.continuing_discounts(boundary=boundary, gamma=tf.fill([1, 4, 2], 0.5),
                                        gae_lambda=1.0)
    np.testing.assert_allclose(g2.numpy()[0], [[0.5, 0.5], [0.5, 0.5], [1, 1], [0.5, 0.5]])


def test_wall_clock_continuation_discounts_the_next_episode_by_wall_steps_by_hand():
  # Two hunters, gamma 0.5, lambda 1 (returns are plain discounted sums). Steps 0-3 play, step 4
  # is the LAST (the auto-reset), step 5 the next episode's FIRST, whose value 8 is the bootstrap
  # of the 5 transitions out of steps 0-4. Both hunters are paid 1 out of step 3. Hunter 0 is
  # active at steps 0-3 (it captures in the last one); hunter 1 captures out of step 0 and is
  # frozen at steps 1-3.
  active = tf.constant([[[True, True], [True, False], [True, False], [True, False],
                         [False, False], [True, True]]])
  boundary = tf.constant([[False, False, False, False, True, False]])
  mask = ~boundary
  frozen = mask[..., None] & ~active
  boundary_gamma, count = losses.wall_clock_boundary_discounts(
      frozen=frozen, boundary=boundary, gamma=0.5, frozen_steps=tf.zeros([1, 2]))
  # Hunter 1 was frozen 3 steps: its reset transition is discounted 0.5^3; the count restarts.
  np.testing.assert_allclose(boundary_gamma.numpy()[0, :, 1], [1, 1, 1, 1, 0.125, 1])
  np.testing.assert_allclose(boundary_gamma.numpy()[0, :, 0], [1] * 6)
  np.testing.assert_allclose(count.numpy(), [[0.0, 0.0]])
  gamma, tau = losses.frozen_clock_discounts(active=active, gamma=0.5, gae_lambda=1.0)
  gamma, tau = losses.continuing_discounts(boundary=boundary, gamma=gamma, gae_lambda=tau)
  rewards = tf.constant([[[0.0, 0.0]] * 3 + [[1.0, 1.0]] + [[0.0, 0.0]]])
  values = tf.concat([tf.fill([1, 5, 2], -3.0), tf.fill([1, 1, 2], 8.0)], axis=1)

  def return_at_0(g):
    _, ret = losses.generalized_advantages(rewards=rewards, values=values,
                                           dones=tf.zeros([1, 5], tf.bool), gamma=g[:, :5],
                                           gae_lambda=tau[:, :5])
    return ret.numpy()[0, 0]

  # Frozen clock alone: hunter 0 gets 0.5^3 * 1 + 0.5^4 * 8 = 0.625; hunter 1 0.5 * 1 + 0.5 * 8 =
  # 4.5: freezing first brought the next episode 3 steps closer.
  np.testing.assert_allclose(return_at_0(gamma), [0.625, 4.5], atol=1e-6)
  # The wall clock for the next episode: both reach it after 4 wall steps (0.5^4 * 8 = 0.5), the
  # terminal reward keeps the frozen clock (0.5^3 and 0.5^1): 0.625 and 1.0.
  np.testing.assert_allclose(return_at_0(gamma * boundary_gamma), [0.625, 1.0], atol=1e-6)


def test_wall_clock_continuation_counts_frozen_steps_across_rollouts():
  # One 12-step stretch of 3 games, 2 hunters with random freezes and resets, cut into rollouts of
  # 5 and 7 steps with the count carried: the same discounts as the whole stretch in one call.
  rng = np.random.default_rng(0)
  boundary = tf.constant(rng.random((3, 12)) < 0.2)
  frozen = tf.constant(rng.random((3, 12, 2)) < 0.5) & ~boundary[..., None]
  carried = tf.constant([[2.0, 0.0], [0.0, 5.0], [1.0, 1.0]])
  whole, whole_count = losses.wall_clock_boundary_discounts(
      frozen=frozen, boundary=boundary, gamma=0.9, frozen_steps=carried)
  first, count = losses.wall_clock_boundary_discounts(
      frozen=frozen[:, :5], boundary=boundary[:, :5], gamma=0.9, frozen_steps=carried)
  second, count = losses.wall_clock_boundary_discounts(
      frozen=frozen[:, 5:], boundary=boundary[:, 5:], gamma=0.9, frozen_steps=count)
  np.testing.assert_allclose(tf.concat([first, second], 1).numpy(), whole.numpy(), rtol=1e-6)
  np.testing.assert_allclose(count.numpy(), whole_count.numpy())
  # By hand for game 0: each boundary's exponent is the frozen steps since the previous boundary
  # (the carried 2 before the first).
  f, b = frozen.numpy()[0], boundary.numpy()[0]
  run, expected = np.array([2.0, 0.0]), []
  for t in range(12):
    expected.append(0.9 ** run if b[t] else np.ones(2))
    run = np.zeros(2) if b[t] else run + f[t]
  assert b.any(), "the draw must hold a boundary in game 0"
  np.testing.assert_allclose(whole.numpy()[0], np.array(expected), rtol=1e-6)


def test_the_elbo_by_hand():
  # pg 0.5, KL 2, V 3, H 4, one latent-use bonus 0.25 at 2, coefficients 0.1, 0.5, 0.01:
  # total = 0.5 + 0.01 * 2 + 0.5 * 3 - 0.1 * 4 - 2 * 0.25 = 1.12
  total, terms = losses.elbo(policy_gradient=0.5, kl=2.0, value=3.0, entropy_bonus=4.0,
                             latent_use={"latent_information": (2.0, 0.25)}, vf_coef=0.5,
                             ent_coef=0.1, kl_coef=0.01)
  np.testing.assert_allclose(float(total), 1.12)
  assert terms == {"policy_gradient": 0.5, "kl": 2.0, "value": 3.0, "entropy_bonus": 4.0,
                   "latent_information": 0.25}
  # At kl_coef 0 an infinite KL is reported but leaves the total finite.
  total, terms = losses.elbo(policy_gradient=0.5, kl=float("inf"), value=3.0, entropy_bonus=4.0,
                             vf_coef=0.5, ent_coef=0.1, kl_coef=0.0)
  np.testing.assert_allclose(float(total), 1.6)
  assert terms["kl"] == float("inf")


def test_running_rms_scale_by_hand():
  f64 = lambda x: tf.constant(x, tf.float64)
  everything = tf.ones([1, 2, 2], bool)
  # Rewards 2 and three 0s: E[r^2] = 4 / 4 = 1, so the rewards come back as they are.
  scaled, count, ss = losses.running_rms_scale(tf.constant([[[0.0, 0.0], [2.0, 0.0]]]), everything,
                                               f64(0.0), f64(0.0))
  assert (float(count), float(ss)) == (4.0, 4.0)
  np.testing.assert_allclose(scaled.numpy(), [[[0, 0], [2, 0]]])
  # 4 more zeros: E[r^2] = 4 / 8, rms 1 / sqrt(2); a reward of 1 would come back as sqrt(2).
  scaled, count, ss = losses.running_rms_scale(tf.constant([[[0.0, 0.0], [1.0, 0.0]]]), everything,
                                               count, ss)
  assert (float(count), float(ss)) == (8.0, 5.0)
  np.testing.assert_allclose(scaled.numpy()[0, 1, 0], 1.0 / np.sqrt(5.0 / 8.0), rtol=1e-6)
  # A rare reward: 1 in 100 counted agent-steps comes back as 10; uncounted entries do not count.
  rewards = np.zeros([1, 100, 2], np.float32)
  rewards[0, 7, 0], rewards[0, 3, 1] = 1.0, 50.0
  mask = np.zeros([1, 100, 2], bool)
  mask[..., 0] = True
  scaled, count, ss = losses.running_rms_scale(tf.constant(rewards), tf.constant(mask),
                                               f64(0.0), f64(0.0))
  assert (float(count), float(ss)) == (100.0, 1.0)
  assert scaled.numpy()[0, 7, 0] == pytest.approx(10.0) and scaled.numpy()[0, 5, 0] == 0.0


def test_running_rms_scale_is_invariant_to_the_rewards_unit_and_keeps_zero_rollouts_zero():
  rng = np.random.default_rng(0)
  rewards = (rng.random([3, 5, 2]) < 0.1).astype(np.float32) * rng.random([3, 5, 2]).astype(np.float32)
  mask = tf.ones([3, 5, 2], bool)
  zero = tf.constant(0.0, tf.float64)
  a, _, _ = losses.running_rms_scale(tf.constant(rewards), mask, zero, zero)
  b, _, _ = losses.running_rms_scale(tf.constant(rewards * 37.0), mask, zero, zero)
  np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5)
  none, count, ss = losses.running_rms_scale(tf.zeros([3, 5, 2]), mask, zero, zero)
  assert float(tf.reduce_max(tf.abs(none))) == 0.0 and (float(count), float(ss)) == (30.0, 0.0)


def test_value_norm_moments_by_hand():
  zero = (tf.constant(0.0),) * 3
  assert [float(x) for x in losses.value_norm_stats(zero)] == [0.0, 1.0]  # before any update
  # Rollout 1: counted targets 1 and 3 (the second step is not counted: its 100 must not count).
  returns = tf.constant([[[1.0], [100.0]], [[3.0], [100.0]]])  # [B = 2, T = 2, N = 1]
  mask = tf.constant([[True, False], [True, False]])
  moments = losses.value_norm_update(returns=returns, mask=mask, moments=zero, decay=0.5)
  mean, stddev = losses.value_norm_stats(moments)
  np.testing.assert_allclose([float(x) for x in moments], [1.0, 2.5, 0.5])  # 0.5 * (2, 5, 1)
  assert (float(mean), float(stddev)) == pytest.approx((2.0, 1.0))  # debiased: the batch's own
  # Rollout 2: targets 5 and 5. Debiased weights 1/3 (rollout 1) and 2/3: mean 2/3 + 10/3 = 4,
  # E[R^2] = 5/3 + 50/3 = 55/3, variance 55/3 - 16 = 7/3.
  moments = losses.value_norm_update(
      returns=tf.constant([[[5.0], [5.0]]]), mask=tf.constant([[True, True]]), moments=moments,
      decay=0.5)
  mean, stddev = losses.value_norm_stats(moments)
  assert (float(mean), float(stddev)) == pytest.approx((4.0, np.sqrt(7.0 / 3.0)), rel=1e-5)
  # Every target 0 (no reward seen yet): sigma stays at the floor, 0.1, not 0.
  mean, stddev = losses.value_norm_stats(losses.value_norm_update(
      returns=tf.zeros([2, 3, 4]), mask=tf.ones([2, 3], bool), moments=zero))
  assert (float(mean), float(stddev)) == pytest.approx((0.0, 0.1))


def test_value_loss_with_a_scale_is_the_normalized_critics_loss_by_hand():
  values, returns = tf.constant([[[1.0, 4.0]]]), tf.constant([[[3.0, 1.0]]])  # errors -2 and 3
  mask = tf.constant([[True]])
  assert float(losses.value_loss(values=values, returns=returns, mask=mask)) == pytest.approx(13.0)
  # V = mu + sigma v: ((V - R) / sigma)^2 = (v - (R - mu) / sigma)^2, here (4 + 9) / 4.
  assert float(losses.value_loss(values=values, returns=returns, mask=mask,
                                 scale=tf.constant(2.0))) == pytest.approx(13.0 / 4.0)
