"""absl entry points of mace_tf; each parses flags and calls library code."""

import contextlib
import io
import os
import signal
import sys
import warnings

# Run as `python -m launch.<name>` (argv[0] is "-m" while the package imports): Ctrl-C before a
# launcher has anything to save (imports, start-up) ends it with one line, not a traceback. `train`
# replaces this handler with its own while it trains (it saves, then stops).
if sys.argv and sys.argv[0] == "-m":
  def _interrupted(signum, frame):
    del frame
    sys.stderr.write(f"interrupted ({signal.Signals(signum).name})\n")
    os._exit(128 + signum)  # no cleanup to run: nothing is written yet

  signal.signal(signal.SIGINT, _interrupted)

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


def write_json(path: str, result) -> None:
  """Writes a launcher's JSON result (indented, newline-terminated) to `path`."""
  import json  # pylint: disable=g-import-not-at-top
  with open(path, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")


HELP_ARGS = ("--help", "-h", "-?", "--helpshort", "--help=true", "--helpfull")


def run(main) -> None:
  """`app.run(main)` for a launcher, with:

  * `--help` (and `-h`, `--helpshort`): the launcher's own flags, grouped (learner, network, game,
    run), and exit code 0; `--helpfull`: absl's full listing (absl's and TensorFlow's flags too),
    exit code 0;
  * running out of memory (e.g. `--grid_size=100000`): one line, not a traceback.
  """
  import __main__  # pylint: disable=g-import-not-at-top
  from absl import app, flags  # pylint: disable=g-import-not-at-top
  from launch import config_flags  # pylint: disable=g-import-not-at-top

  program = os.path.basename(getattr(__main__, "__file__", "launch") or "launch")[:-3]
  asked = [a for a in sys.argv[1:] if a in HELP_ARGS]
  if asked:
    if "--helpfull" in asked:
      print(flags.FLAGS.get_help())
    else:
      print(config_flags.grouped_help(__main__.__doc__ or "", flags.FLAGS))
    sys.exit(0)

  def guarded(argv):
    try:
      return main(argv)
    except MemoryError:
      sys.exit(f"{program}: out of memory: reduce --grid_size, --num_envs, --episodes or the "
               f"network's sizes")

  app.run(guarded)
