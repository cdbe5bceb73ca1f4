"""The REST client's requests, decoded as TF Serving decodes them, give the expected actions."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from mace_tf.deploy import evaluation, saved_policy, serving
from tests.deploy.exports import GAME, observations
from tests.deploy.fake_tf_serving import FakeTFServing, HTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def through_json(fake):
  """A transport that sends the request as JSON text to `fake`, as over HTTP."""
  def transport(url, body, timeout):
    del timeout
    status, answer = fake.predict(url.split("8501", 1)[1], json.dumps(body))
    if status != 200:
      raise serving.ServingError(answer["error"])
    return json.loads(json.dumps(answer))
  return transport


def test_request_decoded_as_tf_serving_gives_the_greedy_policys_action(exported):
  _, paths = exported
  fake = FakeTFServing("greedy_policy", paths["greedy_policy"])
  client = serving.ServingClient("http://host:8501", "greedy_policy", transport=through_json(fake))
  assert client.url == "http://host:8501/v1/models/greedy_policy:predict"
  time_step = observations(GAME, 12, seed=7)
  action = client.action(time_step)
  expected = saved_policy.SavedPolicy(paths["greedy_policy"]).action(time_step)
  np.testing.assert_array_equal(action, expected)
  assert action.shape == (12, GAME.num_hunters) and action.dtype == np.int32
  request, = fake.requests
  assert request["signature_name"] == "action"
  assert np.asarray(request["inputs"]["0/observation/grid"]).shape == (12, 8, 8, 4)


def test_sampling_policy_answers_with_several_outputs(exported):
  _, paths = exported
  fake = FakeTFServing("policy", paths["policy"])
  client = serving.ServingClient("http://host:8501", "policy", version=40,
                                 transport=through_json(fake))
  assert client.url.endswith("/v1/models/policy/versions/40:predict")
  action = client.action(observations(GAME, 5, seed=8))
  assert action.shape == (5, GAME.num_hunters)
  assert ((0 <= action) & (action < 5)).all()


def test_over_http_plays_episodes_and_reports_errors(exported):
  _, paths = exported
  with HTTPServer(FakeTFServing("greedy_policy", paths["greedy_policy"])) as server:
    client = serving.ServingClient(server.url, "greedy_policy")
    per_episode, _ = evaluation.play_episodes(client.action, GAME, episodes=6, seed=1)
    local, _ = evaluation.play_episodes(saved_policy.SavedPolicy(paths["greedy_policy"]).action,
                                        GAME, episodes=6, seed=1)
    for k in per_episode:  # the greedy policy is deterministic: served == local
      np.testing.assert_array_equal(per_episode[k], local[k])
    with pytest.raises(serving.ServingError, match="HTTP 404.*Servable not found"):
      serving.ServingClient(server.url, "other").action(observations(GAME, 1, 0))
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
  with pytest.raises(serving.ServingError, match="cannot reach TF Serving"):
    serving.ServingClient(f"http://127.0.0.1:{port}", "greedy_policy",
                          timeout=5).action(observations(GAME, 1, 0))
  with pytest.raises(ValueError, match="http"):
    serving.ServingClient("localhost:8501", "greedy_policy")


def test_a_served_policy_for_another_game_is_refused(exported):
  _, paths = exported
  fake = FakeTFServing("greedy_policy", paths["greedy_policy"])
  client = serving.ServingClient("http://host:8501", "greedy_policy", transport=through_json(fake))
  from mace_tf.envs import rules
  other = rules.GameConfig(kind=rules.STAG, num_hunters=3, num_prey=4, hit_points=2, time_limit=9,
                           grid_size=10)
  with pytest.raises(serving.ServingError, match=r"observation/grid.*shape \(2, 10, 10, 4\)"):
    client.action(observations(other, 2, 0))


def test_serve_client_launcher_against_a_server(exported, tmp_path):
  _, paths = exported
  out = tmp_path / "served.json"
  with HTTPServer(FakeTFServing("greedy_policy", paths["greedy_policy"])) as server:
    p = subprocess.run(
        [sys.executable, "-m", "launch.serve_client", f"--server={server.url}",
         "--model=greedy_policy", "--episodes=4", "--game=stag", "--num_hunters=3",
         "--num_prey=4", "--hit_points=2", "--time_limit=9", "--grid_size=8", f"--output={out}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert p.returncode == 0, p.stderr[-2000:]
  assert "terminal reward per episode" in p.stdout
  summary = json.loads(out.read_text())
  assert summary["episodes"] == 4 and 1 <= summary["episode_length"]["max"] <= 9
  p = subprocess.run([sys.executable, "-m", "launch.serve_client", "--server=http://127.0.0.1:9",
                      "--episodes=1", "--game=stag", "--num_hunters=3", "--num_prey=4",
                      "--grid_size=8", "--timeout=5"],
                     cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert p.returncode != 0 and "serve_client: cannot reach TF Serving" in p.stderr
  assert "Traceback" not in p.stderr
