"""Hand-built scenarios that pin every rule of the hunter games (paper section 3.1)."""

import numpy as np
import pytest
from tf_agents.trajectories import time_step as ts

from mace_tf.envs import HareHunters, StagHunters, rules

STAY, UP, DOWN, LEFT, RIGHT = range(5)


def start(env, hunters, prey):
  """reset_to with one game: `hunters` and `prey` are lists of (x, y)."""
  return env.reset_to(np.array([hunters]), np.array([prey]))


def act(env, *actions):
  return env.step(np.array([actions], dtype=np.int32))


def state(env):
  return {k: v[0] for k, v in env.game_state().items()}


class TestMovement:

  @pytest.mark.parametrize("action, expected", [
      (STAY, (3, 3)), (UP, (3, 2)), (DOWN, (3, 4)), (LEFT, (2, 3)), (RIGHT, (4, 3))])
  def test_each_action_moves_one_cell(self, action, expected):
    env = HareHunters(num_hunters=1, num_prey=1, grid_size=9, time_limit=10)
    start(env, [(3, 3)], [(7, 7)])
    act(env, action)
    assert tuple(state(env)["hunter_pos"][0]) == expected

  @pytest.mark.parametrize("pos, action, expected", [
      ((0, 4), LEFT, (8, 4)), ((8, 4), RIGHT, (0, 4)), ((4, 0), UP, (4, 8)), ((4, 8), DOWN, (4, 0))])
  def test_wrap_around(self, pos, action, expected):
    env = HareHunters(num_hunters=1, num_prey=1, grid_size=9, time_limit=10)
    start(env, [pos], [(4, 4) if pos != (4, 4) else (1, 1)])
    act(env, action)
    assert tuple(state(env)["hunter_pos"][0]) == expected

  def test_frozen_hunter_ignores_its_action(self):
    env = HareHunters(num_hunters=2, num_prey=2, grid_size=9, time_limit=10)
    start(env, [(1, 1), (5, 5)], [(2, 1), (8, 8)])
    act(env, STAY, STAY)  # hunter 0 is next to prey 0: it hits and freezes
    s = state(env)
    assert not s["hunter_active"][0] and s["hunter_target"][0] == 0
    act(env, RIGHT, UP)
    s = state(env)
    assert tuple(s["hunter_pos"][0]) == (1, 1)
    assert tuple(s["hunter_pos"][1]) == (5, 4)

  def test_entities_may_share_cells(self):
    env = HareHunters(num_hunters=2, num_prey=1, grid_size=9, time_limit=10)
    start(env, [(1, 1), (3, 1)], [(7, 7)])
    act(env, RIGHT, LEFT)
    s = state(env)
    np.testing.assert_array_equal(s["hunter_pos"], [[2, 1], [2, 1]])


