"""The diagnostics of issue 12: pursuit moves, the capacity probe and the credit gaps."""

import numpy as np
import pytest

from mace_tf.analysis import diagnostics
from mace_tf.agents import reference
from mace_tf.agents.mace.config import MaceConfig
from mace_tf.networks.config import NetworkConfig
from mace_tf.envs import observation, rules


def test_pursuit_moves_are_the_steps_that_close_in_on_the_nearest_live_prey():
  game = rules.GameConfig(kind="hare", num_hunters=2, num_prey=2, grid_size=20, time_limit=9)
  state = rules.initial_state(game, np.array([[[0, 0], [10, 10]]]), np.array([[[3, 2], [10, 10]]]))
  state.prey_hp[0, 1] = 0  # the prey under hunter 1 is dead: its nearest live prey is (3, 2)
  moves = diagnostics.pursuit_moves(observation.encode(game, state), game.grid_size)
  # Hunter 0 at (0, 0) -> (3, 2): right and down close in. Hunter 1 at (10, 10) -> (3, 2): left, up.
  assert moves[0, 0].tolist() == [False, False, True, False, True]
  assert moves[0, 1].tolist() == [False, True, False, True, False]


def test_credit_gap_is_zero_when_the_capture_ends_the_episode():
  # 1 hunter, 1 prey on a 3 x 3 torus: the nearest policy captures on the first step, which ends
  # the episode (every prey captured): the reward comes at the capture, gamma^0 = 1.
  game = rules.GameConfig(kind="hare", num_hunters=1, num_prey=1, grid_size=3, time_limit=5)
  policy = reference.make_reference_policy("nearest", game)
  out = diagnostics.credit_gaps(policy, game, episodes=20, seed=0)
  assert out["captures"] == 20 and out["rewarded_share"] == 1.0
  assert out["gap_mean"] == 0.0 and out["discount_left_gamma_0.99"] == 1.0


def test_credit_gaps_of_random_play_lie_within_the_time_limit():
  game = rules.GameConfig(kind="stag", num_hunters=4, num_prey=4, hit_points=2, grid_size=8,
                          time_limit=30)
  policy = reference.make_reference_policy("random", game, seed=1)
  out = diagnostics.credit_gaps(policy, game, episodes=40, seed=0)
  assert out["captures"] > 20
  assert 0 <= out["gap_p10"] <= out["gap_median"] <= out["gap_p90"] <= 30
  # gamma^gap over rewarded captures, each gap in [0, 30]: between 0.9^30 and 1.
  assert 0.9 ** 30 <= out["discount_left_gamma_0.9"] <= out["discount_left_gamma_0.99"] <= 1.0


def test_capacity_probe_fits_pursuit_on_a_small_game_and_beats_chance():
  game = rules.GameConfig(kind="hare", num_hunters=2, num_prey=2, grid_size=10, time_limit=40)
  out = diagnostics.capacity_probe(game, MaceConfig(model="shared", network=NetworkConfig(ego_bin=2, local_units=16)),
                                   train_games=8, test_games=4, steps_per_game=40, fit_steps=300,
                                   batch_states=64, learning_rate=3e-3, seed=0)
  assert out["train_states"] == 8 * 40 and out["test_states"] == 4 * 40
  assert out["reference_pursuit"] == 1.0  # the reference always closes in while prey are left
  assert out["train_agreement"] > 0.5 and out["test_pursuit"] > 0.4  # chance: 0.2 and ~0.4


