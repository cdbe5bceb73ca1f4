"""Training of MACE and its baselines: the loop, checkpoints, metrics and SavedModel export."""
