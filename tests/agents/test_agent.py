"""MaceAgent and MacePolicy on real rollouts."""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from mace_tf.agents.mace.agent import MaceAgent, MaceLossInfo
from mace_tf.agents.mace.config import MaceConfig
from mace_tf.networks.config import NetworkConfig
from mace_tf.agents.mace.policy import sample_joint_action
from mace_tf.envs import HareHunters
from mace_tf.train import builder, host_loop

N, B, L = 3, 4, 6


def setup(model, total_updates=None, network=NetworkConfig(latent_dim=4), batch_size=None,
          **kwargs):
  env = HareHunters(num_hunters=N, num_prey=2, grid_size=6, time_limit=8, batch_size=B, seed=0)
  agent = MaceAgent(tensor_spec.from_spec(env.time_step_spec()),
                    tensor_spec.from_spec(env.action_spec()),
                    config=MaceConfig(model=model, network=network, **kwargs),
                    total_updates=total_updates, batch_size=batch_size)
  return env, agent


def rollout(env, agent, seed=0):
  tensors = lambda nest: tf.nest.map_structure(tf.convert_to_tensor, nest)
  time_step = env.reset()
  steps = []
  for t in range(L):
    step = agent.collect_policy.action(tensors(time_step), seed=tf.constant([seed, t], tf.int64))
    action = step.action.numpy()
    nxt = env.step(action)
    steps.append((time_step, action, {k: v.numpy() for k, v in step.info.items()}, nxt))
    time_step = nxt
  zeros = {"eps": np.zeros((B, 4), np.float32), "log_prob": np.zeros((B, N), np.float32)}
  return tensors(host_loop.stack_rollout(steps, time_step, zeros))


def test_same_seed_same_joint_action():
  env, agent = setup("mace")
  obs = tf.nest.map_structure(tf.convert_to_tensor, env.reset().observation)
  a1 = sample_joint_action(agent.network, obs, tf.constant([1, 2], tf.int64))
  a2 = sample_joint_action(agent.network, obs, tf.constant([1, 2], tf.int64))
  a3 = sample_joint_action(agent.network, obs, tf.constant([1, 3], tf.int64))
  np.testing.assert_array_equal(a1[0].numpy(), a2[0].numpy())
  np.testing.assert_array_equal(a1[1].numpy(), a2[1].numpy())
  assert not np.array_equal(a1[1].numpy(), a3[1].numpy())
  assert a1[0].shape == (B, N) and a1[0].dtype == tf.int32


def test_sampled_actions_follow_the_head_probabilities():
  env, agent = setup("cloned")
  obs = tf.nest.map_structure(lambda x: tf.repeat(tf.convert_to_tensor(x)[:1], 4000, axis=0),
                              env.reset().observation)
  action, _, _, out = sample_joint_action(agent.network, obs, tf.constant([5, 6], tf.int64))
  freq = np.stack([np.bincount(action.numpy()[:, i], minlength=5) / 4000 for i in range(N)])
  np.testing.assert_allclose(freq, tf.nn.softmax(out.logits[0]).numpy(), atol=0.03)


@pytest.mark.parametrize("model", ["mace", "shared", "cloned"])
def test_learner_recomputes_the_behaviour_log_probs_and_trains(model):
  env, agent = setup(model)
  experience = rollout(env, agent)
  # Before any update, the learner's log P(a | lambda(eps), s) equals what the policy recorded.
  output = agent._forward(experience)
  log_probs = tf.gather(tf.nn.log_softmax(output.logits[:, :-1]), experience.action[:, :-1],
                        batch_dims=3)
  np.testing.assert_allclose(log_probs.numpy(), experience.policy_info["log_prob"][:, :-1].numpy(),
                             atol=1e-5)
  before = [v.numpy().copy() for v in agent.network.trainable_variables]
  loss_info = agent.train(experience)
  assert isinstance(loss_info.extra, MaceLossInfo)
  extra = loss_info.extra
  for name in ("policy_gradient_loss", "kl_loss", "value_loss", "entropy", "total_loss",
               "grad_norm"):
    assert np.isfinite(float(getattr(extra, name))), name
  if model == "mace":
    assert float(extra.kl_loss) > 0
    np.testing.assert_allclose(float(np.sum(extra.kl_per_dim)), float(extra.kl_loss), rtol=1e-4)
  else:
    assert float(extra.kl_loss) == 0.0
  assert 0 < float(extra.entropy) <= N * np.log(5) + 1e-4
  assert float(extra.grad_norm) > 0
  after = agent.network.trainable_variables
  assert any(not np.allclose(b, a.numpy()) for b, a in zip(before, after))
  assert int(agent.train_step_counter.numpy()) == 1


