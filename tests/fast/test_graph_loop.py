"""The compiled collect-and-update loop computes the same loss and gradients as the plain path."""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from mace_tf.agents.mace.agent import MaceAgent
from mace_tf.agents.mace.config import MaceConfig
from mace_tf.networks.config import NetworkConfig
from mace_tf.envs import hunters, rules
from mace_tf.envs import observation as observation_lib
from mace_tf.fast import deferred_gradients, graph_loop, tf_game

GAME = rules.GameConfig(kind=rules.STAG, num_hunters=4, num_prey=4, hit_points=2, time_limit=7,
                        grid_size=8, moving_prey=True)


def make(model, seed=0, ego_bin=0, latent_film=False, entity_units=0, shared_head_base=False,
         value_norm=False, **config):
  env = hunters.make_game(GAME, batch_size=3)
  network = NetworkConfig(latent_dim=4, ego_bin=ego_bin, latent_film=latent_film,
                          entity_units=entity_units, shared_head_base=shared_head_base,
                          value_norm=value_norm)
  agent = MaceAgent(tensor_spec.from_spec(env.time_step_spec()),
                    tensor_spec.from_spec(env.action_spec()),
                    config=MaceConfig(model=model, network=network, **config), batch_size=3)
  return agent, graph_loop.GraphLoop(agent, GAME, num_envs=3, rollout_length=9, seed=seed)


