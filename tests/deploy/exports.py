"""Small agents trained for a few updates and exported (fixtures `exported`, `exported_shared` in
tests/conftest.py), and observations to feed them."""

import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec

from mace_tf.agents.mace.agent import MaceAgent
from mace_tf.agents.mace.config import MaceConfig
from mace_tf.networks.config import NetworkConfig
from mace_tf.envs import hunters, rules
from mace_tf.fast import graph_loop
from mace_tf.train import export

GAME = rules.GameConfig(kind=rules.STAG, num_hunters=3, num_prey=4, hit_points=2, time_limit=9,
                        grid_size=8, moving_prey=False)


def export_agent(root, model, game=GAME, iterations=2, network=NetworkConfig(latent_dim=4)):
  tf.random.set_seed(11)
  env = hunters.make_game(game, batch_size=4)
  agent = MaceAgent(tensor_spec.from_spec(env.time_step_spec()),
                    tensor_spec.from_spec(env.action_spec()),
                    config=MaceConfig(model=model, network=network, learning_rate=0.01))
  loop = graph_loop.GraphLoop(agent, game, num_envs=4, rollout_length=5, seed=0)
  for _ in range(iterations):  # a few updates, so that the weights are not the initial ones
    loop.iteration()
  samples = tf.Variable(40, dtype=tf.int64)
  policies = {"policy": agent.collect_policy, "greedy_policy": agent.policy}
  return agent, export.PolicyExporter(str(root), policies, samples).export(40)


def observations(game, count, seed):
  """`count` observations of distinct mid-game states (numpy), batch `[count]`."""
  env = hunters.make_game(game, batch_size=count, seed=seed)
  env.reset()
  rng = np.random.default_rng(seed)
  time_step = None
  for _ in range(3):
    time_step = env.step(rng.integers(0, rules.NUM_ACTIONS, size=(count, game.num_hunters),
                                      dtype=np.int32))
  return time_step
