"""SavedPolicy: an exported mace_tf policy loaded in any process, checked against a game.

`tf.saved_model.load` of a TF-Agents policy fails in a fresh process unless TFP's distribution type
specs are registered first ("The type 'tfp.distributions.Deterministic_ACTTypeSpec' has not been
registered"); `SavedPolicy` does that before loading.
"""

import dataclasses
import json
import os
from typing import Dict, Optional

import numpy as np
import tensorflow as tf

from mace_tf.envs import observation as observation_lib
from mace_tf.envs import rules


class DamagedExportError(OSError):
  """A SavedModel directory that does not load (truncated or random `saved_model.pb`, missing
  variables)."""


# Where an export records the game it was trained on (`mace_tf.train.export`).
GAME_FILE = os.path.join("assets.extra", "mace_tf_game.json")


class SpecMismatchError(ValueError):
  """The SavedModel was exported for another game (N, grid size) or another observation."""


def register_tfp_types() -> None:
  """Registers the TFP distribution type specs that TF-Agents SavedModels reference."""
  import tensorflow_probability as tfp  # pylint: disable=g-import-not-at-top
  tfd = tfp.distributions
  for cls in (tfd.Categorical, tfd.Deterministic, tfd.Independent, tfd.Normal):
    getattr(cls, "_type_spec", None)  # importing and touching the classes registers their specs


def recorded_game(saved_model_dir: str):
  """The game fields an export recorded (`GAME_FILE`), or None for an export made before it was
  recorded. Raises ValueError (one line) if the record is unreadable."""
  path = os.path.join(saved_model_dir, GAME_FILE)
  if not os.path.exists(path):
    return None
  try:
    with open(path) as f:
      game = json.load(f)
  except (OSError, ValueError, UnicodeDecodeError) as e:
    raise SpecMismatchError(f"{path}, the export's record of its game, is unreadable ({e})") from None
  if not isinstance(game, dict):
    raise SpecMismatchError(f"{path}, the export's record of its game, is not a JSON object")
  return game


def resolve_saved_model(path: str) -> str:
  """`path` if it holds a SavedModel, else its newest numbered version; FileNotFoundError if none."""
  if os.path.isfile(os.path.join(path, "saved_model.pb")):
    return path
  versions = [int(v) for v in os.listdir(path) if v.isdigit()] if os.path.isdir(path) else []
  if not versions:
    raise FileNotFoundError(f"no SavedModel at {path} (expected .../export/<policy>/<version>/ "
                            f"with saved_model.pb, or its parent)")
  return os.path.join(path, str(max(versions)))


