"""One training iteration, the plain way: the loop to read first.

`HostLoop.run_iteration`: the sampling policy acts L times in B numpy games (one batched policy call
per step for every game and agent, `MacePolicy`), the L x B steps are stacked into one
`Trajectory [B, L + 1]`, and `MaceAgent.train` takes its update on it (the ELBO,
`mace_tf.agents.mace.losses.elbo`). The compiled loop (`mace_tf/fast/graph_loop.py`, the default
`--collect=graph`) computes the same numbers faster, with the games in TensorFlow and the whole
iteration one compiled function; `tests/fast/test_graph_loop.py` tests them equal.
"""

import numpy as np
import tensorflow as tf
from tf_agents.trajectories import policy_step, trajectory

from mace_tf.agents.mace import policy as policy_lib
from mace_tf.agents.mace.agent import MaceAgent
from mace_tf.envs import hunters


def _to_tensors(nest):
  return tf.nest.map_structure(tf.convert_to_tensor, nest)


def stack_rollout(steps, final_time_step, info_spec_zeros):
  """Per-step records -> `Trajectory [B, L + 1]` of numpy arrays (the last step: bootstrap only)."""
  time_steps = [s[0] for s in steps] + [final_time_step]
  next_steps = [s[3] for s in steps] + [final_time_step]
  actions = [s[1] for s in steps] + [np.zeros_like(steps[0][1])]
  infos = [s[2] for s in steps] + [info_spec_zeros]

  def stack(xs):
    return np.stack(xs, axis=1)

  return trajectory.Trajectory(
      step_type=stack([t.step_type for t in time_steps]),
      observation={k: stack([t.observation[k] for t in time_steps])
                   for k in time_steps[0].observation},
      action=stack(actions),
      policy_info={k: stack([i[k] for i in infos]) for k in infos[0]},
      next_step_type=stack([t.step_type for t in next_steps]),
      reward=stack([t.reward for t in next_steps[:-1]] + [np.zeros_like(next_steps[0].reward)]),
      discount=stack([t.discount for t in next_steps]),
  )


class HostLoop(tf.Module):
  """The plain path: numpy games (a TF-Agents PyEnvironment) stepped from Python, one compiled
  policy call per step, then `agent.train` on the stacked rollout (a second forward pass)."""

  def __init__(self, agent: MaceAgent, env: hunters.HunterGame, *, rollout_length: int, seed: int):
    super().__init__(name="host_loop")
    self._agent, self._env, self._rollout_length = agent, env, rollout_length
    self._rng = tf.random.Generator.from_seed(seed)
    if agent.config.hold_latent:  # the eps each game holds, as GraphLoop keeps it
      self._held_eps = tf.Variable(tf.zeros([env.batch_size, agent.config.latent_dim]),
                                   trainable=False, name="held_eps")
      self._collect = tf.function(self._collect_holding)
    else:
      self._collect = tf.function(
          lambda time_step, seed: agent.collect_policy.action(time_step, seed=seed))
    self._train = tf.function(agent.train)
    b, n = env.batch_size, env.action_spec().shape[0]
    self._info_zeros = {"eps": np.zeros((b, agent.config.latent_dim), np.float32),
                        "log_prob": np.zeros((b, n), np.float32)}

  def _collect_holding(self, time_step, seed):
    """The sampling policy's step with `MaceConfig.hold_latent`: `MacePolicy.action`'s draws,
    with each game's eps held between its episode's first step and its end."""
    action, eps, log_prob, _ = policy_lib.sample_joint_action(
        self._agent.network, time_step.observation, seed, held_eps=self._held_eps,
        first=time_step.is_first())
    self._held_eps.assign(eps)
    return policy_step.PolicyStep(action, (), {"eps": eps, "log_prob": log_prob})

  def run_iteration(self):
    """L steps in every game, one update: (LossInfo, episode statistics of finished episodes)."""
    time_step = self._env.current_time_step()
    steps = []
    for _ in range(self._rollout_length):
      step = self._collect(_to_tensors(time_step), self._rng.make_seeds(1)[:, 0])
      action = step.action.numpy()
      next_time_step = self._env.step(action)
      steps.append((time_step, action, {k: v.numpy() for k, v in step.info.items()},
                    next_time_step))
      time_step = next_time_step
    experience = _to_tensors(stack_rollout(steps, time_step, self._info_zeros))
    return self._train(experience), self._env.pop_episode_stats()
