"""The fast path's forward pass is the plain model's: same outputs for every model and network."""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from mace_tf.envs import hunters, rules
from mace_tf.fast import tf_game
from mace_tf.fast.network import FastNetwork
from mace_tf.networks import MaceNetwork
from mace_tf.networks.config import FIRST_NETWORK, NetworkConfig

GAME = rules.GameConfig(kind=rules.STAG, num_hunters=5, num_prey=4, hit_points=2, time_limit=9,
                        grid_size=10)


@pytest.mark.parametrize("model,config", [
    (model, config) for model in ("mace", "shared", "cloned")
    for config in (NetworkConfig(latent_dim=3), NetworkConfig(ego_bin=5), FIRST_NETWORK)
] + [(model, NetworkConfig(ego_bin=5, latent_film=True)) for model in ("mace", "shared")]
  + [(model, NetworkConfig(ego_bin=5, entity_units=6)) for model in ("mace", "shared", "cloned")]
  + [(model, NetworkConfig(ego_bin=5, shared_head_base=True)) for model in ("mace", "shared")])
def test_fast_outputs_are_the_plain_models(model, config):
  env = hunters.make_game(GAME, batch_size=4)
  network = MaceNetwork(tensor_spec.from_spec(env.observation_spec()), num_hunters=5, model=model,
                        config=config)
  network.create_variables()
  if config.latent_film:  # away from G's zero start
    network._film.kernel.assign(np.random.default_rng(2).normal(size=network._film.kernel.shape))
  for v in network.trainable_variables:  # away from the shared head base's zero start
    if "heads_shared" in v.name:
      v.assign(np.random.default_rng(3).normal(size=v.shape))
  state = tf_game.random_state(GAME, 4, tf.constant([1, 2], tf.int64))
  # A frozen hunter (channel 1) and a dead stag (an entry that adds 0).
  state = state._replace(hunter_active=tf.constant(np.arange(5)[None].repeat(4, 0) != 1),
                         prey_hp=tf.constant(np.where(np.arange(4) == 0, 0, 2)[None].repeat(4, 0),
                                             tf.int32))
  observation, entries = tf_game.encode(GAME, state, with_entries=True)
  eps = tf.random.stateless_normal([4, config.latent_dim], seed=[3, 4])
  plain, _ = network(observation, noise=eps)
  fast = FastNetwork(network)(observation, entries, eps)
  for name, a, b in zip(plain._fields, plain, fast):
    np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-5, err_msg=name)
  assert np.abs(plain.logits.numpy()).sum() > 0
