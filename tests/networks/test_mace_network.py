"""MaceNetwork: shapes of the three models, the latent, per-agent and shared weights, gradients."""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from mace_tf.agents.mace.config import MaceConfig
from mace_tf.envs import StagHunters
from mace_tf.networks import MaceNetwork

N, B, D = 6, 3, 4


@pytest.fixture(scope="module")
def env_and_obs():
  env = StagHunters(num_hunters=N, num_prey=4, grid_size=12, time_limit=30, batch_size=B, seed=0)
  obs = tf.nest.map_structure(tf.convert_to_tensor, env.reset().observation)
  return env, obs


def make(env, model, **kwargs):
  net = MaceNetwork(tensor_spec.from_spec(env.observation_spec()), num_hunters=N,
                    config=MaceConfig(model=model, latent_dim=D, **kwargs))
  net.create_variables()
  return net


@pytest.mark.parametrize("model", ["mace", "shared", "cloned"])
def test_output_shapes(env_and_obs, model):
  env, obs = env_and_obs
  out, state = make(env, model)(obs, noise=tf.random.normal([B, D]))
  assert state == ()
  assert out.logits.shape == (B, N, 5) and out.values.shape == (B, N)
  assert out.latent.shape == out.latent_mean.shape == out.latent_stddev.shape == (B, D)


def test_mace_latent_is_mu_plus_sigma_eps(env_and_obs):
  env, obs = env_and_obs
  net = make(env, "mace")
  eps = tf.random.normal([B, D], seed=1)
  out, _ = net(obs, noise=eps)
  np.testing.assert_allclose(out.latent.numpy(), (out.latent_mean + out.latent_stddev * eps).numpy(),
                             rtol=1e-6)
  assert (out.latent_stddev.numpy() > 0).all()
  # Other noise, other lambda, other logits; same values (V_i(s) does not read lambda, eq. 15).
  out2, _ = net(obs, noise=eps + 1.0)
  assert not np.allclose(out.logits.numpy(), out2.logits.numpy())
  np.testing.assert_allclose(out.values.numpy(), out2.values.numpy(), rtol=1e-6)
  # No noise: lambda = mu (the greedy policy's latent).
  out3, _ = net(obs)
  np.testing.assert_allclose(out3.latent.numpy(), out.latent_mean.numpy(), rtol=1e-6)


def test_gradients_reach_mu_and_sigma_through_lambda(env_and_obs):
  env, obs = env_and_obs
  net = make(env, "mace")
  eps = tf.random.normal([B, D], seed=2)
  with tf.GradientTape() as tape:
    out, _ = net(obs, noise=eps)
    # A function of the logits only: any gradient on the latent layer came through lambda.
    loss = tf.reduce_sum(tf.nn.log_softmax(out.logits)[..., 0])
  latent_kernel = net._latent_params.kernel
  grad = tape.gradient(loss, latent_kernel).numpy()  # [F, 2d]: mu columns, then log sigma^2 columns
  assert np.abs(grad[:, :D]).sum() > 0, "no gradient reaches mu"
  assert np.abs(grad[:, D:]).sum() > 0, "no gradient reaches sigma"
  # With eps = 0 sigma has no effect on lambda, so no gradient reaches it.
  with tf.GradientTape() as tape:
    out, _ = net(obs, noise=tf.zeros([B, D]))
    loss = tf.reduce_sum(tf.nn.log_softmax(out.logits)[..., 0])
  grad = tape.gradient(loss, latent_kernel).numpy()
  assert np.abs(grad[:, D:]).sum() == 0


def test_shared_has_no_stochastic_latent(env_and_obs):
  env, obs = env_and_obs
  net = make(env, "shared")
  out1, _ = net(obs, noise=tf.random.normal([B, D]))
  out2, _ = net(obs, noise=tf.random.normal([B, D]))
  np.testing.assert_array_equal(out1.logits.numpy(), out2.logits.numpy())
  assert (out1.latent_stddev.numpy() == 0).all()
  names = [v.name for v in net.trainable_variables]
  assert not any("latent_params" in n for n in names)
  assert any("shared_hidden" in n for n in names)


def test_per_agent_heads_and_cloned_shared_head(env_and_obs):
  env, obs = env_and_obs
  mace, cloned = make(env, "mace"), make(env, "cloned")
  assert mace._head.kernel.shape[0] == N  # one W_i per agent
  head_vars = [v for v in cloned.trainable_variables if "cloned_head" in v.name]
  assert len(head_vars) == 2 and head_vars[0].shape[-1] == 5  # one kernel and one bias for all
  # The shared head told apart agents only through their inputs: identical inputs, identical logits.
  out, _ = cloned(obs)
  phi, psi = cloned._trunk(obs)
  identity = tf.eye(N)
  for i in range(N):
    x = tf.concat([phi, psi[:, i], tf.tile(identity[i:i + 1], [B, 1])], axis=-1)
    np.testing.assert_allclose(cloned._head(x).numpy(), out.logits[:, i].numpy(), rtol=1e-5,
                               atol=1e-6)


def test_trunk_reads_each_hunters_own_window():
  env = StagHunters(num_hunters=2, num_prey=2, grid_size=9, time_limit=10)
  net = MaceNetwork(tensor_spec.from_spec(env.observation_spec()), num_hunters=2,
                    config=MaceConfig(local_radius=1))
  net.create_variables()
  # Hunter 1 at (0, 0) next to a stag across the wrap at (8, 0); hunter 0 far from everything.
  obs = env.reset_to(np.array([[(4, 4), (0, 0)]]), np.array([[(8, 0), (4, 8)]])).observation
  captured = {}
  original = net._trunk._local_dense.call

  def spy(x):
    captured["x"] = x
    return original(x)

  net._trunk._local_dense.call = spy
  net(tf.nest.map_structure(tf.convert_to_tensor, obs))
  window = captured["x"].numpy()[0, :, :9 * 4].reshape(2, 3, 3, 4)  # [agent, dy, dx, channel]
  assert window[1, 1, 0, 2] == 2  # the stag (2 hit points) left of hunter 1, across the wrap
  assert window[1, 1, 1, 0] == 1  # hunter 1 itself
  assert window[0, ..., 2:].sum() == 0 and window[0, 1, 1, 0] == 1
