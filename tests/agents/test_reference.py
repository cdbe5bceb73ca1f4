"""The reference policies (random, nearest) on hand-built scenarios."""

import numpy as np
import pytest

from mace_tf.agents import reference
from mace_tf.envs.external import ExternalConfig
from mace_tf.envs import hunters, observation, rules


def _observation(game, hunter_pos, prey_pos, active=None, prey_hp=None):
  state = rules.initial_state(game, np.array([hunter_pos]), np.array([prey_pos]))
  if active is not None:
    state.hunter_active[0] = active
  if prey_hp is not None:
    state.prey_hp[0] = prey_hp
  return observation.encode(game, state)


def test_nearest_steps_towards_the_nearest_live_prey_across_the_wrap():
  game = rules.GameConfig(kind="hare", num_hunters=4, num_prey=4, grid_size=50, time_limit=100)
  # Hunter 0 at (0, 0): prey at (4, 0) is 4 away, prey at (0, 48) 2 away through the wrap: up.
  # Hunter 1 at (10, 10): prey at (13, 11): |dx| 3 > |dy| 1: right.
  # Hunter 2 at (30, 30): prey at (28, 32): |dx| = |dy|: x first: left.
  # Hunter 3 at (40, 40) is frozen: stays.
  obs = _observation(game, [[0, 0], [10, 10], [30, 30], [40, 40]],
                     [[4, 0], [0, 48], [13, 11], [28, 32]], active=[True, True, True, False])
  actions = reference.nearest_prey_actions(obs, game.grid_size)
  assert actions.tolist() == [[1, 4, 3, 0]]


def test_nearest_ignores_dead_prey_and_stays_when_none_is_left():
  game = rules.GameConfig(kind="stag", num_hunters=2, num_prey=2, hit_points=2, grid_size=20,
                          time_limit=100)
  # Prey 0 (a stag at (2, 0)) is dead: hunter 0 at (0, 0) goes for the hare at (0, 15): 5 up.
  obs = _observation(game, [[0, 0], [5, 5]], [[2, 0], [0, 15]], prey_hp=[0, 1])
  assert reference.nearest_prey_actions(obs, game.grid_size).tolist() == [[1, 1]]
  obs = _observation(game, [[0, 0], [5, 5]], [[2, 0], [0, 15]], prey_hp=[0, 0])
  assert reference.nearest_prey_actions(obs, game.grid_size).tolist() == [[0, 0]]


def test_nearest_captures_a_prey_at_distance_k_in_k_minus_one_steps():
  game = rules.GameConfig(kind="hare", num_hunters=1, num_prey=1, grid_size=30, time_limit=100)
  env = hunters.make_game(game, batch_size=1, seed=0)
  time_step = env.reset_to(np.array([[[3, 4]]]), np.array([[[10, 8]]]))  # distance 7 + 4 = 11
  policy = reference.make_reference_policy("nearest", game)
  steps = 0
  while not time_step.is_last()[0]:
    time_step = env.step(policy(time_step))
    steps += 1
  assert steps == 10 and time_step.reward.tolist() == [[1.0]]


def test_random_is_uniform_and_seeded():
  game = rules.GameConfig(kind="hare", num_hunters=3, num_prey=3, grid_size=10, time_limit=10)
  env = hunters.make_game(game, batch_size=200, seed=0)
  time_step = env.reset()
  a = reference.make_reference_policy("random", game, seed=5)(time_step)
  b = reference.make_reference_policy("random", game, seed=5)(time_step)
  assert a.shape == (200, 3) and np.array_equal(a, b)
  counts = np.bincount(a.ravel(), minlength=5)
  assert counts.min() > 80  # 600 draws, 120 expected per action
  with pytest.raises(ValueError, match="reference policy must be one of"):
    reference.make_reference_policy("greedy", game)
  # Another game's action count (an --env game's, e.g. Level-Based Foraging's 6).
  six = reference.make_reference_policy("random", game, seed=1, num_actions=6)(time_step)
  assert six.shape == (200, 3) and set(np.unique(six)) == set(range(6))
  with pytest.raises(ValueError, match="hunter games only"):
    reference.make_reference_policy(
        "nearest", ExternalConfig("gymnasium:lbforaging:Foraging-8x8-2p-2f-coop-v3"))


def test_cumulative_reward_run_counts_the_episodes_that_end_within_the_budget():
  game = rules.GameConfig(kind="hare", num_hunters=1, num_prey=1, grid_size=3, time_limit=4)
  run = reference.cumulative_reward_run(reference.make_reference_policy("nearest", game), game,
                                        num_samples=400, batch_size=4, seed=0,
                                        at_samples=[200, 400])
  # On a 3 x 3 torus every cell is within 2 steps: nearest wins every episode, in 1 step (it moves
  # next to or onto the prey at once) and each game restarts on the step after its last.
  assert run["success_rate"] == 1.0 and run["episode_length"] == 1.0
  assert run["episodes"] == 400 // 2 and run["cumulative"] == 200.0
  assert run["cumulative_at"] == {200: 100.0, 400: 200.0}
