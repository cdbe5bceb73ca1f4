"""Issue 19's committed reports rebuild unchanged from the data archived beside them."""

import os
import re
import shutil

import pytest

from mace_tf.analysis import dens_report, exploration

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def committed_command(report_path):
  with open(report_path) as f:
    text = f.read()
  return text, re.search(r"^Command: `(.*)`$", text, re.M).group(1)


@pytest.mark.parametrize("name, rebuild", [
    ("dens", lambda out, cmd: dens_report.write(out, "Issue 19: the hidden-stag game", cmd)),
    ("exploration", lambda out, cmd: exploration.write(out, "Issue 19: samples to a threshold",
                                                       cmd)),
])
def test_the_committed_report_rebuilds_unchanged(tmp_path, name, rebuild):
  source = os.path.join(ROOT, "results", "latent", name)
  want, command = committed_command(os.path.join(source, "report.md"))
  out = tmp_path / name
  shutil.copytree(source, out)
  os.remove(out / "report.md")
  rebuild(str(out), command)
  assert (out / "report.md").read_text() == want
