"""MaceAgent: the ELBO actor-critic of MACE (and of the Shared and Cloned baselines) as a TFAgent."""

import collections
from typing import Optional

import numpy as np
import tensorflow as tf
from tf_agents.agents import tf_agent
from tf_agents.trajectories import time_step as ts

from mace_tf.agents.mace import losses
from mace_tf.envs import observation as observation_lib
from mace_tf.agents.mace.config import MaceConfig
from mace_tf.agents.mace.policy import MacePolicy
from mace_tf.networks import MaceNetwork

MaceLossInfo = collections.namedtuple("MaceLossInfo", [
    "policy_gradient_loss",  # - sum_i log P(a_i | lambda, s) A_i (or the clipped surrogate)
    "kl_loss",               # KL(Q(lambda | s) || N(0, I)), before kl_coef (0 for shared, cloned)
    "value_loss",            # sum_i (V_i(s) - R_i)^2, before vf_coef
    "entropy",               # sum_i H(P(a_i | lambda, s)), before ent_coef
    "marginal_entropy",      # sum_i H(P(a_i | s)), lambda marginalized (if drawn; else 0)
    "latent_information",    # sum_i I(a_i; lambda | s), before latent_info_coef (if drawn; else 0)
    "latent_decodability",   # D, the bound on I(a; lambda | s), before latent_decode_coef (or 0)
    "total_loss",            # pg + kl_coef kl + vf_coef value - ent_coef bonus - latent_info_coef
                             # info - latent_decode_coef (D + its score-function surrogate)
    "kl_per_dim",            # [d] KL of each latent dimension (is the latent informative?)
    "sigma_mean",            # mean of sigma(s) over steps and dimensions
    "sigma_min",
    "mu_abs_mean",           # mean |mu(s)|
    "grad_norm",             # global gradient norm before clipping
    "advantage_mean",
    "live_agents",           # mean live (counted) agents per counted step: entropy / live_agents is
                             # the per-agent entropy (the sum falls as hunters freeze)
])


def optimizer_from_config(config: MaceConfig, learning_rate=None):
  """Keras' legacy Adam or RMSprop: the same update as the Keras 2.11+ classes, in one fused kernel
  per variable (ResourceApplyAdam) instead of ~20 small ops, which shows on 2 CPU cores
  (DESIGN.md). `learning_rate`: a callable of no arguments in place of config.learning_rate (a
  schedule; the legacy optimizers call it at each step)."""
  rate = config.learning_rate if learning_rate is None else learning_rate
  if config.optimizer == "adam":
    return tf.keras.optimizers.legacy.Adam(rate)
  return tf.keras.optimizers.legacy.RMSprop(rate)


def _drop_bootstrap(x):
  """`x[:, :-1]` of a network output `[B, L + 1, ...]`, by a split: its gradient is a concat,
  where a strided slice's gradient (StridedSliceGrad) measured ~0.2 ms per output on 2 cores."""
  return tf.split(x, [tf.shape(x)[1] - 1, 1], axis=1)[0]


