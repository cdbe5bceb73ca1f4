"""A sweep's trial: the flagfile's settings with the trial's hyperparameters, resumable, skipped
once finished."""

import os

import pytest

from mace_tf.agents.mace.config import MaceConfig
from mace_tf.agents.tfa_ppo_config import TFAPPOConfig
from mace_tf.envs import rules
from mace_tf.networks.config import NetworkConfig
from mace_tf.sweep import search_space as ss
from mace_tf.sweep import trials
from mace_tf.train import metrics, train_lib

GAME = rules.GameConfig(kind=rules.HARE, num_hunters=2, num_prey=2, hit_points=1, time_limit=6,
                        grid_size=7)


def test_the_trials_hyperparameters_override_only_what_they_name():
  base = MaceConfig(model="mace", frozen_clock=True, network=NetworkConfig(ego_bin=7))
  train = train_lib.TrainConfig(num_envs=8, rollout_length=4, seed=0)
  trial = ss.draw_trial(ss.TABLE2, model="mace", index=3, sweep_seed=1)
  agent, train2 = trials.trial_configs(base, train, trial)
  assert agent.learning_rate == trial.params["learning_rate"]
  assert agent.network.latent_dim == trial.params["latent_dim"]  # routed to the network
  assert agent.frozen_clock and agent.network.ego_bin == 7  # the flagfile's fix stays
  assert train2.seed == trial.seed and train2.num_envs == 8
  # The stock baseline's trial: its own config, with the trial's Table 2 values.
  ppo_trial = ss.draw_trial(ss.TABLE2, model="tfa_ppo", index=3, sweep_seed=1)
  ppo, _ = trials.trial_configs(base, train, ppo_trial)
  assert isinstance(ppo, TFAPPOConfig)
  assert (ppo.learning_rate, ppo.gamma) == (ppo_trial.params["learning_rate"],
                                            ppo_trial.params["gamma"])
  bad = ss.Trial(model="mace", index=0, seed=1, params={"learning_rat": 0.1})
  with pytest.raises(ValueError, match="learning_rat"):
    trials.trial_configs(base, train, bad)


def test_a_rerun_skips_a_finished_trial_and_resumes_an_unfinished_one(tmp_path):
  sweep = str(tmp_path)
  base = MaceConfig(model="shared")
  trial = ss.draw_trial(ss.TABLE2, model="shared", index=0, sweep_seed=0)
  short = train_lib.TrainConfig(num_envs=8, rollout_length=4, num_samples=320,
                                checkpoint_every=160, log_every=160, eval_episodes=4)
  trials.run_trial(sweep, GAME, base, short, trial)
  longer = train_lib.TrainConfig(num_envs=8, rollout_length=4, num_samples=640,
                                 checkpoint_every=160, log_every=160, eval_episodes=4)
  log = []
  trials.run_trial(sweep, GAME, base, longer, trial, log_fn=log.append)
  assert any(l.startswith("resumed from") and "320 samples" in l for l in log)
  root = ss.trial_dir(sweep, trial)
  before = os.path.getmtime(os.path.join(root, "metrics.jsonl"))
  final = trials.run_trial(sweep, GAME, base, longer, trial)  # finished: nothing runs
  assert os.path.getmtime(os.path.join(root, "metrics.jsonl")) == before
  assert final["samples"] == 640 == metrics.read_metrics(root)[-1]["samples"]
  assert os.path.exists(os.path.join(root, "trial.json"))


def test_a_diverging_trial_is_finished_with_what_it_earned_and_not_retried(tmp_path):
  sweep = str(tmp_path)
  base = MaceConfig(model="shared", max_grad_norm=0.0)
  trial = ss.Trial(model="shared", index=0, seed=3, params={"learning_rate": 1e4})
  tc = train_lib.TrainConfig(num_envs=8, rollout_length=4, num_samples=100_000,
                             checkpoint_every=160, log_every=32, eval_episodes=4)
  log = []
  final = trials.run_trial(sweep, GAME, base, tc, trial, log_fn=log.append)
  record = trials.divergence(sweep, trial)
  assert record is not None and "went non-finite" in record["message"]
  assert final["diverged"] == 1.0 and final["samples"] == record["samples"] < 100_000
  assert any(l.startswith("shared_t000: training diverged") for l in log)
  assert trials.is_finished(sweep, trial, 100_000)
  root = ss.trial_dir(sweep, trial)
  before = os.path.getmtime(os.path.join(root, "metrics.jsonl"))
  again = trials.run_trial(sweep, GAME, base, tc, trial)  # not retried
  assert os.path.getmtime(os.path.join(root, "metrics.jsonl")) == before
  assert again["charts/cumulative_terminal_reward"] == final["charts/cumulative_terminal_reward"]
  best = trials.best_finished(sweep, [trial], 100_000)
  assert best[0] == trial and best[1] == final["charts/cumulative_terminal_reward"]
