"""The one place outside `mace_tf/fast/` that uses a private TensorFlow / Keras API.

Each use says why and what would replace it. `tests/test_layering.py` checks that no other module
reaches into a private attribute of another object.
"""


def create_slots(optimizer, variables) -> None:
  """Creates the optimizer's slot variables now, so that a checkpoint restore can fill them.

  Keras 2.11+ optimizers have the public `build`; the legacy ones (which mace_tf uses for their
  fused kernels, `agent.optimizer_from_config`) only the private `_create_all_weights`: without it,
  a restore before the first update would find no slots to fill and drop Adam's moments.
  """
  if hasattr(optimizer, "build"):
    optimizer.build(variables)
  else:
    optimizer._create_all_weights(variables)  # pylint: disable=protected-access