class TestCaptures:

  def test_hit_at_distance_one_and_zero_but_not_two_or_diagonal(self):
    env = HareHunters(num_hunters=4, num_prey=4, grid_size=20, time_limit=10)
    prey = [(2, 2), (10, 2), (2, 10), (10, 10)]
    hunters = [(2, 3),    # distance 1: hit
               (10, 2),   # same cell: hit
               (3, 11),   # diagonal (distance 2): no hit
               (12, 10)]  # distance 2 on one axis: no hit
    start(env, hunters, prey)
    act(env, STAY, STAY, STAY, STAY)
    s = state(env)
    np.testing.assert_array_equal(s["hunter_active"], [False, False, True, True])
    np.testing.assert_array_equal(s["hunter_target"], [0, 1, -1, -1])
    np.testing.assert_array_equal(s["prey_hp"], [0, 0, 1, 1])

  def test_capture_across_the_wrap(self):
    env = HareHunters(num_hunters=2, num_prey=2, grid_size=7, time_limit=10)
    start(env, [(6, 3), (3, 0)], [(0, 3), (3, 6)])
    act(env, STAY, STAY)
    s = state(env)
    np.testing.assert_array_equal(s["hunter_target"], [0, 1])

  def test_capture_happens_after_the_move(self):
    env = HareHunters(num_hunters=1, num_prey=1, grid_size=9, time_limit=10)
    start(env, [(1, 1)], [(3, 1)])  # distance 2 before the move, 1 after it
    act(env, RIGHT)
    assert state(env)["hunter_target"][0] == 0

  def test_captures_in_hunter_index_order(self):
    # Two hunters next to one hare with 1 hit point: the lower index hits it, the other stays active.
    env = HareHunters(num_hunters=2, num_prey=1, grid_size=9, time_limit=10)
    start(env, [(5, 4), (4, 5)], [(4, 4)])
    act(env, STAY, STAY)
    s = state(env)
    np.testing.assert_array_equal(s["hunter_active"], [False, True])
    np.testing.assert_array_equal(s["hunter_target"], [0, -1])
    # Swapping which hunter stands where does not matter: index order decides.
    start(env, [(4, 5), (5, 4)], [(4, 4)])
    act(env, STAY, STAY)
    np.testing.assert_array_equal(state(env)["hunter_target"], [0, -1])

  def test_hunter_hits_the_lowest_index_adjacent_prey(self):
    env = HareHunters(num_hunters=3, num_prey=3, grid_size=9, time_limit=10)
    start(env, [(4, 4), (0, 8), (8, 0)], [(4, 6), (5, 4), (4, 3)])  # prey 1 and 2 adjacent to hunter 0
    act(env, STAY, STAY, STAY)
    s = state(env)
    assert s["hunter_target"][0] == 1
    np.testing.assert_array_equal(s["prey_hp"], [1, 0, 1])

  def test_a_later_hunter_moves_on_to_the_next_prey_when_the_first_is_used_up(self):
    # Hunters 0, 1, 2 all stand next to prey 0 and prey 1 (1 hit point each): hunter 0 takes prey 0,
    # hunter 1 finds prey 0 used up and takes prey 1, hunter 2 finds nothing left and stays active.
    env = HareHunters(num_hunters=3, num_prey=2, grid_size=9, time_limit=10)
    start(env, [(4, 4), (4, 4), (4, 4)], [(4, 5), (5, 4)])
    act(env, STAY, STAY, STAY)
    s = state(env)
    np.testing.assert_array_equal(s["hunter_target"], [0, 1, -1])
    np.testing.assert_array_equal(s["hunter_active"], [False, False, True])
    np.testing.assert_array_equal(s["prey_hp"], [0, 0])

  def test_displaced_hunter_takes_precedence_by_index_at_the_next_prey(self):
    # Hunter 0 and 1 next to prey 0; hunter 1 also next to prey 1, hunter 2 next to prey 1 only.
    # Index order: h0 -> p0, h1 -> p1 (p0 used up), h2 finds p1 used up.
    env = HareHunters(num_hunters=3, num_prey=2, grid_size=11, time_limit=10)
    start(env, [(2, 3), (3, 2), (4, 3)], [(2, 2), (4, 2)])
    act(env, STAY, STAY, STAY)
    np.testing.assert_array_equal(state(env)["hunter_target"], [0, 1, -1])

  def test_prey_with_more_hit_points_than_adjacent_hunters(self):
    env = HareHunters(num_hunters=4, num_prey=2, hit_points=2, grid_size=11, time_limit=20)
    start(env, [(5, 4), (0, 0), (9, 9), (2, 9)], [(5, 5), (1, 9)])
    act(env, STAY, STAY, STAY, STAY)
    s = state(env)
    np.testing.assert_array_equal(s["prey_hp"], [1, 1])  # one hunter each: one hit point each left
    np.testing.assert_array_equal(s["hunter_target"], [0, -1, -1, 1])
    assert s["hunter_active"][1] and s["hunter_active"][2]
    # The second hunter arrives at prey 0 later: its last hit point goes.
    act(env, STAY, STAY, STAY, STAY)
    act(env, STAY, STAY, STAY, STAY)
    start_pos = state(env)["hunter_pos"][1].copy()
    assert tuple(start_pos) == (0, 0)
    for a in (RIGHT, RIGHT, RIGHT, RIGHT):  # (0, 0) -> (4, 0)
      act(env, STAY, a, STAY, STAY)
    for a in (DOWN, DOWN, DOWN, DOWN):  # (4, 0) -> (4, 4): adjacent to (5, 5)? no: distance 2
      act(env, STAY, a, STAY, STAY)
    assert state(env)["prey_hp"][0] == 1
    act(env, STAY, DOWN, STAY, STAY)  # (4, 5): distance 1 from (5, 5)
    s = state(env)
    assert s["prey_hp"][0] == 0 and s["hunter_target"][1] == 0

  def test_two_hunters_finish_a_stag_in_one_step(self):
    env = StagHunters(num_hunters=3, num_prey=2, stag_hit_points=2, grid_size=9, time_limit=10)
    start(env, [(3, 4), (5, 4), (4, 3)], [(4, 4), (0, 0)])
    act(env, STAY, STAY, STAY)
    s = state(env)
    np.testing.assert_array_equal(s["hunter_target"], [0, 0, -1])
    np.testing.assert_array_equal(s["prey_hp"], [0, 1])


