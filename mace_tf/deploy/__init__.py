"""Using exported policies: loading and checking SavedModels, evaluation, TF Serving, the latent."""
