"""A client of TF Serving's REST predict API for exported mace_tf policies.

Request (columnar "inputs" format), for the `action` signature of PolicySaver's export:

  POST <server>/v1/models/<model>[/versions/<v>]:predict
  {"signature_name": "action",
   "inputs": {"0/step_type": [B], "0/reward": [B][N], "0/discount": [B],
              "0/observation/grid": [B][G][G][4], "0/observation/hunters": [B][N][3],
              "0/observation/time_left": [B][1]}}

TF Serving answers {"outputs": {"action": [B][N], ...}} when the signature has several outputs (the
sampling policy: also info/eps, info/log_prob) and {"outputs": [B][N]} when it has one (the greedy
policy), and {"error": "..."} on failure.
"""

import json
import urllib.error
import urllib.request
from typing import Callable, Dict, Optional

import numpy as np


class ServingError(RuntimeError):
  """TF Serving could not be reached or answered with an error."""


def action_request(time_step, signature: str = "action") -> Dict:
  """The predict request for a batched TimeStep (reward `[B, N]`, one per hunter)."""
  inputs = {"0/step_type": np.asarray(time_step.step_type).astype(int).tolist(),
            "0/reward": np.asarray(time_step.reward, np.float32).tolist(),
            "0/discount": np.asarray(time_step.discount, np.float32).tolist()}
  for name, value in time_step.observation.items():
    inputs["0/observation/" + name] = np.asarray(value).tolist()
  return {"signature_name": signature, "inputs": inputs}


def action_from_response(response: Dict) -> np.ndarray:
  """The `[B, N]` int32 action of a predict response. Raises ServingError (one line) for an answer
  that is not a JSON object with integer actions (a float action is refused, not truncated)."""
  if not isinstance(response, dict):
    raise ServingError(f"the answer is a JSON {type(response).__name__}, not a predict response "
                       f"(an object with 'outputs')")
  if "error" in response:
    raise ServingError(f"TF Serving answered: {response['error']}")
  outputs = response.get("outputs")
  if isinstance(outputs, dict):
    outputs = outputs.get("action")
  if outputs is None:
    raise ServingError(f"no action in the response (keys {sorted(response)})")
  try:
    values = np.asarray(outputs)
  except ValueError:
    raise ServingError("the actions in the response are not a rectangular array") from None
  if values.dtype.kind not in "iu" or values.ndim != 2:
    raise ServingError(f"the actions in the response are not a [B, N] array of integers (got "
                       f"dtype {values.dtype}, shape {values.shape}): is the served model a "
                       f"mace_tf policy?")
  return values.astype(np.int32)


def http_post(url: str, body: Dict, timeout: float) -> Dict:
  """POSTs JSON, returns the decoded JSON answer (raises ServingError with the reason)."""
  data = json.dumps(body).encode()
  request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
  try:
    with urllib.request.urlopen(request, timeout=timeout) as answer:
      return json.loads(answer.read())
  except urllib.error.HTTPError as e:
    detail = e.read().decode(errors="replace")
    try:
      detail = json.loads(detail).get("error", detail)
    except ValueError:
      pass
    raise ServingError(f"{url}: HTTP {e.code}: {detail}") from None
  except (urllib.error.URLError, OSError) as e:
    reason = getattr(e, "reason", e)
    raise ServingError(f"cannot reach TF Serving at {url}: {reason}") from None


class ServingClient:
  """Asks a TF Serving model for actions through the REST predict API."""

  def __init__(self, server: str, model: str, *, version: Optional[int] = None,
               timeout: float = 30.0, transport: Callable[[str, Dict, float], Dict] = http_post):
    if not server.startswith(("http://", "https://")):
      raise ValueError(f"server must be an http(s) URL such as http://localhost:8501, got {server!r}")
    path = f"/v1/models/{model}" + (f"/versions/{int(version)}" if version is not None else "")
    self.url = server.rstrip("/") + path + ":predict"
    self._timeout = timeout
    self._transport = transport

  def action(self, time_step) -> np.ndarray:
    """Actions `[B, N]` for a batched TimeStep."""
    response = self._transport(self.url, action_request(time_step), self._timeout)
    action = action_from_response(response)
    expected = np.asarray(time_step.observation["hunters"]).shape[:2]
    if action.shape != expected:
      raise ServingError(f"the served model returned actions of shape {action.shape}, expected "
                         f"{expected}: is it a policy for this game?")
    return action
