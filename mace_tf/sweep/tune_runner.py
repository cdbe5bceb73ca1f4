"""The sweep's trials on Ray Tune: each trial one Tune trial (`trials.run_trial` in a worker), at
most as many in parallel as the cluster has CPUs for `cpus_per_trial`. Needs the `sweep` extra."""

import dataclasses
import os
import socket

from mace_tf.agents.mace.config import MaceConfig
from mace_tf.envs import rules
from mace_tf.sweep import trials as trials_lib
from mace_tf.sweep.search_space import Trial
from mace_tf.train import train_lib


class RayUnavailableError(RuntimeError):
  """Ray is not installed, or the cluster cannot be reached."""


def _trainable(config):
  """One Tune trial: rebuilds the configs from plain dicts (what Tune ships to its workers)."""
  game = rules.GameConfig(**config["game"])
  agent = MaceConfig.from_flat_dict(config["agent"])
  train = train_lib.TrainConfig(**config["train"])
  trial = Trial(**config["trial"])
  final = trials_lib.run_trial(config["sweep_dir"], game, agent, train, trial)
  return {"cumulative_terminal_reward": final.get("charts/cumulative_terminal_reward", 0.0),
          "samples": final.get("samples", 0), "diverged": final.get("diverged", 0.0)}


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
  """One line at once for a cluster that does not answer (Ray itself retries for minutes)."""
  host, _, port = address.replace("ray://", "").rpartition(":")
  try:
    socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s).close()
  except (OSError, ValueError) as e:
    raise RayUnavailableError(f"cannot reach the Ray cluster at {address} "
                              f"({getattr(e, 'strerror', None) or e}); check --ray_address") from None


def run(sweep_dir: str, game, agent, train, todo, *, total: int, address=None,
        cpus_per_trial: int = 1, log_fn=print) -> None:
  """Runs the trials `todo` (of `total`) to the end; prints a line per finished trial."""
  try:
    import ray
    from ray import tune
  except ImportError:
    raise RayUnavailableError("Ray Tune is not installed: pip install -e '.[sweep]'") from None
  if address:
    _check_reachable(address)
  try:
    if address:
      ray.init(address=address, include_dashboard=False, log_to_driver=False)
    else:
      ray.init(include_dashboard=False, log_to_driver=False)
  except Exception as e:  # Ray raises ConnectionError, RuntimeError or its own types
    raise RayUnavailableError(f"cannot start or reach Ray at {address or 'local'}: "
                              f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
  # Tune runs each trial in its own working directory: a relative sweep_dir would land there.
  sweep_dir = os.path.abspath(sweep_dir)
  done = total - len(todo)

  class Progress(tune.Callback):
    def __init__(self):
      self.done, self.best = done, None

    def on_trial_complete(self, iteration, trials, trial, **info):
      self.done += 1
      score = (trial.last_result or {}).get("cumulative_terminal_reward")
      if score is not None and (self.best is None or score > self.best[1]):
        self.best = (trial.config["trial"]["model"] + f"_t{trial.config['trial']['index']:03d}",
                     score)
      running = sum(t.status == "RUNNING" and t is not trial for t in trials)
      best = f", best {self.best[0]} {self.best[1]:,.0f}" if self.best else ""
      log_fn(f"sweep: {self.done} of {total} done, {running} running, "
             f"{max(0, total - self.done - running)} waiting{best}")

  base = {"sweep_dir": sweep_dir, "game": dataclasses.asdict(game), "agent": agent.flat_dict(),
          "train": dataclasses.asdict(train)}
  space = {**base, "trial": tune.grid_search([dataclasses.asdict(t) for t in todo])}
  try:
    tuner = tune.Tuner(
        tune.with_resources(_trainable, {"cpu": cpus_per_trial}), param_space=space,
        run_config=tune.RunConfig(storage_path=os.path.join(sweep_dir, "ray"),
                                  name="tune", verbose=0, callbacks=[Progress()]))
    results = tuner.fit()
  finally:
    ray.shutdown()
  if results.num_errors:
    raise RuntimeError(f"{results.num_errors} trial(s) failed; rerun to resume them "
                       f"(their logs: {sweep_dir}/ray/tune)")
