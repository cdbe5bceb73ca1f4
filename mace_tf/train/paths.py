"""Paths that TensorFlow reads literally.

TensorFlow's checkpoint and file functions expand `*`, `?`, `[...]` and `\\` in paths as glob
patterns (`tf.io.gfile.glob`, the CheckpointManager's restore and clean-up): a run directory named
`run[1]` then matches nothing, every checkpoint "does not restore", and old ones are never deleted.
Here such a directory gets a glob-free alias: a symbolic link to it in a private temporary directory,
removed at exit. Every TensorFlow path of a run goes through its alias; plain Python file
operations may use either, and messages show the real path (`display`).
"""

import atexit
import os
import shutil
import tempfile

GLOB_CHARACTERS = "*?[]\\{}"

_aliases = {}  # alias -> real directory


def has_glob_characters(path: str) -> bool:
  return any(c in path for c in GLOB_CHARACTERS)


def literal_dir(directory: str) -> str:
  """`directory` (which must exist) as a path with no glob characters: itself if it has none,
  else a symbolic link to it (the same one for the life of the process)."""
  real = os.path.abspath(directory)
  if not has_glob_characters(real):
    return directory
  for alias, target in _aliases.items():
    if target == real:
      return alias
  holder = tempfile.mkdtemp(prefix="mace_tf_path_")
  atexit.register(shutil.rmtree, holder, True)
  alias = os.path.join(holder, "dir")
  os.symlink(real, alias)
  _aliases[alias] = real
  return alias


def display(text: str) -> str:
  """`text` (a path or a message) with every alias of `literal_dir` replaced by its real
  directory."""
  for alias, real in _aliases.items():
    text = text.replace(alias, real)
  return text
