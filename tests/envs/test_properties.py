"""Property tests over random play: the vectorized rules against the naive oracle, and invariants."""

import copy

from hypothesis import given, settings, strategies as st
import numpy as np
from tf_agents.specs import array_spec
from tf_agents.trajectories import time_step as ts

from mace_tf.envs import hunters, observation, rules
from tests.envs import reference


@st.composite
def game_configs(draw):
  kind = draw(st.sampled_from((rules.HARE, rules.STAG)))  # the dens game: tests/envs/test_dens.py
  grid = draw(st.integers(2, 7))
  hp = draw(st.integers(1, 3))
  if kind == rules.STAG:
    m = 2 * draw(st.integers(1, 3))
    n = draw(st.integers(1, 6))
  else:
    m = draw(st.integers(1, 3))
    n = draw(st.integers(hp * m, hp * m + 3))
  if n + m > grid * grid:
    grid = int(np.ceil(np.sqrt(n + m)))
  return rules.GameConfig(kind=kind, num_hunters=n, num_prey=m, hit_points=hp,
                          time_limit=draw(st.integers(1, 25)), grid_size=grid,
                          moving_prey=draw(st.booleans()),
                          stags_heal=kind == rules.STAG and draw(st.booleans()))


@settings(max_examples=150, deadline=None)
@given(config=game_configs(), batch=st.integers(1, 4), seed=st.integers(0, 2**31 - 1),
       shared_cells=st.booleans())
def test_vectorized_step_matches_the_naive_oracle(config, batch, seed, shared_cells):
  rng = np.random.default_rng(seed)
  if shared_cells:  # hand-built-like starts where entities pile up on few cells
    hunter_pos = rng.integers(0, min(2, config.grid_size), (batch, config.num_hunters, 2))
    prey_pos = rng.integers(0, min(3, config.grid_size), (batch, config.num_prey, 2))
    state = rules.initial_state(config, hunter_pos, prey_pos)
  else:
    state = rules.random_state(config, rng, batch)
  games = [{k: copy.deepcopy(getattr(state, k)[b]) for k in
            ("hunter_pos", "hunter_active", "hunter_target", "prey_pos", "prey_hp", "t")}
           for b in range(batch)]
  alive = np.ones(batch, dtype=bool)
  for _ in range(config.time_limit):
    actions = rng.integers(0, rules.NUM_ACTIONS, (batch, config.num_hunters))
    prey_rng_state = rng.bit_generator.state
    done, rewards = rules.step(config, state, actions, rng)
    oracle_rng = np.random.default_rng()
    oracle_rng.bit_generator.state = prey_rng_state
    prey_actions = (oracle_rng.integers(0, rules.NUM_ACTIONS, (batch, config.num_prey))
                    if config.moving_prey else None)
    for b in range(batch):
      if not alive[b]:
        continue
      ref_done, ref_rewards = reference.step_one_game(
          config, games[b], actions[b], None if prey_actions is None else prey_actions[b])
      for k, v in games[b].items():
        np.testing.assert_array_equal(getattr(state, k)[b], v, err_msg=k)
      assert done[b] == ref_done
      np.testing.assert_allclose(rewards[b], ref_rewards)
      alive[b] = not ref_done
    if not alive.any():
      break


