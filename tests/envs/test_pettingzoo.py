"""The hunter games as PettingZoo parallel environments (issue 20): PettingZoo's own API and seed
tests, and hand-built episodes for what the wrapper adds (frozen hunters, terminations against
truncations, the egocentric observation, the state)."""

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

from mace_tf.envs import pettingzoo as pz

SMALL = {"hare": dict(num_hunters=3, num_prey=2, grid_size=6, time_limit=30),
         "stag": dict(num_hunters=3, num_prey=2, grid_size=6, time_limit=30),
         "dens": dict(num_hunters=2, num_dens=2, distance=2, grid_size=5)}


@pytest.mark.parametrize("game, moving", [("hare", False), ("hare", True), ("stag", False),
                                          ("stag", True), ("dens", False)])
def test_pettingzoos_api_and_seed_tests_pass(game, moving):
  kwargs = dict(SMALL[game], **({"moving_prey": moving} if game != "dens" else {}))
  parallel_api_test(pz.parallel_env(game, **kwargs), num_cycles=200)
  parallel_seed_test(lambda: pz.parallel_env(game, **kwargs), num_cycles=100)


def test_the_seed_decides_the_start():
  a, b = pz.parallel_env("stag", **SMALL["stag"]), pz.parallel_env("stag", **SMALL["stag"])
  np.testing.assert_array_equal(a.reset(seed=3)[0]["hunter_0"], b.reset(seed=3)[0]["hunter_0"])
  assert not np.array_equal(a.reset(seed=3)[0]["hunter_0"], b.reset(seed=4)[0]["hunter_0"])


def test_a_frozen_hunter_stays_and_is_paid_at_the_end():
  env = pz.parallel_env("stag", num_hunters=2, num_prey=2, stag_hit_points=2, grid_size=9,
                        time_limit=50)
  env.reset(seed=0)
  # Hand-built: hunter 0 next to the hare (prey 1), hunter 1 far from everything.
  env.reset_to([[1, 1], [6, 6]], [[4, 4], [1, 2]])
  _, rewards, terminations, truncations, _ = env.step({"hunter_0": 0, "hunter_1": 0})
  assert env.agents == ["hunter_0", "hunter_1"]  # hunter 0 is frozen on the hare but stays
  assert rewards == {"hunter_0": 0.0, "hunter_1": 0.0}
  assert not any(terminations.values()) and not any(truncations.values())
  for _ in range(48):
    env.step({"hunter_1": 0})  # the frozen hunter's action may be left out
  _, rewards, terminations, truncations, _ = env.step({"hunter_0": 3, "hunter_1": 0})
  # T reached with a stag alive and hunter 1 active: a truncation, the hare paid at the end.
  assert rewards == {"hunter_0": pytest.approx(0.1), "hunter_1": 0.0}
  assert truncations == {"hunter_0": True, "hunter_1": True} and not any(terminations.values())
  assert env.agents == []
  with pytest.raises(RuntimeError, match="call reset"):
    env.step({})


def test_an_episode_ended_by_the_rules_is_a_termination():
  env = pz.parallel_env("dens", **SMALL["dens"])
  env.reset(seed=0)
  env.step({"hunter_0": 4, "hunter_1": 4})
  _, _, terminations, truncations, _ = env.step({"hunter_0": 4, "hunter_1": 4})
  assert terminations == {"hunter_0": True, "hunter_1": True} and not any(truncations.values())


def test_each_hunter_sees_the_board_from_its_own_cell_and_the_state_is_the_board():
  env = pz.parallel_env("hare", num_hunters=2, num_prey=1, grid_size=5, time_limit=10)
  env.reset(seed=0)
  obs, _ = env.reset_to([[0, 0], [3, 1]], [[1, 0]])
  for agent, (x, y) in (("hunter_0", (0, 0)), ("hunter_1", (3, 1))):
    grid = obs[agent][:100].reshape(5, 5, 4)
    assert grid[2, 2, 0] == 1  # itself, active, at the centre
    # the hare at (1, 0): dx = 1 - x, dy = 0 - y from the centre, on the torus
    assert grid[(2 - y) % 5, (2 + 1 - x) % 5, 3] == 1
    assert obs[agent][100] == 1.0 and obs[agent][101] == 1.0  # active, all the time left
  state = env.state()
  assert state.shape == env.state_space.shape == (100 + 6 + 1,)
  np.testing.assert_array_equal(state[100:106], [0, 0, 1, 3, 1, 1])


def test_render_and_bad_settings():
  env = pz.parallel_env("hare", **SMALL["hare"])
  env.reset(seed=1)
  frame = env.render()
  assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
  with pytest.raises(ValueError, match="game must be one of"):
    pz.parallel_env("wolf")
  with pytest.raises(ValueError, match="reset\\(seed"):
    pz.parallel_env("hare", seed=3)
  with pytest.raises(TypeError):
    pz.parallel_env("hare", num_dens=2)
