"""The hidden-stag game (issue 19): hand-built scenarios pin capture, timing and the adversary; the
values a deterministic team, independent randomizers and a shared coin reach are checked against
the theory (0, K^-N, 1/K); the TF port and the naive oracle agree with the rules step by step."""

import numpy as np
import pytest
import tensorflow as tf

from mace_tf.envs import hunters, observation, rules
from mace_tf.fast import tf_game
from tests.envs import reference

STAY, UP, DOWN, LEFT, RIGHT = range(5)


def dens2(batch_size=1, seed=0, distance=2, **kwargs):
  return hunters.HiddenStag(num_hunters=2, num_dens=2, distance=distance,
                            grid_size=2 * distance + 1, batch_size=batch_size, seed=seed, **kwargs)


def play(env, *joint_actions):
  """Steps one game through `joint_actions` (tuples of N actions); returns the last time step."""
  for actions in joint_actions:
    step = env.step(np.array([actions], np.int32))
  return step


def start_at(env, stag_den, history=None):
  """One game at its start layout with the stag in `stag_den` and the adversary's memory given."""
  c = env.config
  env.reset_to(np.tile(c.start_cell, (1, c.num_hunters, 1)), c.den_positions[None], stag_den)
  if history is not None:
    state = env.get_state()
    state["game"].den_history[0] = np.array(history + [-1] * (rules.ADVERSARY_WINDOW - len(history)))
    env.set_state(state)


class TestLayout:

  def test_dens_lie_at_distance_t_in_their_own_directions(self):
    c = rules.GameConfig(kind=rules.DENS, num_hunters=3, num_prey=4, time_limit=3, grid_size=7)
    np.testing.assert_array_equal(c.start_cell, [3, 3])
    # right, left, down, up, three cells away
    np.testing.assert_array_equal(c.den_positions, [[6, 3], [0, 3], [3, 6], [3, 0]])

  def test_everyone_starts_on_the_start_cell_and_the_observation_hides_the_stag(self):
    env = dens2(batch_size=2)
    first = env.reset_to(np.full((2, 2, 2), 2), np.tile(env.config.den_positions, (2, 1, 1)),
                         stag_den=np.array([0, 1]))
    for k, v in first.observation.items():  # the two games differ only in where the stag is
      np.testing.assert_array_equal(v[0], v[1], err_msg=k)
    grid = first.observation["grid"][0]
    assert grid[2, 2, 0] == 2  # both hunters on the centre cell (row y, column x)
    assert grid[2, 4, 3] == 1 and grid[2, 0, 3] == 1  # the two dens, alike
    assert grid[..., 2].sum() == 0  # no stag channel

  @pytest.mark.parametrize("kwargs, message", [
      (dict(num_prey=5), "number of dens"),
      (dict(grid_size=4), "grid_size >= 2 \\* time_limit \\+ 1 = 5"),
      (dict(hit_points=2), "no hit points"),
      (dict(moving_prey=True), "do not move"),
  ])
  def test_bad_settings_are_one_line(self, kwargs, message):
    settings = dict(kind=rules.DENS, num_hunters=2, num_prey=2, time_limit=2, grid_size=5)
    settings.update(kwargs)
    with pytest.raises(ValueError, match=message):
      rules.GameConfig(**settings)


class TestCaptureAndTiming:

  def test_all_hunters_on_the_stags_den_at_t_each_get_one(self):
    env = dens2()
    start_at(env, stag_den=0)
    mid = play(env, (RIGHT, RIGHT))
    assert int(mid.step_type[0]) == 1 and mid.reward.sum() == 0  # no reward before the end
    last = play(env, (RIGHT, RIGHT))
    assert last.is_last()[0]
    np.testing.assert_array_equal(last.reward[0], [1.0, 1.0])

  def test_meeting_at_the_empty_den_pays_nothing(self):
    env = dens2()
    start_at(env, stag_den=1)
    last = play(env, (RIGHT, RIGHT), (RIGHT, RIGHT))
    assert last.is_last()[0] and last.reward.sum() == 0

  def test_one_hunter_missing_pays_nobody(self):
    env = dens2()
    start_at(env, stag_den=0)
    last = play(env, (RIGHT, RIGHT), (RIGHT, STAY))
    assert last.is_last()[0] and last.reward.sum() == 0

  @pytest.mark.parametrize("path", [(STAY, RIGHT), (UP, RIGHT), (RIGHT, LEFT)])
  def test_a_hunter_that_does_not_head_straight_is_late(self, path):
    env = dens2()
    start_at(env, stag_den=0)
    last = play(env, (path[0], RIGHT), (path[1], RIGHT))
    assert last.is_last()[0] and last.reward.sum() == 0
    assert tuple(env.game_state()["hunter_pos"][0, 0]) != (4, 2)

  def test_the_episode_lasts_exactly_t_steps(self):
    env = dens2(distance=3)
    start_at(env, stag_den=0)
    types = [int(play(env, (UP, DOWN)).step_type[0]) for _ in range(3)]
    assert types == [1, 1, 2]