@settings(max_examples=60, deadline=None)
@given(config=game_configs(), batch=st.integers(1, 3), seed=st.integers(0, 2**31 - 1))
def test_invariants_over_random_play(config, batch, seed):
  env = hunters.make_game(config, batch_size=batch, seed=seed)
  spec = array_spec.add_outer_dims_nest(env.time_step_spec(), (batch,))
  rng = np.random.default_rng(seed)
  env.reset()
  prev = env.game_state()
  start_hp = prev["prey_hp"].copy()
  for _ in range(3 * config.time_limit + 3):
    step = env.step(rng.integers(0, rules.NUM_ACTIONS, (batch, config.num_hunters)).astype(np.int32))
    assert array_spec.check_arrays_nest(step, spec)
    cur = env.game_state()
    for b in range(batch):
      if step.step_type[b] == ts.StepType.FIRST:
        # A fresh game: distinct cells, full hit points, everyone active.
        cells = np.concatenate([cur["hunter_pos"][b], cur["prey_pos"][b]])
        assert len({tuple(c) for c in cells}) == len(cells)
        np.testing.assert_array_equal(cur["prey_hp"][b], config.initial_prey_hp)
        assert cur["hunter_active"][b].all() and cur["t"][b] == 0
        assert not step.reward[b].any()
        continue
      # Hit points only go down, never below 0 (with stags_heal a wounded stag may return to
      # full); each lost hit point froze exactly one hunter.
      healed = cur["prey_hp"][b] > prev["prey_hp"][b]
      assert config.stags_heal or not healed.any()
      np.testing.assert_array_equal(cur["prey_hp"][b][healed], config.initial_prey_hp[healed])
      assert (config.prey_is_stag[healed]).all() and (cur["prey_hp"][b] >= 0).all()
      lost = (start_hp[b] - cur["prey_hp"][b]).sum()
      assert lost == (~cur["hunter_active"][b]).sum()
      # Frozen hunters stay frozen (unless their stag healed), in place, with a target; active
      # ones have none.
      released = (prev["hunter_target"][b] >= 0) & healed[np.maximum(prev["hunter_target"][b], 0)]
      was_frozen = ~prev["hunter_active"][b] & ~released
      assert not cur["hunter_active"][b][was_frozen].any()
      np.testing.assert_array_equal(cur["hunter_pos"][b][was_frozen],
                                    prev["hunter_pos"][b][was_frozen])
      assert ((cur["hunter_target"][b] >= 0) == ~cur["hunter_active"][b]).all()
      hits = np.bincount(cur["hunter_target"][b][cur["hunter_target"][b] >= 0],
                         minlength=config.num_prey)
      np.testing.assert_array_equal(hits, start_hp[b] - cur["prey_hp"][b])
      assert cur["t"][b] == prev["t"][b] + 1 and cur["t"][b] <= config.time_limit
      terminal = ((cur["prey_hp"][b] == 0).all() or not cur["hunter_active"][b].any()
                  or cur["t"][b] == config.time_limit)
      assert (step.step_type[b] == ts.StepType.LAST) == terminal
      assert step.discount[b] == (0.0 if terminal else 1.0)
      if not terminal:
        assert not step.reward[b].any()
      assert set(np.round(step.reward[b].astype(np.float64), 6).tolist()) <= {0.0, 0.1, 1.0}
      if config.kind == rules.HARE:
        assert len(set(step.reward[b].tolist())) == 1
    # The observation tells exactly the state.
    obs = step.observation
    grid = obs["grid"].astype(int)
    np.testing.assert_array_equal(grid[..., 0].sum(axis=(1, 2)), cur["hunter_active"].sum(1))
    np.testing.assert_array_equal(grid[..., 1].sum(axis=(1, 2)), (~cur["hunter_active"]).sum(1))
    np.testing.assert_array_equal(grid[..., 2].sum(axis=(1, 2)),
                                  (cur["prey_hp"] * cur["prey_is_stag"]).sum(1))
    np.testing.assert_array_equal(grid[..., 3].sum(axis=(1, 2)),
                                  (cur["prey_hp"] * ~cur["prey_is_stag"]).sum(1))
    np.testing.assert_array_equal(obs["hunters"][..., :2], cur["hunter_pos"])
    np.testing.assert_array_equal(obs["hunters"][..., 2], cur["hunter_active"])
    np.testing.assert_allclose(obs["time_left"][:, 0], 1 - cur["t"] / config.time_limit)
    for b in range(batch):
      if step.step_type[b] == ts.StepType.FIRST:
        start_hp[b] = cur["prey_hp"][b]
    prev = cur


def test_random_starts_are_uniform_over_cells():
  config = rules.GameConfig(kind=rules.HARE, num_hunters=2, num_prey=2, grid_size=4)
  hunter_pos, prey_pos = rules.random_positions(config, np.random.default_rng(0), 20000)
  for pos in (hunter_pos[:, 0], hunter_pos[:, 1], prey_pos[:, 0], prey_pos[:, 1]):
    counts = np.bincount(pos[:, 1] * 4 + pos[:, 0], minlength=16)
    # 20000 draws over 16 cells: 1250 expected each, sd ~34.
    assert counts.min() > 1100 and counts.max() < 1400
  cells = np.concatenate([hunter_pos, prey_pos], axis=1)
  flat = cells[..., 1] * 4 + cells[..., 0]
  assert all(len(set(row)) == 4 for row in flat)


def test_full_grid_start_uses_every_cell():
  config = rules.GameConfig(kind=rules.STAG, num_hunters=2, num_prey=2, grid_size=2)
  hunter_pos, prey_pos = rules.random_positions(config, np.random.default_rng(1), 50)
  flat = np.concatenate([hunter_pos, prey_pos], 1)
  flat = flat[..., 1] * 2 + flat[..., 0]
  assert all(sorted(row) == [0, 1, 2, 3] for row in flat)
  assert len({row.tobytes() for row in flat}) > 10  # the assignment itself is random


def test_observation_channels_by_hand():
  config = rules.GameConfig(kind=rules.STAG, num_hunters=3, num_prey=4, hit_points=2,
                            time_limit=10, grid_size=5)
  state = rules.initial_state(config, np.array([[(0, 0), (0, 0), (4, 1)]]),
                              np.array([[(2, 3), (2, 3), (1, 1), (4, 4)]]))
  state.hunter_active[0, 1] = False
  state.prey_hp[0, 3] = 0
  state.t[0] = 4
  obs = observation.encode(config, state)
  grid = obs["grid"][0]
  assert grid.shape == (5, 5, 4) and grid.dtype == np.uint8
  expected = np.zeros((5, 5, 4), np.uint8)
  expected[0, 0, 0] = 1  # hunter 0 active at (x=0, y=0)
  expected[0, 0, 1] = 1  # hunter 1 frozen there too
  expected[1, 4, 0] = 1  # hunter 2 at (x=4, y=1): row 1, column 4
  expected[3, 2, 2] = 4  # two stags of 2 hit points at (2, 3)
  expected[1, 1, 3] = 1  # hare 2 at (1, 1); hare 3 is captured and not shown
  np.testing.assert_array_equal(grid, expected)
  np.testing.assert_array_equal(obs["hunters"][0], [[0, 0, 1], [0, 0, 0], [4, 1, 1]])
  np.testing.assert_allclose(obs["time_left"], [[0.6]])
