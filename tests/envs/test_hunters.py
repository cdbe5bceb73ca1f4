"""Specs, TF-Agents compatibility, bad input, wrappers and rendering of the hunter games."""

import numpy as np
import pytest
from tf_agents.environments import tf_py_environment, utils

from mace_tf.envs import GameConfig, HareHunters, StagHunters, TeamRewardWrapper
from mace_tf.envs import render


@pytest.mark.parametrize("moving", [False, True])
@pytest.mark.parametrize("make", [
    lambda moving: HareHunters(num_hunters=4, num_prey=2, hit_points=2, grid_size=6, time_limit=15,
                               moving_prey=moving, batch_size=4, seed=1),
    lambda moving: StagHunters(num_hunters=5, num_prey=4, grid_size=6, time_limit=15,
                               moving_prey=moving, batch_size=4, seed=2),
], ids=["hare", "stag"])
def test_validate_py_environment(make, moving):
  utils.validate_py_environment(make(moving), episodes=12)


def test_specs():
  env = StagHunters(num_hunters=20, num_prey=20, batch_size=3)
  assert env.batched and env.batch_size == 3
  assert env.action_spec().shape == (20,) and env.action_spec().dtype == np.int32
  assert (env.action_spec().minimum, env.action_spec().maximum) == (0, 4)
  assert env.reward_spec().shape == (20,) and env.reward_spec().dtype == np.float32
  obs = env.observation_spec()
  assert obs["grid"].shape == (50, 50, 4) and obs["grid"].dtype == np.uint8
  assert obs["hunters"].shape == (20, 3) and obs["time_left"].shape == (1,)
  t = env.reset()
  assert t.observation["grid"].shape == (3, 50, 50, 4) and t.reward.shape == (3, 20)


def test_defaults_are_the_papers_settings():
  hare, stag = HareHunters(), StagHunters()
  assert hare.config == GameConfig(kind="hare", num_hunters=10, num_prey=10, hit_points=1,
                                   time_limit=2000, grid_size=50, moving_prey=False)
  assert stag.config == GameConfig(kind="stag", num_hunters=10, num_prey=10, hit_points=2,
                                   time_limit=1000, grid_size=50, moving_prey=False)


def test_runs_inside_tf_py_environment():
  env = tf_py_environment.TFPyEnvironment(
      HareHunters(num_hunters=3, num_prey=3, grid_size=5, time_limit=4, batch_size=2, seed=0))
  t = env.reset()
  assert t.observation["grid"].shape == (2, 5, 5, 4)
  t = env.step(np.zeros((2, 3), np.int32))
  assert t.reward.shape == (2, 3)


@pytest.mark.parametrize("kwargs, words", [
    (dict(num_hunters=0), "num_hunters must be in [1, 255], got 0"),
    (dict(num_prey=-2), "num_prey must be in [1, 255], got -2"),
    (dict(grid_size=0), "grid_size must be >= 1, got 0"),
    (dict(time_limit=0), "time_limit must be >= 1, got 0"),
    (dict(hit_points=0), "hit_points must be in [1, 255], got 0"),
    (dict(batch_size=0), "batch_size must be >= 1, got 0"),
    (dict(num_hunters=10, num_prey=10, grid_size=4), "do not fit on distinct cells"),
    (dict(num_hunters=3, num_prey=2, hit_points=2), "can never be won"),
    (dict(num_hunters=2.5), "num_hunters must be an integer"),
    (dict(seed=-1), "seed must be >= 0"),
])
def test_bad_hare_settings(kwargs, words):
  with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
    HareHunters(**kwargs)


def test_bad_stag_settings():
  with pytest.raises(ValueError, match="num_prey must be even for Stag-Hunters"):
    StagHunters(num_prey=5)
  with pytest.raises(ValueError, match="stag_hit_points must be in"):
    StagHunters(stag_hit_points=0)
  with pytest.raises(ValueError, match="kind must be one of"):
    GameConfig(kind="wolf")


