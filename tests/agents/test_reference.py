"""The reference policies (random, nearest, assigned) on hand-built scenarios."""

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


def test_assigned_sends_a_pair_to_a_stag_where_nearest_takes_the_hare():
  game = rules.GameConfig(kind="stag", num_hunters=2, num_prey=2, hit_points=2, grid_size=20,
                          time_limit=100)
  # Prey 0 is a stag at (9, 0) (2 hit points), prey 1 a hare at (0, 4). Hunter 0 at (0, 0) is 4
  # from the hare and 9 from the stag; hunter 1 at (13, 0) is 4 from the stag.
  obs = _observation(game, [[0, 0], [13, 0]], [[9, 0], [0, 4]])
  assert reference.nearest_prey_actions(obs, game.grid_size).tolist() == [[2, 3]]  # down, left
  assert reference.assigned_prey_actions(obs, game.grid_size).tolist() == [[4, 3]]  # right, left
  # With one hunter frozen the stag cannot be finished: the other takes the hare.
  obs = _observation(game, [[0, 0], [13, 0]], [[9, 0], [0, 4]], active=[True, False])
  assert reference.assigned_prey_actions(obs, game.grid_size).tolist() == [[2, 0]]
  # A wounded stag (1 hit point left) needs one hunter: the closer one goes, the other to the hare.
  obs = _observation(game, [[0, 0], [13, 0]], [[9, 0], [0, 4]], prey_hp=[1, 1])
  assert reference.assigned_prey_actions(obs, game.grid_size).tolist() == [[2, 3]]


def test_assigned_spreads_hunters_over_hares_and_steers_clear_of_other_prey():
  game = rules.GameConfig(kind="hare", num_hunters=2, num_prey=2, grid_size=20, time_limit=100)
  # Hares at (5, 0) and (12, 0); hunters at (0, 0) and (2, 0): both nearest to (5, 0). Matched
  # closest pair first: hunter 1 (3 away) takes (5, 0), hunter 0 the other hare (8 away through
  # the wrap), stepping left.
  obs = _observation(game, [[0, 0], [2, 0]], [[5, 0], [12, 0]])
  assert reference.nearest_prey_actions(obs, game.grid_size).tolist() == [[4, 4]]
  assert reference.assigned_prey_actions(obs, game.grid_size).tolist() == [[3, 4]]
  # Hunter 1 at (2, 1) takes the hare at (2, 0) (1 away): up. Hunter 0 at (0, 0), bound for the
  # hare at (6, 3), would step right (|dx| 6 > |dy| 3), but (1, 0) is next to (2, 0), whose hare
  # would capture it: it steps down instead.
  obs = _observation(game, [[0, 0], [2, 1]], [[6, 3], [2, 0]])
  assert reference.assigned_prey_actions(obs, game.grid_size).tolist() == [[2, 1]]
  with pytest.raises(ValueError, match="hunter games only"):
    reference.make_reference_policy(
        "assigned", ExternalConfig("gymnasium:lbforaging:Foraging-8x8-2p-2f-coop-v3"))


def test_assigned_clears_a_hare_game_that_nearest_cannot_finish_in_time():
  # Hunters at (0, 0) and (0, 1), both nearest to the hare at (4, 0); the other hare is at (0, 12).
  # nearest: both run to (4, 0), hunter 0 takes it at step 3, hunter 1 turns back after it and is
  # still 10+ cells from (0, 12) when the 12 steps run out: no reward. assigned: hunter 1 heads
  # for (0, 12) from the start and reaches it at step 10: both hunters are paid.
  game = rules.GameConfig(kind="hare", num_hunters=2, num_prey=2, grid_size=30, time_limit=12)
  for name, reward in (("assigned", 1.0), ("nearest", 0.0)):
    env = hunters.make_game(game, batch_size=1, seed=0)
    time_step = env.reset_to(np.array([[[0, 0], [0, 1]]]), np.array([[[4, 0], [0, 12]]]))
    policy = reference.make_reference_policy(name, game)
    while not time_step.is_last()[0]:
      time_step = env.step(policy(time_step))
    assert time_step.reward.tolist() == [[reward, reward]], name


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
