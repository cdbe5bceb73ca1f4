#!/usr/bin/env bash
# Runs training jobs from a job file, two at a time with one TensorFlow thread pool each (on 2
# cores: ~2x the samples/s of one run on both, BUILD_NOTES.md). One job per line:
#   <run name> <flags...>
# Each run goes to $ROOT/<run name> (default runs/learners) and resumes if it exists, so a killed
# queue is restarted with the same command. Lines starting with # are skipped.
#   bash scripts/queue_runs.sh results/learners/jobs_stag10.txt
set -euo pipefail
cd "$(dirname "$0")/.."
jobs_file="$1"
root="${ROOT:-runs/learners}"
parallel="${PARALLEL:-2}"
mkdir -p "$root"
grep -v '^\s*#' "$jobs_file" | grep -v '^\s*$' | \
  xargs -P "$parallel" -L 1 bash -c 'name="$0"; echo "start $name $(date -u +%H:%M:%S)";
    .venv/bin/python -m launch.train "$@" --root_dir='"$root"'/"$name" --progress=false \
      --inter_op_threads=1 --intra_op_threads=1 > '"$root"'/"$name".log 2>&1 \
      && echo "done $name $(date -u +%H:%M:%S): $(grep "^final" '"$root"'/"$name".log | cut -c1-200)" \
      || echo "FAILED $name: $(tail -1 '"$root"'/"$name".log)"'
