"""The in-graph game against the numpy rules, step by step."""

from hypothesis import given, settings, strategies as st
import pytest
import numpy as np
import tensorflow as tf

from mace_tf.envs import observation, rules
from mace_tf.fast import tf_game
from tests.envs.test_properties import game_configs


@settings(max_examples=40, deadline=None)
@given(config=game_configs(), batch=st.integers(1, 4), seed=st.integers(0, 2**31 - 1),
       shared_cells=st.booleans())
def test_tf_step_matches_numpy_step(config, batch, seed, shared_cells):
  rng = np.random.default_rng(seed)
  if shared_cells:
    state = rules.initial_state(config, rng.integers(0, min(2, config.grid_size),
                                                     (batch, config.num_hunters, 2)),
                                rng.integers(0, min(3, config.grid_size), (batch, config.num_prey, 2)))
  else:
    state = rules.random_state(config, rng, batch)
  tf_state = tf_game.from_numpy(state)
  for _ in range(config.time_limit):
    actions = rng.integers(0, 5, (batch, config.num_hunters)).astype(np.int32)
    prey_actions = rng.integers(0, 5, (batch, config.num_prey)).astype(np.int32)
    done, rewards = rules.apply_step(config, state, actions, prey_actions)
    tf_state, tf_done, tf_rewards = tf_game.apply_step(config, tf_state, tf.constant(actions),
                                                       tf.constant(prey_actions))
    got = tf_game.to_numpy(tf_state)
    for f in tf_game.TFGameState._fields:
      np.testing.assert_array_equal(getattr(got, f), getattr(state, f), err_msg=f)
    np.testing.assert_array_equal(tf_done.numpy(), done)
    np.testing.assert_allclose(tf_rewards.numpy(), rewards)
    want_stats = rules.episode_statistics(config, state, rewards)
    stats = tf_game.episode_statistics(config, tf_state, tf_rewards)
    for k in want_stats:
      np.testing.assert_allclose(stats[k].numpy(), want_stats[k], err_msg=k)
    want = observation.encode(config, state)
    obs = tf_game.encode(config, tf_state)
    for k in want:
      np.testing.assert_allclose(obs[k].numpy(), want[k], err_msg=k)
      assert obs[k].dtype.as_numpy_dtype == want[k].dtype
    # Both versions go on stepping finished games the same way, so the comparison goes on too.


def test_random_state_distinct_and_uniform():
  config = rules.GameConfig(kind=rules.HARE, num_hunters=2, num_prey=2, grid_size=4)
  s = tf_game.to_numpy(tf_game.random_state(config, 8000, tf.constant([1, 2], tf.int64)))
  cells = np.concatenate([s.hunter_pos, s.prey_pos], axis=1)
  flat = cells[..., 1] * 4 + cells[..., 0]
  assert all(len(set(row)) == 4 for row in flat)
  counts = np.bincount(flat[:, 0], minlength=16)  # 500 expected per cell, sd ~22
  assert counts.min() > 400 and counts.max() < 600


def test_batched_step_restarts_finished_games_only():
  config = rules.GameConfig(kind=rules.HARE, num_hunters=1, num_prey=1, grid_size=9, time_limit=5)
  state = tf_game.initial_state(config, tf.constant([[(1, 1)], [(6, 6)]]),
                                tf.constant([[(1, 2)], [(2, 2)]]))
  last = tf.constant([False, False])
  state, step_type, reward, discount, done = tf_game.batched_step(
      config, state, last, tf.zeros([2, 1], tf.int32), tf.constant([0, 1], tf.int64))
  np.testing.assert_array_equal(step_type.numpy(), [tf_game.LAST, tf_game.MID])
  np.testing.assert_array_equal(reward.numpy(), [[1.0], [0.0]])
  np.testing.assert_array_equal(discount.numpy(), [0.0, 1.0])
  state, step_type, reward, discount, done = tf_game.batched_step(
      config, state, done, tf.constant([[4], [3]]), tf.constant([0, 2], tf.int64))
  np.testing.assert_array_equal(step_type.numpy(), [tf_game.FIRST, tf_game.MID])
  np.testing.assert_array_equal(reward.numpy(), [[0.0], [0.0]])
  s = tf_game.to_numpy(state)
  np.testing.assert_array_equal(s.t, [0, 2])
  assert s.hunter_active[0, 0] and s.prey_hp[0, 0] == 1
  assert tuple(s.hunter_pos[1, 0]) == (5, 6)
  assert not np.array_equal(s.hunter_pos[0, 0], s.prey_pos[0, 0])