def test_greedy_stall_sees_a_lone_hunter_stepping_back_and_forth():
  # 1 hunter, 1 hare on a 10 x 10 torus; the hunter steps up, down, up, ... so it only ever stands
  # on two cells. Prey are frozen: a game not won by step 10 never is, and times out at 20.
  game = rules.GameConfig(kind="hare", num_hunters=1, num_prey=1, grid_size=10, time_limit=20)
  steps = iter(range(10 ** 6))
  policy = lambda time_step: np.full((40, 1), 1 + next(steps) % 2)
  out = diagnostics.greedy_stall(policy, game, episodes=40, seed=3, after=10)
  running = out["running_at_after"]
  assert 0 < running < 40 and out["timeouts"] == running
  assert out["active_hunters"] == [0, running] and out["live_hares"] == [0, running]
  assert out["live_stags"] == [running]  # no stags in Hare-Hunters: every episode has 0 left
  assert out["distinct_positions_median"] == 2.0
  assert out["action_share"] == [0.0, 0.5, 0.5, 0.0, 0.0]  # 10 late steps each, 5 up and 5 down
  assert out["reward_timed_out"] == 0.0 and out["reward_finished"] == 1.0  # the win pays 1 each
  # Not captured by step 10: the hare is at distance >= 2, and at most 5 + 5 on a 10 x 10 torus.
  distance = out["nearest_prey_distance"]
  assert 2 <= distance["min"] <= distance["median"] <= distance["max"] <= 10


def test_greedy_stall_rejects_a_step_outside_the_episode():
  game = rules.GameConfig(kind="hare", num_hunters=1, num_prey=1, grid_size=5, time_limit=20)
  with pytest.raises(ValueError, match="after must be in"):
    diagnostics.greedy_stall(lambda ts: np.zeros((2, 1)), game, episodes=2, seed=0, after=20)


def test_capture_steps_by_hand_and_in_order():
  # 1 hunter, 1 prey on a 3 x 3 torus: every cell is within 1 move of distance <= 1 of the prey, so
  # nearest captures on its first move, which ends the episode.
  game = rules.GameConfig(kind="hare", num_hunters=1, num_prey=1, grid_size=3, time_limit=5)
  out = diagnostics.capture_steps(reference.make_reference_policy("nearest", game), game,
                                  episodes=10, seed=0)
  assert out["kth_capture_median"] == [1.0] and out["length_mean"] == 1.0
  assert out["episodes_with_k"] == [10]
  # Random play: the k-th capture comes no earlier than the (k-1)-th, and none after the episode.
  game = rules.GameConfig(kind="hare", num_hunters=3, num_prey=3, grid_size=6, time_limit=40)
  out = diagnostics.capture_steps(reference.make_reference_policy("random", game, seed=1), game,
                                  episodes=60, seed=0)
  steps = [s for s in out["kth_capture_median"] if s is not None]
  assert len(steps) >= 2 and steps == sorted(steps) and steps[-1] <= 40
  assert out["episodes_with_k"][0] >= out["episodes_with_k"][1] >= out["episodes_with_k"][2]
  # A game won ends at its third capture: a won episode's length is its last capture's step.
  assert out["length_median"] >= steps[0]


def test_critic_values_file_each_hunter_by_its_status():
  # Stag-Hunters, 2 stags of 2 hit points and 2 hares. A critic that says 1 for an active hunter and
  # 0 for a frozen one: "active" averages exactly 1, the frozen statuses exactly 0; the counts are
  # every hunter at every counted step.
  game = rules.GameConfig(kind="stag", num_hunters=4, num_prey=4, hit_points=2, grid_size=6,
                          time_limit=30)
  policy = reference.make_reference_policy("nearest", game)
  steps = []

  def values_fn(obs):
    steps.append(len(obs["hunters"]))
    return obs["hunters"][..., observation.ACTIVE_COLUMN].astype(float)

  out = diagnostics.critic_values(policy, values_fn, game, episodes=16, seed=0, first=1, last=8)
  assert out["active"]["mean"] == 1.0
  assert out["frozen_hare"]["mean"] == 0.0 and out["frozen_stag"]["mean"] == 0.0
  assert out["frozen_hare"]["count"] > 0 and out["frozen_stag"]["count"] > 0
  assert sum(o["count"] for o in out.values()) == 4 * sum(steps)
  with pytest.raises(ValueError, match="need 0 <= first <= last"):
    diagnostics.critic_values(policy, values_fn, game, episodes=2, seed=0, first=5, last=4)
