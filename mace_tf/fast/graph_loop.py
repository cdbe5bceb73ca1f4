"""GraphLoop: one collect-and-update iteration compiled into a single tf.function.

The B games run in graph (`mace_tf.fast.tf_game`, checked step by step against the numpy rules), so
no step leaves TensorFlow. Two ways to update, the same numbers (tested):

* `update="batched"`: collect without a gradient tape, then `MaceAgent.train`'s own loss on the
  rollout, i.e. one batched forward and backward pass over all `B * (L + 1)` steps: a few large ops
  instead of L small ones per layer, one more forward pass; any `num_epochs`.
* `update="taped"`: the L forward passes made while collecting stay on the gradient tape and are the
  ones differentiated (A2C updates once per rollout with the parameters that collected it, so they
  are the very numbers a second pass would recompute): no second forward pass, but L small backward
  passes; `num_epochs == 1` only.
* `update="auto"` (default): taped when `num_epochs == 1` (measured faster on 2 CPU cores with the
  default network, DESIGN.md), batched otherwise.
"""

import collections
from typing import Dict

import numpy as np
import tensorflow as tf
from tf_agents.trajectories import trajectory

from mace_tf.agents.mace.agent import MaceAgent
from mace_tf.agents.mace.policy import sample_joint_action
from mace_tf.envs import rules
from mace_tf.fast import deferred_gradients, tf_game
from mace_tf.fast.network import FastNetwork
from mace_tf.networks import MaceNetworkOutput

UPDATES = ("auto", "batched", "taped")

EpisodeSteps = collections.namedtuple(
    "EpisodeSteps", ["done", "total_reward", "length", "success", "stags_captured",
                     "hares_captured"])


