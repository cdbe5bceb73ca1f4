"""Metrics of a run: JSONL (one object per line, keyed by `samples`) and TensorBoard, same names.

Stable names: `charts/...` (game results), `losses/...` (loss terms), `latent/...` (Q(lambda | s)),
`eval/...` (greedy evaluation), `perf/...` (speed).
"""

import json
import math
import os
from typing import Dict

import tensorflow as tf


class MetricsWriter:
  """Appends `{"samples": s, name: value, ...}` lines to `<root>/metrics.jsonl` and to TensorBoard."""

  def __init__(self, root_dir: str):
    self.path = os.path.join(root_dir, "metrics.jsonl")
    self._summary_writer = tf.summary.create_file_writer(os.path.join(root_dir, "summaries"))

  def truncate_after(self, samples: int) -> int:
    """Keeps the lines up to `samples` (a run resumed from a checkpoint at `samples` rewrites the
    later ones) and drops lines that do not parse, one by one: a line torn by a kill or damaged by
    hand costs only itself, never the good lines around it. Returns how many damaged lines were
    dropped."""
    if not os.path.exists(self.path):
      return 0
    with open(self.path) as f:
      lines = [line for line in f if line.strip()]
    keep, damaged = [], 0
    for line in lines:
      try:
        row = json.loads(line)
        at = int(row["samples"])
      except (ValueError, KeyError, TypeError):
        damaged += 1
        continue
      if at <= samples:
        keep.append(line if line.endswith("\n") else line + "\n")
    tmp = self.path + ".tmp"
    with open(tmp, "w") as f:
      f.writelines(keep)
    os.replace(tmp, self.path)
    return damaged

  def write(self, samples: int, scalars: Dict[str, float]) -> None:
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
             for k, v in scalars.items()}
    with open(self.path, "a") as f:
      f.write(json.dumps({"samples": int(samples), **clean}) + "\n")
    with self._summary_writer.as_default(step=int(samples)):
      for name, value in scalars.items():
        if isinstance(value, (int, float)):
          tf.summary.scalar(name, value)
    self._summary_writer.flush()


def read_metrics(root_dir: str):
  """The JSONL metrics of a run as a list of dicts (lines that do not parse are skipped)."""
  rows = []
  with open(os.path.join(root_dir, "metrics.jsonl")) as f:
    for line in f:
      try:
        row = json.loads(line) if line.strip() else None
      except ValueError:
        continue
      if isinstance(row, dict):
        rows.append(row)
  return rows