class TestEpisodeEndAndRewards:

  def test_hare_hunters_win_pays_every_hunter_on_the_last_step_only(self):
    env = HareHunters(num_hunters=3, num_prey=2, grid_size=9, time_limit=10)
    start(env, [(1, 1), (6, 6), (0, 5)], [(1, 3), (6, 7)])
    t1 = act(env, STAY, STAY, STAY)  # hunter 1 hits prey 1; prey 0 is 2 away from hunter 0
    assert t1.step_type[0] == ts.StepType.MID
    np.testing.assert_array_equal(t1.reward, [[0, 0, 0]])
    assert t1.discount[0] == 1.0
    t2 = act(env, DOWN, STAY, STAY)
    assert t2.step_type[0] == ts.StepType.LAST
    np.testing.assert_array_equal(t2.reward, [[1, 1, 1]])  # the never-used hunter 2 too
    assert t2.discount[0] == 0.0
    stats = env.pop_episode_stats()
    assert stats["success"].tolist() == [True]
    assert stats["length"].tolist() == [2]
    assert stats["total_reward"].tolist() == [3.0]
    assert stats["hares_captured"].tolist() == [2] and stats["stags_captured"].tolist() == [0]

  def test_hare_hunters_time_out_pays_nothing(self):
    env = HareHunters(num_hunters=2, num_prey=2, grid_size=9, time_limit=3)
    start(env, [(1, 1), (6, 6)], [(1, 2), (3, 7)])
    steps = [act(env, STAY, STAY) for _ in range(3)]
    assert [s.step_type[0] for s in steps] == [ts.StepType.MID, ts.StepType.MID, ts.StepType.LAST]
    assert all(not s.reward.any() for s in steps)
    assert steps[-1].discount[0] == 0.0
    assert steps[-1].observation["time_left"][0, 0] == 0.0
    stats = env.pop_episode_stats()
    assert stats["success"].tolist() == [False] and stats["length"].tolist() == [3]
    assert stats["hares_captured"].tolist() == [1]

  def test_episode_ends_when_every_hunter_is_frozen(self):
    env = StagHunters(num_hunters=2, num_prey=4, grid_size=9, time_limit=100)
    # Hunter 0 hits stag 0 (2 hit points: not finished), hunter 1 hits hare 2.
    start(env, [(1, 2), (5, 6)], [(1, 1), (8, 8), (5, 5), (3, 8)])
    t = act(env, STAY, STAY)
    assert t.step_type[0] == ts.StepType.LAST
    # Stag not finished -> 0, hare -> 0.1.
    np.testing.assert_allclose(t.reward, [[0.0, 0.1]])
    stats = env.pop_episode_stats()
    np.testing.assert_allclose(stats["total_reward"], [0.1])
    assert stats["stags_captured"].tolist() == [0] and stats["hares_captured"].tolist() == [1]

  def test_stag_hunters_rewards_finished_stag_hare_and_unused_hunter(self):
    env = StagHunters(num_hunters=4, num_prey=4, grid_size=11, time_limit=2)
    # Hunters 0 and 1 finish stag 0; hunter 2 hits hare 3; hunter 3 hits nothing.
    start(env, [(1, 2), (2, 1), (8, 7), (5, 9)], [(1, 1), (5, 5), (0, 8), (8, 8)])
    t = act(env, STAY, STAY, STAY, STAY)
    assert t.step_type[0] == ts.StepType.MID  # hunter 3 still active, prey left, t < T
    np.testing.assert_array_equal(t.reward, [[0, 0, 0, 0]])
    t = act(env, STAY, STAY, STAY, STAY)
    assert t.step_type[0] == ts.StepType.LAST  # time-out
    np.testing.assert_allclose(t.reward, [[1.0, 1.0, 0.1, 0.0]])
    stats = env.pop_episode_stats()
    assert stats["stags_captured"].tolist() == [1] and stats["hares_captured"].tolist() == [1]
    np.testing.assert_allclose(stats["total_reward"], [2.1])

  def test_stag_hit_once_pays_nothing_at_time_out(self):
    env = StagHunters(num_hunters=2, num_prey=2, grid_size=9, time_limit=2)
    start(env, [(1, 2), (6, 6)], [(1, 1), (4, 4)])
    act(env, STAY, STAY)
    t = act(env, STAY, STAY)
    assert t.step_type[0] == ts.StepType.LAST
    np.testing.assert_array_equal(t.reward, [[0, 0]])

  def test_all_prey_captured_ends_the_stag_game_early(self):
    env = StagHunters(num_hunters=3, num_prey=2, grid_size=9, time_limit=50)
    start(env, [(1, 2), (2, 1), (6, 5)], [(1, 1), (6, 6)])
    t = act(env, STAY, STAY, STAY)
    assert t.step_type[0] == ts.StepType.LAST
    np.testing.assert_allclose(t.reward, [[1.0, 1.0, 0.1]])
    assert env.pop_episode_stats()["success"].tolist() == [True]