@pytest.mark.parametrize("model", ["mace", "cloned"])
def test_each_coefficient_moves_the_total_by_its_own_term(model):
  # The same weights and rollout under other coefficients: the total moves by exactly the change
  # in the coefficient times its term (the loss is linear in its coefficients, eq. 8 + 10 + 33 + 34).
  env, base = setup(model)
  experience = rollout(env, base)
  reference = base._loss(experience).extra
  for change, term, sign in ((dict(vf_coef=1.5), "value_loss", 1.0),
                             (dict(ent_coef=0.11), "entropy", -1.0),
                             (dict(kl_coef=0.101), "kl_loss", 1.0)):
    _, other = setup(model, **change)
    for a, b in zip(base.network.trainable_variables, other.network.trainable_variables):
      b.assign(a)
    (name, value), = change.items()
    delta = value - getattr(base.config, name)
    moved = float(other._loss(experience).extra.total_loss) - float(reference.total_loss)
    np.testing.assert_allclose(moved, sign * delta * float(getattr(reference, term)), rtol=1e-4,
                               atol=1e-6, err_msg=name)


def test_ppo_epochs_take_that_many_optimizer_steps_on_one_rollout():
  env, one = setup("mace", ppo_clip=0.2, num_epochs=1)
  _, three = setup("mace", ppo_clip=0.2, num_epochs=3)
  for a, b in zip(one.network.trainable_variables, three.network.trainable_variables):
    b.assign(a)  # the same start
  experience = rollout(env, one)
  one.train(experience)
  three.train(experience)
  assert int(one.optimizer.iterations.numpy()) == 1 and int(three.optimizer.iterations.numpy()) == 3
  assert int(three.train_step_counter.numpy()) == 1  # one train step per rollout, whatever the epochs
  moved = [np.abs(b.numpy() - a.numpy()).max()
           for a, b in zip(one.network.trainable_variables, three.network.trainable_variables)]
  assert max(moved) > 1e-4  # the extra epochs changed the weights


def test_greedy_policy_is_deterministic_and_uses_mu():
  env, agent = setup("mace")
  obs = tf.nest.map_structure(tf.convert_to_tensor, env.reset().observation)
  from tf_agents.trajectories import time_step as ts
  time_step = ts.restart(obs, batch_size=B, reward_spec=tf.TensorSpec([N]))
  a1 = agent.policy.action(time_step).action.numpy()
  a2 = agent.policy.action(time_step).action.numpy()
  np.testing.assert_array_equal(a1, a2)
  # Make lambda decide the actions (a latent block 50x larger), so that a greedy policy that drew
  # lambda would show: the greedy action is the heads' argmax at lambda = mu, the sampling policy's
  # draws (lambda = mu + sigma eps) differ from it.
  agent.network._latent_part.kernel.assign(agent.network._latent_part.kernel * 50.0)
  greedy = agent.policy.action(time_step).action.numpy()
  phi, psi = agent.network.trunk(obs)
  at_mu = agent.network.heads(phi, psi, noise=tf.zeros([B, agent.config.latent_dim]))
  np.testing.assert_array_equal(greedy, np.argmax(at_mu.logits.numpy(), -1))
  draws = [agent.collect_policy.action(time_step, seed=s).action.numpy() for s in range(5)]
  assert np.mean([np.mean(d != greedy) for d in draws]) > 0.2


def test_marginal_entropy_bonus_draws_the_other_games_eps():
  env, agent = setup("mace", entropy_bonus="marginal", marginal_samples=3, ent_coef=1.0)
  experience = rollout(env, agent)
  extra = agent._loss(experience).extra
  # Distinct eps per game: the marginal over 4 draws is above the per-sample entropy's level.
  assert float(extra.marginal_entropy) > float(extra.entropy) + 1e-4
  # Every game given game 0's eps: the K draws equal lambda_0, so the marginal is the per-sample one.
  eps = experience.policy_info["eps"]
  same = experience._replace(policy_info={**experience.policy_info,
                                          "eps": tf.repeat(eps[:1], B, axis=0)})
  extra = agent._loss(same).extra
  np.testing.assert_allclose(float(extra.marginal_entropy), float(extra.entropy), rtol=1e-5)
  np.testing.assert_allclose(float(extra.latent_information), 0.0, atol=1e-6)
  # The bonus in the total is the marginal one.
  np.testing.assert_allclose(
      float(extra.total_loss), float(extra.policy_gradient_loss + 1e-3 * extra.kl_loss
                                     + 0.5 * extra.value_loss - extra.marginal_entropy), rtol=1e-5)


