"""A deliberately naive, loop-by-loop reading of the rules, used only as a test oracle.

It is written straight from the rule text in `mace_tf/envs/rules.py` (one game at a time, hunters in
index order, prey in index order) so that the vectorized implementation can be checked against it.
It is not used by the package.
"""

import numpy as np

DELTAS = {0: (0, 0), 1: (0, -1), 2: (0, 1), 3: (-1, 0), 4: (1, 0)}


def torus_manhattan(a, b, g):
  dx = abs(int(a[0]) - int(b[0])) % g
  dy = abs(int(a[1]) - int(b[1])) % g
  return min(dx, g - dx) + min(dy, g - dy)


def step_one_game(config, game, actions, prey_actions):
  """Steps one game, a dict of numpy arrays without batch axis, in place; returns (done, rewards)."""
  g = config.grid_size
  n, m = config.num_hunters, config.num_prey
  for i in range(n):
    if game["hunter_active"][i]:
      dx, dy = DELTAS[int(actions[i])]
      game["hunter_pos"][i] = [(game["hunter_pos"][i][0] + dx) % g,
                               (game["hunter_pos"][i][1] + dy) % g]
  hp_before = list(game["prey_hp"])
  for i in range(n):
    if not game["hunter_active"][i]:
      continue
    for j in range(m):
      if game["prey_hp"][j] > 0 and torus_manhattan(game["hunter_pos"][i], game["prey_pos"][j],
                                                     g) <= 1:
        game["prey_hp"][j] -= 1
        game["hunter_active"][i] = False
        game["hunter_target"][i] = j
        break
  if config.stags_heal:  # a wounded stag not hit in this step heals
    for j in range(m // 2):
      full = config.hit_points
      if 0 < game["prey_hp"][j] < full and game["prey_hp"][j] == hp_before[j]:
        game["prey_hp"][j] = full
        for i in range(n):
          if game["hunter_target"][i] == j:
            game["hunter_active"][i] = True
            game["hunter_target"][i] = -1
  if config.moving_prey:
    for j in range(m):
      if game["prey_hp"][j] > 0:
        dx, dy = DELTAS[int(prey_actions[j])]
        game["prey_pos"][j] = [(game["prey_pos"][j][0] + dx) % g,
                               (game["prey_pos"][j][1] + dy) % g]
  game["t"] += 1
  all_captured = all(hp == 0 for hp in game["prey_hp"])
  done = all_captured or not any(game["hunter_active"]) or game["t"] == config.time_limit
  rewards = np.zeros(n, dtype=np.float32)
  if done:
    for i in range(n):
      if config.kind == "hare":
        rewards[i] = 1.0 if all_captured else 0.0
      else:
        j = game["hunter_target"][i]
        if j < 0:
          continue
        is_stag = j < m // 2
        if is_stag and game["prey_hp"][j] == 0:
          rewards[i] = 1.0
        elif not is_stag:
          rewards[i] = 0.1
  return done, rewards


def dens_step_one_game(config, game, actions):
  """The dens game (rules.py's docstring), one game in place: move, tick, and at t == T pay 1 to
  every hunter if all stand on the stag's den and push the den they met at (or -1) onto the
  adversary's memory. Returns (done, rewards)."""
  g, n = config.grid_size, config.num_hunters
  for i in range(n):
    dx, dy = DELTAS[int(actions[i])]
    game["hunter_pos"][i] = [(game["hunter_pos"][i][0] + dx) % g, (game["hunter_pos"][i][1] + dy) % g]
  game["t"] += 1
  done = game["t"] >= config.time_limit
  rewards = np.zeros(n, dtype=np.float32)
  met = -1
  for k in range(config.num_prey):
    if all(list(game["hunter_pos"][i]) == list(game["prey_pos"][k]) for i in range(n)):
      met = k
  if done and met == game["stag_den"]:
    rewards[:] = 1.0
  if game["t"] == config.time_limit:
    game["den_history"] = [met] + list(game["den_history"][:-1])
  return done, rewards


def dens_adversary(config, den_history, keys):
  """The den reached together least often in one game's memory; among ties the largest key."""
  counts = [sum(1 for d in den_history if d == k) for k in range(config.num_prey)]
  tied = [k for k in range(config.num_prey) if counts[k] == min(counts)]
  return max(tied, key=lambda k: keys[k])