@pytest.mark.parametrize("model,config", [
    ("mace", {}), ("shared", {}), ("cloned", {}),
    # The learning fixes of the presets: the egocentric view (from the grid's entries on the fast
    # path, box sums of the grid on the plain one) and the frozen hunters' clock.
    ("mace", dict(ego_bin=4, frozen_clock=True)), ("shared", dict(ego_bin=2, frozen_clock=True)),
    ("cloned", dict(ego_bin=4, frozen_clock=True)),
    # The marginal entropy bonus: the loss applies the latent block itself (K = 2 of B = 3 games).
    ("mace", dict(entropy_bonus="marginal", marginal_samples=2, ent_coef=0.5)),
    ("mace", dict(latent_info_coef=0.5, marginal_samples=2, ego_bin=4, frozen_clock=True)),
    ("mace", dict(latent_decode_coef=0.5, marginal_samples=2, ego_bin=4, frozen_clock=True)),
    ("mace", dict(hold_latent=True, latent_info_coef=0.5, marginal_samples=2)),
    # The latent scaling the heads' features (G set away from its zero start below).
    ("mace", dict(latent_film=True, ego_bin=4, frozen_clock=True)),
    ("mace", dict(latent_film=True, hold_latent=True)), ("shared", dict(latent_film=True)),
    ("mace", dict(latent_film=True, latent_info_coef=0.5, latent_decode_coef=0.5,
                  marginal_samples=2, ego_bin=4, frozen_clock=True)),
    ("mace", dict(latent_film=True, entropy_bonus="marginal", marginal_samples=2, ent_coef=0.5)),
    # Issue 17's learner: the entity set in psi_i, returns carried across episode ends.
    ("mace", dict(entity_units=8, ego_bin=4, frozen_clock=True, continuing_returns=True,
                  normalize_advantages=True)),
    ("shared", dict(entity_units=8, continuing_returns=True)),
    ("cloned", dict(entity_units=8, frozen_clock=True, continuing_returns=True)),
    # The heads' shared part (set away from its zero start below).
    ("mace", dict(shared_head_base=True, ego_bin=4, frozen_clock=True, continuing_returns=True,
                  normalize_advantages=True)),
    ("shared", dict(shared_head_base=True, latent_film=True)),
    # The critics on normalized targets (mu, sigma set away from (0, 1) below).
    ("mace", dict(value_norm=True, shared_head_base=True, ego_bin=4, frozen_clock=True,
                  continuing_returns=True, normalize_advantages=True)),
    ("cloned", dict(value_norm=True)),
    # The next episode's value on the wall clock (a count of frozen steps carried across rollouts).
    ("mace", dict(value_norm=True, shared_head_base=True, ego_bin=4, frozen_clock=True,
                  continuing_returns=True, normalize_advantages=True,
                  wall_clock_continuation=True)),
])
def test_fast_path_loss_and_gradients_equal_the_straightforward_ones(model, config, tmp_path):
  agent, loop = make(model, **config)
  if config.get("latent_film"):
    film = agent.network._film
    film.kernel.assign(np.random.default_rng(0).normal(scale=0.3, size=film.kernel.shape))
  for v in agent.network.trainable_variables:
    if "heads_shared" in v.name:
      v.assign(np.random.default_rng(1).normal(scale=0.3, size=v.shape))
  if agent.network.value_moments is not None:
    for v, value in zip(agent.network.value_moments, (0.7, 2.5)):
      v.assign(value)
  seeds = tf.reshape(tf.range(9 * 2 * 2, dtype=tf.int64), [9, 2, 2])
  variables = agent.network.trainable_variables
  # Each loss advances the learner's running statistics (the frozen-step count): both start from
  # the same ones.
  start = tf.train.Checkpoint(agent=agent).write(str(tmp_path / "start"))
  with tf.GradientTape() as tape:  # As `iteration()` does it.
    recorder = deferred_gradients.DeferredGradients(tape)
    experience, outputs, _ = loop.collect(seeds, recorder=recorder)
    fast = agent.loss_from_output(outputs, experience, layer_fn=recorder.apply)
  fast_grads = recorder.gradients(fast.loss, variables)
  if config.get("wall_clock_continuation"):  # a hunter frozen before an episode's end
    frozen = ~observation_lib.active_agents(experience.observation).numpy()
    ends = experience.step_type.numpy() == tf_game.LAST
    assert any(frozen[b, :t].any() for b, t in zip(*np.nonzero(ends))), "no discount to check"
  tf.train.Checkpoint(agent=agent).read(start).assert_consumed()
  # The straightforward path: a second forward pass over the recorded rollout (MaceAgent._loss).
  with tf.GradientTape() as tape:
    plain = agent._loss(experience)
  plain_grads = tape.gradient(plain.loss, variables)
  for name in fast.extra._fields:
    np.testing.assert_allclose(np.asarray(getattr(fast.extra, name)),
                               np.asarray(getattr(plain.extra, name)), rtol=1e-4, atol=1e-6,
                               err_msg=name)
  for v, a, b in zip(variables, fast_grads, plain_grads):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-6, err_msg=v.name)
  # The rollout crossed episode ends (T = 7 < L = 9): the auto-reset path was exercised.
  assert (experience.step_type.numpy() == tf_game.FIRST).sum() > 3


def test_collected_rollout_follows_the_rules():
  agent, loop = make("mace")
  seeds = tf.reshape(tf.range(9 * 2 * 2, dtype=tf.int64), [9, 2, 2])
  experience, _, episodes = loop.collect(seeds)
  step_type = experience.step_type.numpy()
  next_step_type = experience.next_step_type.numpy()
  np.testing.assert_array_equal(step_type[:, 1:], next_step_type[:, :-1])
  reward = experience.reward.numpy()[:, :-1]
  assert not reward[next_step_type[:, :-1] != tf_game.LAST].any()  # rewards on LAST steps only
  stats = graph_loop.episode_stats(episodes)
  assert stats["length"].size == (next_step_type[:, :-1] == tf_game.LAST).sum()
  assert (stats["length"] <= GAME.time_limit).all()


def test_iteration_trains_and_counts():
  agent, loop = make("mace")
  before = [v.numpy().copy() for v in agent.network.trainable_variables]
  loss_info, episodes = loop.iteration()
  assert np.isfinite(float(loss_info.loss))
  assert np.asarray(episodes.done).shape == (9, 3)
  assert int(agent.train_step_counter.numpy()) == 1
  assert any(not np.allclose(b, a.numpy()) for b, a in
             zip(before, agent.network.trainable_variables))