@pytest.mark.parametrize("grid_size,n,m", [(2, 2, 2), (3, 3, 4), (5, 3, 4), (50, 3, 4)])
def test_lowest_adjacent_prey_by_cells_and_by_pairs(grid_size, n, m):
  config = rules.GameConfig(kind=rules.STAG, num_hunters=n, num_prey=m, hit_points=2, time_limit=9,
                            grid_size=grid_size)
  rng = np.random.default_rng(grid_size)
  # Crowded: positions in a 3 x 3 corner that wraps, prey sharing cells, some prey dead.
  hunter_pos = rng.integers(-1, 2, (64, n, 2)) % grid_size
  prey_pos = rng.integers(-1, 2, (64, m, 2)) % grid_size
  prey_hp = rng.integers(0, 3, (64, m)).astype(np.int32)
  near = rules.within_one_step(hunter_pos[:, :, None], prey_pos[:, None], grid_size) \
      & (prey_hp > 0)[:, None]
  want = np.where(near.any(2), near.argmax(2), m)
  assert 0 < (want < m).mean() < 1
  for by_cells in (True, False):
    got = tf_game.lowest_adjacent_prey(config, tf.constant(hunter_pos, tf.int32),
                                       tf.constant(prey_pos, tf.int32), tf.constant(prey_hp),
                                       by_cells=by_cells)
    np.testing.assert_array_equal(got.numpy(), want, err_msg=f"by_cells={by_cells}")


# Hunters 0, 1 at (1, 1), (3, 1); prey 0 at (2, 1) (next to both), prey 1 at (3, 2) (next to
# hunter 1 only).
@pytest.mark.parametrize("prey0_hp,want_target,want_hp", [
    (2, [0, 0], [0, 1]),  # prey 0 takes both: one round, no hunter turned away
    (1, [0, 1], [0, 0]),  # prey 0 takes hunter 0 only: hunter 1 moves on to prey 1 (the rounds)
])
@pytest.mark.parametrize("compiled", [False, True])
def test_captures_with_and_without_a_hunter_turned_away(prey0_hp, want_target, want_hp, compiled):
  config = rules.GameConfig(kind=rules.STAG, num_hunters=2, num_prey=2, hit_points=2, time_limit=9,
                            grid_size=6)
  state = rules.initial_state(config, np.array([[(1, 1), (3, 1)]]), np.array([[(2, 1), (3, 2)]]))
  state.prey_hp[0] = [prey0_hp, 1]
  tf_state = tf_game.from_numpy(state)
  step = tf_game.apply_step
  if compiled:
    step = tf.function(lambda s, a: tf_game.apply_step(config, s, a, None))
    got, _, _ = step(tf_state, tf.zeros([1, 2], tf.int32))
  else:
    got, _, _ = step(config, tf_state, tf.zeros([1, 2], tf.int32), None)
  rules.apply_step(config, state, np.zeros((1, 2), np.int32), None)
  np.testing.assert_array_equal(state.hunter_target[0], want_target)
  np.testing.assert_array_equal(state.prey_hp[0], want_hp)
  got = tf_game.to_numpy(got)
  for f in tf_game.TFGameState._fields:
    np.testing.assert_array_equal(getattr(got, f), getattr(state, f), err_msg=f)


def test_the_capture_rounds_stay_a_functional_cond_in_graph():
  """The rounds run only when needed: an `If` op that is not lowered to Switch / Merge (whose
  branch not taken would cost every step)."""
  config = rules.GameConfig(kind=rules.STAG, num_hunters=2, num_prey=2, hit_points=2, time_limit=9,
                            grid_size=6)
  state = tf_game.random_state(config, 3, tf.constant([1, 2], tf.int64))
  graph = tf.function(lambda s: tf_game.resolve_captures(config, s.hunter_pos, s.hunter_active,
                                                         s.hunter_target, s.prey_pos, s.prey_hp)
                      ).get_concrete_function(state).graph
  ifs = [op for op in graph.get_operations() if op.type in ("If", "StatelessIf")]
  assert len(ifs) == 1
  assert not ifs[0].node_def.attr["_lower_using_switch_merge"].b