def test_marginal_entropy_needs_the_latent_and_enough_games():
  with pytest.raises(ValueError, match="needs the latent of model='mace'"):
    MaceConfig(model="shared", entropy_bonus="marginal")
  with pytest.raises(ValueError, match="entropy_bonus must be one of"):
    MaceConfig(entropy_bonus="joint")
  from mace_tf.envs import rules
  from mace_tf.train import train_lib
  game = rules.GameConfig(kind=rules.HARE, num_hunters=2, num_prey=2, time_limit=6, grid_size=7)
  with pytest.raises(ValueError, match="marginal_samples=8 needs at least 9 games"):
    builder.make_learner(game, MaceConfig(entropy_bonus="marginal"),
                         train_lib.TrainConfig(num_envs=4, rollout_length=4))


def test_latent_information_bonus_enters_the_total_beside_the_per_sample_entropy():
  env, agent = setup("mace", latent_info_coef=0.5, marginal_samples=2)
  extra = agent._loss(rollout(env, agent)).extra
  assert float(extra.latent_information) > 1e-5
  np.testing.assert_allclose(
      float(extra.total_loss),
      float(extra.policy_gradient_loss + 1e-3 * extra.kl_loss + 0.5 * extra.value_loss
            - 0.01 * extra.entropy - 0.5 * extra.latent_information), rtol=1e-5)
  with pytest.raises(ValueError, match="latent_info_coef > 0 needs the latent"):
    MaceConfig(model="cloned", latent_info_coef=0.1)


@pytest.mark.parametrize("model", ["mace", "cloned"])
def test_annealed_learning_rate_and_entropy_weight_fall_linearly_to_zero(model):
  # total_updates = 4: after u updates both are (1 - u / 4) of their start, 0 from u = 4 on.
  env, agent = setup(model, total_updates=4, learning_rate=0.02, ent_coef=0.2,
                     anneal_learning_rate=True, anneal_ent_coef=True)
  experience = rollout(env, agent)
  for u, share in [(0, 1.0), (1, 0.75), (3, 0.25), (4, 0.0), (6, 0.0)]:
    agent.train_step_counter.assign(u)
    np.testing.assert_allclose(float(agent.optimizer._decayed_lr(tf.float32)), 0.02 * share,
                               rtol=1e-6)
    extra = agent._loss(experience).extra
    kl = 1e-3 * extra.kl_loss if model == "mace" else 0.0
    np.testing.assert_allclose(
        float(extra.total_loss),
        float(extra.policy_gradient_loss + kl + 0.5 * extra.value_loss - 0.2 * share * extra.entropy),
        rtol=1e-5, atol=1e-7)
  # An update at u = 4 moves no weight (learning rate 0); the counter still counts it.
  agent.train_step_counter.assign(4)
  before = [v.numpy() for v in agent.network.trainable_variables]
  agent.train(experience)
  assert int(agent.train_step_counter) == 5
  for a, v in zip(before, agent.network.trainable_variables):
    np.testing.assert_array_equal(v.numpy(), a)
  # Without annealing: constant whatever the counter.
  env, plain = setup(model, total_updates=4, learning_rate=0.02, ent_coef=0.2)
  plain.train_step_counter.assign(3)
  assert float(plain.ent_coef()) == pytest.approx(0.2)
  assert float(plain.optimizer._decayed_lr(tf.float32)) == pytest.approx(0.02)


def test_annealing_needs_the_runs_length_and_the_stock_baseline_is_not_a_mace_model():
  with pytest.raises(ValueError, match="need the run's total_updates"):
    setup("mace", anneal_ent_coef=True)
  with pytest.raises(ValueError, match="model must be one of"):
    MaceConfig(model="tfa_ppo")