def test_every_restart_and_every_iteration_draws_new_randomness():
  # Regression: seeds taken from the wrong axis of make_seeds were constant, so every restart put the
  # hunters and prey on the same cells again and the agent learned those few starts by heart.
  game = rules.GameConfig(kind=rules.HARE, num_hunters=2, num_prey=2, hit_points=1, time_limit=3,
                          grid_size=9, moving_prey=True)
  env = hunters.make_game(game, batch_size=8)
  agent = MaceAgent(tensor_spec.from_spec(env.time_step_spec()),
                    tensor_spec.from_spec(env.action_spec()), config=MaceConfig(model="shared"))
  loop = graph_loop.GraphLoop(agent, game, num_envs=8, rollout_length=6, seed=0)
  starts = []
  for _ in range(5):
    loop.iteration()
    state = tf_game.to_numpy(loop._read_state())
    fresh = state.t == 0
    starts += [state.hunter_pos[b].tobytes() + state.prey_pos[b].tobytes()
               for b in np.nonzero(fresh)[0]]
  assert len(starts) >= 8
  assert len(set(starts)) == len(starts)


# Cloned's equality (a third of a minute more) runs with --runslow; MACE's, with the latent, always.
@pytest.mark.parametrize("model", ["mace", pytest.param("cloned", marks=pytest.mark.slow)])
def test_batched_and_taped_updates_take_the_same_step(model):
  # Same initial weights, same seeds: the two updates differentiate the same loss of the same rollout.
  tf.random.set_seed(5)
  agent_a, _ = make(model)
  agent_b, _ = make(model)
  for a, b in zip(agent_a.network.variables, agent_b.network.variables):
    b.assign(a)
  loops = [graph_loop.GraphLoop(agent, GAME, num_envs=3, rollout_length=9, seed=1, update=update)
           for agent, update in ((agent_a, "batched"), (agent_b, "taped"))]
  (loss_a, episodes_a), (loss_b, episodes_b) = (loop.iteration() for loop in loops)
  np.testing.assert_array_equal(np.asarray(episodes_a.done), np.asarray(episodes_b.done))
  for name in ("policy_gradient_loss", "value_loss", "entropy", "kl_loss", "total_loss",
               "grad_norm"):
    np.testing.assert_allclose(float(getattr(loss_a.extra, name)),
                               float(getattr(loss_b.extra, name)), rtol=1e-4, atol=1e-6,
                               err_msg=name)
  for a, b in zip(agent_a.network.trainable_variables, agent_b.network.trainable_variables):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6, err_msg=a.name)
  # And they did move the weights.
  assert int(agent_a.train_step_counter.numpy()) == int(agent_b.train_step_counter.numpy()) == 1


def test_batched_update_runs_several_epochs_and_taped_refuses_them():
  env = hunters.make_game(GAME, batch_size=3)
  agent = MaceAgent(tensor_spec.from_spec(env.time_step_spec()),
                    tensor_spec.from_spec(env.action_spec()),
                    config=MaceConfig(model="shared", ppo_clip=0.2, num_epochs=3))
  loop = graph_loop.GraphLoop(agent, GAME, num_envs=3, rollout_length=4, seed=0)
  loss_info, _ = loop.iteration()
  assert np.isfinite(float(loss_info.loss))
  # Three optimizer steps on the one rollout, one train step.
  assert int(agent.optimizer.iterations.numpy()) == 3 and int(agent.train_step_counter.numpy()) == 1
  with pytest.raises(ValueError, match="num_epochs > 1"):
    graph_loop.GraphLoop(agent, GAME, num_envs=3, rollout_length=4, seed=0, update="taped")
  with pytest.raises(ValueError, match="update must be one of"):
    graph_loop.GraphLoop(agent, GAME, num_envs=3, rollout_length=4, seed=0, update="fast")


