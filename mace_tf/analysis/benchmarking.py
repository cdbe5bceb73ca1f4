"""Throughput measurements behind `launch.benchmark` (no flags here): the game alone, and training
through the same builder as `train_lib.train`, each model in fresh worker processes."""

import dataclasses
import json
import os
import platform
import resource
import subprocess
import sys
import time
from typing import Callable, Dict, Sequence, Tuple

import numpy as np

from mace_tf.envs import hunters, rules


def benchmark_env(config: rules.GameConfig, *, batch_size: int, steps: int, repeats: int,
                  seed: int) -> dict:
  """Game steps/s (one game step = one step of one of the B games) with random actions."""
  env = hunters.make_game(config, batch_size=batch_size, seed=seed)
  rng = np.random.default_rng(seed + 1)
  shape = (batch_size, config.num_hunters)
  env.reset()

  def run(n):
    start = time.perf_counter()
    for _ in range(n):
      env.step(rng.integers(0, rules.NUM_ACTIONS, size=shape, dtype=np.int32))
    return time.perf_counter() - start

  run(min(steps, 100))  # warm-up
  rates = [steps * batch_size / run(steps) for _ in range(repeats)]
  episodes = env.pop_episode_stats()
  median = float(np.median(rates))
  return {
      "what": "env",
      "config": {"game": config.kind, "num_hunters": config.num_hunters,
                 "num_prey": config.num_prey, "hit_points": config.hit_points,
                 "time_limit": config.time_limit, "grid_size": config.grid_size,
                 "moving_prey": config.moving_prey, "batch_size": batch_size},
      "steps_per_run": steps, "repeats": repeats, "seed": seed,
      "game_steps_per_s_runs": [round(r) for r in rates],
      "game_steps_per_s": round(median),
      "hunter_steps_per_s": round(median * config.num_hunters),
      "episodes_finished": int(episodes["length"].size),
      "machine": machine(),
  }


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> dict:
  """The CPU's model name and the vector extensions that change TF's kernels (what `lscpu` shows):
  machines of one name have measured the same code at 1.4x and 2.4x the stock pipeline."""
  try:
    with open(cpuinfo) as f:
      text = f.read()
  except OSError:
    return {"model": platform.processor() or "unknown", "extensions": []}
  fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
  fields = {k.strip(): v.strip() for k, v in fields.items()}
  flags = set(fields.get("flags", "").split())
  wanted = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")
  return {"model": fields.get("model name", "unknown"),
          "extensions": [f for f in wanted if f in flags]}


def machine() -> dict:
  return {"platform": platform.platform(), "processor": platform.processor(),
          "cpu": cpu_model(), "cpus": os.cpu_count(), "python": platform.python_version(),
          "numpy": np.__version__}


def agent_config(model: str, *, ego_bin: int, learning_fixes: bool):
  """The learner `--what=train` measures: `model`'s config with the egocentric view's bin `ego_bin`
  and, with `learning_fixes`, the Stag-Hunters presets' learner (the benchmark's game is stag20's):
  the frozen clock, normalized advantages, continuing returns, the wall clock for the next episode
  and the clip of 2 (mace_tf's loss; the stock pipeline takes only the shared fields), the shared
  head base and value_norm; without, the paper's."""
  from mace_tf.agents.mace.config import MaceConfig, NetworkConfig  # pylint: disable=g-import-not-at-top
  from mace_tf.agents.tfa_ppo_config import for_model  # pylint: disable=g-import-not-at-top
  network = NetworkConfig(ego_bin=ego_bin, shared_head_base=learning_fixes,
                          value_norm=learning_fixes)
  fixes = dict.fromkeys(("frozen_clock", "normalize_advantages", "continuing_returns",
                         "wall_clock_continuation"), learning_fixes)
  if learning_fixes:
    fixes["max_grad_norm"] = 2.0
  return for_model(MaceConfig(network=network, **fixes), model)


