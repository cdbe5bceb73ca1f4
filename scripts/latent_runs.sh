#!/usr/bin/env bash
# The runs behind results/latent/ (issue 15): MACE on a preset (SETTING, default stag10; fig1 for
# the 2 v 2 game) with a latent-use variant, over seeds, then launch.inspect_latent on each run's
# final sampling export. Rerunning resumes (launch.train continues a run; a finished inspection is
# kept).
#
#   VARIANTS="info005:--latent_info_coef=0.05" SEEDS="0 1 2" bash scripts/latent_runs.sh
#   SETTING=fig1 VARIANTS="info005:--latent_info_coef=0.05" SEEDS=0 bash scripts/latent_runs.sh
#   SETTING=stag10_paper GAME=stag10 VARIANTS="info005:--latent_info_coef=0.05" bash scripts/latent_runs.sh
#
# A variant is <name>[:<flags, comma-separated>]; runs go to runs/latent/<setting>/mace_<name>_s<seed>/,
# inspections to results/latent/<setting>/mace_<name>_s<seed>/. A name starting with shared or
# cloned trains that baseline instead (runs/latent/<setting>/<name>_s<seed>/, not inspected).
set -euo pipefail
cd "${REPO:-$(dirname "$0")/..}"
py=.venv/bin/python
variants=${VARIANTS:-"marginal:--entropy_bonus=marginal"}
seeds=${SEEDS:-"0 1 2"}
setting=${SETTING:-stag10}
game=${GAME:-$setting}  # the game's flagfile under launch/games/ (a _paper twin plays its setting's)
for seed in $seeds; do
  for variant in $variants; do
    name=${variant%%:*}
    [ "$variant" = "$name" ] && variant="$name:"  # a variant without flags: the preset itself
    extra=$(echo "${variant#*:}" | tr ',' ' ')
    model=mace label=mace_$name
    case $name in shared*|cloned*) model=${name%%_*} label=$name;; esac  # a baseline, not inspected
    run=runs/latent/$setting/${label}_s$seed
    echo "== $label seed $seed $(date -u +%FT%TZ)" >&2
    $py -m launch.train --flagfile=launch/$setting.flags --model=$model --seed=$seed $extra \
      --root_dir=$run --noprogress
    out=results/latent/$setting/${label}_s$seed
    if [ $model = mace ] && [ ! -f $out/inspect_latent.json ]; then
      $py -m launch.inspect_latent --saved_model=$run/export/policy \
        --flagfile=launch/games/$game.flags --output_dir=$out --label=${label}_s$seed
    fi
  done
done
