"""train(): learning, metrics, resume, contradictions, and the exported SavedModels."""

import json
import os
import subprocess
import sys

import pytest

from mace_tf.agents.mace.config import MaceConfig
from mace_tf.agents.tfa_ppo_config import TFAPPOConfig
from mace_tf.networks.config import FIRST_NETWORK
from mace_tf.envs import rules
from mace_tf.train import checkpoints, export, metrics, train_lib

FIG1 = rules.GameConfig(kind=rules.HARE, num_hunters=2, num_prey=2, hit_points=1, time_limit=6,
                        grid_size=7)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def train_fig1(root, num_samples):
  return train_lib.train(
      root_dir=root, game=FIG1,
      agent_config=MaceConfig(model="mace", learning_rate=3e-3, network=FIRST_NETWORK),
      train_config=train_lib.TrainConfig(num_envs=32, rollout_length=8, num_samples=num_samples,
                                         seed=3, checkpoint_every=20_000, log_every=5_000,
                                         eval_episodes=200),
      progress=False, log_fn=None)


@pytest.fixture(scope="module")
def fig1_run(tmp_path_factory):
  root = str(tmp_path_factory.mktemp("fig1") / "run")
  return root, train_fig1(root, 40_000)


def test_short_seeded_run_improves_the_terminal_reward(fig1_run):
  root, final = fig1_run
  lines = metrics.read_metrics(root)
  first = lines[0]["charts/episode_terminal_reward"]
  # Random play wins ~11% of these games (0.22 per episode); after 40k samples it wins far more.
  assert first < 0.6
  assert lines[-1]["charts/episode_terminal_reward"] > first + 0.4
  assert final["eval/greedy_success_rate"] > 0.5


def test_metrics_lines(fig1_run):
  root, _ = fig1_run
  lines = metrics.read_metrics(root)
  samples = [line["samples"] for line in lines]
  assert samples == sorted(set(samples)) and samples[-1] == 40_192  # 157 updates of 32 x 8
  cumulative = [line["charts/cumulative_terminal_reward"] for line in lines]
  assert cumulative == sorted(cumulative) and cumulative[-1] > 0
  for name in ("losses/policy_gradient", "losses/kl", "losses/value", "losses/entropy",
               "latent/sigma_mean", "latent/kl_dim_0", "perf/samples_per_s"):
    assert name in lines[-1]
  assert os.listdir(os.path.join(root, "summaries"))
  # The length histogram of each line counts that line's episodes (T = 6: bins of 0.3 steps).
  for line in lines:
    counts = line["charts/episode_length_counts"]
    assert len(counts) == train_lib.EPISODE_LENGTH_BINS
    assert sum(counts) == line["charts/episodes_in_window"]


def test_episode_length_counts_bin_over_zero_to_the_time_limit():
  counts = train_lib.episode_length_counts([1, 49, 50, 51, 999, 1000, 1000], 1000)
  assert counts[0] == 2 and counts[1] == 2 and counts[19] == 3 and sum(counts) == 7


def test_exports_in_serving_layout(fig1_run):
  root, _ = fig1_run
  for name in export.POLICY_NAMES:
    versions = sorted(int(v) for v in os.listdir(os.path.join(root, "export", name)))
    assert versions == [20_224, 40_192]
    assert os.path.exists(os.path.join(root, "export", name, "40192", "saved_model.pb"))


PLAY = r"""
import sys, json
import tensorflow as tf
import tensorflow_probability as tfp
tfp.distributions.Categorical; tfp.distributions.Deterministic; tfp.distributions.Independent
from tf_agents.policies import py_tf_eager_policy
from tf_agents.trajectories import time_step as ts
from mace_tf.envs import HareHunters
path = sys.argv[1]
env = HareHunters(num_hunters=2, num_prey=2, grid_size=7, time_limit=6, batch_size=8, seed=11)
loaded = tf.saved_model.load(path)
step = env.reset()
out = loaded.action(tf.nest.map_structure(tf.convert_to_tensor, step), ())
assert out.action.shape == (8, 2), out.action.shape
policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(path, env.time_step_spec(), env.action_spec(),
                                                      batch_time_steps=False)
step = env.reset()
for _ in range(40):
  step = env.step(policy.action(step).action)
stats = env.pop_episode_stats()
print(json.dumps({"episodes": int(stats["length"].size), "success": float(stats["success"].mean()),
                  "train_step": int(loaded.get_train_step().numpy())}))
"""