def assert_eps_held_per_episode(step_type, eps):
  """eps `[B, T, d]` is constant from each FIRST step to the step before the next FIRST, and
  redrawn at every FIRST step (step_type `[B, T]`)."""
  checked = redrawn = 0
  for b in range(step_type.shape[0]):
    for t in range(1, step_type.shape[1]):
      if step_type[b, t] == tf_game.FIRST:
        assert not np.allclose(eps[b, t], eps[b, t - 1])
        redrawn += 1
      else:
        np.testing.assert_array_equal(eps[b, t], eps[b, t - 1])
        checked += 1
  assert checked > 10 and redrawn > 2


def test_hold_latent_keeps_each_games_eps_for_its_episode_in_both_loops():
  from mace_tf.train import builder, train_lib  # pylint: disable=g-import-not-at-top
  agent, loop = make("mace", hold_latent=True)
  seeds = tf.reshape(tf.range(9 * 2 * 2, dtype=tf.int64), [9, 2, 2])
  first, _, _ = loop.collect(seeds)
  second, _, _ = loop.collect(seeds + 100)  # the next rollout continues the held eps
  step_type = np.concatenate([first.step_type.numpy()[:, :-1], second.step_type.numpy()[:, :-1]], 1)
  eps = np.concatenate([first.policy_info["eps"].numpy()[:, :-1],
                        second.policy_info["eps"].numpy()[:, :-1]], 1)
  assert_eps_held_per_episode(step_type, eps)
  # The plain path (numpy games, the policy's step) holds the same way.
  learner = builder.MaceLearner(GAME, MaceConfig(model="mace", hold_latent=True,
                                                 network=NetworkConfig(latent_dim=4)),
                                train_lib.TrainConfig(num_envs=3, rollout_length=9, collect="host"))
  learner.start(None)
  recorded = []
  real_train = learner.loop._train
  learner.loop._train = lambda experience: recorded.append(experience) or real_train(experience)
  for _ in range(2):
    learner.loop.run_iteration()
  step_type = np.concatenate([e.step_type.numpy()[:, :-1] for e in recorded], 1)
  eps = np.concatenate([e.policy_info["eps"].numpy()[:, :-1] for e in recorded], 1)
  assert_eps_held_per_episode(step_type, eps)
  with pytest.raises(ValueError, match="hold_latent needs the latent"):
    MaceConfig(model="shared", hold_latent=True)


def test_only_the_dens_game_checkpoints_the_dens_fields_so_older_hunter_runs_still_restore(tmp_path):
  # A hunters run saved before issue 19 has no stag_den / den_history: they must not be variables
  # of a hunters loop (restoring asserts that every variable of the loop is in the checkpoint).
  agent, loop = make("shared")
  names = {v.name.split(":")[0] for v in loop.variables}
  assert {"hunter_pos", "prey_hp", "t"} <= names and not names & {"stag_den", "den_history"}
  path = tf.train.Checkpoint(loop=loop).save(str(tmp_path / "ckpt"))
  _, fresh = make("shared", seed=5)  # other start cells: the restore must overwrite them
  assert not np.array_equal(loop._read_state().hunter_pos, fresh._read_state().hunter_pos)
  tf.train.Checkpoint(loop=fresh).restore(path).assert_existing_objects_matched()
  for a, b in zip(loop._read_state(), fresh._read_state()):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  # The dens game changes them: there they are state, and checkpointed.
  dens = rules.GameConfig(kind=rules.DENS, num_hunters=2, num_prey=2, time_limit=3, grid_size=7)
  env = hunters.make_game(dens, batch_size=2)
  dens_agent = MaceAgent(tensor_spec.from_spec(env.time_step_spec()),
                         tensor_spec.from_spec(env.action_spec()), config=MaceConfig(model="mace"))
  dens_loop = graph_loop.GraphLoop(dens_agent, dens, num_envs=2, rollout_length=4, seed=0)
  assert {"stag_den", "den_history"} <= {v.name.split(":")[0] for v in dens_loop.variables}
