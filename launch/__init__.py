"""absl entry points of mace_tf; each parses flags and calls library code."""

import os

# Launchers are user-facing: keep TensorFlow's C++ start-up chatter out of their output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