class TestAutoResetAndBatching:

  def test_finished_game_restarts_while_the_other_goes_on(self):
    env = HareHunters(num_hunters=1, num_prey=1, grid_size=9, time_limit=5, batch_size=2, seed=3)
    env.reset_to(np.array([[(1, 1)], [(6, 6)]]), np.array([[(1, 2)], [(2, 2)]]))
    t = env.step(np.array([[STAY], [STAY]], dtype=np.int32))
    np.testing.assert_array_equal(t.step_type, [ts.StepType.LAST, ts.StepType.MID])
    np.testing.assert_array_equal(t.reward, [[1.0], [0.0]])
    t = env.step(np.array([[RIGHT], [LEFT]], dtype=np.int32))
    np.testing.assert_array_equal(t.step_type, [ts.StepType.FIRST, ts.StepType.MID])
    np.testing.assert_array_equal(t.reward, [[0.0], [0.0]])
    np.testing.assert_array_equal(t.discount, [1.0, 1.0])
    s = env.game_state()
    np.testing.assert_array_equal(s["t"], [0, 2])
    assert s["hunter_active"][0, 0] and s["prey_hp"][0, 0] == 1
    assert tuple(s["hunter_pos"][1, 0]) == (5, 6)
    assert t.observation["time_left"][0, 0] == 1.0
    # The restarted game got distinct random cells.
    assert tuple(s["hunter_pos"][0, 0]) != tuple(s["prey_pos"][0, 0])

  def test_reset_to_returns_first_time_step(self):
    env = StagHunters(num_hunters=2, num_prey=2, grid_size=5, time_limit=4, batch_size=2)
    t = env.reset_to(np.zeros((2, 2, 2), int) + 1, np.zeros((2, 2, 2), int) + 3)
    np.testing.assert_array_equal(t.step_type, [ts.StepType.FIRST] * 2)
    assert t.reward.shape == (2, 2) and not t.reward.any()
    assert env.current_time_step() is t
    s = env.game_state()
    np.testing.assert_array_equal(s["prey_hp"], [[2, 1], [2, 1]])
    np.testing.assert_array_equal(s["prey_is_stag"], [[True, False], [True, False]])
    np.testing.assert_array_equal(s["hunter_target"], -np.ones((2, 2)))
    np.testing.assert_array_equal(s["t"], [0, 0])


