"""MaceNetwork: shapes of the three models, the latent, per-agent and shared weights, gradients."""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from mace_tf.networks.config import NetworkConfig
from mace_tf.envs import StagHunters
from mace_tf.networks import MaceNetwork
from tests.networks import helpers

N, B, D = 6, 3, 4


@pytest.fixture(scope="module")
def env_and_obs():
  env = StagHunters(num_hunters=N, num_prey=4, grid_size=12, time_limit=30, batch_size=B, seed=0)
  obs = tf.nest.map_structure(tf.convert_to_tensor, env.reset().observation)
  return env, obs


def make(env, model, **kwargs):
  net = MaceNetwork(tensor_spec.from_spec(env.observation_spec()), num_hunters=N,
                    model=model, config=NetworkConfig(latent_dim=D, **kwargs))
  net.create_variables()
  return net


def twins(env, model, seed, **kwargs):
  """The network with `kwargs` and the default one, from the same initializer draws."""
  tf.keras.utils.set_random_seed(seed)
  net = make(env, model, **kwargs)
  tf.keras.utils.set_random_seed(seed)
  return net, make(env, model)


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
  # mu(s) and sigma(s) are those of Q(lambda | s) (eq. 14) as `latent_distribution` builds it.
  q = net.latent_distribution(net.trunk(obs)[0])
  np.testing.assert_allclose(out.latent_mean.numpy(), q.mean().numpy(), rtol=1e-6)
  np.testing.assert_allclose(out.latent_stddev.numpy(), q.stddev().numpy(), rtol=1e-6)
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


def test_per_agent_heads_are_eq15_and_cloned_shares_one_head(env_and_obs):
  env, obs = env_and_obs
  mace, cloned = make(env, "mace"), make(env, "cloned")
  eps = tf.random.normal([B, mace.config.latent_dim], seed=1)
  out, _ = mace(obs, noise=eps)
  phi, psi = mace.trunk(obs)
  d, f, a = mace.config.latent_dim, phi.shape[-1], 5
  w_latent = mace._latent_part.kernel.numpy().reshape(d, N, a)
  w_state = mace._state_part.kernel.numpy().reshape(f, N, a + 1)
  b_state = mace._state_part.bias.numpy().reshape(N, a + 1)
  w_local = mace._local_part.kernel.numpy()  # [N, L, 6]
  for i in range(N):  # eq. 15 with agent i's own W_i = [W_i^lambda, W_i^phi, W_i^psi]
    w_i = np.concatenate([w_latent[:, i], w_state[:, i, :a], w_local[i, :, :a]], axis=0)
    x = np.concatenate([out.latent.numpy(), phi.numpy(), psi[i].numpy()], axis=-1)
    np.testing.assert_allclose(x @ w_i + b_state[i, :a], out.logits[:, i].numpy(), rtol=1e-4,
                               atol=1e-5)
    v_i = np.concatenate([w_state[:, i, a], w_local[i, :, a]])  # V_i reads [phi, psi_i] only
    x = np.concatenate([phi.numpy(), psi[i].numpy()], axis=-1)
    np.testing.assert_allclose(x @ v_i + b_state[i, a], out.values[:, i].numpy(), rtol=1e-4,
                               atol=1e-5)
  # Cloned: one W for all agents, told apart only by inputs and the one-hot block (a bias per agent).
  names = [v.name for v in cloned.trainable_variables]
  assert not any("heads" in n for n in names)
  cloned._agent_part.bias.assign(np.random.default_rng(0).normal(size=(N, a + 1)))
  out, _ = cloned(obs)
  phi, psi = cloned.trunk(obs)
  w = np.concatenate([cloned._state_part.kernel.numpy(), cloned._local_part.kernel.numpy(),
                      cloned._agent_part.bias.numpy()], axis=0)  # W over [phi, psi_i, onehot(i)]
  for i in range(N):
    x = np.concatenate([phi.numpy(), psi[i].numpy(), np.tile(np.eye(N)[i], (B, 1))], axis=-1)
    np.testing.assert_allclose(x @ w[:, :a] + cloned._state_part.bias.numpy()[:a],
                               out.logits[:, i].numpy(), rtol=1e-4, atol=1e-5)


