"""The terms of MACE's loss, as pure functions, with the paper's names and equation numbers.

Shapes: B games, T time steps, N agents, d latent dimensions. `mask [B, T]` marks the time steps that
count (not the LAST -> FIRST boundary of an auto-reset, whose action the game ignored); `agent_mask
[B, T, N]` also drops frozen hunters, whose actions the game ignores too. Every term is summed over
agents (the sums over i of eq. 10, 33, 34) and averaged over the counted (game, time) pairs.
"""

import tensorflow as tf


def mean_over_steps(per_step, mask):
  """Sum of `per_step [B, T]` over counted steps, divided by their number (at least 1)."""
  mask = tf.cast(mask, per_step.dtype)
  return tf.reduce_sum(per_step * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def generalized_advantages(*, rewards, values, dones, gamma, gae_lambda):
  """Per-agent generalized advantage estimates (Schulman et al. 2015) and value targets.

  Args:
    rewards: `[B, T, N]`, r_t: the reward of the transition out of step t.
    values: `[B, T + 1, N]`, V_i(s_t), the last one for bootstrapping.
    dones: `[B, T]`, whether the transition out of step t ended the episode (no bootstrap past it).
    gamma: the discount: a float, or `[B, T, N]` per transition and agent (`frozen_clock_discounts`).
    gae_lambda: the GAE discount tau: a float, or `[B, T, N]` likewise.

  Returns:
    advantages `[B, T, N]`: A_t = sum_k (gamma * tau)^k delta_{t+k}, cut at episode ends, with
    delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_t) - V(s_t); and returns `[B, T, N]` = A_t + V(s_t).
  """
  not_done = 1.0 - tf.cast(dones, values.dtype)[..., None]  # [B, T, 1]
  gamma = tf.cast(gamma, values.dtype)
  gae_lambda = tf.cast(gae_lambda, values.dtype)
  deltas = rewards + gamma * values[:, 1:] * not_done - values[:, :-1]
  decay = gamma * gae_lambda * not_done  # [B, T, 1]
  if deltas.shape[1] is not None:
    # A static T (the compiled loop's L): the backward recursion unrolled, 2 ops a step, instead of
    # a while loop's dozen.
    advantage, advantages = tf.zeros_like(deltas[:, 0]), []
    for delta, step_decay in zip(reversed(tf.unstack(deltas, axis=1)),
                                 reversed(tf.unstack(decay, axis=1))):
      advantage = delta + step_decay * advantage
      advantages.append(advantage)
    advantages = tf.stack(advantages[::-1], axis=1)
    return advantages, advantages + values[:, :-1]
  # A dynamic T: scan backwards over time, time-major.
  deltas_tm = tf.transpose(deltas, [1, 0, 2])
  decay_tm = tf.transpose(decay, [1, 0, 2])

  def accumulate(next_advantage, inputs):
    delta, step_decay = inputs
    return delta + step_decay * next_advantage

  advantages_tm = tf.scan(accumulate, (deltas_tm, decay_tm), initializer=tf.zeros_like(deltas_tm[0]),
                          reverse=True)
  advantages = tf.transpose(advantages_tm, [1, 0, 2])
  return advantages, advantages + values[:, :-1]


def frozen_clock_discounts(*, active, gamma: float, gae_lambda: float):
  """Per-agent (gamma, tau) `[B, T, N]` that stop a hunter's clock once it is frozen.

  A frozen hunter takes no more decisions (the game ignores its actions), so the steps the others
  still play are no time for it: its transitions out of frozen steps (`active [B, T, N]` False) are
  not discounted (gamma = tau = 1), and its terminal reward reaches the step whose action froze it
  (the capture) with the weight it would have if the episode had ended right there.
  """
  active = tf.cast(active, tf.float32)
  return (gamma * active + (1.0 - active), gae_lambda * active + (1.0 - active))


def continuing_discounts(*, boundary, gamma, gae_lambda):
  """(gamma, tau) that carry returns across episode ends, as in a continuing task.

  `boundary [B, T]`: the steps whose transition is an auto-reset (a LAST step; its next step is the
  next episode's FIRST). Their transition has no reward, and no time passes for any hunter, so it
  gets gamma = tau = 1: the step into LAST bootstraps, through V(s_LAST), on the next episode's first
  value. `gamma`, `gae_lambda`: floats or `[B, T, N]` (`frozen_clock_discounts`). Use with no
  `dones` in `generalized_advantages`. Returns `[B, T, N or 1]` each.
  """
  through = tf.cast(boundary, tf.float32)[..., None]
  keep = lambda x: tf.cast(x, tf.float32) * (1.0 - through) + through
  return keep(gamma), keep(gae_lambda)


def wall_clock_boundary_discounts(*, frozen, boundary, gamma: float, frozen_steps):
  """Per-agent discounts `[B, T, N]` of the episode-end transitions that give the next episode's
  value the wall clock back, with the steps each agent spent frozen in the episode so far.

  With the frozen clock and continuing returns, a frozen hunter's clock stops for everything after
  its capture, the next episode included: a hunter that freezes early (on a near hare) reaches the
  next episode in fewer of its own steps than one that walks on to a stag, though both reach it
  at the same wall time. Here the boundary transition of agent i (gamma 1 under
  `continuing_discounts`) is discounted gamma^F_i, F_i its frozen steps in the episode: the next
  episode's value then reaches every step at which the agent still acts with gamma^(wall steps to
  it), while the terminal reward keeps the frozen clock (it still reaches the capture undiscounted
  by the steps the others play).

  Args:
    frozen: bool `[B, T, N]`: the counted transitions out of a frozen agent's step (those the
      frozen clock gives gamma = 1).
    boundary: bool `[B, T]`: the auto-reset transitions (a LAST step).
    gamma: the discount.
    frozen_steps: float `[B, N]`: each game's agents' frozen steps in the current episode before
      the rollout's first step (the previous call's second output; 0 at a game's first episode).

  Returns:
    (`[B, T, N]` gamma^F_i at boundary transitions and 1 elsewhere, `[B, N]` the frozen steps of
    the episode each game is in after the rollout: the next call's `frozen_steps`).
  """
  if frozen.shape[1] is None:
    raise ValueError("wall_clock_boundary_discounts needs the rollout's length T statically")
  frozen = tf.cast(frozen, tf.float32)
  boundary = tf.cast(boundary, tf.float32)[..., None]
  count, discounts = tf.cast(frozen_steps, tf.float32), []
  # T is the rollout's L (static in both training loops): a short unrolled loop.
  for t in range(frozen.shape[1]):
    discounts.append(boundary[:, t] * tf.pow(float(gamma), count) + (1.0 - boundary[:, t]))
    count = (count + frozen[:, t]) * (1.0 - boundary[:, t])
  return tf.stack(discounts, axis=1), count


def normalize_advantages(advantages, agent_mask, std_floor: float = 0.0):
  """(A - mean) / (max(std, std_floor) + 1e-8) over the counted agent-steps (`agent_mask [B, T, N]`)
  of a rollout.

  The policy-gradient term then has the same scale however rare and small the rewards are, instead
  of vanishing beside the entropy bonus while the team reward is rare. `std_floor` (in the
  returns' units) keeps a rollout whose advantages are only the critic's noise (no reward yet)
  from being scaled up to unit variance. Uncounted entries are returned as they would be
  normalized (the loss masks them).
  """
  m = tf.cast(agent_mask, advantages.dtype)
  count = tf.maximum(tf.reduce_sum(m), 1.0)
  mean = tf.reduce_sum(advantages * m) / count
  variance = tf.reduce_sum(tf.square(advantages - mean) * m) / count
  return (advantages - mean) / (tf.maximum(tf.sqrt(variance), std_floor) + 1e-8)


def running_rms_scale(rewards, agent_mask, count, sum_of_squares):
  """Rewards divided by the root mean square of every counted reward seen so far, this rollout's
  included: `(scaled [B, T, N], count', sum_of_squares')` from the running `count` and
  `sum_of_squares` (float64 scalars).

  Not centred: a step without reward stays 0, so the optimal policy is unchanged (a positive
  rescaling of every return), while a rare reward grows to ~1 / sqrt(its frequency): the
  policy-gradient term no longer vanishes beside the entropy bonus, and a rollout with no reward
  at all has no signal to amplify (which is what normalized advantages do to it: their noise is
  scaled up to unit variance). With no reward seen yet, the rewards (all 0) are returned as they are.
  """
  m = tf.cast(agent_mask, tf.float64)
  r = tf.cast(rewards, tf.float64)
  count = count + tf.reduce_sum(m)
  sum_of_squares = sum_of_squares + tf.reduce_sum(tf.square(r) * m)
  rms = tf.sqrt(sum_of_squares / tf.maximum(count, 1.0))
  scale = tf.where(rms > 0, 1.0 / tf.maximum(rms, 1e-12), tf.ones_like(rms))
  return tf.cast(r * scale, rewards.dtype), count, sum_of_squares


# ValueNorm's decay per update. MAPPO (Yu et al. 2022) uses 0.99999 over its 10^4-10^5 updates, in
# effect a cumulative average; a 1M-sample run here is ~3,000 updates (B = 32, L = 10) whose returns
# grow as the policy learns, so the moments follow the last ~1,000 updates (~300k samples).
VALUE_NORM_DECAY = 0.999
# The variance's floor (MAPPO's): while every target is ~0 (no reward seen yet), sigma stays at 0.1
# rather than blowing the critic's noise up to unit scale.
VALUE_NORM_MIN_VARIANCE = 1e-2


def value_norm_update(*, returns, mask, moments, decay: float = VALUE_NORM_DECAY):
  """One update of ValueNorm's running moments from a rollout's value targets.

  Args:
    returns: `[B, T, N]` value targets R_i.
    mask: `[B, T]`, the steps whose targets the value loss counts (every agent of a counted step).
    moments: (m, q, w) float32 scalars: exponential moving averages (decay per update) of the
      targets' mean and of their squares' mean, and of 1 (the debiasing weight, as Adam's).
    decay: the moving average's decay per update.

  Returns:
    (m', q', w'); `value_norm_stats` gives the debiased (mean, stddev).
  """
  m = tf.cast(mask, returns.dtype)[..., None] * tf.ones_like(returns)
  count = tf.maximum(tf.reduce_sum(m), 1.0)
  batch_mean = tf.reduce_sum(returns * m) / count
  batch_square = tf.reduce_sum(tf.square(returns) * m) / count
  mean, square, weight = moments
  return (decay * mean + (1.0 - decay) * batch_mean,
          decay * square + (1.0 - decay) * batch_square,
          decay * weight + (1.0 - decay))


def value_norm_stats(moments, min_variance: float = VALUE_NORM_MIN_VARIANCE):
  """(mean, stddev) of ValueNorm's moments (m, q, w): m / w and sqrt(max(q / w - (m / w)^2,
  min_variance)); (0, 1) before any update (w = 0)."""
  mean, square, weight = moments
  seen = weight > 0
  weight = tf.where(seen, weight, 1.0)
  mu = mean / weight
  variance = tf.maximum(square / weight - tf.square(mu), min_variance)
  return tf.where(seen, mu, 0.0), tf.where(seen, tf.sqrt(variance), 1.0)


def policy_gradient_loss(*, log_probs, advantages, agent_mask, mask):
  """- sum_i log P(a_i | lambda, s) * A_i (eq. 10 with generalized advantages as F, eq. 11).

  Args: log_probs, advantages, agent_mask `[B, T, N]`; mask `[B, T]`. Advantages are constants.
  """
  agent_mask = tf.cast(agent_mask, log_probs.dtype)
  per_step = -tf.reduce_sum(log_probs * tf.stop_gradient(advantages) * agent_mask, axis=-1)
  return mean_over_steps(per_step, mask)


def clipped_surrogate_loss(*, log_probs, old_log_probs, advantages, agent_mask, mask, clip):
  """PPO's clipped surrogate, per agent, in place of `policy_gradient_loss` (optional).

  ratio_i = P(a_i | lambda, s) / P_old(a_i | lambda, s), lambda recomputed from the stored eps.
  """
  advantages = tf.stop_gradient(advantages)
  ratio = tf.exp(log_probs - tf.stop_gradient(old_log_probs))
  surrogate = tf.minimum(ratio * advantages,
                         tf.clip_by_value(ratio, 1.0 - clip, 1.0 + clip) * advantages)
  per_step = -tf.reduce_sum(surrogate * tf.cast(agent_mask, surrogate.dtype), axis=-1)
  return mean_over_steps(per_step, mask)


def kl_per_dimension(mean, stddev):
  """KL(N(mu_d, sigma_d^2) || N(0, 1)) of each latent dimension: 0.5 (mu^2 + sigma^2 - 1 - log sigma^2)."""
  variance = tf.square(stddev)
  return 0.5 * (tf.square(mean) + variance - 1.0 - tf.math.log(variance))


def kl_to_standard_normal(mean, stddev):
  """KL(N(mean, stddev^2) || N(0, I)) in closed form, summed over the last (latent) axis.

  0.5 * sum_d (mu_d^2 + sigma_d^2 - 1 - log sigma_d^2): the log P(lambda) / Q(lambda | s) term of
  the ELBO (eq. 8) in expectation.
  """
  return tf.reduce_sum(kl_per_dimension(mean, stddev), axis=-1)


def kl_loss(*, mean, stddev, mask):
  """Mean over counted steps of KL(Q(lambda | s) || N(0, I)); `mean`, `stddev` `[B, T, d]`."""
  return mean_over_steps(kl_to_standard_normal(mean, stddev), mask)


def value_loss(*, values, returns, mask, scale=None):
  """sum_i (V_i(s_t) - R_i)^2 (eq. 33), averaged over counted steps; returns are constants.

  `scale`: ValueNorm's sigma (a constant), the loss ((V - R) / sigma)^2: the critic's own output v
  of V = mu + sigma * v against its normalized target (R - mu) / sigma."""
  error = values - tf.stop_gradient(returns)
  if scale is not None:
    error = error / tf.stop_gradient(scale)
  per_step = tf.reduce_sum(tf.square(error), axis=-1)
  return mean_over_steps(per_step, mask)


def log_policy(logits):
  """log P(a | lambda, s) of every action for `logits [..., A]`, laid out actions first: `[A, ...]`.

  Its reductions over the A = 5 actions then run across A rows; along a last axis of 5 they are
  slow (`tf.nn.log_softmax`, the log-probabilities and the entropy of `[16, 20, 40, 5]` logits with
  their gradients: 0.90 ms, this layout 0.54 ms, 2 CPU cores). Shifting by the (constant) max
  changes neither the value nor the gradient.
  """
  x = tf.transpose(logits, [logits.shape.rank - 1] + list(range(logits.shape.rank - 1)))
  z = x - tf.stop_gradient(tf.reduce_max(x, axis=0))
  return z - tf.math.log(tf.reduce_sum(tf.exp(z), axis=0))


def action_log_probs(*, logits, actions):
  """log P(a_i | lambda, s) `[B, T, N]` of the taken `actions [B, T, N]`; logits `[B, T, N, A]`."""
  log_p = log_policy(logits)
  return tf.reduce_sum(log_p * tf.one_hot(actions, log_p.shape[0], axis=0, dtype=log_p.dtype), 0)


def entropy(*, logits, agent_mask, mask):
  """sum_i H(P(a_i | lambda, s)) (eq. 34 per agent, given the sampled lambda).

  logits `[B, T, N, A]`; agent_mask `[B, T, N]`; mask `[B, T]`.
  """
  log_p = log_policy(logits)  # [A, B, T, N]
  per_agent = -tf.reduce_sum(tf.exp(log_p) * log_p, axis=0)
  per_step = tf.reduce_sum(per_agent * tf.cast(agent_mask, per_agent.dtype), axis=-1)
  return mean_over_steps(per_step, mask)


def marginal_entropy(*, logits, shifts, agent_mask, mask):
  """sum_i H(P(a_i | s)) of the lambda-marginal policy, P(a_i | s) ~ mean_k P(a_i | lambda_k, s).

  Args:
    logits: `[B, T, N, A]` for the sampled lambda_0.
    shifts: `[K, B, T, N, A]`, logits(lambda_k) - logits(lambda_0) of K more draws (the heads are
      linear in lambda, eq. 15, so these are W^lambda (lambda_k - lambda_0)).
    agent_mask: `[B, T, N]`; mask: `[B, T]`.

  The plug-in estimate from K + 1 draws: it is below the exact marginal entropy by O(1/K) and
  never below the per-sample entropy's mean over the draws (the entropy is concave).
  """
  return marginal_and_information(logits=logits, shifts=shifts, agent_mask=agent_mask,
                                  mask=mask)[0]


def marginal_and_information(*, logits, shifts, agent_mask, mask):
  """(sum_i H(P(a_i | s)), sum_i I(a_i; lambda | s)) from the same K + 1 draws of lambda.

  I(a_i; lambda | s) = H(P(a_i | s)) - E_lambda H(P(a_i | lambda, s)): the plug-in marginal entropy
  minus the mean of the draws' entropies, >= 0 by concavity (and low by O(1/K), as the marginal).
  Arguments as `marginal_entropy`.
  """
  all_logits = tf.concat([logits[None], logits[None] + shifts], axis=0)  # [K + 1, B, T, N, A]
  log_p = tf.nn.log_softmax(all_logits, axis=-1)
  p = tf.exp(log_p)
  conditional = tf.reduce_mean(-tf.reduce_sum(p * log_p, axis=-1), axis=0)  # [B, T, N]
  probs = tf.reduce_mean(p, axis=0)  # [B, T, N, A]
  marginal = -tf.reduce_sum(probs * tf.math.log(tf.maximum(probs, 1e-30)), axis=-1)
  m = tf.cast(agent_mask, marginal.dtype)
  return (mean_over_steps(tf.reduce_sum(marginal * m, axis=-1), mask),
          mean_over_steps(tf.reduce_sum((marginal - conditional) * m, axis=-1), mask))


def latent_decodability(*, logits, shifts, actions, agent_mask, mask):
  """How well the joint action names the lambda it was drawn with, against K other draws.

  D = log P(a | lambda_0, s) - log mean_{k = 0..K} P(a | lambda_k, s), with
  log P(a | lambda_k, s) = sum_i log P(a_i | lambda_k, s) over the counted agents: the contrastive
  (InfoNCE) lower bound on the joint I(a_1 .. a_N; lambda | s), at most log(K + 1). The heads are
  the decoder (MAVEN trains a separate one): the joint action is decodable when the agents' actions
  move together with lambda, so D also rewards what they do jointly, which sum_i I(a_i; lambda | s)
  does not see.

  Args:
    logits: `[B, T, N, A]` for the sampled lambda_0, under which `actions` were drawn.
    shifts: `[K, B, T, N, A]`, logits(lambda_k) - logits(lambda_0), as `marginal_entropy`'s.
    actions: `[B, T, N]`, the joint actions taken.
    agent_mask: `[B, T, N]`; mask: `[B, T]`.

  Returns:
    (the mean of D over counted steps, D per step `[B, T]`).
  """
  all_logits = tf.concat([logits[None], logits[None] + shifts], axis=0)  # [K + 1, B, T, N, A]
  log_p = tf.nn.log_softmax(all_logits, axis=-1)
  taken = tf.reduce_sum(log_p * tf.one_hot(actions, tf.shape(log_p)[-1], dtype=log_p.dtype)[None],
                        axis=-1)  # [K + 1, B, T, N]
  joint = tf.reduce_sum(taken * tf.cast(agent_mask, taken.dtype)[None], axis=-1)  # [K + 1, B, T]
  draws = tf.cast(tf.shape(all_logits)[0], joint.dtype)
  per_step = joint[0] - (tf.reduce_logsumexp(joint, axis=0) - tf.math.log(draws))
  return mean_over_steps(per_step, mask), per_step


def decodability_surrogate(*, per_step, log_probs, agent_mask, mask):
  """The score-function part of D's gradient: D depends on the actions drawn, so
  grad E[D] = E[grad D] + E[(D - b) grad log P(a | lambda_0, s)], with b the mean of D over the
  counted steps. Returns that second term's surrogate: its value is 0 (the total loss reports
  only D) and its gradient is the term.

  per_step: `[B, T]` from `latent_decodability`; log_probs: `[B, T, N]` of the taken actions.
  """
  m = tf.cast(mask, per_step.dtype)
  baseline = tf.reduce_sum(per_step * m) / tf.maximum(tf.reduce_sum(m), 1.0)
  weight = tf.stop_gradient(per_step - baseline)
  joint_log_prob = tf.reduce_sum(log_probs * tf.cast(agent_mask, log_probs.dtype), axis=-1)
  surrogate = mean_over_steps(weight * joint_log_prob, mask)
  return surrogate - tf.stop_gradient(surrogate)


def kl_per_dimension_mean(mean, stddev, mask):
  """`[d]`: each latent dimension's KL to N(0, 1), averaged over counted steps (`mask [B, T]`;
  mean, stddev `[B, T, d]`): which dimensions carry information."""
  m = tf.cast(mask, mean.dtype)[..., None]
  return tf.reduce_sum(kl_per_dimension(mean, stddev) * m, axis=[0, 1]) / tf.maximum(
      tf.reduce_sum(m), 1.0)


def elbo(*, policy_gradient, kl, value, entropy_bonus, latent_use=None, vf_coef: float,
         ent_coef, kl_coef: float):
  """MACE's loss, the negative ELBO of eq. 8 with the actor-critic's terms, to minimize:

    total = policy_gradient          (eq. 10: - sum_i log P(a_i | lambda, s) A_i)
          + kl_coef * kl             (eq. 8: KL(Q(lambda | s) || P(lambda)); left out at kl_coef 0,
                                      where it is only reported: an infinite KL must not give NaN)
          + vf_coef * value          (eq. 33: sum_i (V_i(s) - R_i)^2)
          - ent_coef * entropy_bonus (eq. 34: sum_i H(P(a_i | lambda, s)), or the marginal one)
          - latent_use               (not in the paper: bonuses for a latent the heads follow)

  Args: each term a scalar (its function above computes it); `latent_use`: a dict name ->
  (coefficient, value) of the latent-use bonuses (`latent_information`, `latent_decodability`...),
  or None. Returns (total, terms): terms holds every term by name, before its coefficient.
  """
  latent_use = latent_use or {}
  total = policy_gradient + vf_coef * value - ent_coef * entropy_bonus
  if kl_coef > 0:
    total = total + kl_coef * kl
  for coef, bonus in latent_use.values():
    total = total - coef * bonus
  terms = {"policy_gradient": policy_gradient, "kl": kl, "value": value,
           "entropy_bonus": entropy_bonus, **{k: v for k, (_, v) in latent_use.items()}}
  return total, terms
