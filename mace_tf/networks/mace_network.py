"""The MACE actor-critic (eq. 14-15) and the paper's two baselines, as TF-Agents networks.

One trunk phi(s) is shared by the latent, every head and every critic; one forward pass gives all
agents' logits and values.

* mace:   Q(lambda | s) = N(mu(s), sigma(s)), mu = W_mu phi + b, log sigma^2 = W_s phi + b (eq. 14),
          lambda = mu + sigma * eps; logits_i = W_i [lambda, phi, psi_i] + b_i;
          V_i = W_Vi [phi, psi_i] + b_Vi (eq. 15).
* shared: h = W_h phi + b deterministic in place of lambda (no sampling, no KL), per-agent heads
          and critics as above.
* cloned: one head and one critic shared by every agent: logits_i = W [phi, psi_i, onehot(i)] + b.

Each W_i is kept in column blocks, W_i [lambda, phi, psi_i] = W_i^lambda lambda + W_i^phi phi +
W_i^psi psi_i: the parts every agent reads (lambda, phi) go through one dense layer for all agents at
once ([B, d + F] -> [B, N * 6], the 5 logits and the value of each agent; the critics' lambda block is
absent, V_i does not read lambda), and only psi_i through per-agent weights. The same function as
concatenating the inputs per agent, without copying phi and lambda N times. Cloned's one-hot block
W onehot(i) is a per-agent bias.

With `shared_head_base` (`NetworkConfig`) every W_i^phi, W_i^psi and b_i (heads and critics) is a
shared part plus the agent's own: the same function class, parameterized so that the shared part
learns from every agent's samples.

With `value_norm` (`NetworkConfig`) each critic's output is mu + sigma * v_i, mu and sigma set by the
learner to its value targets' running moments (not trained): the critics learn at unit scale.

With `latent_film` (`NetworkConfig`) the heads also read the features scaled by the latent:
logits_i = W_i [lambda, phi, psi_i] + H_i [phi * G_phi lambda, psi_i * G_psi lambda] + b_i; V_i as
above. The logits stay linear in lambda for a given state, but how lambda moves them now depends on
the state.
"""

import collections

import tensorflow as tf
import tensorflow_probability as tfp
from tf_agents.networks import network

from mace_tf.envs import rules
from mace_tf.networks.config import MODELS, NetworkConfig
from mace_tf.networks import encoders
from mace_tf.networks.trunk import PerAgentBias, PerAgentDense

tfd = tfp.distributions

MaceNetworkOutput = collections.namedtuple(
    "MaceNetworkOutput",
    ["logits", "values", "latent", "latent_mean", "latent_stddev", "features"])
MaceNetworkOutput.__doc__ = """Outputs of `MaceNetwork` for a batch of B states.

logits: `[B, N, 5]` action logits of every agent; values: `[B, N]` V_i(s); latent: `[B, d]` the
lambda the heads used (Shared: its hidden layer; Cloned: zeros); latent_mean, latent_stddev: `[B, d]`
mu(s) and sigma(s) of Q(lambda | s) (MACE only; Shared: mean = h, stddev = 0; Cloned: zeros);
features: `[B, F + N * L]` phi and every psi_i, which the latent's effect on the logits depends on
with `latent_film` (`MaceNetwork.latent_logits`), else `[B, 0]`.
"""


def _independent_normal(params):
  """`[..., 2d]` (mean, log variance) -> Independent(Normal) over the last axis (Python-int ranks)."""
  d = params.shape[-1] // 2
  return tfd.Independent(
      tfd.Normal(loc=params[..., :d], scale=tf.exp(0.5 * params[..., d:])),
      reinterpreted_batch_ndims=1)


def _uniform(fan_in: int, fan_out: int, scale: float = 1.0):
  """Glorot-uniform's distribution for the given fans (its range times `scale`)."""
  limit = scale * (6.0 / (fan_in + fan_out)) ** 0.5
  return tf.keras.initializers.RandomUniform(-limit, limit)


def _zero_critic_columns(initializer, outputs: int):
  """`initializer` with the critic's outputs set to 0: the last of every `outputs` entries along the
  kernel's last axis (each agent's block is its A logits, then its value)."""
  def draw(shape, dtype=None):
    kernel = initializer(shape, dtype)
    critic = tf.equal(tf.range(shape[-1]) % outputs, outputs - 1)
    return tf.where(critic, tf.zeros_like(kernel), kernel)
  return draw