def test_trunk_reads_each_hunters_own_window():
  env = StagHunters(num_hunters=2, num_prey=2, grid_size=9, time_limit=10)
  net = MaceNetwork(tensor_spec.from_spec(env.observation_spec()), num_hunters=2,
                    config=NetworkConfig(local_radius=1))
  net.create_variables()
  # Hunter 1 at (0, 0) next to a stag across the wrap at (8, 0); hunter 0 far from everything.
  obs = env.reset_to(np.array([[(4, 4), (0, 0)]]), np.array([[(8, 0), (4, 8)]])).observation
  psi_input = helpers.psi_input(net._trunk, tf.nest.map_structure(tf.convert_to_tensor, obs))
  window = psi_input[0, :, :9 * 4].reshape(2, 3, 3, 4)  # [agent, dy, dx, channel]
  assert window[1, 1, 0, 2] == 2  # the stag (2 hit points) left of hunter 1, across the wrap
  assert window[1, 1, 1, 0] == 1  # hunter 1 itself
  assert window[0, ..., 2:].sum() == 0 and window[0, 1, 1, 0] == 1


def test_circular_pad_wraps_around_the_torus():
  from mace_tf.networks.trunk import circular_pad
  x = tf.reshape(tf.range(9, dtype=tf.float32), [1, 3, 3, 1])  # rows 0 1 2 / 3 4 5 / 6 7 8
  padded = circular_pad(x, 1, 2)[0, :, :, 0].numpy()
  assert padded.shape == (6, 6)
  np.testing.assert_array_equal(padded[0], [8, 6, 7, 8, 6, 7])  # the row above row 0 is row 2
  np.testing.assert_array_equal(padded[:, 0], [8, 2, 5, 8, 2, 5])
  np.testing.assert_array_equal(padded[1:4, 1:4], x[0, :, :, 0].numpy())


def test_head_blocks_start_at_the_scale_of_eq15s_whole_kernel(env_and_obs):
  env, _ = env_and_obs
  mace = make(env, "mace")
  c = mace.config
  # The oracle: Keras' own Glorot-uniform draw of eq. 15's whole per-agent kernel [N, d + F + L, 5].
  whole = tf.keras.initializers.GlorotUniform(seed=0)(
      [N, c.latent_dim + c.trunk_units + c.local_units, 5]).numpy()
  limit = np.abs(whole).max()  # within 1% of its bound at this size
  blocks = [mace._latent_part.kernel, mace._state_part.kernel, mace._local_part.kernel]
  for block in blocks:
    values = block.numpy()
    assert np.abs(values).max() <= 1.01 * limit and np.abs(values).max() > 0.9 * limit
    np.testing.assert_allclose(values.std(), whole.std(), rtol=0.15)  # uniform, not a narrower draw
  # Independent draws (one initializer instance per layer): no block repeats another's values.
  flat = [b.numpy().ravel() for b in blocks]
  assert not np.allclose(flat[1][:flat[0].size], flat[0])


