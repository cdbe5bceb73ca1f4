"""mace_tf: Multi-Agent Coordinated Exploration (MACE) on TensorFlow and TF-Agents."""

__version__ = "0.1.0"
