"""The package's layering (DESIGN.md): what may import what, and where private TF APIs may appear."""

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _modules(package):
  for dirpath, _, files in os.walk(os.path.join(ROOT, *package.split("."))):
    for name in files:
      if name.endswith(".py"):
        yield os.path.join(dirpath, name)


def _imports(path):
  tree = ast.parse(open(path).read())
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      yield from (a.name for a in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module:
      yield node.module


@pytest.mark.parametrize("package,forbidden", [
    ("mace_tf.envs", ("mace_tf.agents", "mace_tf.fast", "mace_tf.train", "mace_tf.networks")),
    ("mace_tf.networks", ("mace_tf.agents", "mace_tf.fast", "mace_tf.train")),
])
def test_lower_layers_do_not_import_higher_ones(package, forbidden):
  for path in _modules(package):
    for module in _imports(path):
      assert not module.startswith(forbidden), f"{os.path.relpath(path, ROOT)} imports {module}"


def test_private_tensorflow_apis_only_in_the_fast_path_package():
  for package in ("mace_tf", "launch"):
    for path in _modules(package):
      rel = os.path.relpath(path, ROOT)
      if rel.startswith(os.path.join("mace_tf", "fast")):
        continue
      for module in _imports(path):
        assert not module.startswith("tensorflow.python"), f"{rel} imports {module}"


def test_launchers_stay_thin():
  for name in os.listdir(os.path.join(ROOT, "launch")):
    if name.endswith(".py"):
      with open(os.path.join(ROOT, "launch", name)) as f:
        assert len(f.readlines()) <= 150, f"launch/{name} is over 150 lines"