@pytest.mark.parametrize("name", export.POLICY_NAMES)
def test_exported_policy_loads_in_a_fresh_process_and_plays(fig1_run, name, tmp_path):
  root, _ = fig1_run
  script = tmp_path / "play.py"
  script.write_text(PLAY)
  p = subprocess.run([sys.executable, str(script), export.latest_export(root, name)], cwd=ROOT,
                     capture_output=True, text=True, timeout=300)
  assert p.returncode == 0, p.stderr[-3000:]
  result = json.loads(p.stdout.strip().splitlines()[-1])
  assert result["episodes"] >= 40  # 8 games x 40 steps of episodes of at most 6 steps
  assert result["train_step"] == 40_192
  assert result["success"] > 0.3


def test_resume_continues_from_the_checkpoint_sample_count(fig1_run, tmp_path):
  root, _ = fig1_run
  final = train_fig1(root, 42_000)
  lines = metrics.read_metrics(root)
  # Iterations of B L = 256 samples: the first run stopped at the first multiple of 256 past 40k
  # (157 x 256 = 40,192), the resumed one at the first past 42k (165 x 256 = 42,240).
  per_iteration = 32 * 8
  assert [line["samples"] for line in lines][-2:] == [
      -(-40_000 // per_iteration) * per_iteration, -(-42_000 // per_iteration) * per_iteration]
  assert final["charts/episodes"] > lines[-2]["charts/episodes"]


def test_a_finished_run_returns_its_last_metrics_line(fig1_run):
  root, _ = fig1_run
  before = metrics.read_metrics(root)
  final = train_fig1(root, 40_000)  # the run already has at least 40,192 samples
  assert metrics.read_metrics(root) == before  # nothing trained, nothing written
  assert final == before[-1] and final["charts/cumulative_terminal_reward"] > 0


@pytest.mark.parametrize("change, words", [
    (dict(game=rules.GameConfig(kind=rules.HARE, num_hunters=3, num_prey=2, hit_points=1,
                                time_limit=6, grid_size=7)), "num_hunters=3 contradicts the run"),
    (dict(agent_config=MaceConfig(model="cloned")), "model=cloned contradicts the run"),
])
def test_contradicting_settings_are_a_clear_error(fig1_run, change, words):
  root, _ = fig1_run
  kwargs = dict(root_dir=root, game=FIG1,
                agent_config=MaceConfig(model="mace", learning_rate=3e-3, network=FIRST_NETWORK),
                train_config=train_lib.TrainConfig(num_envs=32, rollout_length=8, num_samples=1,
                                                   seed=3), progress=False, log_fn=None)
  kwargs.update(change)
  with pytest.raises(checkpoints.CheckpointMismatchError, match=words):
    train_lib.train(**kwargs)



def test_a_field_added_after_a_run_began_is_compared_at_its_default(tmp_path):
  # A run begun before `latent_info_coef` existed ran without the bonus: resuming with the default
  # continues it, resuming with the bonus on is another run.
  defaults = train_lib.default_run_config()
  config = checkpoints.run_config_dict(FIG1, MaceConfig(model="mace"), train_lib.TrainConfig())
  old = json.loads(json.dumps(config))
  del old["agent"]["latent_info_coef"]
  (tmp_path / "run_config.json").write_text(json.dumps(old))
  (tmp_path / "checkpoints").mkdir()
  (tmp_path / "checkpoints" / "ckpt-1.index").write_text("")  # the run exists
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match="latent_info_coef=0.05 contradicts the run .* latent_info_coef=0.0"):
    checkpoints.check_run_config(
        str(tmp_path), checkpoints.run_config_dict(
            FIG1, MaceConfig(model="mace", latent_info_coef=0.05), train_lib.TrainConfig()),
        defaults=defaults)
  merged = checkpoints.check_run_config(str(tmp_path), config, defaults=defaults)
  assert merged["agent"]["latent_info_coef"] == 0.0


def test_host_collect_mode_trains_checkpoints_and_resumes(tmp_path):
  root = str(tmp_path / "host")
  kwargs = dict(root_dir=root, game=FIG1, agent_config=MaceConfig(model="shared", ppo_clip=0.2,
                                                                  num_epochs=2),
                progress=False, log_fn=None)
  config = dict(num_envs=8, rollout_length=4, seed=1, checkpoint_every=64, log_every=64,
                eval_episodes=8, collect="host")
  train_lib.train(train_config=train_lib.TrainConfig(num_samples=128, **config), **kwargs)
  final = train_lib.train(train_config=train_lib.TrainConfig(num_samples=192, **config), **kwargs)
  assert [line["samples"] for line in metrics.read_metrics(root)] == [64, 128, 192]
  assert final["charts/episodes"] > 0
  assert sorted(int(v) for v in os.listdir(os.path.join(root, "export", "policy"))) == [64, 128, 192]


@pytest.mark.slow  # ~25 s on a 2-vCPU AMD EPYC; the schedules by hand: test_agent (default suite)
def test_annealed_run_reaches_zero_at_its_last_update_and_resumes_on_schedule(tmp_path):
  # 8 games x 4 steps = 32 samples an update; 256 samples = 8 updates. The run stops at 128 and
  # resumes: the schedule continues from the checkpointed update count, not from the start.
  root = str(tmp_path / "anneal")
  kwargs = dict(root_dir=root, game=FIG1,
                agent_config=MaceConfig(model="mace", learning_rate=0.01, ent_coef=0.02,
                                        anneal_learning_rate=True, anneal_ent_coef=True),
                progress=False, log_fn=None)
  config = dict(num_envs=8, rollout_length=4, seed=1, checkpoint_every=64, log_every=64,
                eval_episodes=4)
  train_lib.train(train_config=train_lib.TrainConfig(num_samples=128, **config), **kwargs)
  first = metrics.read_metrics(root)
  # A run of 128 samples is 4 updates: after 2 and 4 of them, half and none of the start are left.
  assert [line["charts/learning_rate"] for line in first] == pytest.approx([0.005, 0.0])
  assert [line["charts/ent_coef"] for line in first] == pytest.approx([0.01, 0.0])
  train_lib.train(train_config=train_lib.TrainConfig(num_samples=256, **config), **kwargs)
  lines = metrics.read_metrics(root)
  # Extended to 8 updates: the same 4 done are half of the new run, then 6 and 8 of 8.
  assert [line["charts/learning_rate"] for line in lines[2:]] == pytest.approx([0.0025, 0.0])


def test_stock_tfa_ppo_baseline_trains_exports_and_resumes(tmp_path):
  root = str(tmp_path / "ppo")
  game = rules.GameConfig(kind=rules.STAG, num_hunters=3, num_prey=2, hit_points=2, time_limit=15,
                          grid_size=20)
  kwargs = dict(root_dir=root, game=game, agent_config=TFAPPOConfig(),
                progress=False, log_fn=None)
  config = dict(num_envs=4, rollout_length=8, seed=0, checkpoint_every=64, log_every=64,
                eval_episodes=4)
  train_lib.train(train_config=train_lib.TrainConfig(num_samples=64, **config), **kwargs)
  final = train_lib.train(train_config=train_lib.TrainConfig(num_samples=128, **config), **kwargs)
  samples = [line["samples"] for line in metrics.read_metrics(root)]
  assert len(samples) == 2 and samples[0] >= 64 and samples[1] >= 128  # the driver may overshoot
  assert "losses/clip_fraction" in final and "eval/greedy_terminal_reward" in final
  assert len(os.listdir(os.path.join(root, "export", "greedy_policy"))) == 2


def test_train_config_checks_update_and_threads():
  with pytest.raises(ValueError, match="update must be one of"):
    train_lib.TrainConfig(update="fast")
  with pytest.raises(ValueError, match="thread counts must be >= 0"):
    train_lib.TrainConfig(intra_op_threads=-1)


def test_thread_pools_that_cannot_change_any_more_are_reported():
  import tensorflow as tf
  tf.constant(1.0) + 1.0  # TF is initialized in this process: the pools are fixed
  intra = tf.config.threading.get_intra_op_parallelism_threads()
  inter = tf.config.threading.get_inter_op_parallelism_threads()
  notes = []
  train_lib.set_threads(intra_op=intra, inter_op=inter, log_fn=notes.append)
  assert notes == []  # nothing to change
  train_lib.set_threads(intra_op=intra + 3, inter_op=inter, log_fn=notes.append)
  assert len(notes) == 1 and "take effect in a new process" in notes[0]
  assert tf.config.threading.get_intra_op_parallelism_threads() == intra


def test_the_seed_decides_the_whole_run(tmp_path):
  """Same seed, same run (initial weights included: Keras's initializers are seeded too); another
  seed, another run."""
  def run(name, seed):
    root = str(tmp_path / name)
    train_lib.train(root_dir=root, game=FIG1, agent_config=MaceConfig(model="mace"),
                    train_config=train_lib.TrainConfig(num_envs=8, rollout_length=4,
                                                       num_samples=256, seed=seed,
                                                       checkpoint_every=256, log_every=64,
                                                       eval_episodes=8),
                    progress=False, log_fn=None)
    return [{k: v for k, v in line.items() if not k.startswith("perf/")}
            for line in metrics.read_metrics(root)]
  first, again, other = run("a", 5), run("b", 5), run("c", 6)
  assert len(first) == 4 and first == again
  assert [l["losses/total"] for l in first] != [l["losses/total"] for l in other]
