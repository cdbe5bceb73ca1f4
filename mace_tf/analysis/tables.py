"""Table cells for every report: one number format and one seed summary cell."""

import json
import os
from typing import Dict, Optional


def fmt(x, digits: int = 3) -> str:
  """A number for a report table: "-" for None, thousands with separators (1,234), smaller floats
  to `digits` significant digits, integers whole, anything else as text."""
  if x is None:
    return "-"
  if isinstance(x, bool) or not isinstance(x, (int, float)):
    return str(x)
  if isinstance(x, int):
    return f"{x:,}"
  return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.{digits}g}"


def seed_cell(s: Optional[Dict]) -> str:
  """`median [min, max]` of a seed summary (`{"seeds", "median", "min", "max"}`), the median
  alone for one seed, "-" for none."""
  if s is None:
    return "-"
  if s["seeds"] == 1:
    return fmt(s["median"])
  return f"{fmt(s['median'])} [{fmt(s['min'])}, {fmt(s['max'])}]"


def write_report_files(out_dir: str, lines, summary) -> None:
  """Writes a report's `report.md` (its markdown `lines`) and `summary.json` into `out_dir`."""
  os.makedirs(out_dir, exist_ok=True)
  with open(os.path.join(out_dir, "report.md"), "w") as f:
    f.write("\n".join(lines))
  with open(os.path.join(out_dir, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")