class MaceNetwork(network.Network):
  """Policy and value network of MACE, Shared or Cloned (`model`), sized by `config`."""

  def __init__(self, observation_spec, *, num_hunters: int, model: str = "mace",
               config: NetworkConfig = NetworkConfig(), num_actions: int = rules.NUM_ACTIONS,
               name: str = "MaceNetwork"):
    """`num_hunters`: N, the agents; `num_actions`: A, each agent's (the hunter games' 5)."""
    if model not in MODELS:
      raise ValueError(f"MaceNetwork builds one of {MODELS}, not {model!r}")
    super().__init__(input_tensor_spec=observation_spec, state_spec=(), name=name)
    self._model = model
    self._config = config
    self._num_hunters = num_hunters
    self._num_actions = num_actions
    # The encoder (phi, psi_i) is chosen by the observation: the hunter grid or agents' vectors.
    self._trunk = encoders.make_encoder(observation_spec, config, num_hunters)
    d = config.latent_dim
    if model == "mace":
      self._latent_params = tf.keras.layers.Dense(2 * d, name="latent_params")  # [mu, log sigma^2]
      self._latent_layer = tfp.layers.DistributionLambda(
          _independent_normal, convert_to_tensor_fn=tfd.Distribution.mean, name="q_lambda")
    elif model == "shared":
      self._hidden = tf.keras.layers.Dense(d, name="shared_hidden")
    outputs = num_actions + 1  # per agent: A logits and the value
    f, l, n, a = config.trunk_units, config.local_units, num_hunters, num_actions
    # Every block starts as the whole W of eq. 15 would under Keras' Glorot-uniform: for Cloned the
    # head over [phi, psi_i, onehot(i)]; for the per-agent heads the kernel [N, d + F + L, 5] (Keras
    # counts N into both fans, so the scale shrinks with N). Per-block Glorot starts the latent block
    # (fan_in d) several times larger; with it a seed-0 Shared run reached 87% greedy success on the
    # figure-1 game instead of 96%. One initializer instance per layer (Keras repeats an instance).
    # With zero_critic_init the value column of every block that writes one starts at 0.
    critic = ((lambda i: _zero_critic_columns(i, outputs)) if config.zero_critic_init
              else (lambda i: i))
    if model == "cloned":
      init = lambda: _uniform(f + l + n, a)
      self._state_part = tf.keras.layers.Dense(outputs, kernel_initializer=critic(init()),
                                               name="cloned_state")  # W^phi, b
      self._local_part = tf.keras.layers.Dense(outputs, use_bias=False,
                                               kernel_initializer=critic(init()),
                                               name="cloned_local")
      self._agent_part = PerAgentBias(num_hunters, outputs, initializer=critic(init()),
                                      name="cloned_identity")  # W^id onehot(i)
    else:
      init = lambda scale=1.0: _uniform(n * (d + f + l), n * a, scale)
      self._state_part = tf.keras.layers.Dense(num_hunters * outputs,
                                               kernel_initializer=critic(init()),
                                               name="heads_state")
      self._local_part = PerAgentDense(num_hunters, outputs, use_bias=False,
                                       initializer=critic(init()), name="heads_local")
      self._latent_part = tf.keras.layers.Dense(
          num_hunters * a, use_bias=False, name="heads_latent",
          kernel_initializer=init(config.latent_init_scale))
    self._shared_base = None
    if config.shared_head_base and model != "cloned":  # Cloned's one head is shared already
      # Zeros: the network starts as eq. 15's per-agent heads.
      self._shared_base = (
          tf.keras.layers.Dense(outputs, kernel_initializer="zeros", name="heads_shared_state"),
          tf.keras.layers.Dense(outputs, use_bias=False, kernel_initializer="zeros",
                                name="heads_shared_local"))
    self._value_moments = None
    if config.value_norm:
      # (mu, sigma) of V_i = mu + sigma * v_i: set by the learner (MaceAgent), never by gradients.
      self._value_moments = (tf.Variable(0.0, trainable=False, name="value_mean"),
                             tf.Variable(1.0, trainable=False, name="value_stddev"))
    self._film = None
    if config.latent_film:
      if model == "cloned":
        raise ValueError("latent_film needs a latent: model 'mace' or 'shared', not 'cloned'")
      # G = 0 at the start: the heads begin as eq. 15's, and lambda's scaling is learned.
      self._film = tf.keras.layers.Dense(f + l, use_bias=False, kernel_initializer="zeros",
                                         name="heads_film")
      self._film_state = tf.keras.layers.Dense(num_hunters * a, use_bias=False,
                                               kernel_initializer=init(), name="heads_film_state")
      self._film_local = PerAgentDense(num_hunters, a, use_bias=False, initializer=init(),
                                       name="heads_film_local")

  @property
  def config(self) -> NetworkConfig:
    return self._config

  @property
  def model(self) -> str:
    """"mace", "shared" or "cloned"."""
    return self._model

  @property
  def value_moments(self):
    """With `value_norm`: the variables (mu, sigma) of the critics' V_i = mu + sigma * v_i; else
    None."""
    return self._value_moments

  def latent_distribution(self, phi):
    """Q(lambda | s) for features `phi [B, F]` (MACE only)."""
    q = self._latent_layer(self._latent_params(phi))
    return getattr(q, "tensor_distribution", q)

  @property
  def trunk(self):
    """The observation encoder: a `Trunk` (hunter games) or an `encoders.VectorEncoder`."""
    return self._trunk

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
    phi, psi = self._trunk(observation)  # [B, F], [N, B, L]
    return self.heads(phi, psi, noise), network_state

  def latent_logits(self, latent, layer_fn=None, features=None):
    """The part of every head's logits that depends on lambda: `[..., N, 5]` for `latent [..., d]`
    (MACE and Shared), W_i^lambda lambda, plus with `latent_film` H_i [phi * G_phi lambda, psi_i *
    G_psi lambda] for the `features` `[..., F + N * L]` (`MaceNetworkOutput.features`) of the
    states, which broadcast against `latent`'s leading axes.

    The logits are linear in lambda, so this is also how much a change of lambda moves them.
    """
    apply = layer_fn or (lambda layer, x: layer(x))
    d, n, a = self._config.latent_dim, self._num_hunters, self._num_actions
    lead = tf.shape(latent)[:-1]
    flat = apply(self._latent_part, tf.reshape(latent, [-1, d]))
    out = tf.reshape(flat, tf.concat([lead, [n, a]], 0))
    if self._film is None:
      return out
    f = self._config.trunk_units
    features = tf.broadcast_to(features, tf.concat([lead, tf.shape(features)[-1:]], 0))
    scale_phi, scale_psi = tf.split(apply(self._film, tf.reshape(latent, [-1, d])),
                                    [f, self._config.local_units], axis=-1)  # [R, F], [R, L]
    phi = tf.reshape(features[..., :f], [-1, f])  # [R, F]
    psi = tf.reshape(features[..., f:], [-1, n, self._config.local_units])  # [R, N, L]
    from_phi = tf.reshape(apply(self._film_state, phi * scale_phi), [-1, n, a])
    scaled_psi = tf.transpose(psi * scale_psi[:, None], [1, 0, 2])  # agent-major [N, R, L]
    from_psi = tf.transpose(apply(self._film_local, scaled_psi), [1, 0, 2])  # [R, N, 5]
    return out + tf.reshape(from_phi + from_psi, tf.concat([lead, [n, a]], 0))

  def heads(self, phi, psi, noise=None, layer_fn=None) -> MaceNetworkOutput:
    """Eq. 14-15 on the features phi `[B, F]` and psi `[N, B, L]` (agent-major).

    `layer_fn(layer, x)` applies each linear layer (default `layer(x)`); the compiled training loop
    passes one that records the layer's input for its deferred weight gradients.
    """
    apply = layer_fn or (lambda layer, x: layer(x))
    batch = tf.shape(phi)[0]
    n, d = self._num_hunters, self._config.latent_dim
    model = self._model
    if model == "mace":
      # Q's mean and stddev straight from its parameters (as `latent_distribution` builds Q): a
      # few ops, not a distribution object, in every pass of the training loop.
      mean, log_variance = tf.split(apply(self._latent_params, phi), 2, axis=-1)
      stddev = tf.exp(0.5 * log_variance)
      latent = mean if noise is None else mean + stddev * noise
    elif model == "shared":
      latent = mean = apply(self._hidden, phi)
      stddev = tf.zeros_like(mean)
    else:
      latent = mean = stddev = tf.zeros([batch, d])
    a = self._num_actions
    local = tf.transpose(apply(self._local_part, psi), [1, 0, 2])  # [B, N, 6]
    features = tf.zeros([batch, 0])
    if self._film is not None:
      features = tf.concat([phi, tf.reshape(tf.transpose(psi, [1, 0, 2]), [batch, -1])], axis=-1)
    if model == "cloned":
      out = apply(self._state_part, phi)[:, None, :] + local + self._agent_part(local)  # [B, N, 6]
      logits, values = tf.split(out, [a, 1], axis=-1)
    else:
      out = tf.reshape(apply(self._state_part, phi), [batch, n, a + 1]) + local
      if self._shared_base is not None:
        shared_state, shared_local = self._shared_base
        out += (apply(shared_state, phi)[:, None, :]
                + tf.transpose(apply(shared_local, psi), [1, 0, 2]))  # [B, N, 6]
      logits, values = tf.split(out, [a, 1], axis=-1)
      logits = logits + self.latent_logits(latent, layer_fn, features)
    values = tf.squeeze(values, -1)  # [B, N]
    if self._value_moments is not None:
      value_mean, value_stddev = self._value_moments
      values = value_mean + value_stddev * values
    return MaceNetworkOutput(logits, values, latent, mean, stddev, features)