def test_latent_decodability_bonus_enters_the_total_with_its_score_function_term():
  env, agent = setup("mace", latent_decode_coef=0.5, marginal_samples=2)
  experience = rollout(env, agent)
  extra = agent._loss(experience).extra
  # Near 0 for a fresh network's weak latent (a short rollout's estimate can dip below 0), at
  # most log(K + 1); a latent block 30 times stronger makes the joint action decodable.
  assert abs(float(extra.latent_decodability)) < 0.2
  kernel = agent.network._latent_part.kernel
  kernel.assign(kernel * 30.0)
  strong = float(agent._loss(rollout(env, agent)).extra.latent_decodability)  # acted under it
  assert strong > float(extra.latent_decodability) + 0.3 and strong < np.log(3)
  kernel.assign(kernel / 30.0)
  # The surrogate's value is 0 by construction, so the total is the other terms minus 0.5 D.
  np.testing.assert_allclose(
      float(extra.total_loss),
      float(extra.policy_gradient_loss + 1e-3 * extra.kl_loss + 0.5 * extra.value_loss
            - 0.01 * extra.entropy - 0.5 * extra.latent_decodability), rtol=1e-5, atol=1e-6)
  # Its gradient is not D's alone: the score-function term changes it.
  variables = agent.network.trainable_variables
  with tf.GradientTape(persistent=True) as tape:
    loss = agent._loss(experience).loss
    without = _total_without_the_surrogate(agent, experience)
  a, b = tape.gradient(loss, variables), tape.gradient(without, variables)
  assert max(float(tf.reduce_max(tf.abs(x - y))) for x, y in zip(a, b) if x is not None) > 1e-6
  with pytest.raises(ValueError, match="latent_decode_coef > 0 needs the latent"):
    MaceConfig(model="shared", latent_decode_coef=0.1)


def _total_without_the_surrogate(agent, experience):
  extra = agent._loss(experience).extra
  return (extra.policy_gradient_loss + 1e-3 * extra.kl_loss + 0.5 * extra.value_loss
          - 0.01 * extra.entropy - 0.5 * extra.latent_decodability)


@pytest.mark.parametrize("kl_coef", [0.0, 1e-3])
def test_a_collapsed_sigma_stops_training_only_if_the_kl_is_in_the_loss(kl_coef):
  env, agent = setup("mace", kl_coef=kl_coef)
  experience = rollout(env, agent)
  bias = agent.network._latent_params.bias
  d = bias.shape[0] // 2
  bias.assign(tf.concat([tf.zeros([d]), tf.fill([d], -1000.0)], 0))  # log sigma^2 = -1000: sigma = 0
  extra = agent._loss(experience).extra
  assert not np.isfinite(float(extra.kl_loss))  # reported as it is
  assert np.isfinite(float(extra.total_loss)) == (kl_coef == 0)


def test_film_draws_shift_the_logits_as_the_network_does():
  # The K extra draws' shifts (latent_draws) against the network run at each draw's lambda.
  env = HareHunters(num_hunters=N, num_prey=2, grid_size=6, time_limit=8, batch_size=B, seed=0)
  agent = MaceAgent(tensor_spec.from_spec(env.time_step_spec()),
                    tensor_spec.from_spec(env.action_spec()),
                    config=MaceConfig(model="mace", latent_info_coef=0.1, marginal_samples=2,
                                      network=NetworkConfig(latent_dim=4, latent_film=True)))
  film = agent.network._film
  film.kernel.assign(np.random.default_rng(0).normal(size=film.kernel.shape))
  experience = rollout(env, agent)
  output = agent._forward(experience)
  shifts = agent.latent_draws(output.latent_stddev[:, :-1], experience,
                              features=output.features[:, :-1]).numpy()  # [K, B, L, N, 5]
  eps = experience.policy_info["eps"][:, :-1].numpy()
  flat = lambda x: tf.reshape(x, tf.concat([[-1], tf.shape(x)[2:]], 0))
  observation = tf.nest.map_structure(lambda x: flat(x[:, :-1]), experience.observation)
  base, _ = agent.network(observation, noise=flat(eps))
  for k in (1, 2):
    other, _ = agent.network(observation, noise=flat(np.roll(eps, k, axis=0)))
    np.testing.assert_allclose(shifts[k - 1].reshape(-1, N, 5),
                               (other.logits - base.logits).numpy(), rtol=1e-4, atol=1e-5)
  with pytest.raises(ValueError, match="latent_film needs a latent: model 'mace' or 'shared'"):
    MaceConfig(model="cloned", network=NetworkConfig(latent_film=True))


