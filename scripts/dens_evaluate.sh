#!/usr/bin/env bash
# Evaluates every finished hidden-stag run (issue 19) into results/latent/dens/<game>/<model>_s<seed>/:
# launch.evaluate on the final sampling export (1,000 episodes per den, the stag fixed in each den in
# turn: worst_den_capture_rate), launch.inspect_latent for MACE (I(a_i; a_j | s) at the start state),
# and a copy of the run's metrics.jsonl; then the report (launch.report --dens). Runs already
# evaluated are skipped, so it is rerun as runs finish.
#   ROOT=runs/dens bash scripts/dens_evaluate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="${ROOT:-runs/dens}"
OUT="${OUT:-results/latent/dens}"
for run in "$ROOT"/*/*_s[0-9]*; do
  [ -d "$run/export/policy" ] && grep -q '^final' "$run.log" 2>/dev/null || continue
  game="$(basename "$(dirname "$run")")"; name="$(basename "$run")"; out="$OUT/$game/$name"
  [ -f "$out/evaluation.json" ] && continue
  mkdir -p "$out"
  .venv/bin/python -m launch.evaluate --flagfile="launch/games/$game.flags" \
    --saved_model="$run/export/policy" --episodes=1000 --seed=1 --nogif --output_dir="$out" \
    | grep -E "worst den|terminal reward per" || true
  if [[ "$name" == mace_* ]]; then
    .venv/bin/python -m launch.inspect_latent --flagfile="launch/games/$game.flags" \
      --saved_model="$run/export/policy" --episodes=200 --num_states=20 --seed=1 --output_dir="$out" \
      > "$out/inspect_latent.log" 2>&1 || echo "inspect_latent failed on $run (see $out/inspect_latent.log)"
    rm -f "$out"/*.png "$out/inspect_latent.log"
  fi
  cp "$run/metrics.jsonl" "$out/metrics.jsonl"
  echo "evaluated $game/$name"
done
.venv/bin/python -m launch.report --dens="$OUT"