class SavedPolicy:
  """An exported policy (`<root>/export/<name>/<version>`): its signatures and specs.

  Attributes:
    path: the SavedModel directory.
    observation_shapes: name -> shape (without batch) of the `action` signature's observation.
    num_hunters: N the policy was exported for.
    signatures: the names of its signatures.
  """

  def __init__(self, path: str):
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
      raise FileNotFoundError(
          f"{path} is not a SavedModel directory (no saved_model.pb); exports are under "
          f"<root_dir>/export/<policy|greedy_policy>/<samples>/")
    register_tfp_types()
    self.path = path
    try:
      self._model = tf.saved_model.load(path)
    except (OSError, ValueError, tf.errors.OpError) as e:
      first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
      raise DamagedExportError(f"{path} does not load as a SavedModel ({type(e).__name__}: "
                               f"{first}); export it again, or use another version") from None
    self.game = recorded_game(path)
    self.signatures = sorted(self._model.signatures.keys())
    if "action" not in self.signatures:
      raise SpecMismatchError(f"{path} has no 'action' signature: not a TF-Agents policy export")
    inputs = self.input_specs("action")
    prefix = "0/observation/"
    self.observation_shapes = {k[len(prefix):]: tuple(v.shape.as_list()[1:])
                               for k, v in inputs.items() if k.startswith(prefix)}
    hunters = self.observation_shapes.get("hunters")
    self.num_hunters = hunters[0] if hunters else None

  def check_game(self, game: rules.GameConfig) -> None:
    """Raises SpecMismatchError (one line, what differs) unless the policy can play `game`."""
    if self.game is not None:
      trained = {k: self.game.get(k) for k in dataclasses.asdict(game)}
      differ = [f"{k}={trained[k]!r} (here {v!r})" for k, v in dataclasses.asdict(game).items()
                if trained[k] != v]
      if differ:
        raise SpecMismatchError(
            f"{self.path} was trained on another game: {', '.join(differ)}; pass the game flags "
            f"it was trained with (launch/games/<preset>.flags)")
    if game.kind == "external":
      if self.game is None or self.game.get("kind") != "external":
        raise SpecMismatchError(f"{self.path} was trained on a hunter game, not {game.env}")
      return
    channels = len(observation_lib.GRID_CHANNELS)
    expected = {"grid": (game.grid_size, game.grid_size, channels),
                "hunters": (game.num_hunters, 3), "time_left": (1,)}
    if self.observation_shapes == expected:
      return
    got = self.observation_shapes
    if set(got) != set(expected):
      raise SpecMismatchError(
          f"{self.path} takes observation parts {sorted(got)}, not this package's {sorted(expected)}")
    grid = got["grid"]
    raise SpecMismatchError(
        f"{self.path} was exported for N = {got['hunters'][0]} hunters on a {grid[0]} x {grid[1]} "
        f"grid with {grid[2]} channels; the game here has N = {game.num_hunters} on "
        f"{game.grid_size} x {game.grid_size} with {channels}: pass the game flags it was "
        f"trained with (launch/games/<preset>.flags)")

  def has(self, signature: str) -> bool:
    return signature in self.signatures

  def input_specs(self, signature: str) -> Dict[str, tf.TensorSpec]:
    """The signature's inputs by their SignatureDef names (what TF Serving's requests use)."""
    _, specs = self._model.signatures[signature].structured_input_signature
    return {spec.name: spec for spec in specs.values()}

  def call_signature(self, signature: str, inputs: Dict) -> Dict[str, np.ndarray]:
    """Runs a signature on inputs keyed by their SignatureDef names; outputs as numpy arrays."""
    return self._call(signature, **inputs)

  def _call(self, signature: str, **inputs) -> Dict[str, np.ndarray]:
    if not self.has(signature):
      raise SpecMismatchError(
          f"{self.path} has no '{signature}' signature (it has {self.signatures}); the sampling "
          f"policy's export (export/policy/...) carries joint_action, agent_action and latent")
    fn = self._model.signatures[signature]
    _, specs = fn.structured_input_signature
    by_name = {spec.name: (arg, spec) for arg, spec in specs.items()}
    missing = sorted(set(by_name) - set(inputs))
    unknown = sorted(set(inputs) - set(by_name))
    if missing or unknown:
      raise SpecMismatchError(f"signature '{signature}' takes {sorted(by_name)}; missing {missing}, "
                              f"unknown {unknown}")
    feed = {}
    for name, value in inputs.items():
      arg, spec = by_name[name]
      value = np.asarray(value)
      if not spec.shape.is_compatible_with(value.shape):
        raise SpecMismatchError(f"input '{name}' of '{signature}' has shape {value.shape}, the "
                                f"policy takes {spec.shape} (another game?)")
      feed[arg] = tf.convert_to_tensor(value, dtype=spec.dtype)
    return {k: v.numpy() for k, v in fn(**feed).items()}

  def action(self, time_step) -> np.ndarray:
    """The `action` signature on a batched TimeStep (reward `[B, N]`): action `[B, N]`."""
    feed = {"0/step_type": time_step.step_type, "0/reward": time_step.reward,
            "0/discount": time_step.discount}
    for k, v in time_step.observation.items():
      feed["0/observation/" + k] = v
    return self._call("action", **feed)["action"]

  def joint_action(self, observation, seed) -> Dict[str, np.ndarray]:
    return self._call("joint_action", seed=np.asarray(seed, np.int64), **observation)

  def agent_action(self, observation, agent_index: int, seed) -> np.ndarray:
    return self._call("agent_action", agent_index=np.int32(agent_index),
                      seed=np.asarray(seed, np.int64), **observation)["action"]

  def latent(self, observation, eps) -> Dict[str, np.ndarray]:
    return self._call("latent", eps=np.asarray(eps, np.float32), **observation)

  @property
  def latent_dim(self) -> Optional[int]:
    if not self.has("latent"):
      return None
    _, specs = self._model.signatures["latent"].structured_input_signature
    return specs["eps"].shape[-1]


def load_for_game(path: str, game: rules.GameConfig) -> "SavedPolicy":
  """The export at `path` (or its newest version), checked against `game`.

  Raises:
    FileNotFoundError: no SavedModel there. SpecMismatchError: exported for another game.
  """
  policy = SavedPolicy(resolve_saved_model(path))
  policy.check_game(game)
  return policy
