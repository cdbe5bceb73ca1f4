#!/usr/bin/env bash
# The sweeps behind results/REPRODUCTION.md (issue 14): the random search of appendix 8.2 on every
# setting, the paper-faithful twins on the 10v10 settings, and the KL ablation. Rerunning resumes:
# finished trials are skipped, unfinished ones continue from their checkpoints, so that the work can
# span sessions.
#
#   bash scripts/reproduce.sh                      # everything, in the order below
#   STEPS="stag10 kl_ablation kl_ablation:stag10_paper" bash scripts/reproduce.sh
#   STEPS=report bash scripts/reproduce.sh         # the report of every sweep, run or archived
#
# runs/ does not outlive its machine: the step `report` archives what the report reads of each
# sweep and KL ablation under results/sweeps/archived/data/ (commit it), and builds the report from
# every sweep and ablation there, one still in runs/ replacing its archived copy.
#
# A step that fails (a trial's error) is reported and the next one starts; a rerun resumes it.
# Sweeps go to ${SWEEPS:-runs/sweeps}/<preset>/, the ablations' runs to runs/kl_ablation/<preset>/.
# Two trials run at once, one core each (on 2 cores: 2 x 21k samples/s at stag10, against 11.5k
# for one trial on both cores).
set -euo pipefail
cd "${REPO:-$(dirname "$0")/..}"
sweeps=${SWEEPS:-runs/sweeps}
models=${MODELS:-"mace,shared,cloned,tfa_ppo"}
py=.venv/bin/python
steps=${STEPS:-"stag10 hare10 kl_ablation stag10_moving hare10_moving stag10_paper kl_ablation:stag10_paper hare10_paper
  stag10_moving_paper hare10_moving_paper stag20 hare20 stag20_moving hare20_moving
  hare10_t1000 hare10_moving_t1000 hare20_t1000 hare20_moving_t1000 stag10_paired hare10_paired report"}
archived=results/sweeps/archived
for step in $steps; do
  echo "== $step $(date -u +%FT%TZ)" >&2
  if [ "$step" = report ]; then
    dirs=""
    for d in "$sweeps"/*/ "$archived"/data/*/; do
      [ -f "$d/sweep.json" ] || continue
      name=$(basename "$d")
      case ",$dirs," in *"/$name,"*) continue;; esac  # runs/sweeps/<name> first, then its copy
      dirs="$dirs${dirs:+,}${d%/}"
      # Figure 7's settings (<game>_t1000) get their reference rows here; the others' come from
      # scripts/paper_scale_runs.sh.
      case $name in *_t1000)
        for policy in random nearest; do
          ref=results/paper_scale/references/${name}_$policy.json
          [ -f "$ref" ] && continue
          $py -m launch.evaluate --policy=$policy --flagfile=launch/games/${name%_t1000}.flags \
            --time_limit=1000 --episodes=100 --budget_samples=1000000 --budget_games=32 --nogif \
            --output_dir=results/paper_scale/references/tmp \
            && mv results/paper_scale/references/tmp/evaluation.json "$ref"
        done;;
      esac
    done
    ablations=""
    for d in runs/kl_ablation/*/ "$archived"/data/kl_ablation/*/; do
      [ -d "$d" ] || continue
      name=$(basename "$d")
      case ",$ablations," in *"/$name,"*) continue;; esac
      ablations="$ablations${ablations:+,}${d%/}"
    done
    # --rerun_of: the first report's tables (results/sweeps/, its runs lost with their machine),
    # against which the sweeps run again with the same draws and seeds are compared.
    [ -n "$dirs" ] && $py -m launch.report --sweeps="$dirs" --kl_ablation="$ablations" \
      --rerun_of=results/sweeps/summary.json --output_dir=$archived
    continue
  fi
  case $step in *_paired)
    # The preset's search again (stag10_paired, hare10_paired), with trial k of every model on the
    # same draws (launch.sweep --paired_draws): the models compared on equal hyperparameters.
    $py -m launch.sweep --flagfile=launch/${step%_paired}.flags --models=mace,shared,cloned --trials=8 \
      --paired_draws --sweep_dir=$sweeps/$step --cpus_per_trial=1 \
      || echo "== $step: not finished (rerun to resume)" >&2
    continue;;
  esac
  if [ "${step%%:*}" = kl_ablation ]; then
    # MACE on a preset (kl_ablation:<preset>, default stag10): its kl_coef against none (section 4,
    # "Using the ELBO").
    preset=stag10
    [ "$step" = kl_ablation ] || preset=${step#*:}
    for seed in 0 1 2; do
      for variant in mace:0.001 mace_nokl:0.0; do
        $py -m launch.train --flagfile=launch/$preset.flags --model=mace --kl_coef=${variant#*:} \
          --seed=$seed --root_dir=runs/kl_ablation/$preset/${variant%%:*}_s$seed --noprogress
      done
    done
    continue
  fi
  trials=8  # per model on the 10v10 settings; 4 on the 20v20 ones, the paper-faithful twins and
  # figure 7's Hare-Hunters at T = 1000
  case $step in *20*|*_paper|*_t1000) trials=4;; esac
  $py -m launch.sweep --flagfile=launch/$step.flags --models=$models --trials=$trials \
    --sweep_dir=$sweeps/$step --cpus_per_trial=1 || echo "== $step: not finished (rerun to resume)" >&2
done