class TestAdversary:

  def test_the_stag_goes_where_the_team_met_least(self):
    env = dens2()
    start_at(env, stag_den=0, history=[0, 0, 1, -1])  # den 0 twice, den 1 once
    play(env, (RIGHT, RIGHT), (RIGHT, RIGHT))  # meet at den 0: three times now
    play(env, (STAY, STAY))  # the reset step
    state = env.game_state()
    np.testing.assert_array_equal(state["den_history"][0, :5], [0, 0, 0, 1, -1])
    assert state["stag_den"][0] == 1

  def test_the_window_forgets_the_oldest_episode(self):
    w = rules.ADVERSARY_WINDOW
    env = dens2()
    # den 1 once, at the far end of the window; den 0 never: the stag would go to den 0 ...
    start_at(env, stag_den=0, history=[-1] * (w - 1) + [1])
    play(env, (UP, DOWN), (UP, DOWN))  # ... they meet nowhere: den 1's visit drops out
    play(env, (STAY, STAY))
    state = env.game_state()
    assert (state["den_history"][0] == -1).all()
    assert state["stag_den"][0] in (0, 1)  # a tie now: see the tie-breaking test

  def test_a_game_stepped_after_its_end_is_not_counted_twice(self):
    config = rules.GameConfig(kind=rules.DENS, num_hunters=2, num_prey=2, time_limit=1, grid_size=3)
    state = rules.dens_start(config, np.full((1, rules.ADVERSARY_WINDOW), -1), np.zeros((1, 2)))
    rules.apply_step(config, state, np.array([[RIGHT, RIGHT]]), None)
    rules.apply_step(config, state, np.array([[RIGHT, RIGHT]]), None)  # t = 2 > T
    assert (state.den_history[0] == 0).sum() == 1

  def test_ties_are_broken_uniformly(self):
    config = rules.GameConfig(kind=rules.DENS, num_hunters=2, num_prey=3, time_limit=1, grid_size=3)
    history = np.tile([2, -1, -1, -1, -1, -1, -1, -1, -1, -1], (6000, 1))  # dens 0 and 1 tied
    chosen = rules.adversary_choice(config, history, np.random.default_rng(0).random((6000, 3)))
    assert not (chosen == 2).any()
    assert abs((chosen == 0).mean() - 0.5) < 0.03  # 4.6 standard deviations at 6,000 draws

  def test_the_adversary_is_in_the_checkpointed_state(self):
    env = dens2(batch_size=2)
    env.reset()
    saved = env.get_state()
    saved["game"].den_history[:, :3] = [[0, 1, 0], [1, 1, -1]]
    arrays = hunters.HunterGame.state_to_arrays(saved)
    back = hunters.HunterGame.state_from_arrays(arrays)
    env.check_state(back)
    np.testing.assert_array_equal(back["game"].den_history, saved["game"].den_history)
    np.testing.assert_array_equal(back["game"].stag_den, saved["game"].stag_den)
    bad = hunters.HunterGame.state_from_arrays(arrays)
    bad["game"].den_history[0, 0] = 2
    with pytest.raises(ValueError, match="den_history outside"):
      env.check_state(bad)