class TestMovingPrey:

  def test_live_prey_move_one_step_and_captured_prey_stay(self):
    env = HareHunters(num_hunters=2, num_prey=2, grid_size=41, time_limit=500, moving_prey=True,
                      seed=0)
    # Prey 0 is captured at once (captures come before the prey move); prey 1 is far from hunter 1.
    start(env, [(1, 1), (0, 30)], [(1, 2), (20, 20)])
    act(env, STAY, STAY)
    s = state(env)
    assert s["prey_hp"][0] == 0 and tuple(s["prey_pos"][0]) == (1, 2)
    moves = set()
    pos = s["prey_pos"][1].copy()
    for _ in range(60):
      act(env, STAY, STAY)
      s = state(env)
      moves.add((int(s["prey_pos"][1][0] - pos[0]), int(s["prey_pos"][1][1] - pos[1])))
      pos = s["prey_pos"][1].copy()
      assert tuple(s["prey_pos"][0]) == (1, 2)
    assert s["prey_hp"][1] == 1
    assert moves == {(0, 0), (0, -1), (0, 1), (-1, 0), (1, 0)}

  def test_fixed_prey_never_move(self):
    env = StagHunters(num_hunters=4, num_prey=4, grid_size=15, time_limit=30, batch_size=4, seed=1)
    env.reset()
    start_pos = env.game_state()["prey_pos"]
    rng = np.random.default_rng(0)
    for _ in range(29):
      env.step(rng.integers(0, 5, (4, 4)).astype(np.int32))
    np.testing.assert_array_equal(env.game_state()["prey_pos"], start_pos)


class TestSeeding:

  @staticmethod
  def _play(seed, steps=300):
    env = StagHunters(num_hunters=4, num_prey=4, grid_size=8, time_limit=40, moving_prey=True,
                      batch_size=3, seed=seed)
    rng = np.random.default_rng(99)
    out = [env.reset()]
    for _ in range(steps):
      out.append(env.step(rng.integers(0, 5, (3, 4)).astype(np.int32)))
    return out, env.pop_episode_stats()

  def test_same_seed_same_episodes(self):
    a, sa = self._play(7)
    b, sb = self._play(7)
    for x, y in zip(a, b):
      np.testing.assert_array_equal(x.observation["grid"], y.observation["grid"])
      np.testing.assert_array_equal(x.reward, y.reward)
      np.testing.assert_array_equal(x.step_type, y.step_type)
    for k in sa:
      np.testing.assert_array_equal(sa[k], sb[k])
    assert sa["length"].size > 10

  def test_other_seed_other_episodes(self):
    a, _ = self._play(7, steps=5)
    b, _ = self._play(8, steps=5)
    assert not np.array_equal(a[0].observation["grid"], b[0].observation["grid"])

  def test_games_of_a_batch_start_differently(self):
    env = HareHunters(num_hunters=5, num_prey=5, grid_size=20, batch_size=8, seed=0)
    env.reset()
    pos = env.game_state()["hunter_pos"]
    assert len({pos[b].tobytes() for b in range(8)}) == 8

  def test_get_and_set_state_continue_exactly(self):
    env = StagHunters(num_hunters=3, num_prey=2, grid_size=6, time_limit=20, moving_prey=True,
                      batch_size=2, seed=5)
    env.reset()
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 5, (60, 2, 3)).astype(np.int32)
    for a in actions[:20]:
      env.step(a)
    saved = env.get_state()
    first = [env.step(a).observation["grid"] for a in actions[20:]]
    env.set_state(saved)
    second = [env.step(a).observation["grid"] for a in actions[20:]]
    for x, y in zip(first, second):
      np.testing.assert_array_equal(x, y)