class MaceAgent(tf_agent.TFAgent):
  """Trains a MaceNetwork on rollouts of L steps from B games.

  `train(experience)` takes a `Trajectory` with outer dims `[B, L + 1]` collected by
  `collect_policy`: the first L steps are trained on; step L only supplies the bootstrap value
  V(s_L) (its action, info and reward are ignored).

  `batch_size`: B, needed by `config.wall_clock_continuation` (its per-game count of frozen
  steps runs on from rollout to rollout, so every `train` must get the same B games, as both
  training loops give it).

  `total_updates`: the run's number of updates, which the annealed coefficients
  (`config.anneal_learning_rate`, `config.anneal_ent_coef`) reach 0 at, counted by
  `train_step_counter` (checkpointed with the agent, so a resumed run continues the schedule).
  """

  def __init__(self, time_step_spec, action_spec, *, config: MaceConfig,
               network: Optional[MaceNetwork] = None,
               optimizer: Optional[tf.keras.optimizers.Optimizer] = None,
               train_step_counter: Optional[tf.Variable] = None,
               total_updates: Optional[int] = None, batch_size: Optional[int] = None,
               name: str = "MaceAgent"):
    tf.Module.__init__(self, name=name)
    if config.anneals and not (total_updates and total_updates >= 1):
      raise ValueError(f"anneal_learning_rate and anneal_ent_coef need the run's total_updates "
                       f">= 1, got {total_updates}")
    if optimizer is not None and config.anneal_learning_rate:
      raise ValueError("anneal_learning_rate builds its own optimizer: pass no optimizer")
    self._config = config
    self._total_updates = total_updates
    num_hunters = action_spec.shape[0]
    self._network = network or MaceNetwork(
        time_step_spec.observation, num_hunters=num_hunters, model=config.model,
        config=config.network, num_actions=int(np.max(action_spec.maximum)) + 1)
    self._network.create_variables()
    if config.scale_rewards:  # the running moments of losses.running_rms_scale, checkpointed
      self._reward_count = tf.Variable(0.0, dtype=tf.float64, trainable=False, name="reward_count")
      self._reward_sum_of_squares = tf.Variable(0.0, dtype=tf.float64, trainable=False,
                                                name="reward_sum_of_squares")
    if config.wall_clock_continuation:  # each game's frozen steps in its episode, checkpointed
      if not (batch_size and batch_size >= 1):
        raise ValueError(f"wall_clock_continuation counts each game's frozen steps across "
                         f"rollouts: it needs the batch_size B >= 1, got {batch_size}")
      self._frozen_steps = tf.Variable(tf.zeros([batch_size, num_hunters]), trainable=False,
                                       name="frozen_steps")
    if self._network.value_moments is not None:  # value_norm_update's moving averages, checkpointed
      self._value_norm_moments = tuple(
          tf.Variable(0.0, trainable=False, name=name)
          for name in ("value_norm_mean", "value_norm_square", "value_norm_weight"))
    if train_step_counter is None:  # not TF-Agents' process-wide global step
      train_step_counter = tf.Variable(0, dtype=tf.int64, trainable=False, name="train_step")
    self._optimizer = optimizer or optimizer_from_config(
        config, self.learning_rate if config.anneal_learning_rate else None)
    policy = MacePolicy(time_step_spec, action_spec, self._network, greedy=True)
    collect_policy = MacePolicy(time_step_spec, action_spec, self._network, greedy=False)
    super().__init__(time_step_spec, action_spec, policy, collect_policy,
                     train_sequence_length=None, train_step_counter=train_step_counter)

  @property
  def config(self) -> MaceConfig:
    return self._config

  @property
  def network(self) -> MaceNetwork:
    return self._network

  @property
  def optimizer(self):
    return self._optimizer

  def reward_rms(self):
    """With `scale_rewards`: the running root mean square that the rewards are divided by (0 until
    a reward is seen); None without."""
    if not self._config.scale_rewards:
      return None
    return float(tf.sqrt(self._reward_sum_of_squares / tf.maximum(self._reward_count, 1.0)))

  def frozen_steps(self):
    """With `wall_clock_continuation`: `[B, N]` each game's hunters' frozen steps in the episode
    the game is in (after the last rollout trained on); None without."""
    if not self._config.wall_clock_continuation:
      return None
    return self._frozen_steps.numpy()

  def new_episodes(self) -> None:
    """Every game restarts at a fresh episode (not the checkpointed one): with
    `wall_clock_continuation`, each game's count of frozen steps starts again at 0."""
    if self._config.wall_clock_continuation:
      self._frozen_steps.assign(tf.zeros_like(self._frozen_steps))

  def _initialize(self):
    return tf.no_op()

  def remaining_fraction(self):
    """max(0, 1 - u / total_updates) at update u (float32 scalar): the annealed coefficients'
    share of their initial value; 1 without total_updates."""
    if not self._total_updates:
      return tf.constant(1.0)
    done = tf.cast(self.train_step_counter, tf.float32) / float(self._total_updates)
    return tf.maximum(0.0, 1.0 - done)

  def learning_rate(self):
    """eta at this update: config.learning_rate, times `remaining_fraction()` with
    anneal_learning_rate (the optimizer's schedule)."""
    c = self._config
    if c.anneal_learning_rate:
      return c.learning_rate * self.remaining_fraction()
    return tf.constant(c.learning_rate)

  def ent_coef(self):
    """beta at this update: config.ent_coef, times `remaining_fraction()` with anneal_ent_coef."""
    c = self._config
    return c.ent_coef * self.remaining_fraction() if c.anneal_ent_coef else tf.constant(c.ent_coef)

  # --- the pieces of the loss -----------------------------------------------------------------

  def _forward(self, experience):
    """One pass of the network over every step `[B, L + 1]` of the rollout, lambda from stored eps."""
    outer = tf.shape(experience.step_type)
    flat = lambda x: tf.reshape(x, tf.concat([[-1], tf.shape(x)[2:]], 0))
    observation = tf.nest.map_structure(flat, experience.observation)
    noise = flat(experience.policy_info["eps"]) if self._config.model == "mace" else None
    output, _ = self._network(observation, noise=noise, training=True)
    return tf.nest.map_structure(
        lambda x: tf.reshape(x, tf.concat([outer, tf.shape(x)[1:]], 0)), output)

  @staticmethod
  def _masks(experience):
    """mask `[B, L]` (steps whose action counted) and agent_mask `[B, L, N]` (and not frozen)."""
    mask = experience.step_type[:, :-1] != ts.StepType.LAST
    active = observation_lib.active_agents(experience.observation)[:, :-1]
    return mask, mask[..., None] & active

  def advantages(self, experience, values):
    """Per-agent GAE and value targets `[B, L, N]` for the rollout, from values `[B, L + 1, N]`.
    With `scale_rewards` it also counts the rollout's rewards into the running scale, with
    `wall_clock_continuation` its frozen steps into each game's count, and with
    `value_norm` the targets into ValueNorm's moments (the network's (mu, sigma) follow them at
    `update`): call it once per rollout (the update does)."""
    c = self._config
    mask, agent_mask = self._masks(experience)
    dones = experience.next_step_type[:, :-1] == ts.StepType.LAST
    gamma, gae_lambda = c.gamma, c.gae_lambda
    if c.frozen_clock:
      active = observation_lib.active_agents(experience.observation)[:, :-1]  # [B, L, N] at t
      gamma, gae_lambda = losses.frozen_clock_discounts(active=active, gamma=c.gamma,
                                                        gae_lambda=c.gae_lambda)
    if c.continuing_returns:
      gamma, gae_lambda = losses.continuing_discounts(boundary=~mask, gamma=gamma,
                                                      gae_lambda=gae_lambda)
      dones = tf.zeros_like(dones)
    if c.wall_clock_continuation:  # counts this rollout's frozen steps: once per rollout
      boundary_gamma, frozen_steps = losses.wall_clock_boundary_discounts(
          frozen=mask[..., None] & ~agent_mask, boundary=~mask, gamma=c.gamma,
          frozen_steps=self._frozen_steps)
      self._frozen_steps.assign(frozen_steps)
      gamma = gamma * boundary_gamma
    rewards = experience.reward[:, :-1]
    if c.scale_rewards:  # counts this rollout's rewards into the running moments: once per rollout
      rewards, count, sum_of_squares = losses.running_rms_scale(
          rewards, agent_mask, self._reward_count, self._reward_sum_of_squares)
      self._reward_count.assign(count)
      self._reward_sum_of_squares.assign(sum_of_squares)
    advantages, returns = losses.generalized_advantages(
        rewards=rewards, values=tf.stop_gradient(values), dones=dones,
        gamma=gamma, gae_lambda=gae_lambda)
    if self._network.value_moments is not None:
      moments = losses.value_norm_update(
          returns=returns, mask=self._value_mask(mask),
          moments=self._value_norm_moments)
      for variable, value in zip(self._value_norm_moments, moments):
        variable.assign(value)
    return advantages, returns

  def _value_mask(self, mask):
    """`[B, L]`: of the counted steps `mask [B, L]`, those whose value targets count. With
    continuing returns every step's: V(s_LAST) is the next episode's first value, and is learned as
    such (the rollout's last step may be a LAST whose successor it has not seen)."""
    return tf.ones_like(mask) if self._config.continuing_returns else mask

  def _loss(self, experience, weights=None, training=False, advantages_and_returns=None):
    """Every term of the loss on a rollout; returns `LossInfo(total, MaceLossInfo)`."""
    del weights, training
    return self.loss_from_output(self._forward(experience), experience, advantages_and_returns)

  def loss_from_output(self, output, experience, advantages_and_returns=None, layer_fn=None):
    """The loss given the network's output `[B, L + 1]` on the rollout's steps.

    `_loss` runs the network over the rollout to get `output`; the compiled training loop
    (`mace_tf.fast.graph_loop`) passes the output it computed while collecting, so the rollout is
    not run through the network twice, and its recorder's `layer_fn` for the layers the loss
    itself applies (the marginal entropy's latent block).
    """
    c = self._config
    mask, agent_mask = self._masks(experience)
    if advantages_and_returns is None:
      advantages_and_returns = self.advantages(experience, output.values)
    advantages, returns = advantages_and_returns
    if c.normalize_advantages:
      advantages = losses.normalize_advantages(advantages, agent_mask, c.advantage_std_floor)
    logits = _drop_bootstrap(output.logits)
    actions = experience.action[:, :-1]
    log_probs = losses.action_log_probs(logits=logits, actions=actions)  # [B, L, N]
    if c.ppo_clip > 0:
      pg = losses.clipped_surrogate_loss(
          log_probs=log_probs, old_log_probs=experience.policy_info["log_prob"][:, :-1],
          advantages=advantages, agent_mask=agent_mask, mask=mask, clip=c.ppo_clip)
    else:
      pg = losses.policy_gradient_loss(log_probs=log_probs, advantages=advantages,
                                       agent_mask=agent_mask, mask=mask)
    mean, stddev = _drop_bootstrap(output.latent_mean), _drop_bootstrap(output.latent_stddev)
    if c.model == "mace":
      kl = losses.kl_loss(mean=mean, stddev=stddev, mask=mask)
      kl_per_dim = losses.kl_per_dimension_mean(mean, stddev, mask)
    else:
      kl = tf.constant(0.0)
      kl_per_dim = tf.zeros([c.latent_dim])
    # With value_norm: sigma as the forward pass used it (the update moves it afterwards).
    moments = self._network.value_moments
    vloss = losses.value_loss(values=_drop_bootstrap(output.values), returns=returns,
                              mask=self._value_mask(mask),
                              scale=None if moments is None else moments[1].read_value())
    ent = losses.entropy(logits=logits, agent_mask=agent_mask, mask=mask)
    marginal = information = decodability = tf.constant(0.0)
    if c.draws_marginal:
      shifts = self.latent_draws(stddev, experience, layer_fn,
                                 features=_drop_bootstrap(output.features))
      marginal, information = losses.marginal_and_information(
          logits=logits, shifts=shifts, agent_mask=agent_mask, mask=mask)
      if c.latent_decode_coef > 0:
        decodability, per_step = losses.latent_decodability(
            logits=logits, shifts=shifts, actions=actions, agent_mask=agent_mask, mask=mask)
    latent_use = {}
    if c.latent_info_coef > 0:
      latent_use["latent_information"] = (c.latent_info_coef, information)
    if c.latent_decode_coef > 0:  # D, with its score-function surrogate (value 0)
      latent_use["latent_decodability"] = (c.latent_decode_coef, decodability + (
          losses.decodability_surrogate(per_step=per_step, log_probs=log_probs,
                                        agent_mask=agent_mask, mask=mask)))
    total, _ = losses.elbo(
        policy_gradient=pg, kl=kl, value=vloss,
        entropy_bonus=marginal if c.entropy_bonus == "marginal" else ent, latent_use=latent_use,
        vf_coef=c.vf_coef, ent_coef=self.ent_coef(), kl_coef=c.kl_coef)
    extra = MaceLossInfo(
        policy_gradient_loss=pg, kl_loss=kl, value_loss=vloss, entropy=ent,
        marginal_entropy=marginal, latent_information=information,
        latent_decodability=decodability, total_loss=total,
        kl_per_dim=kl_per_dim, sigma_mean=tf.reduce_mean(stddev), sigma_min=tf.reduce_min(stddev),
        mu_abs_mean=tf.reduce_mean(tf.abs(mean)), grad_norm=tf.constant(0.0),
        advantage_mean=losses.mean_over_steps(tf.reduce_mean(advantages, -1), mask),
        live_agents=losses.mean_over_steps(
            tf.reduce_sum(tf.cast(agent_mask, logits.dtype), -1), mask))
    return tf_agent.LossInfo(total, extra)

  def latent_draws(self, stddev, experience, layer_fn=None, features=None):
    """logits(lambda_k) - logits(lambda_0) `[K, B, L, N, A]` of K more draws of lambda per state,
    for the marginal entropy, the information and the decodability terms (`losses`); `features`
    `[B, L, ...]`: the network output's, which the shift depends on with `latent_film`.

    The K extra draws of lambda for game b at step t take the eps that games b + 1 ... b + K (mod B)
    drew at t: standard normal and independent of game b's own, and the same in both training
    loops (no new random numbers). stddev `[B, L, d]`.
    """
    eps = experience.policy_info["eps"][:, :-1]  # [B, L, d]
    diffs = tf.stack([tf.roll(eps, k, axis=0) - eps
                      for k in range(1, self._config.marginal_samples + 1)])  # [K, B, L, d]
    return self._network.latent_logits(stddev[None] * diffs, layer_fn, features)

  def _train(self, experience, weights=None):
    c = self._config
    variables = self._network.trainable_variables
    fixed_advantages = None
    if c.num_epochs > 1:  # PPO: the advantages of the behaviour parameters, for every epoch
      fixed_advantages = self.advantages(experience, self._forward(experience).values)
    for epoch in range(c.num_epochs):
      with tf.GradientTape() as tape:
        loss_info = self._loss(experience, training=True,
                               advantages_and_returns=fixed_advantages)
      loss_info = self.update(loss_info, tape.gradient(loss_info.loss, variables),
                              count=epoch == c.num_epochs - 1)
    return loss_info

  def update(self, loss_info, grads, count: bool = True):
    """The update step, for both training loops: one optimizer step with the gradients `grads` of
    the network's trainable variables, clipped to a global norm; counts a train step (`count`).
    Returns `loss_info` with the gradient norm before clipping in `extra.grad_norm`."""
    variables = self._network.trainable_variables
    if self._config.max_grad_norm > 0:
      grads, grad_norm = tf.clip_by_global_norm(grads, self._config.max_grad_norm)
    else:
      grad_norm = tf.linalg.global_norm(grads)
    self._optimizer.apply_gradients(zip(grads, variables))
    if self._network.value_moments is not None:  # the critics' (mu, sigma) follow their targets
      for variable, value in zip(self._network.value_moments,
                                 losses.value_norm_stats(self._value_norm_moments)):
        variable.assign(value)
    if count:
      self.train_step_counter.assign_add(1)
    return loss_info._replace(extra=loss_info.extra._replace(grad_norm=grad_norm))