class GraphLoop(tf.Module):
  """B games in TF variables, stepped and learned from by `iteration()` (compiled).

  Everything it holds (game states, step types, RNG) is a tracked variable: checkpointing the
  module checkpoints the games.
  """

  def __init__(self, agent: MaceAgent, game: rules.GameConfig, *, num_envs: int,
               rollout_length: int, seed: int, update: str = "auto",
               jit_compile: bool = False):
    super().__init__(name="graph_loop")
    if update not in UPDATES:
      raise ValueError(f"update must be one of {UPDATES}, got {update!r}")
    if update == "taped" and agent.config.num_epochs != 1:
      raise ValueError("update='taped' takes one update per rollout; for num_epochs > 1 use "
                       "update='batched'")
    if update == "auto":
      update = "taped" if agent.config.num_epochs == 1 else "batched"
    self._update = update
    self._agent = agent
    self._game = game
    self._num_envs = num_envs
    self._rollout_length = rollout_length
    self._rng = tf.random.Generator.from_seed(seed + 7919)
    start = tf_game.random_state(game, num_envs, tf.constant([seed, 1], tf.int64))
    # The hidden-stag game's fields (issue 19) change only in that game; elsewhere they are constants
    # kept out of checkpoints, so that a run saved before they existed still resumes.
    held = lambda f: game.kind == rules.DENS or f not in tf_game.DENS_ONLY_FIELDS
    self._state = tf_game.TFGameState(*(tf.Variable(x, trainable=False, name=f) if held(f) else x
                                        for f, x in zip(tf_game.TFGameState._fields, start)))
    self._step_type = tf.Variable(tf.fill([num_envs], tf_game.FIRST), trainable=False,
                                  name="step_type")
    self._fast = FastNetwork(agent.network)
    # The eps each game holds with hold_latent (a variable, so that a checkpoint keeps it).
    self._held_eps = (tf.Variable(tf.zeros([num_envs, agent.config.latent_dim]), trainable=False,
                                  name="held_eps") if agent.config.hold_latent else None)
    self._iteration = tf.function(self._iteration_fn, jit_compile=jit_compile)

  def iteration(self):
    """Collects L steps in B games and updates the agent: (LossInfo, EpisodeSteps `[L, B]`)."""
    return self._iteration()

  def run_iteration(self):
    """`iteration()`, with the finished episodes' statistics as numpy arrays (as the host loop)."""
    loss_info, episodes = self._iteration()
    return loss_info, episode_stats(episodes)

  def _read_state(self):
    return tf_game.TFGameState(*(v.read_value() if isinstance(v, tf.Variable) else v
                                 for v in self._state))

  def collect(self, seeds, with_outputs: bool = True, recorder=None):
    """The rollout: `Trajectory [B, L + 1]`, the network outputs `[B, L + 1]`, `EpisodeSteps`.

    Args:
      seeds: int64 `[L, 2, 2]`, per step the policy's and the game's seed.

      with_outputs: False skips the bootstrap pass and returns no outputs (None).
      recorder: a `DeferredGradients` for the network's passes, or None.

    Runs under whatever gradient tape is active; updates the game variables.
    """
    game, network, fast = self._game, self._agent.network, self._fast
    b, d = self._num_envs, self._agent.config.latent_dim
    state, step_type = self._read_state(), self._step_type.read_value()
    records = collections.defaultdict(list)
    held = None if self._held_eps is None else self._held_eps.read_value()
    for t in range(self._rollout_length):
      observation, entries = tf_game.encode(game, state, with_entries=True)
      action, eps, log_prob, output = sample_joint_action(
          network, observation, seeds[t, 0],
          forward=lambda obs, eps, entries=entries: fast(obs, entries, eps, recorder),
          held_eps=held, first=tf.equal(step_type, tf_game.FIRST))
      held = None if held is None else eps
      last = tf.equal(step_type, tf_game.LAST)
      state, next_step_type, reward, discount, done = tf_game.batched_step(
          game, state, last, action, seeds[t, 1])
      for key, value in (("step_type", step_type), ("observation", observation),
                         ("action", action), ("eps", eps), ("log_prob", log_prob),
                         ("next_step_type", next_step_type), ("reward", reward),
                         ("discount", discount), ("output", output)):
        records[key].append(value)
      records["done"].append(done)
      records["state"].append(state)
      step_type = next_step_type
    # Step L: only its observation and value are used (bootstrap), as in `MaceAgent.train`.
    observation, entries = tf_game.encode(game, state, with_entries=True)
    zeros_like_last = lambda key: tf.zeros_like(records[key][-1])
    stack = lambda xs: tf.stack(xs, axis=1)
    experience = trajectory.Trajectory(
        step_type=stack(records["step_type"] + [step_type]),
        observation={k: stack([o[k] for o in records["observation"]] + [observation[k]])
                     for k in observation},
        action=stack(records["action"] + [zeros_like_last("action")]),
        policy_info={"eps": stack(records["eps"] + [zeros_like_last("eps")]),
                     "log_prob": stack(records["log_prob"] + [zeros_like_last("log_prob")])},
        next_step_type=stack(records["next_step_type"] + [step_type]),
        reward=stack(records["reward"] + [zeros_like_last("reward")]),
        discount=stack(records["discount"] + [tf.ones([b])]),
    )
    outputs = None
    if with_outputs:
      output = fast(observation, entries, tf.zeros([b, d]), recorder)
      outputs = MaceNetworkOutput(*(stack([o[i] for o in records["output"]] + [output[i]])
                                    for i in range(len(output))))
    # Episode statistics of every step at once ([L * B] games), not L times ~12 small ops.
    flat = lambda xs: tf.reshape(tf.stack(xs), tf.concat([[-1], tf.shape(xs[0])[1:]], 0))
    states = tf_game.TFGameState(*(flat(list(x)) for x in zip(*records["state"])))
    stats = tf_game.episode_statistics(game, states, flat(records["reward"]))
    episodes = EpisodeSteps(done=tf.stack(records["done"]),
                            **{k: tf.reshape(v, [self._rollout_length, b]) for k, v in stats.items()})
    for var, value in zip(self._state, state):
      if isinstance(var, tf.Variable):
        var.assign(value)
    if held is not None:
      self._held_eps.assign(held)
    self._step_type.assign(step_type)
    return experience, outputs, episodes

  def _iteration_fn(self):
    agent = self._agent
    # make_seeds gives one seed per column of a [2, count] tensor.
    seeds = tf.reshape(tf.transpose(self._rng.make_seeds(2 * self._rollout_length)),
                       [self._rollout_length, 2, 2])  # [L, (policy, game), seed]
    if self._update == "batched":
      experience, _, episodes = self.collect(seeds, with_outputs=False)
      return agent.train(experience), episodes
    variables = agent.network.trainable_variables
    with tf.GradientTape() as tape:
      recorder = deferred_gradients.DeferredGradients(tape)
      experience, outputs, episodes = self.collect(seeds, recorder=recorder)
      loss_info = agent.loss_from_output(outputs, experience, layer_fn=recorder.apply)
    return agent.update(loss_info, recorder.gradients(loss_info.loss, variables)), episodes


def episode_stats(episodes: EpisodeSteps) -> Dict[str, np.ndarray]:
  """The per-episode statistics (as `HunterGame.pop_episode_stats`) of the episodes that ended."""
  done = np.asarray(episodes.done)
  out = {}
  for key, dtype in rules.EPISODE_STAT_DTYPES.items():
    out[key] = np.asarray(getattr(episodes, key))[done].astype(dtype)
  return out

