"""absl entry points of mace_tf; each parses flags and calls library code."""

import contextlib
import io
import os
import warnings

# Launchers are user-facing: keep TensorFlow's C++ start-up chatter (spurious CUDA-plugin errors on a
# CPU machine) out of their output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# tf-agents 0.19's sources compare with `is ()`: Python prints a SyntaxWarning for each when it
# compiles them, i.e. on every import when no bytecode is cached (PYTHONDONTWRITEBYTECODE, a
# fresh venv).
warnings.filterwarnings("ignore", category=SyntaxWarning)
# tf-agents 0.19 imports gym 0.23, whose import prints a three-line "unmaintained" notice.
with contextlib.redirect_stderr(io.StringIO()):
  try:
    import gym  # noqa: F401
  except ImportError:
    pass


def quiet_logs() -> None:
  """Called by each main after flag parsing: TF / TF-Agents INFO and WARNING chatter (SavedModel
  tracing, PolicySaver notes, autograph warnings) is hidden unless --verbosity was given."""
  from absl import flags, logging

  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.ERROR)
  import tensorflow as tf
  tf.get_logger().setLevel("ERROR")
  warnings.filterwarnings("ignore", category=UserWarning)
