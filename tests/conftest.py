"""Test-suite configuration: quiet TensorFlow, and the --runslow flag for `slow` tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


def pytest_addoption(parser):
  parser.addoption("--runslow", action="store_true", default=False,
                   help="also run tests marked slow (long learning runs)")


def pytest_collection_modifyitems(config, items):
  if config.getoption("--runslow"):
    return
  skip_slow = pytest.mark.skip(reason="slow: run with --runslow")
  for item in items:
    if "slow" in item.keywords:
      item.add_marker(skip_slow)


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
  """(agent, {"policy": path, "greedy_policy": path}) of a MACE agent on tests.deploy.exports.GAME."""
  from tests.deploy import exports
  return exports.export_agent(tmp_path_factory.mktemp("export_mace"), "mace")


@pytest.fixture(scope="session")
def exported_shared(tmp_path_factory):
  from tests.deploy import exports
  return exports.export_agent(tmp_path_factory.mktemp("export_shared"), "shared", iterations=1)