def train_rate(learner, *, warmup: int, repeats: int) -> dict:
  """Training samples/s of a `builder.make_learner` learner in this process: the median over
  `repeats` timed iterations after `warmup` untimed ones (tracing, allocation)."""
  for _ in range(warmup):
    learner.run_iteration()
  rates = []
  for _ in range(repeats):
    start = time.perf_counter()
    _, _, samples = learner.run_iteration()
    rates.append(samples / (time.perf_counter() - start))
  return {"samples_per_s": float(np.median(rates)), "samples_per_s_runs": [round(r) for r in rates],
          "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_worker(args: Sequence[str]) -> dict:
  """Runs `python <args>` (a worker that prints one JSON line last) in a fresh process."""
  p = subprocess.run([sys.executable, *args], capture_output=True, text=True)
  if p.returncode != 0:
    raise RuntimeError(f"worker {' '.join(args)} failed:\n{p.stderr[-3000:]}")
  return json.loads(p.stdout.strip().splitlines()[-1])


def measure_all(settings: Dict[str, Tuple], worker: Callable[..., dict], *, processes: int,
                log_fn: Callable[[str], None] = print) -> dict:
  """Each of `settings` (name -> arguments of `worker`) in `processes` fresh worker processes,
  interleaved by round (so that a slow spell of the machine is shared); per name the first round's
  result, with `samples_per_s` the median of the processes' medians."""
  per_name = {name: [] for name in settings}
  for round_ in range(processes):
    for name, args in settings.items():
      r = worker(*args)
      per_name[name].append(r)
      log_fn(f"  round {round_ + 1}/{processes}: {name} {r['samples_per_s']:,.0f} samples/s")
  out = {}
  for name, results in per_name.items():
    medians = [r["samples_per_s"] for r in results]
    out[name] = dict(results[0], samples_per_s=float(np.median(medians)),
                     process_medians=[round(m) for m in medians],
                     samples_per_s_runs=[x for r in results for x in r["samples_per_s_runs"]],
                     peak_rss_mib=max(r["peak_rss_mib"] for r in results))
  return out


def add_ratios(runs: dict, references: Sequence[str] = ("tfa_ppo", "tfa_ppo_tf_default_threads")):
  """Adds `ratio_to_tfa_ppo` to every run, against the fastest of `references` (the stock pipeline
  under its better thread setting); returns that reference's name, or None if none was run."""
  present = [r for r in references if r in runs]
  if not present:
    return None
  best = max(present, key=lambda k: runs[k]["samples_per_s"])
  for r in runs.values():
    r["ratio_to_tfa_ppo"] = r["samples_per_s"] / runs[best]["samples_per_s"]
  return best


def write_json(result: dict, path: str, command: str) -> None:
  """Writes `result` (with the command that made it) to `path`."""
  result["command"] = command
  if os.path.dirname(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")


def scaling_settings(game: rules.GameConfig, *, hunters: Sequence[int],
                     grids: Sequence[int]) -> Dict[str, rules.GameConfig]:
  """The games of a scaling run: `game` with each N of `hunters` (M = N, even for Stag-Hunters)
  and with each G of `grids`, named "N = n" and "G = g"."""
  out = {}
  for n in hunters:
    prey = max(2, n - n % 2) if game.kind == rules.STAG else n
    out[f"N = {n}"] = dataclasses.replace(game, num_hunters=n, num_prey=prey)
  for size in grids:
    out[f"G = {size}"] = dataclasses.replace(game, grid_size=size)
  return out


def scaling_rows(settings: Dict[str, rules.GameConfig], runs: dict,
                 log_fn: Callable[[str], None] = print) -> dict:
  """Per axis (num_hunters, grid_size) the rows of samples/s, and the fall from the first N to
  the last."""
  rows = {"num_hunters": [], "grid_size": []}
  for name, r in runs.items():
    g = settings[name]
    axis, value = ("num_hunters", g.num_hunters) if name.startswith("N") else ("grid_size",
                                                                               g.grid_size)
    rows[axis].append({axis: value, "num_prey": g.num_prey, "samples_per_s": r["samples_per_s"],
                       "process_medians": r["process_medians"]})
    log_fn(f"N = {g.num_hunters}, M = {g.num_prey}, G = {g.grid_size}: "
           f"{r['samples_per_s']:,.0f} samples/s (process medians {r['process_medians']})")
  first, last = rows["num_hunters"][0], rows["num_hunters"][-1]
  drop = first["samples_per_s"] / last["samples_per_s"]
  log_fn(f"samples/s falls {drop:.2f}x from N = {first['num_hunters']} to N = "
         f"{last['num_hunters']}")
  return {"what": "scaling", "rows": rows, "fall_from_first_to_last_n": drop}


def report_ratios(runs: dict, log_fn: Callable[[str], None] = print) -> None:
  """Prints each run's samples/s and, with `add_ratios`, its ratio to the stock pipeline."""
  for name, r in runs.items():
    log_fn(f"{name} (threads {r['threads']}): {r['samples_per_s']:,.0f} samples/s (process "
           f"medians {r['process_medians']}), peak RSS {r['peak_rss_mib']:,.0f} MiB")
  reference = add_ratios(runs)
  if reference:
    log_fn(f"reference: {reference}")
    for name, r in runs.items():
      log_fn(f"{name} / tfa_ppo = {r['ratio_to_tfa_ppo']:.2f}x")
