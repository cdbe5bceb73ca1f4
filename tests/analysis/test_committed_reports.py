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


def test_the_report_launcher_rebuilds_both_from_copies(tmp_path):
  from tests.launch.test_launchers import run  # pylint: disable=g-import-not-at-top
  strip = lambda text: re.sub(r"^Command: .*$", "", text, flags=re.M)
  for name in ("dens", "exploration"):
    shutil.copytree(os.path.join(ROOT, "results", "latent", name), tmp_path / name)
  p = run("launch.report", f"--dens={tmp_path / 'dens'}", f"--exploration={tmp_path / 'exploration'}",
          f"--exploration_sources={tmp_path / 'no_runs'}")
  assert p.returncode == 0, p.stderr[-2000:]
  for name in ("dens", "exploration"):
    want = open(os.path.join(ROOT, "results", "latent", name, "report.md")).read()
    assert strip((tmp_path / name / "report.md").read_text()) == strip(want)
  bad = run("launch.report", f"--dens={tmp_path / 'no_runs'}")
  assert bad.returncode != 0 and "report: no evaluated runs" in bad.stderr
