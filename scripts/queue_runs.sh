#!/usr/bin/env bash
# Runs training jobs from a job file, two at a time with one TensorFlow thread pool each (on 2
# cores: ~2x the samples/s of one run on both, BUILD_NOTES.md). One job per line:
#   <run name> <flags...>          (the name may hold a slash: <setting>/<model>_s<seed>)
# Each run goes to $ROOT/<run name> (default runs/learners), its output to $ROOT/<run name>.log, and
# resumes if it exists, so a killed queue is restarted with the same command. Lines starting with #
# are skipped.
#   bash scripts/queue_runs.sh results/learners/jobs_final.txt
set -euo pipefail
cd "$(dirname "$0")/.."
jobs_file="$1"
export ROOT="${ROOT:-runs/learners}"
parallel="${PARALLEL:-2}"
mkdir -p "$ROOT"
grep -v '^\s*#' "$jobs_file" | grep -v '^\s*$' | xargs -P "$parallel" -L 1 bash -c '
  name="$0"; run="$ROOT/$name"
  echo "start $name $(date -u +%H:%M:%S)"
  mkdir -p "$(dirname "$run")"
  if .venv/bin/python -m launch.train "$@" --root_dir="$run" --noprogress \
       --inter_op_threads=1 --intra_op_threads=1 > "$run.log" 2>&1; then
    echo "done $name $(date -u +%H:%M:%S): $(grep "^final" "$run.log" | cut -c1-200)"
  else
    echo "FAILED $name: $(tail -1 "$run.log")"
  fi'