def capture_rate(team, num_hunters, num_dens, episodes=4000, seed=0):
  """The adversarial capture rate of a team: `team(rng, batch) -> [B, N]` dens to head to, one
  episode of distance 1 at a time per game (each game's adversary sees its own history)."""
  env = hunters.HiddenStag(num_hunters=num_hunters, num_dens=num_dens, distance=1, grid_size=3,
                           batch_size=200, seed=seed)
  env.reset()
  rng = np.random.default_rng(seed + 1)
  caught = []
  for _ in range(episodes // 200 + 1):
    last = env.step(np.array(rules.DEN_ACTIONS)[team(rng, 200)].astype(np.int32))
    caught.append(last.reward[:, 0] > 0)
    env.step(np.zeros((200, num_hunters), np.int32))  # the reset step
  return np.mean(caught[1:])  # past the first episode, whose stag the empty memory placed at random


@pytest.mark.parametrize("n, k", [(2, 2), (3, 3)])
def test_the_values_the_theory_gives(n, k):
  """A deterministic team scores 0; independent uniform randomizers K^-N (the best independent
  play against a best response: by AM-GM each den's product of marginals is at most K^-N); a
  shared uniform coin 1/K."""
  deterministic = capture_rate(lambda rng, b: np.zeros((b, n), int), n, k)
  independent = capture_rate(lambda rng, b: rng.integers(0, k, (b, n)), n, k)
  coin = capture_rate(lambda rng, b: np.repeat(rng.integers(0, k, (b, 1)), n, axis=1), n, k)
  assert deterministic == 0.0
  assert abs(independent - k ** -n) < 0.03
  assert abs(coin - 1 / k) < 0.04


def test_evaluation_can_fix_the_stag_in_one_den():
  env = dens2(batch_size=50, stag_den=1)
  env.reset()
  for _ in range(3):  # through an episode and its reset: the den stays
    assert (env.game_state()["stag_den"] == 1).all()
    env.step(np.full((50, 2), RIGHT, np.int32))
    env.step(np.full((50, 2), RIGHT, np.int32))
    env.step(np.zeros((50, 2), np.int32))
  with pytest.raises(ValueError, match="stag_den is for the dens game"):
    hunters.make_game(rules.GameConfig(kind=rules.STAG), stag_den=0)


def test_rules_oracle_and_tf_port_agree_over_episodes():
  config = rules.GameConfig(kind=rules.DENS, num_hunters=3, num_prey=3, time_limit=2, grid_size=5)
  rng = np.random.default_rng(7)
  b = 16
  state = rules.dens_start(config, rng.integers(-1, 3, (b, rules.ADVERSARY_WINDOW)),
                           rng.random((b, 3)))
  tf_state = tf_game.from_numpy(state)
  for step in range(12):
    # Actions mostly toward den 0 so that meetings happen.
    actions = np.where(rng.random((b, 3)) < 0.7, RIGHT, rng.integers(0, 5, (b, 3))).astype(np.int32)
    games = [{f: np.array(getattr(state, f)[i]) for f in tf_game.TFGameState._fields} for i in range(b)]
    want = [reference.dens_step_one_game(config, g, a) for g, a in zip(games, actions)]
    done, rewards = rules.apply_step(config, state, actions, None)
    tf_state, tf_done, tf_rewards = tf_game.apply_step(config, tf_state, tf.constant(actions), None)
    np.testing.assert_array_equal(done, [w[0] for w in want])
    np.testing.assert_array_equal(rewards, np.stack([w[1] for w in want]))
    np.testing.assert_array_equal(state.den_history, np.stack([g["den_history"] for g in games]))
    np.testing.assert_array_equal(tf_done.numpy(), done)
    np.testing.assert_array_equal(tf_rewards.numpy(), rewards)
    got = tf_game.to_numpy(tf_state)
    for f in tf_game.TFGameState._fields:
      np.testing.assert_array_equal(getattr(got, f), getattr(state, f), err_msg=f"step {step}: {f}")
    for k, v in tf_game.episode_statistics(config, tf_state, tf_rewards).items():
      np.testing.assert_array_equal(v.numpy(), rules.episode_statistics(config, state, rewards)[k])
    np.testing.assert_array_equal(tf_game.encode(config, tf_state)["grid"].numpy(),
                                  observation.encode(config, state)["grid"])
    if done.any():  # new episodes with the same tie-breaking keys in all three
      keys = rng.random((b, 3))
      fresh = rules.dens_start(config, state.den_history, keys)
      np.testing.assert_array_equal(
          fresh.stag_den, [reference.dens_adversary(config, h, k_)
                           for h, k_ in zip(state.den_history, keys)])
      tf_fresh = tf_game.dens_start(config, tf.constant(state.den_history),
                                    tf.constant(keys, tf.float32))
      np.testing.assert_array_equal(tf_fresh.stag_den.numpy(), fresh.stag_den)
      state.assign(done, rules.GameState(**{f: getattr(fresh, f)[done]
                                            for f in tf_game.TFGameState._fields}))
      tf_state = tf_game.from_numpy(state)
