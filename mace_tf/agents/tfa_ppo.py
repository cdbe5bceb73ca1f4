"""The stock TF-Agents pipeline a user would wire instead of mace_tf: the speed baseline of issue 4.

`PPOClipAgent` with an actor and a `ValueNetwork`, each its own `EncodingNetwork`: conv (16, 8, 4),
(32, 4, 2) over the grid, the rest of the same observation as MACE flattened beside it, fc 256; on
`TFPyEnvironment` over the batched numpy game with the hunters' rewards summed
(`TeamRewardWrapper`), collected by a `DynamicStepDriver`. Stock PPO rejects an `[N]` discrete
action spec with `ActorDistributionNetwork`'s categorical projection (event shape `()`), so the actor
returns `Independent(Categorical(logits [N, 5]), 1)`, the small network a user would write.
"""

import tensorflow as tf
import tensorflow_probability as tfp
from tf_agents.agents.ppo import ppo_clip_agent
from tf_agents.networks import encoding_network, network, value_network

tfd = tfp.distributions


def _joint_categorical(logits, dtype=tf.int32):
  return tfd.Independent(tfd.Categorical(logits=logits, dtype=dtype), reinterpreted_batch_ndims=1)


class JointCategoricalActorNetwork(network.Network):
  """Observation -> `Independent(Categorical(logits [N, A]), 1)`: one joint distribution over the
  `[N]` action, for PPO (which checks that the actor's event shape is the action's shape)."""

  def __init__(self, observation_spec, action_spec, *, preprocessing_layers, fc_layer_params,
               name: str = "JointCategoricalActorNetwork"):
    super().__init__(input_tensor_spec=observation_spec, state_spec=(), name=name)
    self._encoder = encoding_network.EncodingNetwork(
        observation_spec, preprocessing_layers=preprocessing_layers,
        preprocessing_combiner=tf.keras.layers.Concatenate(axis=-1),
        fc_layer_params=fc_layer_params)
    self._shape = [action_spec.shape[0], int(action_spec.maximum - action_spec.minimum + 1)]
    self._logits = tf.keras.layers.Dense(
        self._shape[0] * self._shape[1],
        kernel_initializer=tf.keras.initializers.VarianceScaling(scale=0.1), name="logits")

  def call(self, observation, step_type=None, network_state=(), training=False):
    hidden, _ = self._encoder(observation, step_type=step_type, training=training)
    logits = self._logits(hidden)
    logits = tf.reshape(logits, tf.concat([tf.shape(logits)[:-1], self._shape], axis=0))
    return _joint_categorical(logits), network_state


@tf.keras.utils.register_keras_serializable(package="mace_tf")
class CastToFloat(tf.keras.layers.Layer):
  """uint8 / int32 observation parts -> float32 (a named layer: TF-Agents copies layers by config)."""

  def call(self, inputs):
    return tf.cast(inputs, tf.float32)


def _preprocessing_layers():
  """Per observation key, as a user would: the grid through the conv stack, the rest flattened."""
  cast = CastToFloat
  return {
      "grid": tf.keras.Sequential([
          cast(), tf.keras.layers.Conv2D(16, 8, strides=4, activation="relu"),
          tf.keras.layers.Conv2D(32, 4, strides=2, activation="relu"), tf.keras.layers.Flatten()]),
      "hunters": tf.keras.Sequential([cast(), tf.keras.layers.Flatten()]),
      "time_left": cast(),
  }


def make_tfa_ppo_agent(time_step_spec, action_spec, *, learning_rate: float = 7e-4,
                       num_epochs: int = 1, gamma: float = 0.99, gae_lambda: float = 0.95,
                       ent_coef: float = 0.01, vf_coef: float = 0.5,
                       train_step_counter=None, optimizer=None) -> ppo_clip_agent.PPOClipAgent:
  """The stock agent; `time_step_spec` must have a scalar (team) reward. `optimizer`: default Adam
  at `learning_rate`."""
  observation_spec = time_step_spec.observation
  grid_size = observation_spec["grid"].shape[0]
  if grid_size < 20:
    raise ValueError(f"tfa_ppo's conv stack (8 x 8 stride 4, then 4 x 4 stride 2, no padding) needs "
                     f"grid_size >= 20, got {grid_size}")
  actor = JointCategoricalActorNetwork(observation_spec, action_spec,
                                       preprocessing_layers=_preprocessing_layers(),
                                       fc_layer_params=(256,))
  value = value_network.ValueNetwork(
      observation_spec, preprocessing_layers=_preprocessing_layers(),
      preprocessing_combiner=tf.keras.layers.Concatenate(axis=-1), fc_layer_params=(256,))
  agent = ppo_clip_agent.PPOClipAgent(
      time_step_spec, action_spec, optimizer=optimizer or tf.keras.optimizers.Adam(learning_rate),
      actor_net=actor, value_net=value, num_epochs=num_epochs, discount_factor=gamma,
      lambda_value=gae_lambda, entropy_regularization=ent_coef, value_pred_loss_coef=vf_coef,
      use_gae=True, normalize_observations=False, normalize_rewards=False,
      train_step_counter=train_step_counter or tf.Variable(0, dtype=tf.int64))
  agent.initialize()
  return agent


class TFAPPOLoop:
  """Collect with a `DynamicStepDriver` into a replay buffer, `gather_all`, train, clear: the loop
  of TF-Agents' PPO examples, over B batched games and L steps per game per iteration."""

  def __init__(self, game, config, *, num_envs: int, rollout_length: int, seed: int):
    """`config`: a `mace_tf.agents.tfa_ppo_config.TFAPPOConfig`."""
    from tf_agents.drivers import dynamic_step_driver
    from tf_agents.environments import tf_py_environment
    from tf_agents.replay_buffers import tf_uniform_replay_buffer
    from tf_agents.utils import common

    from mace_tf.envs import hunters, wrappers

    tf.keras.utils.set_random_seed(seed)  # the initial weights too (Keras draws from Python's random)
    self.env = tf_py_environment.TFPyEnvironment(
        wrappers.TeamRewardWrapper(hunters.make_game(game, batch_size=num_envs, seed=seed)))
    self.optimizer = tf.keras.optimizers.Adam(config.learning_rate)  # checkpointed by the learner
    self.agent = make_tfa_ppo_agent(self.env.time_step_spec(), self.env.action_spec(),
                                    optimizer=self.optimizer, num_epochs=config.num_epochs,
                                    gamma=config.gamma, gae_lambda=config.gae_lambda,
                                    ent_coef=config.ent_coef, vf_coef=config.vf_coef)
    # The driver counts steps that are not episode boundaries: leave room for a few more.
    self._buffer = tf_uniform_replay_buffer.TFUniformReplayBuffer(
        self.agent.collect_data_spec, batch_size=num_envs, max_length=2 * rollout_length + 4)
    self._driver = dynamic_step_driver.DynamicStepDriver(
        self.env, self.agent.collect_policy, observers=[self._buffer.add_batch],
        num_steps=num_envs * rollout_length)
    self._collect = common.function(self._driver.run)
    self._train = common.function(self.agent.train)
    self._num_envs = num_envs

  def run_iteration(self):
    """One collect-and-train iteration: (LossInfo, samples collected = game steps)."""
    self._collect()
    experience = self._buffer.gather_all()
    loss_info = self._train(experience)
    self._buffer.clear()
    return loss_info, int(experience.step_type.shape[1]) * self._num_envs
