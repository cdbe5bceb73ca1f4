"""Issues 19 and 20's committed reports rebuild unchanged from the data archived beside them,
through `launch.report --dens --exploration --lbf --exploration_sources`."""

import os
import re
import shutil

from tests.launch.test_launchers import run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_report_launcher_rebuilds_them_from_copies(tmp_path):
  strip = lambda text: re.sub(r"^Command: .*$", "", text, flags=re.M)
  committed = {"dens": ("latent", "dens"), "exploration": ("latent", "exploration"), "lbf": ("lbf",)}
  for name, where in committed.items():
    shutil.copytree(os.path.join(ROOT, "results", *where), tmp_path / name)
  p = run("launch.report", f"--dens={tmp_path / 'dens'}", f"--exploration={tmp_path / 'exploration'}",
          f"--lbf={tmp_path / 'lbf'}", f"--exploration_sources={tmp_path / 'no_runs'}")
  assert p.returncode == 0, p.stderr[-2000:]
  for name, where in committed.items():
    want = open(os.path.join(ROOT, "results", *where, "report.md")).read()
    assert strip((tmp_path / name / "report.md").read_text()) == strip(want)
  bad = run("launch.report", f"--dens={tmp_path / 'no_runs'}")
  assert bad.returncode != 0 and "report: no evaluated runs" in bad.stderr