def test_the_reward_scale_is_the_rms_of_every_counted_reward_and_is_checkpointed(tmp_path):
  from mace_tf.envs import observation as observation_lib
  env, agent = setup("shared", scale_rewards=True)
  experience = rollout(env, agent)
  rewards = np.zeros(experience.reward.shape, np.float32)
  rewards[0, 1, 0], rewards[2, 3, 1] = 2.0, 1.0  # made-up payments at counted steps
  experience = experience._replace(reward=tf.constant(rewards))
  counted = ((experience.step_type.numpy()[:, :-1] != 2)[..., None]
             & observation_lib.active_agents(experience.observation).numpy()[:, :-1])
  assert counted[0, 1, 0] and counted[2, 3, 1]
  assert agent.reward_rms() == 0.0
  agent.train(experience)
  expected = np.sqrt(5.0 / counted.sum())
  assert agent.reward_rms() == pytest.approx(expected)
  # A rollout without rewards: twice the counted steps, the same sum of squares.
  agent.train(experience._replace(reward=tf.zeros_like(experience.reward)))
  expected = np.sqrt(5.0 / (2 * counted.sum()))
  assert agent.reward_rms() == pytest.approx(expected)
  path = tf.train.Checkpoint(agent=agent).save(str(tmp_path / "ckpt"))
  _, fresh = setup("shared", scale_rewards=True)
  tf.train.Checkpoint(agent=fresh).restore(path).expect_partial()
  assert fresh.reward_rms() == pytest.approx(expected)
  assert setup("shared")[1].reward_rms() is None


def test_value_norm_sets_the_critics_moments_to_the_counted_targets_and_is_checkpointed(tmp_path):
  def make_agent():
    env = HareHunters(num_hunters=N, num_prey=2, grid_size=6, time_limit=4, batch_size=B, seed=0)
    return env, MaceAgent(tensor_spec.from_spec(env.time_step_spec()),
                          tensor_spec.from_spec(env.action_spec()),
                          config=MaceConfig(model="shared", network=NetworkConfig(
                              latent_dim=4, value_norm=True)))
  env, agent = make_agent()
  _, twin = make_agent()
  for a, b in zip(agent.network.variables, twin.network.variables):
    b.assign(a)
  experience = rollout(env, agent)
  rewards = np.zeros(experience.reward.shape, np.float32)
  rewards[:, 2, :] = [[4.0], [0.0], [2.0], [1.0]][:B]  # made-up payments, one per game
  experience = experience._replace(reward=tf.constant(rewards))
  counted = experience.step_type.numpy()[:, :-1] != 2  # the value targets of LAST steps do not count
  assert (~counted).any()  # T = 4 < L = 6: an episode ended inside the rollout
  _, targets = twin.advantages(experience, twin._forward(experience).values)
  expected = targets.numpy()[counted]
  mean, stddev = agent.network.value_moments
  assert (float(mean), float(stddev)) == (0.0, 1.0)
  agent.train(experience)
  # The first update: the debiased moving averages are this rollout's own moments.
  assert float(mean) == pytest.approx(expected.mean(), rel=1e-5)
  assert float(stddev) == pytest.approx(max(expected.std(), 0.1), rel=1e-4)
  assert expected.std() > 0.1
  path = tf.train.Checkpoint(agent=agent).save(str(tmp_path / "ckpt"))
  _, fresh = make_agent()
  tf.train.Checkpoint(agent=fresh).restore(path).expect_partial()
  assert [float(v) for v in fresh.network.value_moments] == [float(mean), float(stddev)]


@pytest.mark.parametrize("zero_critic_init", [True, False])
def test_a_zero_critic_gives_a_reward_free_rollout_no_policy_gradient(zero_critic_init):
  tf.keras.utils.set_random_seed(3)
  env, agent = setup("mace", normalize_advantages=True, network=NetworkConfig(
      latent_dim=4, value_norm=True, zero_critic_init=zero_critic_init))
  experience = rollout(env, agent)
  experience = experience._replace(reward=tf.zeros_like(experience.reward))
  extra = agent.train(experience).extra
  if zero_critic_init:
    # Every target and value is 0, so is every advantage, normalized or not: only the entropy
    # bonus (and the KL) moves the network; the critic stays 0.
    assert float(extra.policy_gradient_loss) == 0.0 and float(extra.value_loss) == 0.0
    values = agent._forward(experience).values.numpy()
    np.testing.assert_array_equal(values, np.zeros_like(values))
  else:
    # The random critic's noise, scaled to unit size by the normalization, drives the policy.
    assert abs(float(extra.policy_gradient_loss)) > 1e-3 and float(extra.value_loss) > 0


