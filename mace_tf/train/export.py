"""SavedModel export of the sampling and greedy policies, in TF Serving's layout.

`<root>/export/<policy name>/<version>/`, version = the number of samples trained on, so TF Serving
serves the newest. Signatures (PolicySaver): `action` (inputs `0/discount`, `0/observation/grid`,
`0/observation/hunters`, `0/observation/time_left`, `0/reward`, `0/step_type`), `get_initial_state`,
`get_train_step` (here: samples), `get_metadata`.
"""

import os

import tensorflow as tf
from tf_agents.policies import policy_saver

POLICY_NAMES = ("policy", "greedy_policy")


class PolicyExporter:
  """Writes SavedModels of `policies` (name -> TFPolicy) under `<root_dir>/export/`."""

  def __init__(self, root_dir: str, policies, samples: tf.Variable):
    self._export_dir = os.path.join(root_dir, "export")
    self._savers = {name: policy_saver.PolicySaver(policy, batch_size=None, train_step=samples)
                    for name, policy in policies.items()}

  def export(self, version: int) -> dict:
    """Saves every policy as `<export>/<name>/<version>`; returns name -> path."""
    paths = {}
    for name, saver in self._savers.items():
      path = os.path.join(self._export_dir, name, str(int(version)))
      tmp = path + ".tmp"
      if tf.io.gfile.exists(tmp):
        tf.io.gfile.rmtree(tmp)
      saver.save(tmp)
      if tf.io.gfile.exists(path):
        tf.io.gfile.rmtree(path)
      tf.io.gfile.rename(tmp, path)  # TF Serving never sees a half-written version
      paths[name] = path
    return paths


def latest_export(root_dir: str, name: str = "greedy_policy") -> str:
  """The newest `<root>/export/<name>/<version>` directory."""
  base = os.path.join(root_dir, "export", name)
  versions = [int(v) for v in os.listdir(base) if v.isdigit()] if os.path.isdir(base) else []
  if not versions:
    raise FileNotFoundError(f"no export under {base}")
  return os.path.join(base, str(max(versions)))