@pytest.mark.parametrize("action, words", [
    (np.zeros((2, 4), np.int32), r"action must have shape \[batch_size, num_hunters\] = \[2, 3\]"),
    (np.zeros((3,), np.float32), "action must be an integer array"),
    (np.full((2, 3), 5, np.int32), r"action values must be in 0..4, got values in \[5, 5\]"),
    (np.full((2, 3), -1, np.int32), "action values must be in 0..4"),
])
def test_bad_actions(action, words):
  env = HareHunters(num_hunters=3, num_prey=3, grid_size=5, batch_size=2, seed=0)
  env.reset()
  with pytest.raises(ValueError, match=words):
    env.step(action)


def test_one_joint_action_is_broadcast_to_every_game():
  env = HareHunters(num_hunters=2, num_prey=1, grid_size=9, batch_size=2)
  env.reset_to(np.array([[(1, 1), (5, 5)], [(3, 3), (7, 7)]]), np.array([[(0, 8)], [(0, 8)]]))
  env.step(np.array([4, 2], np.int32))
  np.testing.assert_array_equal(env.game_state()["hunter_pos"],
                                [[(2, 1), (5, 6)], [(4, 3), (7, 8)]])


def test_bad_reset_to():
  env = HareHunters(num_hunters=2, num_prey=2, grid_size=5, batch_size=1)
  with pytest.raises(ValueError, match=r"hunter_pos must have shape \[1, 2, 2\]"):
    env.reset_to(np.zeros((2, 2)), np.zeros((1, 2, 2), int))
  with pytest.raises(ValueError, match=r"prey_pos must lie in \[0, grid_size\) = \[0, 5\)"):
    env.reset_to(np.zeros((1, 2, 2), int), np.full((1, 2, 2), 5))
  with pytest.raises(ValueError, match="hunter_pos must be an integer array"):
    env.reset_to(np.zeros((1, 2, 2)), np.zeros((1, 2, 2), int))


def test_state_before_reset_is_a_clear_error():
  with pytest.raises(RuntimeError, match="before reset"):
    HareHunters().game_state()


def test_team_reward_wrapper_sums_hunters():
  env = TeamRewardWrapper(StagHunters(num_hunters=4, num_prey=4, grid_size=11, time_limit=2))
  assert env.reward_spec().shape == ()
  env.reset_to(np.array([[(1, 2), (2, 1), (8, 7), (5, 9)]]),
               np.array([[(1, 1), (5, 5), (0, 8), (8, 8)]]))
  env.step(np.zeros((1, 4), np.int32))
  t = env.step(np.zeros((1, 4), np.int32))
  assert t.reward.shape == (1,)
  np.testing.assert_allclose(t.reward, [2.1], rtol=1e-6)
  utils.validate_py_environment(env, episodes=3)


def test_render_draws_entities_in_their_cells():
  env = StagHunters(num_hunters=2, num_prey=2, grid_size=10, time_limit=10)
  env.reset_to(np.array([[(1, 1), (8, 3)]]), np.array([[(5, 5), (2, 7)]]))
  frame = env.render(cell_pixels=10)
  bar = render.TIME_BAR_PIXELS
  assert frame.shape == (bar + 100, 100, 3) and frame.dtype == np.uint8

  def center(x, y):
    return tuple(frame[bar + y * 10 + 5, x * 10 + 5])

  assert center(1, 1) == render.ACTIVE_HUNTER and center(8, 3) == render.ACTIVE_HUNTER
  assert center(5, 5) == render.STAG and center(2, 7) == render.HARE
  assert center(0, 0) == render.BACKGROUND
  env.step(np.array([[0, 0]], np.int32))
  frame = env.render(cell_pixels=10)
  assert tuple(frame[0, 0]) == render.TIME_BAR and tuple(frame[0, 99]) == render.BACKGROUND
  with pytest.raises(ValueError, match="game must be in"):
    env.render(game=1)


def test_write_gif(tmp_path):
  from PIL import Image
  env = HareHunters(num_hunters=2, num_prey=2, grid_size=8, time_limit=5, seed=0)
  env.reset()
  frames = [env.render()]
  for _ in range(3):
    env.step(np.zeros((1, 2), np.int32))
    frames.append(env.render())
  path = tmp_path / "e.gif"
  render.write_gif(str(path), frames)
  with Image.open(path) as im:
    assert im.n_frames == 4 and im.size == (frames[0].shape[1], frames[0].shape[0])
