"""The observation-encoder seam: MACE, Shared and Cloned on a game of vector observations."""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import array_spec, tensor_spec

from mace_tf.agents.mace.agent import MaceAgent
from mace_tf.agents.mace.config import MaceConfig
from mace_tf.envs import hunters, matching, rules
from mace_tf.networks import MaceNetwork, encoders
from mace_tf.networks.config import NetworkConfig
from mace_tf.networks.trunk import Trunk
from mace_tf.train import host_loop


def test_the_encoder_is_chosen_by_the_observation_spec():
  grid_game = hunters.make_game(rules.GameConfig(kind=rules.HARE, num_hunters=2, num_prey=2,
                                                 time_limit=5, grid_size=7), batch_size=1)
  spec = tensor_spec.from_spec(grid_game.observation_spec())
  assert isinstance(MaceNetwork(spec, num_hunters=2).trunk, Trunk)
  vector = tensor_spec.from_spec(matching.MatchingGame().observation_spec())
  assert isinstance(MaceNetwork(vector, num_hunters=3, num_actions=4).trunk,
                    encoders.VectorEncoder)
  with pytest.raises(ValueError, match="no encoder reads observations with parts"):
    encoders.observation_kind({"pixels": array_spec.ArraySpec((4, 4), np.float32)})
  with pytest.raises(ValueError, match="read the hunter grid"):
    MaceNetwork(vector, num_hunters=3, num_actions=4, config=NetworkConfig(ego_bin=5))


def _train(model, updates, seed=0):
  env = matching.MatchingGame(num_agents=3, num_actions=4, episode_length=4, batch_size=16,
                              seed=seed)
  tf.keras.utils.set_random_seed(seed)
  agent = MaceAgent(tensor_spec.from_spec(env.time_step_spec()),
                    tensor_spec.from_spec(env.action_spec()),
                    config=MaceConfig(model=model, learning_rate=0.01, normalize_advantages=True,
                                      network=NetworkConfig(trunk_units=16, local_units=16,
                                                            latent_dim=4)))
  zeros = {"eps": np.zeros((16, 4), np.float32), "log_prob": np.zeros((16, 3), np.float32)}
  collect = tf.function(lambda t, s: agent.collect_policy.action(t, seed=s))
  train = tf.function(agent.train)
  rng = tf.random.Generator.from_seed(seed)
  time_step, rates = env.reset(), []
  for _ in range(updates):
    steps = []
    for _ in range(5):
      step = collect(tf.nest.map_structure(tf.convert_to_tensor, time_step),
                     rng.make_seeds(1)[:, 0])
      action = step.action.numpy()
      next_time_step = env.step(action)
      steps.append((time_step, action, {k: v.numpy() for k, v in step.info.items()},
                    next_time_step))
      time_step = next_time_step
    experience = tf.nest.map_structure(tf.convert_to_tensor,
                                       host_loop.stack_rollout(steps, time_step, zeros))
    train(experience)
    stats = env.pop_episode_stats()
    rates.extend((stats["total_reward"] / (3 * stats["length"])).tolist())
  return agent, rates


@pytest.mark.parametrize("model", ["mace", "shared", "cloned"])
def test_every_model_learns_the_matching_game_through_the_vector_encoder(model):
  # At random 3 agents match a target of 4 actions with probability 4^-3 (4^-2 on the steps agent 2
  # sits out): about 3% of steps pay. The learned policy must read the target from psi_i (or phi).
  agent, rates = _train(model, updates=300)
  assert np.mean(rates[:20]) < 0.1
  assert np.mean(rates[-20:]) > 0.7, (model, np.mean(rates[-20:]))
  # The agent that sat out was masked: its (ignored) actions on odd steps carry no gradient, and
  # the greedy policy still plays the target on the steps it acts.
  env = matching.MatchingGame(num_agents=3, num_actions=4, batch_size=64, seed=9)
  time_step = env.reset()
  action = agent.policy.action(tf.nest.map_structure(tf.convert_to_tensor, time_step)).action
  target = np.argmax(time_step.observation["state"], axis=-1)
  assert np.mean(action.numpy() == target[:, None]) > 0.75