def test_live_agents_counts_the_agent_steps_the_entropy_sums_over():
  tf.keras.utils.set_random_seed(5)
  env = HareHunters(num_hunters=N, num_prey=2, grid_size=4, time_limit=8, batch_size=B, seed=1)
  agent = MaceAgent(tensor_spec.from_spec(env.time_step_spec()),
                    tensor_spec.from_spec(env.action_spec()),
                    config=MaceConfig(model="mace", network=NetworkConfig(latent_dim=4)))
  experience = rollout(env, agent)
  for v in agent.network.trainable_variables:
    if "heads" in v.name:
      v.assign(tf.zeros_like(v))  # uniform heads: every live agent's entropy is ln 5
  extra = agent.loss(experience).extra
  # On a 4 x 4 torus, hunters catch hares within 6 steps and freeze: fewer than N stay live on
  # average, and the summed entropy falls with them while the per-agent entropy stays ln 5.
  assert 1.0 <= float(extra.live_agents) < N
  assert float(extra.entropy) == pytest.approx(np.log(5) * float(extra.live_agents), rel=1e-5)


def test_wall_clock_continuation_counts_each_games_frozen_steps_and_checkpoints_them(tmp_path):
  from mace_tf.envs import observation as observation_lib
  fixes = dict(frozen_clock=True, continuing_returns=True, wall_clock_continuation=True)
  env, agent = setup("mace", batch_size=B, **fixes)
  experience = rollout(env, agent)
  agent.train(experience)
  # The frozen steps since each game's last reset in the rollout (its first episode before it).
  last = experience.step_type.numpy()[:, :-1] == 2  # LAST
  frozen = ~observation_lib.active_agents(experience.observation).numpy()[:, :-1]
  expected = np.zeros((B, N))
  for b in range(B):
    start = np.flatnonzero(last[b]).max() + 1 if last[b].any() else 0
    expected[b] = frozen[b, start:].sum(axis=0)
  assert expected.sum() > 0 and last.any(), "the rollout must freeze a hunter and end an episode"
  np.testing.assert_array_equal(agent.frozen_steps(), expected)
  path = tf.train.Checkpoint(agent=agent).save(str(tmp_path / "ckpt"))
  _, fresh = setup("mace", batch_size=B, **fixes)
  tf.train.Checkpoint(agent=fresh).restore(path).expect_partial()
  np.testing.assert_array_equal(fresh.frozen_steps(), expected)
  assert setup("mace")[1].frozen_steps() is None
  with pytest.raises(ValueError, match="it needs the batch_size B >= 1, got None"):
    setup("mace", **fixes)
  with pytest.raises(ValueError, match="needs frozen_clock and continuing_returns"):
    setup("mace", batch_size=B, continuing_returns=True, wall_clock_continuation=True)


def test_games_restarted_on_the_host_start_their_frozen_step_count_again():
  # The host loop's games restart fresh when a run resumes without their state (another package's
  # game always): a count carried from the checkpoint would discount their first episode end by
  # frozen steps of an episode that no longer exists. Restored games keep it.
  from mace_tf.envs import rules
  from mace_tf.train import train_lib
  game = rules.GameConfig(kind=rules.HARE, num_hunters=3, num_prey=3, time_limit=40, grid_size=6)
  config = MaceConfig(network=NetworkConfig(latent_dim=4), frozen_clock=True,
                      continuing_returns=True, wall_clock_continuation=True)
  learner = builder.make_learner(game, config, train_lib.TrainConfig(
      num_envs=B, rollout_length=L, collect="host"))
  learner.start(None)
  while learner.agent.frozen_steps().sum() == 0:
    learner.run_iteration()
  counted = learner.agent.frozen_steps()
  learner.start(learner.env_state())
  np.testing.assert_array_equal(learner.agent.frozen_steps(), counted)
  learner.start(None)
  np.testing.assert_array_equal(learner.agent.frozen_steps(), np.zeros((B, 3)))
