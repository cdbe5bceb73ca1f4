#!/usr/bin/env bash
# Creates (or reuses) ./.venv with Python 3.11 and installs mace_tf with the pinned stack of setup.py.
# Re-installs only when setup.py has changed since the last install (a stamp file in .venv records it).
set -euo pipefail
cd "$(dirname "$0")/.."

py="${PYTHON:-}"
if [ -z "$py" ]; then
  if command -v python3.11 >/dev/null 2>&1; then py=python3.11; else py=python3; fi
fi
if ! "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  echo "ensure_venv: mace_tf needs Python 3.11 (tensorflow 2.15); '$py' is $("$py" --version 2>&1)." >&2
  echo "ensure_venv: set PYTHON=/path/to/python3.11 and run again." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "ensure_venv: creating .venv with $("$py" --version)" >&2
  "$py" -m venv .venv
fi

stamp=.venv/.mace_tf-setup-sha256
want="$(sha256sum setup.py | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "ensure_venv: installing the pinned stack into .venv (first time: a few minutes)" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test,sweep,pettingzoo]"
  echo "$want" > "$stamp"
fi
