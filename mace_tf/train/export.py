"""SavedModel export of the sampling and greedy policies, in TF Serving's layout.

`<root>/export/<policy name>/<version>/`, version = the number of samples trained on, so TF Serving
serves the newest. Signatures (PolicySaver): `action` (inputs `0/discount`, `0/observation/grid`,
`0/observation/hunters`, `0/observation/time_left`, `0/reward`, `0/step_type`), `get_initial_state`,
`get_train_step` (here: samples), `get_metadata`.

The sampling policy's export also carries (inputs `grid [B, G, G, 4]` uint8, `hunters [B, N, 3]`
int32, `time_left [B, 1]` float32 and):
* `joint_action` (+ `seed` int64 `[2]`): the centralized draw, outputs `action [B, N]`, `eps [B, d]`,
  `log_prob [B, N]`;
* `agent_action` (+ `agent_index` int32 `[]`, `seed`): one agent's own draw, output `action [B]`; N
  calls with one seed give exactly `joint_action`'s action (decentralized execution);
* `latent` (+ `eps` float32 `[B, d]`): `probs [B, N, 5]` = P(a_i | lambda, s) for lambda = mu + sigma *
  eps, `latent`, `latent_mean`, `latent_stddev` `[B, d]`, `values [B, N]` (for inspecting the latent).
"""

import json
import os

import tensorflow as tf
from tf_agents.policies import policy_saver

from mace_tf.agents.mace import policy as policy_lib
from mace_tf.deploy.saved_policy import GAME_FILE

POLICY_NAMES = ("policy", "greedy_policy")
EXTRA_SIGNATURES = ("joint_action", "agent_action", "latent")


def extra_signatures(policy: policy_lib.MacePolicy):
  """The concrete functions of `joint_action`, `agent_action` and `latent` for `policy`, taking the
  observation's parts by name (a hunter game's `grid`, `hunters`, `time_left`; a vector game's
  `agents`, `state`, `active`)."""
  network = policy.network
  obs_spec = policy.time_step_spec.observation
  names = sorted(obs_spec)
  obs = [tf.TensorSpec([None] + obs_spec[k].shape.as_list(), obs_spec[k].dtype, name=k)
         for k in names]
  k = len(names)
  seed = tf.TensorSpec([2], tf.int64, name="seed")
  as_obs = lambda parts: dict(zip(names, parts))

  @tf.function(input_signature=obs + [seed])
  def joint_action(*args):
    action, eps, log_prob, _ = policy_lib.sample_joint_action(network, as_obs(args[:k]), args[k])
    return {"action": action, "eps": eps, "log_prob": log_prob}

  @tf.function(input_signature=obs + [tf.TensorSpec([], tf.int32, name="agent_index"), seed])
  def agent_action(*args):
    return {"action": policy_lib.sample_agent_action(network, as_obs(args[:k]), args[k],
                                                     args[k + 1])}

  @tf.function(input_signature=obs + [
      tf.TensorSpec([None, network.config.latent_dim], tf.float32, name="eps")])
  def latent(*args):
    probs, output = policy_lib.action_probabilities(network, as_obs(args[:k]), args[k])
    return {"probs": probs, "latent": output.latent, "latent_mean": output.latent_mean,
            "latent_stddev": output.latent_stddev, "values": output.values}

  return {"joint_action": joint_action.get_concrete_function(),
          "agent_action": agent_action.get_concrete_function(),
          "latent": latent.get_concrete_function()}


class _Saver(policy_saver.PolicySaver):
  """PolicySaver with extra serving signatures (tf-agents 0.19 keeps them in `_signatures`)."""

  def add_signatures(self, functions):
    for name, fn in functions.items():
      if name in self._signatures:
        raise ValueError(f"signature {name!r} already exists")
      self._signatures[name] = fn
      setattr(self._policy, name, fn)


class PolicyExporter:
  """Writes SavedModels of `policies` (name -> TFPolicy) under `<root_dir>/export/`; `game`: the
  game's fields (`dataclasses.asdict(GameConfig)`), recorded in every version."""

  def __init__(self, root_dir: str, policies, samples: tf.Variable, game: dict = None):
    self._export_dir = os.path.join(root_dir, "export")
    self._game = game
    self._savers = {}
    for name, policy in policies.items():
      saver = _Saver(policy, batch_size=None, train_step=samples)
      if isinstance(policy, policy_lib.MacePolicy) and not policy.greedy:
        saver.add_signatures(extra_signatures(policy))
      self._savers[name] = saver

  def path(self, name: str, version: int) -> str:
    return os.path.join(self._export_dir, name, str(int(version)))

  def has(self, version: int) -> bool:
    """Whether every policy has a complete export of `version`."""
    return all(os.path.isfile(os.path.join(self.path(name, version), "saved_model.pb"))
               for name in self._savers)

  def export(self, version: int) -> dict:
    """Saves every policy as `<export>/<name>/<version>`; returns name -> path. A version is
    written under `<version>.tmp` and renamed when complete (TF Serving never sees a half-written
    one); a failed write leaves no `.tmp` behind."""
    paths = {}
    for name, saver in self._savers.items():
      path = self.path(name, version)
      tmp = path + ".tmp"
      try:
        if tf.io.gfile.exists(tmp):
          tf.io.gfile.rmtree(tmp)
        saver.save(tmp)
        if self._game is not None:
          os.makedirs(os.path.join(tmp, os.path.dirname(GAME_FILE)), exist_ok=True)
          with open(os.path.join(tmp, GAME_FILE), "w") as f:
            json.dump(self._game, f, indent=2)
        if tf.io.gfile.exists(path):
          tf.io.gfile.rmtree(path)
        tf.io.gfile.rename(tmp, path)
      except BaseException:
        if os.path.isdir(tmp):
          tf.io.gfile.rmtree(tmp)
        raise
      paths[name] = path
    return paths


def latest_export(root_dir: str, name: str = "greedy_policy") -> str:
  """The newest `<root>/export/<name>/<version>` directory."""
  base = os.path.join(root_dir, "export", name)
  versions = [int(v) for v in os.listdir(base) if v.isdigit()] if os.path.isdir(base) else []
  if not versions:
    raise FileNotFoundError(f"no export under {base}")
  return os.path.join(base, str(max(versions)))
