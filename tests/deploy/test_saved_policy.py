"""Exported signatures, spec checks, fresh-process loading and decentralized == centralized."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.saved_model import loader_impl

from mace_tf.deploy import saved_policy
from mace_tf.networks.config import NetworkConfig
from mace_tf.envs import rules
from tests.deploy.exports import GAME, observations

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def signature_defs(path):
  """The SignatureDefs as TF Serving reads them from saved_model.pb."""
  meta_graph, = loader_impl.parse_saved_model(path).meta_graphs
  return meta_graph.signature_def


def io(tensor_infos):
  return {k: (v.dtype, [d.size for d in v.tensor_shape.dim]) for k, v in tensor_infos.items()}


def test_signature_defs_are_the_documented_serving_contract(exported):
  _, paths = exported
  from tensorflow.core.framework import types_pb2 as t
  n, g, d = GAME.num_hunters, GAME.grid_size, 4
  obs = {"grid": (t.DT_UINT8, [-1, g, g, 4]), "hunters": (t.DT_INT32, [-1, n, 3]),
         "time_left": (t.DT_FLOAT, [-1, 1])}
  action_inputs = {"0/step_type": (t.DT_INT32, [-1]), "0/reward": (t.DT_FLOAT, [-1, n]),
                   "0/discount": (t.DT_FLOAT, [-1]),
                   **{"0/observation/" + k: v for k, v in obs.items()}}
  greedy = signature_defs(paths["greedy_policy"])
  assert greedy["action"].method_name == "tensorflow/serving/predict"
  assert io(greedy["action"].inputs) == action_inputs
  assert io(greedy["action"].outputs) == {"action": (t.DT_INT32, [-1, n])}
  sampling = signature_defs(paths["policy"])
  assert io(sampling["action"].inputs) == action_inputs
  assert io(sampling["action"].outputs) == {"action": (t.DT_INT32, [-1, n]),
                                           "info/eps": (t.DT_FLOAT, [-1, d]),
                                           "info/log_prob": (t.DT_FLOAT, [-1, n])}
  seed = {"seed": (t.DT_INT64, [2])}
  assert io(sampling["joint_action"].inputs) == {**obs, **seed}
  assert io(sampling["joint_action"].outputs) == {"action": (t.DT_INT32, [-1, n]),
                                                 "eps": (t.DT_FLOAT, [-1, d]),
                                                 "log_prob": (t.DT_FLOAT, [-1, n])}
  assert io(sampling["agent_action"].inputs) == {**obs, **seed,
                                                 "agent_index": (t.DT_INT32, [])}
  assert io(sampling["agent_action"].outputs) == {"action": (t.DT_INT32, [-1])}
  assert io(sampling["latent"].inputs) == {**obs, "eps": (t.DT_FLOAT, [-1, d])}
  assert io(sampling["latent"].outputs) == {
      "probs": (t.DT_FLOAT, [-1, n, 5]), "latent": (t.DT_FLOAT, [-1, d]),
      "latent_mean": (t.DT_FLOAT, [-1, d]), "latent_stddev": (t.DT_FLOAT, [-1, d]),
      "values": (t.DT_FLOAT, [-1, n])}
  assert "joint_action" not in greedy


def test_decentralized_agents_reproduce_the_centralized_joint_action_on_100_states(exported):
  _, paths = exported
  policy = saved_policy.SavedPolicy(paths["policy"])
  time_step = observations(GAME, 100, seed=3)
  rng = np.random.default_rng(0)
  joint_actions = []
  for b in range(100):  # each state on its own, as N separate agents would act in one game
    obs = {k: v[b:b + 1] for k, v in time_step.observation.items()}
    seed = rng.integers(0, 2**31, size=2)
    joint = policy.joint_action(obs, seed)["action"][0]
    own = [int(policy.agent_action(obs, i, seed)[0]) for i in range(GAME.num_hunters)]
    np.testing.assert_array_equal(own, joint, err_msg=f"state {b}")
    joint_actions.append(joint)
  # The draws are random, not constant: the test would notice agents ignoring the seed.
  assert len({tuple(a) for a in joint_actions}) > 10
  # A whole batch with one seed: the same, agent by agent.
  seed = np.array([5, 6])
  joint = policy.joint_action(time_step.observation, seed)["action"]
  for i in range(GAME.num_hunters):
    np.testing.assert_array_equal(policy.agent_action(time_step.observation, i, seed),
                                  joint[:, i])


def test_exported_draw_equals_the_in_process_policy(exported):
  agent, paths = exported
  import tensorflow as tf
  from mace_tf.agents.mace.policy import sample_joint_action
  policy = saved_policy.SavedPolicy(paths["policy"])
  obs = observations(GAME, 16, seed=4).observation
  seed = np.array([1, 2])
  action, eps, log_prob, _ = sample_joint_action(
      agent.network, {k: tf.constant(v) for k, v in obs.items()}, tf.constant(seed, tf.int64))
  exported_draw = policy.joint_action(obs, seed)
  np.testing.assert_array_equal(exported_draw["action"], action.numpy())
  np.testing.assert_allclose(exported_draw["eps"], eps.numpy(), rtol=1e-6)
  np.testing.assert_allclose(exported_draw["log_prob"], log_prob.numpy(), rtol=1e-5, atol=1e-6)
  # latent: lambda = mu + sigma * eps, probabilities normalized
  out = policy.latent(obs, exported_draw["eps"])
  np.testing.assert_allclose(out["latent"], out["latent_mean"] + out["latent_stddev"] *
                             exported_draw["eps"], rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(out["probs"].sum(-1), 1.0, rtol=1e-5)


def test_a_policy_for_another_game_is_one_clear_error(exported):
  _, paths = exported
  policy = saved_policy.SavedPolicy(paths["greedy_policy"])
  policy.check_game(GAME)
  other = rules.GameConfig(kind=rules.STAG, num_hunters=5, num_prey=4, hit_points=2, time_limit=9,
                           grid_size=8)
  with pytest.raises(saved_policy.SpecMismatchError, match=r"N = 3 hunters on a 8 x 8 grid.*N = 5"):
    policy.check_game(other)
  with pytest.raises(saved_policy.SpecMismatchError, match="no 'joint_action' signature"):
    policy.joint_action(observations(GAME, 1, 0).observation, [0, 0])
  with pytest.raises(FileNotFoundError, match="not a SavedModel directory"):
    saved_policy.SavedPolicy(os.path.dirname(paths["greedy_policy"]))


def _fresh(code):
  return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                        timeout=300)


def test_loads_in_a_fresh_process_and_plain_loading_there_fails(exported):
  _, paths = exported
  path = paths["greedy_policy"]
  p = _fresh("from mace_tf.deploy.saved_policy import SavedPolicy; "
             f"p = SavedPolicy({path!r}); print('N', p.num_hunters, p.observation_shapes['grid'])")
  assert p.returncode == 0, p.stderr[-2000:]
  assert "N 3 (8, 8, 4)" in p.stdout
  # Why SavedPolicy registers TFP's types: without it the same load fails in a fresh process.
  p = _fresh(f"import tensorflow as tf; tf.saved_model.load({path!r})")
  assert p.returncode != 0 and "has not been registered" in p.stderr


def test_a_film_network_exports_its_state_dependent_latent(tmp_path):
  from tests.deploy import exports
  agent, paths = exports.export_agent(tmp_path, "mace",
                                      network=NetworkConfig(latent_dim=4, latent_film=True))
  assert np.abs(agent.network._film.kernel.numpy()).max() > 0  # trained away from G = 0
  policy = saved_policy.SavedPolicy(paths["policy"])
  obs = observations(GAME, 16, seed=4).observation
  eps = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
  out = policy.latent(obs, eps)
  expected, _ = agent.network({k: tf.constant(v) for k, v in obs.items()}, noise=tf.constant(eps))
  np.testing.assert_allclose(out["probs"], tf.nn.softmax(expected.logits).numpy(), rtol=1e-5,
                             atol=1e-6)
