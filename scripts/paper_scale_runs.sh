#!/usr/bin/env bash
# The runs behind results/paper_scale/ (issue 12): every model of every setting at the presets'
# defaults, then the reference rows and the report. Rerunning resumes: a finished run does nothing,
# an unfinished one continues from its newest checkpoint, an existing reference row is kept.
#
#   bash scripts/paper_scale_runs.sh                       # all 8 settings, seed 0 (18+ hours: no)
#   SETTINGS="stag10 hare10" SEEDS="0 1 2" bash scripts/paper_scale_runs.sh
#   MODELS="mace" SETTINGS=stag10 SEEDS=0 bash scripts/paper_scale_runs.sh
#   SETTINGS="stag10_paper hare10_paper" bash scripts/paper_scale_runs.sh   # the paper-faithful twins
#
# Runs go to ${RUNS:-runs/paper_scale}/<setting>/<model>_s<seed>/; FLAGS_EXTRA is appended to each
# launch.train command (e.g. FLAGS_EXTRA="--num_samples=500000").
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-runs/paper_scale}
out=${OUTPUT:-results/paper_scale}
settings=${SETTINGS:-"stag10 hare10 stag10_moving hare10_moving stag20 hare20 stag20_moving hare20_moving"}
models=${MODELS:-"mace shared cloned"}
seeds=${SEEDS:-0}
py=.venv/bin/python
mkdir -p "$out/references"
for setting in $settings; do
  game=${setting%_paper}  # a paper-faithful twin (<setting>_paper) plays its setting's game
  for policy in random nearest; do
    [ "$game" = "$setting" ] || break  # the twin's reference rows are its setting's
    ref="$out/references/${setting}_${policy}.json"
    if [ ! -f "$ref" ]; then
      $py -m launch.evaluate --policy=$policy --flagfile=launch/games/$game.flags --episodes=100 \
        --budget_samples=1000000 --budget_games=32 --nogif --output_dir="$out/references/tmp" \
        && mv "$out/references/tmp/evaluation.json" "$ref"
    fi
  done
  for seed in $seeds; do
    for model in $models; do
      echo "== $setting $model seed $seed" >&2
      $py -m launch.train --flagfile=launch/$setting.flags --model=$model --seed=$seed \
        --root_dir="$runs/$setting/${model}_s$seed" --noprogress ${FLAGS_EXTRA:-}
    done
  done
done
$py -m launch.paper_scale --runs_dir="$runs" --output_dir="$out"
