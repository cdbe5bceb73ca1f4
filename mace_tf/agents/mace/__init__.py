"""The MACE agent: config, policy, losses and the TF-Agents agent."""