@pytest.mark.parametrize("model", ["mace", "shared"])
def test_film_heads_read_the_features_scaled_by_the_latent_and_leave_the_critics(env_and_obs, model):
  env, obs = env_and_obs
  net = make(env, model, latent_film=True)
  film = net._film
  assert not film.kernel.numpy().any()  # G = 0 at the start: eq. 15's heads
  film.kernel.assign(np.random.default_rng(1).normal(scale=0.5, size=film.kernel.shape))
  eps = tf.random.normal([B, D], seed=3)
  out, _ = net(obs, noise=eps)
  phi, psi = (t.numpy() for t in net.trunk(obs))
  lam, f, a = out.latent.numpy(), phi.shape[-1], 5
  np.testing.assert_allclose(out.features.numpy(),
                             np.concatenate([phi, psi.transpose(1, 0, 2).reshape(B, -1)], -1),
                             rtol=1e-6)
  scale = lam @ film.kernel.numpy()  # G lambda, [B, F + L]
  w_latent = net._latent_part.kernel.numpy().reshape(D, N, a)
  w_state = net._state_part.kernel.numpy().reshape(f, N, a + 1)
  b_state = net._state_part.bias.numpy().reshape(N, a + 1)
  w_local = net._local_part.kernel.numpy()  # [N, L, 6]
  h_state = net._film_state.kernel.numpy().reshape(f, N, a)
  h_local = net._film_local.kernel.numpy()  # [N, L, 5]
  for i in range(N):  # W_i [lambda, phi, psi_i] + H_i [phi * G_phi lambda, psi_i * G_psi lambda]
    logits = (lam @ w_latent[:, i] + phi @ w_state[:, i, :a] + psi[i] @ w_local[i, :, :a]
              + (phi * scale[:, :f]) @ h_state[:, i] + (psi[i] * scale[:, f:]) @ h_local[i]
              + b_state[i, :a])
    np.testing.assert_allclose(out.logits[:, i].numpy(), logits, rtol=1e-4, atol=1e-5)
    values = phi @ w_state[:, i, a] + psi[i] @ w_local[i, :, a] + b_state[i, a]
    np.testing.assert_allclose(out.values[:, i].numpy(), values, rtol=1e-4, atol=1e-5)
  # The logits are linear in lambda for a given state: latent_logits of a change of lambda is the
  # change of the logits, which now differs between states.
  if model == "mace":
    out2, _ = net(obs, noise=eps + 1.0)
    shift = net.latent_logits(out2.latent - out.latent, features=out.features).numpy()
    np.testing.assert_allclose(out2.logits.numpy() - out.logits.numpy(), shift, rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(out2.values.numpy(), out.values.numpy(), rtol=1e-6)
    same = net.latent_logits(tf.ones([B, D]), features=out.features).numpy()
    assert np.abs(same - same[:1]).max() > 1e-3  # the same change of lambda, other moves
  plain = make(env, model)
  assert plain(obs, noise=eps)[0].features.shape == (B, 0)


def test_film_needs_a_latent(env_and_obs):
  env, _ = env_and_obs
  with pytest.raises(ValueError, match="latent_film needs a latent"):
    make(env, "cloned", latent_film=True)


def test_latent_init_scale_widens_only_the_latent_block(env_and_obs):
  env, _ = env_and_obs
  f, l, a = NetworkConfig().trunk_units, NetworkConfig().local_units, 5
  limit = (6.0 / (N * (D + f + l) + N * a)) ** 0.5  # Glorot-uniform over the whole W of eq. 15
  for scale in (1.0, 10.0):
    tf.keras.utils.set_random_seed(0)
    net = make(env, "mace", latent_init_scale=scale)
    w = {v.name.split("/")[-2]: np.abs(v.numpy()).max() for v in net.trainable_variables
         if v.name.endswith("kernel:0")}
    assert limit * scale * 0.9 < w["heads_latent"] <= limit * scale  # 4 x 30 draws fill the range
    assert w["heads_state"] <= limit  # the other blocks keep eq. 15's range
  with pytest.raises(ValueError, match="latent_init_scale must be > 0"):
    NetworkConfig(latent_init_scale=0.0)


@pytest.mark.parametrize("model", ["mace", "shared"])
def test_shared_head_base_is_eq15s_heads_with_the_shared_part_folded_in(env_and_obs, model):
  env, obs = env_and_obs
  net = make(env, model, shared_head_base=True)
  shared = [v for v in net.trainable_variables if "heads_shared" in v.name]
  assert len(shared) == 3 and not any(v.numpy().any() for v in shared)  # W, b, W^psi start at 0
  rng = np.random.default_rng(4)
  for v in shared:
    v.assign(rng.normal(scale=0.5, size=v.shape))
  # eq. 15's network with W_i = D_i + W: every other weight copied, the shared part added to each
  # agent's own block.
  plain = make(env, model)
  own = [v for v in net.trainable_variables if "heads_shared" not in v.name]
  assert len(own) == len(plain.trainable_variables)
  for target, source in zip(plain.trainable_variables, own):
    target.assign(source)
  a, f = 5, NetworkConfig().trunk_units
  w_state = net._state_part.kernel.numpy().reshape(f, N, a + 1)
  w_state += net._shared_base[0].kernel.numpy()[:, None, :]
  plain._state_part.kernel.assign(w_state.reshape(f, N * (a + 1)))
  plain._state_part.bias.assign(
      (net._state_part.bias.numpy().reshape(N, a + 1) + net._shared_base[0].bias.numpy()).ravel())
  plain._local_part.kernel.assign(net._local_part.kernel.numpy()
                                  + net._shared_base[1].kernel.numpy()[None])
  eps = tf.random.normal([B, D], seed=5)
  out, plain_out = net(obs, noise=eps)[0], plain(obs, noise=eps)[0]
  np.testing.assert_allclose(out.logits.numpy(), plain_out.logits.numpy(), rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(out.values.numpy(), plain_out.values.numpy(), rtol=1e-5, atol=1e-5)
  # The shared part moves every agent's logits and values (the fold above is not of zeros).
  for v in shared:
    v.assign(tf.zeros_like(v))
  without, _ = net(obs, noise=eps)
  assert np.abs(out.logits.numpy() - without.logits.numpy()).min(axis=(0, 2)).min() > 1e-3
  assert np.abs(out.values.numpy() - without.values.numpy()).min() > 1e-3
  # Cloned's one head is all shared part: the flag leaves its network as it is (the presets that
  # set it also train Cloned).
  tf.keras.utils.set_random_seed(6)
  cloned = make(env, "cloned", shared_head_base=True)
  tf.keras.utils.set_random_seed(6)
  cloned_plain = make(env, "cloned")
  assert [v.shape for v in cloned.trainable_variables] == [
      v.shape for v in cloned_plain.trainable_variables]
  for a, b in zip(cloned(obs, noise=eps)[0], cloned_plain(obs, noise=eps)[0]):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("model", ["mace", "shared", "cloned"])
def test_value_norm_makes_the_critics_mu_plus_sigma_v_and_is_not_trained(env_and_obs, model):
  env, obs = env_and_obs
  net, plain = twins(env, model, 7, value_norm=True)
  mean, stddev = net.value_moments
  assert (float(mean), float(stddev)) == (0.0, 1.0) and plain.value_moments is None
  assert [v.shape for v in net.trainable_variables] == [v.shape for v in plain.trainable_variables]
  eps = tf.random.normal([B, D], seed=3)
  v = plain(obs, noise=eps)[0]
  mean.assign(2.0)
  stddev.assign(3.0)
  out = net(obs, noise=eps)[0]
  np.testing.assert_allclose(out.values.numpy(), 2.0 + 3.0 * v.values.numpy(), rtol=1e-5, atol=1e-5)
  np.testing.assert_array_equal(out.logits.numpy(), v.logits.numpy())


@pytest.mark.parametrize("model", ["mace", "shared", "cloned"])
def test_zero_critic_init_starts_every_value_at_zero_and_leaves_the_logits(env_and_obs, model):
  env, obs = env_and_obs
  net, plain = twins(env, model, 8, zero_critic_init=True)
  eps = tf.random.normal([B, D], seed=2)
  out, plain_out = net(obs, noise=eps)[0], plain(obs, noise=eps)[0]
  assert np.abs(plain_out.values.numpy()).min() > 1e-4  # the default critic starts random
  np.testing.assert_array_equal(out.values.numpy(), np.zeros([B, N]))
  # The same draws: every weight but the critic's columns as the default's.
  np.testing.assert_array_equal(out.logits.numpy(), plain_out.logits.numpy())
  zeroed = sum(int((p.numpy() != v.numpy()).sum())
               for p, v in zip(plain.trainable_variables, net.trainable_variables))
  f, l = NetworkConfig().trunk_units, NetworkConfig().local_units
  # One value weight per input of each block: Cloned's phi, psi and identity blocks, the per-agent
  # heads' phi and psi blocks once per agent.
  assert zeroed == (f + l + N if model == "cloned" else N * (f + l))
  # The critic's weights are trainable all the same: a value loss moves them.
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(tf.square(net(obs, noise=eps)[0].values - 1.0))
  grads = tape.gradient(loss, net.trainable_variables)
  assert sum(float(tf.reduce_sum(tf.abs(g))) for g in grads if g is not None) > 0
