"""A stand-in for TF Serving's REST predict endpoint, for tests (the binary cannot be installed here).

It decodes a request the way TF Serving does: the columnar "inputs" (or row "instances") JSON,
each input converted to the dtype of the SignatureDef's tensor_info (read from saved_model.pb) and
checked against its shape; runs that signature of the loaded SavedModel; and encodes the answer as
TF Serving does ({"outputs": {...}}, or the bare value when the signature has one output).
"""

import http.server
import json
import re
import threading

import numpy as np
import tensorflow as tf
from tensorflow.python.saved_model import loader_impl

from mace_tf.deploy import saved_policy


def decode_inputs(request, signature_def):
  """The request's tensors `{name: np.ndarray}`, typed and shaped by the SignatureDef."""
  if "inputs" in request:
    raw = request["inputs"]
  else:  # row format: a list of {name: value} per batch element
    rows = request["instances"]
    raw = {k: [row[k] for row in rows] for k in rows[0]}
  tensors = {}
  for name, value in raw.items():
    if name not in signature_def.inputs:
      raise ValueError(f"input '{name}' not in the signature ({sorted(signature_def.inputs)})")
    info = signature_def.inputs[name]
    array = np.asarray(value, dtype=tf.dtypes.as_dtype(info.dtype).as_numpy_dtype)
    dims = [d.size for d in info.tensor_shape.dim]
    if len(dims) != array.ndim or any(d not in (-1, s) for d, s in zip(dims, array.shape)):
      raise ValueError(f"input '{name}' has shape {array.shape}, the signature takes {dims}")
    tensors[name] = array
  missing = set(signature_def.inputs) - set(tensors)
  if missing:
    raise ValueError(f"missing inputs {sorted(missing)}")
  return tensors


def encode_outputs(outputs):
  if len(outputs) == 1:
    return {"outputs": next(iter(outputs.values())).tolist()}
  return {"outputs": {k: v.tolist() for k, v in outputs.items()}}


class FakeTFServing:
  """Serves one SavedModel under `model_name`: `predict(url_path, body) -> (status, json)`."""

  def __init__(self, model_name, path):
    self.model_name = model_name
    self.policy = saved_policy.SavedPolicy(path)
    meta_graph, = loader_impl.parse_saved_model(path).meta_graphs
    self.signature_defs = meta_graph.signature_def
    self.requests = []

  def predict(self, path, body):
    match = re.fullmatch(r"/v1/models/([^/:]+)(?:/versions/\d+)?:predict", path)
    if not match:
      return 404, {"error": f"Malformed request: POST {path}"}
    if match.group(1) != self.model_name:
      return 404, {"error": f"Servable not found for request: Latest({match.group(1)})"}
    request = json.loads(body)
    self.requests.append(request)
    name = request.get("signature_name", "serving_default")
    if name not in self.signature_defs:
      return 400, {"error": f"Serving signature name: \"{name}\" not found in signature def"}
    try:
      tensors = decode_inputs(request, self.signature_defs[name])
    except ValueError as e:
      return 400, {"error": str(e)}
    return 200, encode_outputs(self.policy.call_signature(name, tensors))


class HTTPServer:
  """`FakeTFServing` on a localhost port, in a thread (context manager); `.url` is its address."""

  def __init__(self, fake):
    fake_ = fake

    class Handler(http.server.BaseHTTPRequestHandler):
      def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status, answer = fake_.predict(self.path, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

      def log_message(self, *args):
        pass

    self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

  def __enter__(self):
    threading.Thread(target=self._server.serve_forever, daemon=True).start()
    return self

  def __exit__(self, *exc):
    self._server.shutdown()
    self._server.server_close()
