"""Issue 19's committed reports rebuild unchanged from the data archived beside them, through
`launch.report --dens --exploration --exploration_sources`."""

import os
import re
import shutil

from tests.launch.test_launchers import run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_report_launcher_rebuilds_both_from_copies(tmp_path):
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
