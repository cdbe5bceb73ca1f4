"""Table cells for every report: one number format and one seed summary cell."""

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