class TestStagsHeal:
  """The coordination-hard variant: a wounded stag that takes no hit in a step heals."""

  def make(self):
    # One stag (prey 0, 2 hit points) and one hare (prey 1, far away); three hunters.
    return StagHunters(num_hunters=3, num_prey=2, grid_size=12, time_limit=20, stags_heal=True)

  def test_a_lone_hit_heals_after_a_step_without_a_hit_and_frees_the_hunter(self):
    env = self.make()
    start(env, [(5, 4), (9, 9), (0, 9)], [(5, 5), (1, 1)])
    act(env, STAY, STAY, STAY)  # hunter 0 hits: the stag is wounded, hunter 0 frozen on it
    s = state(env)
    assert s["prey_hp"][0] == 1 and not s["hunter_active"][0] and s["hunter_target"][0] == 0
    act(env, STAY, STAY, STAY)  # no hit this step: it heals, hunter 0 is active again
    s = state(env)
    assert s["prey_hp"][0] == 2 and s["hunter_active"][0] and s["hunter_target"][0] == -1
    step = act(env, UP, STAY, STAY)  # hunter 0 moves away; nothing else happens
    assert state(env)["prey_hp"][0] == 2 and step.step_type[0] != ts.StepType.LAST

  def test_hits_in_consecutive_steps_finish_the_stag_and_pay(self):
    env = self.make()
    start(env, [(5, 4), (5, 7), (0, 9)], [(5, 5), (1, 1)])
    act(env, STAY, STAY, STAY)  # hunter 0 hits at step 1
    act(env, STAY, UP, STAY)  # hunter 1 arrives next to it at step 2 and finishes it
    s = state(env)
    assert s["prey_hp"][0] == 0 and list(s["hunter_target"][:2]) == [0, 0]
    # The stag stays finished; the episode ends once hunter 2 takes the hare (all prey at 0).
    act(env, STAY, STAY, STAY)
    assert state(env)["prey_hp"][0] == 0

  def test_a_hit_two_steps_late_is_too_late(self):
    env = self.make()
    start(env, [(5, 4), (5, 8), (0, 9)], [(5, 5), (1, 1)])
    act(env, STAY, UP, STAY)  # step 1: hunter 0 hits; hunter 1 at distance 2
    act(env, STAY, STAY, STAY)  # step 2: no hit: the stag heals, hunter 0 freed
    act(env, STAY, UP, STAY)  # step 3: hunters 0 and 1 both next to it: both hit, it dies
    s = state(env)
    assert s["prey_hp"][0] == 0 and list(s["hunter_target"][:2]) == [0, 0]

  def test_the_paper_rules_never_heal_and_hares_reject_the_variant(self):
    env = StagHunters(num_hunters=3, num_prey=2, grid_size=12, time_limit=20)
    start(env, [(5, 4), (9, 9), (0, 9)], [(5, 5), (1, 1)])
    for _ in range(3):
      act(env, STAY, STAY, STAY)
    assert state(env)["prey_hp"][0] == 1 and not state(env)["hunter_active"][0]
    with pytest.raises(ValueError, match="stags_heal is a Stag-Hunters variant"):
      rules.GameConfig(kind=rules.HARE, stags_heal=True)
