"""The one place a learner is built: `make_learner(game, agent_config, train_config)` picks the
compiled loop (`mace_tf.fast.GraphLoop`, `collect="graph"`), the plain host loop (`HostLoop`,
`collect="host"`, `mace_tf/train/host_loop.py`) or the stock TF-Agents PPO pipeline (`model="tfa_ppo"`), behind one interface that
`train_lib.train` and `launch.benchmark` both drive."""

from typing import Dict

import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec

from mace_tf.agents.mace.agent import MaceAgent
from mace_tf.compat import create_slots
from mace_tf.agents.mace.config import MaceConfig
from mace_tf.agents.tfa_ppo_config import TFAPPOConfig
from mace_tf.envs import hunters, rules
from mace_tf.fast import graph_loop
from mace_tf.train.host_loop import HostLoop


def _to_tensors(nest):
  return tf.nest.map_structure(tf.convert_to_tensor, nest)


class DivergenceError(RuntimeError):
  """A loss term or the gradient went non-finite (`term`: which one, checked in loss order)."""

  def __init__(self, term: str):
    super().__init__(f"{term} is not finite")
    self.term = term


def check_finite(terms) -> None:
  """Raises DivergenceError naming the first of `terms` (name -> scalar) that is not finite: one
  finiteness test per update (the scalars are already computed)."""
  for name, value in terms:
    if not np.isfinite(float(value)):
      raise DivergenceError(name)


def make_learner(game: rules.GameConfig, agent_config: MaceConfig, train_config):
  """A `MaceLearner` for a `MaceConfig`, or a `TFAPPOLearner` for a `TFAPPOConfig` (which collects
  with its own TF-Agents driver, whatever `train_config.collect`)."""
  if isinstance(agent_config, TFAPPOConfig):
    if getattr(game, "kind", None) == "external":
      raise ValueError("the stock TF-Agents PPO baseline runs on the hunter games only; train "
                       "mace, shared or cloned on --env")
    return TFAPPOLearner(game, agent_config, train_config)
  return MaceLearner(game, agent_config, train_config)


