"""MacePolicy: samples the joint action `[B, N]` of every game and agent in one call."""

import tensorflow as tf
import tensorflow_probability as tfp
from tf_agents.policies import tf_policy
from tf_agents.trajectories import policy_step

from mace_tf.networks import MaceNetwork

tfd = tfp.distributions

INT32_MAX = 2**31 - 1


def sample_joint_action(network: MaceNetwork, observation, seed, forward=None, held_eps=None,
                        first=None):
  """lambda ~ Q(lambda | s) and a_i ~ P(a_i | lambda, s) for every game and agent, from one seed.

  Sampling is stateless: eps = stateless_normal(seed_1) and the actions are the Gumbel-max of the
  logits with stateless_uniform(seed_2) noise, so the same seed reproduces the same joint action
  (what lets agents that share a seed act on their own, paper section 2.1).

  Args:
    network: the MaceNetwork.
    observation: a batch `[B]` of observations.
    seed: int `[2]`.
    forward: `forward(observation, eps) -> MaceNetworkOutput`, the network's pass; default the plain
      `network(observation, noise=eps)` (the compiled training loop passes its fast one).
    held_eps: `[B, d]` or None: the eps each game holds (`MaceConfig.hold_latent`); a game keeps
      it unless `first` (bool `[B]`, the episode's first step) is set, where it takes the new draw.

  Returns:
    action int32 `[B, N]`, eps `[B, d]` (the reparameterization noise: lambda = mu + sigma * eps),
    log_prob `[B, N]` (log P(a_i | lambda, s) of the sampled actions), and the network output.
  """
  seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=2)
  batch = tf.shape(tf.nest.flatten(observation)[0])[0]
  eps = tf.random.stateless_normal([batch, network.config.latent_dim], seed=seeds[0])
  if held_eps is not None:
    eps = tf.where(first[:, None], eps, held_eps)
  if forward is None:
    output, _ = network(observation, noise=eps)
  else:
    output = forward(observation, eps)
  uniform = tf.random.stateless_uniform(tf.shape(output.logits), seed=seeds[1], minval=1e-20,
                                        maxval=1.0)
  gumbel = -tf.math.log(-tf.math.log(uniform))
  action = tf.argmax(output.logits + gumbel, axis=-1, output_type=tf.int32)
  log_prob = tf.gather(tf.nn.log_softmax(output.logits), action, batch_dims=2)
  return action, eps, log_prob, output


def sample_agent_action(network: MaceNetwork, observation, agent_index, seed):
  """Agent i's own action `[B]`, drawn on its own from the seed it shares with the other agents.

  Decentralized execution (paper section 2.1): every agent evaluates the shared network on the
  state, draws lambda = mu + sigma * eps from the shared seed, and keeps its own head's Gumbel-max
  draw. The draws are the very ops of `sample_joint_action` (same shapes, same seeds), so N agents
  calling this with the same observation batch and seed reproduce its joint action exactly.
  """
  action, _, _, _ = sample_joint_action(network, observation, seed)
  return tf.gather(action, agent_index, axis=1)


def action_probabilities(network: MaceNetwork, observation, eps):
  """P(a_i | lambda, s) `[B, N, 5]` and the network output, for lambda from the given eps `[B, d]`."""
  output, _ = network(observation, noise=eps)
  return tf.nn.softmax(output.logits), output


class MacePolicy(tf_policy.TFPolicy):
  """The sampling policy (`greedy=False`) or the greedy policy (mode of lambda and of every head).

  The sampling policy's info carries what the learner needs: `eps [d]`, the noise that recomputes
  exactly the sampled lambda with gradients, and `log_prob [N]`, the behaviour log-probabilities.
  """

  def __init__(self, time_step_spec, action_spec, network: MaceNetwork, *, greedy: bool,
               name: str = None):
    num_hunters = action_spec.shape[0]
    info_spec = () if greedy else {
        "eps": tf.TensorSpec([network.config.latent_dim], tf.float32, "eps"),
        "log_prob": tf.TensorSpec([num_hunters], tf.float32, "log_prob"),
    }
    super().__init__(time_step_spec, action_spec, info_spec=info_spec, clip=False,
                     name=name or ("greedy_policy" if greedy else "policy"))
    self._network = network
    self._greedy = greedy

  @property
  def network(self) -> MaceNetwork:
    return self._network

  @property
  def greedy(self) -> bool:
    return self._greedy

  def _variables(self):
    return self._network.variables

  def _seed(self, seed):
    if seed is not None and tf.is_tensor(seed) and seed.shape == (2,):
      return seed
    return tf.random.uniform([2], 0, INT32_MAX, dtype=tf.int64,
                             seed=None if seed is None else int(seed))

  def _action(self, time_step, policy_state, seed=None):
    if self._greedy:
      output, _ = self._network(time_step.observation)
      action = tf.argmax(output.logits, axis=-1, output_type=tf.int32)
      return policy_step.PolicyStep(action, policy_state, ())
    action, eps, log_prob, _ = sample_joint_action(self._network, time_step.observation,
                                                   self._seed(seed))
    return policy_step.PolicyStep(action, policy_state, {"eps": eps, "log_prob": log_prob})

  def _distribution(self, time_step, policy_state):
    if self._greedy:
      output, _ = self._network(time_step.observation)
      mode = tf.argmax(output.logits, axis=-1, output_type=tf.int32)
      return policy_step.PolicyStep(tfd.Independent(tfd.Deterministic(mode), 1), policy_state, ())
    raise NotImplementedError(
        "the MACE sampling policy is a mixture over lambda with no closed-form distribution; "
        "use action()")

