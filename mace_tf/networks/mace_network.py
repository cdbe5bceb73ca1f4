"""The MACE actor-critic (eq. 14-15) and the paper's two baselines, as TF-Agents networks.

One trunk phi(s) is shared by the latent, every head and every critic; one forward pass gives all
agents' logits and values.

* mace:   Q(lambda | s) = N(mu(s), sigma(s)), mu = W_mu phi + b, log sigma^2 = W_s phi + b (eq. 14),
          lambda = mu + sigma * eps; logits_i = W_i [lambda, phi, psi_i] + b_i;
          V_i = W_Vi [phi, psi_i] + b_Vi (eq. 15).
* shared: h = W_h phi + b deterministic in place of lambda (no sampling, no KL), per-agent heads
          and critics as above.
* cloned: one head and one critic shared by every agent: logits_i = W [phi, psi_i, onehot(i)] + b.
"""

import collections

import tensorflow as tf
import tensorflow_probability as tfp
from tf_agents.networks import network

from mace_tf.agents.mace.config import MaceConfig
from mace_tf.envs import rules
from mace_tf.networks.trunk import PerAgentDense, Trunk

tfd = tfp.distributions

MaceNetworkOutput = collections.namedtuple(
    "MaceNetworkOutput", ["logits", "values", "latent", "latent_mean", "latent_stddev"])
MaceNetworkOutput.__doc__ = """Outputs of `MaceNetwork` for a batch of B states.

logits: `[B, N, 5]` action logits of every agent; values: `[B, N]` V_i(s); latent: `[B, d]` the
lambda the heads used (Shared: its hidden layer; Cloned: zeros); latent_mean, latent_stddev: `[B, d]`
mu(s) and sigma(s) of Q(lambda | s) (MACE only; Shared: mean = h, stddev = 0; Cloned: zeros).
"""


def _independent_normal(params):
  """`[..., 2d]` (mean, log variance) -> Independent(Normal) over the last axis (Python-int ranks)."""
  d = params.shape[-1] // 2
  return tfd.Independent(
      tfd.Normal(loc=params[..., :d], scale=tf.exp(0.5 * params[..., d:])),
      reinterpreted_batch_ndims=1)


class MaceNetwork(network.Network):
  """Policy and value network of MACE, Shared or Cloned (`config.model`)."""

  def __init__(self, observation_spec, *, num_hunters: int, config: MaceConfig,
               name: str = "MaceNetwork"):
    if config.model not in ("mace", "shared", "cloned"):
      raise ValueError(f"MaceNetwork builds mace, shared or cloned, not {config.model!r}")
    super().__init__(input_tensor_spec=observation_spec, state_spec=(), name=name)
    self._config = config
    self._num_hunters = num_hunters
    grid_size = observation_spec["grid"].shape[0]
    self._trunk = Trunk(grid_size=grid_size, conv_filters=config.conv_filters,
                        trunk_units=config.trunk_units, local_radius=config.local_radius,
                        local_units=config.local_units, feature_radius=config.feature_radius)
    d = config.latent_dim
    if config.model == "mace":
      self._latent_params = tf.keras.layers.Dense(2 * d, name="latent_params")  # [mu, log sigma^2]
      self._latent_layer = tfp.layers.DistributionLambda(
          _independent_normal, convert_to_tensor_fn=tfd.Distribution.mean, name="q_lambda")
    elif config.model == "shared":
      self._hidden = tf.keras.layers.Dense(d, name="shared_hidden")
    if config.model == "cloned":
      self._head = tf.keras.layers.Dense(rules.NUM_ACTIONS, name="cloned_head")
      self._critic = tf.keras.layers.Dense(1, name="cloned_critic")
    else:
      self._head = PerAgentDense(num_hunters, rules.NUM_ACTIONS, name="heads")
      self._critic = PerAgentDense(num_hunters, 1, name="critics")

  @property
  def config(self) -> MaceConfig:
    return self._config

  def latent_distribution(self, phi):
    """Q(lambda | s) for features `phi [B, F]` (MACE only)."""
    q = self._latent_layer(self._latent_params(phi))
    return getattr(q, "tensor_distribution", q)

  def call(self, observation, step_type=None, network_state=(), training=False, noise=None):
    """Runs the network on a batch of observations.

    Args:
      observation: the game observation, batch `[B]`.
      step_type: unused (the policy is reactive).
      network_state: unused, `()`.
      training: unused.
      noise: eps `[B, d]` for lambda = mu + sigma * eps (MACE); None means eps = 0 (lambda = mu).

    Returns:
      (`MaceNetworkOutput`, network_state).
    """
    del step_type, training
    phi, psi = self._trunk(observation)  # [B, F], [B, N, L]
    batch = tf.shape(phi)[0]
    n, d = self._num_hunters, self._config.latent_dim
    model = self._config.model
    if model == "mace":
      q = self.latent_distribution(phi)
      mean, stddev = q.mean(), q.stddev()
      latent = mean if noise is None else mean + stddev * noise
    elif model == "shared":
      latent = mean = self._hidden(phi)
      stddev = tf.zeros_like(mean)
    else:
      latent = mean = stddev = tf.zeros([batch, d])
    phi_n = tf.tile(phi[:, None, :], [1, n, 1])
    if model == "cloned":
      identity = tf.tile(tf.eye(n)[None], [batch, 1, 1])
      state_i = tf.concat([phi_n, psi, identity], axis=-1)
      head_in = state_i
    else:
      state_i = tf.concat([phi_n, psi], axis=-1)
      head_in = tf.concat([tf.tile(latent[:, None, :], [1, n, 1]), state_i], axis=-1)
    logits = self._head(head_in)  # [B, N, 5]
    values = tf.squeeze(self._critic(state_i), -1)  # [B, N]
    return MaceNetworkOutput(logits, values, latent, mean, stddev), network_state