class MaceLearner:
  """What `train` needs of a MACE / Shared / Cloned run: its loop, policies, metrics, state."""

  def __init__(self, game: rules.GameConfig, agent_config: MaceConfig, tc):
    if agent_config.draws_marginal and agent_config.marginal_samples > tc.num_envs - 1:
      raise ValueError(f"marginal_samples={agent_config.marginal_samples} needs at least "
                       f"{agent_config.marginal_samples + 1} games (its draws are the other games' "
                       f"eps), got num_envs={tc.num_envs}")
    self.env = hunters.make_game(game, batch_size=tc.num_envs, seed=tc.seed)
    self._samples_per_iteration = tc.num_envs * tc.rollout_length
    self.agent = MaceAgent(tensor_spec.from_spec(self.env.time_step_spec()),
                           tensor_spec.from_spec(self.env.action_spec()), config=agent_config,
                           total_updates=-(-tc.num_samples // self._samples_per_iteration),
                           batch_size=tc.num_envs)
    self.agent.initialize()
    # Another package's game can only be stepped on the host (the compiled loop runs the hunter
    # games' TF port).
    self._external = getattr(game, "kind", None) == "external"
    self._host = tc.collect == "host" or self._external
    if self._host:
      self.loop = HostLoop(self.agent, self.env, rollout_length=tc.rollout_length, seed=tc.seed)
    else:
      self.loop = graph_loop.GraphLoop(self.agent, game, num_envs=tc.num_envs,
                                       rollout_length=tc.rollout_length, seed=tc.seed,
                                       update=tc.update)
    self.policies = {"policy": self.agent.collect_policy, "greedy_policy": self.agent.policy}
    self.trackables = dict(agent=self.agent, network=self.agent.network,
                           optimizer=self.agent.optimizer, loop=self.loop)
    # Optimizer slots exist only after a first update: create them so a restore fills them.
    create_slots(self.agent.optimizer, self.agent.network.trainable_variables)
    self._greedy = tf.function(lambda time_step: self.agent.policy.action(time_step).action)

  def start(self, env_state) -> None:
    if self._host:
      if env_state is None:  # fresh games (another package's restart so on every resume)
        self.env.reset()
        self.agent.new_episodes()
      else:
        self.env.set_state(env_state)

  def env_state(self):
    return self.env.get_state() if self._host and not self._external else None

  @property
  def env_codec(self):
    """How the games' state is checkpointed (host games only; the compiled loop's are variables)."""
    return ((hunters.HunterGame.state_to_arrays, self._checked_state_from_arrays)
            if self._host and not self._external else None)

  def _checked_state_from_arrays(self, arrays):
    """A checkpoint's game state, validated: one that does not fit these games raises ValueError,
    and the restore tries the next older checkpoint."""
    state = hunters.HunterGame.state_from_arrays(arrays)
    self.env.check_state(state)
    return state

  def run_iteration(self):
    """One collect-and-update iteration: (LossInfo, episode statistics, samples). Raises
    DivergenceError if a loss term or the gradient norm is not finite."""
    loss_info, stats = self.loop.run_iteration()
    e = loss_info.extra
    # With kl_coef 0 the KL is a diagnostic outside the loss: it may overflow as sigma collapses
    # (the KL ablation) without anything of the update going non-finite.
    kl = (("losses/kl", e.kl_loss),) if self.agent.config.kl_coef > 0 else ()
    check_finite((("losses/policy_gradient", e.policy_gradient_loss), *kl,
                  ("losses/value", e.value_loss), ("losses/entropy", e.entropy),
                  ("losses/marginal_entropy", e.marginal_entropy),
                  ("losses/latent_information", e.latent_information),
                  ("losses/latent_decodability", e.latent_decodability),
                  ("losses/total", loss_info.loss), ("losses/grad_norm (the gradient)", e.grad_norm)))
    return loss_info, stats, self._samples_per_iteration

  def greedy_action(self, time_step):
    return self._greedy(_to_tensors(time_step)).numpy()

  def loss_scalars(self, loss_info) -> Dict[str, float]:
    extra = loss_info.extra
    out = {
        "losses/total": float(extra.total_loss),
        "losses/policy_gradient": float(extra.policy_gradient_loss),
        "losses/kl": float(extra.kl_loss),
        "losses/value": float(extra.value_loss),
        "losses/entropy": float(extra.entropy),
        # The sum over the live hunters falls as they freeze: this is the policy's own sharpness.
        "losses/entropy_per_agent": float(extra.entropy) / max(float(extra.live_agents), 1e-8),
        "losses/grad_norm": float(extra.grad_norm),
        "latent/sigma_mean": float(extra.sigma_mean),
        "latent/sigma_min": float(extra.sigma_min),
        "latent/mu_abs_mean": float(extra.mu_abs_mean),
    }
    if self.agent.config.anneals:  # the schedules' values for the next update
      out["charts/learning_rate"] = float(self.agent.learning_rate())
      out["charts/ent_coef"] = float(self.agent.ent_coef())
    if self.agent.config.draws_marginal:
      out["losses/marginal_entropy"] = float(extra.marginal_entropy)
      out["losses/latent_information"] = float(extra.latent_information)
    if self.agent.config.latent_decode_coef > 0:
      out["losses/latent_decodability"] = float(extra.latent_decodability)
    for k, v in enumerate(np.asarray(extra.kl_per_dim)):
      out[f"latent/kl_dim_{k}"] = float(v)
    return out


class TFAPPOLearner:
  """The stock TF-Agents PPO pipeline (`mace_tf.agents.tfa_ppo`) behind the same interface."""

  def __init__(self, game: rules.GameConfig, agent_config: TFAPPOConfig, tc):
    from mace_tf.agents import tfa_ppo  # Imported here: only this baseline needs it.
    self.loop = tfa_ppo.TFAPPOLoop(game, agent_config, num_envs=tc.num_envs,
                                   rollout_length=tc.rollout_length, seed=tc.seed)
    self.agent = self.loop.agent
    self.policies = {"policy": self.agent.collect_policy, "greedy_policy": self.agent.policy}
    optimizer = self.loop.optimizer
    optimizer.build(self.agent.trainable_variables)
    self.trackables = dict(agent=self.agent, optimizer=optimizer)
    self._greedy = tf.function(lambda time_step: self.agent.policy.action(time_step).action)

  def start(self, env_state) -> None:
    del env_state  # the driver's games restart fresh on resume

  def env_state(self):
    return None

  env_codec = None

  def run_iteration(self):
    loss_info, samples = self.loop.run_iteration()
    e = loss_info.extra
    check_finite((("losses/policy_gradient", e.policy_gradient_loss),
                  ("losses/value", e.value_estimation_loss),
                  ("losses/entropy_regularization", e.entropy_regularization_loss),
                  ("losses/total", loss_info.loss)))
    return loss_info, self.loop.env.pyenv.pop_episode_stats(), samples

  def greedy_action(self, time_step):
    team = time_step._replace(reward=np.sum(time_step.reward, axis=-1, dtype=np.float32))
    return self._greedy(_to_tensors(team)).numpy()

  def loss_scalars(self, loss_info) -> Dict[str, float]:
    extra = loss_info.extra
    return {
        "losses/total": float(loss_info.loss),
        "losses/policy_gradient": float(extra.policy_gradient_loss),
        "losses/value": float(extra.value_estimation_loss),
        "losses/entropy_regularization": float(extra.entropy_regularization_loss),
        "losses/clip_fraction": float(extra.clip_fraction),
    }
