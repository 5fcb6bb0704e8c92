#!/usr/bin/env bash
# The pre-registered comparison of more IBS targets on the synthetic streets default
# (protocol: docs/reproduction.md, "More IBS targets: all pairs and the global batch"):
#
#   bash tools/reproduce_ibs_targets.sh                  # 3 settings x 5 seeds, then the report
#   bash tools/reproduce_ibs_targets.sh --seeds 0 --settings ibs_all_pairs
#
# Settings (the main protocol's data, scale, budget and seeds; the class-paired crop sampler):
#   ibs_class_paired   the main protocol's runs (tools/reproduce_synthetic.sh; trained there if
#                      missing): 1 process x 4 crops, partner pairing
#   ibs_all_pairs      configs/mask2former/mask2former-ibs-all-pairs-class-paired_r18-w32_1xb4-256x512-600it_synthetic-streets.py
#                      1 process x 4 crops, every other crop a target
#   ibs_partner_2x2    configs/mask2former/mask2former-ibs-partner-pairing-class-paired_r18-w32_2xb2-256x512-600it_synthetic-streets.py
#                      2 gloo processes x 2 crops, partner pairing (local)
#   ibs_global_2x2     configs/mask2former/mask2former-ibs-global-all-pairs-class-paired_r18-w32_2xb2-256x512-600it_synthetic-streets.py
#                      2 gloo processes x 2 crops, every other crop of the global batch
# The 2-process runs use tools/dist_train.sh with OMP_NUM_THREADS=1 per process (2 cores).
# Output (--out, default work_dirs/reproduce_synthetic, shared with the main protocol):
#   runs/<setting>_seed<s>/            as tools/reproduce_synthetic.sh
#   report_targets/all_pairs.md        ibs_all_pairs vs ibs_class_paired, paired, 95 % CIs
#   report_targets/global.md           ibs_global_2x2 vs ibs_partner_2x2, paired, 95 % CIs
#   report_targets/*.json              the same as JSON (results_table.py --summary-json)
#   report_targets/per_run.md, diagnostics.md, wall.md
# Finished runs (runs/*/done) are skipped; an unfinished run resumes from its last checkpoint.
#
# Options:
#   --out DIR          output folder
#   --seeds "0 1"      seeds (default "0 1 2 3 4")
#   --settings "a b"   settings to train (default: all four)
#   --no-report        train only
#   --report-only      no training
#   --dry-run          write the configs only (no data, no training)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON=${PYTHON:-"$ROOT/.venv/bin/python"}
OUT=work_dirs/reproduce_synthetic
SEEDS="0 1 2 3 4"
ALL_SETTINGS="ibs_class_paired ibs_all_pairs ibs_partner_2x2 ibs_global_2x2"
SETTINGS_ARG=$ALL_SETTINGS
REPORT_ON=1
TRAIN_ON=1
DRY_RUN=0
ITERS=600
SCALE=0.5
ARGS=("$@")
while [[ $# -gt 0 ]]; do
  case $1 in
    --out) OUT=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --settings) SETTINGS_ARG=$2; shift 2 ;;
    --no-report) REPORT_ON=0; shift ;;
    --report-only) TRAIN_ON=0; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "reproduce_ibs_targets.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
cd "$ROOT"
export PYTHONWARNINGS=ignore
M2F=configs/mask2former
declare -A CONFIG=(
  [ibs_all_pairs]=$M2F/mask2former-ibs-all-pairs-class-paired_r18-w32_1xb4-256x512-600it_synthetic-streets.py
  [ibs_partner_2x2]=$M2F/mask2former-ibs-partner-pairing-class-paired_r18-w32_2xb2-256x512-600it_synthetic-streets.py
  [ibs_global_2x2]=$M2F/mask2former-ibs-global-all-pairs-class-paired_r18-w32_2xb2-256x512-600it_synthetic-streets.py
)
declare -A PROCS=([ibs_all_pairs]=1 [ibs_partner_2x2]=2 [ibs_global_2x2]=2)
read -r -a SETTINGS <<< "$SETTINGS_ARG"
for setting in "${SETTINGS[@]}"; do
  [[ " $ALL_SETTINGS " == *" $setting "* ]] || {
    echo "reproduce_ibs_targets.sh: unknown setting $setting (one of: $ALL_SETTINGS)" >&2; exit 2; }
done
log() { echo "[targets $(date +%H:%M:%S)] $*"; }

GEN_MAJOR=$("$PYTHON" -c "from mmibs.datasets.synthetic import GENERATOR_MAJOR; print(GENERATOR_MAJOR)")
DATA=data/synthetic-v${GEN_MAJOR}-256x512-t100-v20
if [[ $TRAIN_ON == 1 ]]; then
  for setting in "${SETTINGS[@]}"; do
    [[ $setting == ibs_class_paired ]] && continue
    # shellcheck disable=SC2086
    "$PYTHON" tools/experiment_config.py "${CONFIG[$setting]}" \
      --out "$OUT/runs/${setting}_seed{seed}/config.py" --scale "$SCALE" --iters "$ITERS" \
      --seeds $SEEDS --data-root "$DATA/"
  done
  [[ $DRY_RUN == 1 ]] && exit 0
  if [[ " ${SETTINGS[*]} " == *" ibs_class_paired "* ]]; then
    # The main protocol's partner runs (data generation included); finished ones are skipped.
    bash tools/reproduce_synthetic.sh --out "$OUT" --seeds "$SEEDS" --settings ibs_class_paired \
      --no-report
  fi
  if [[ ! -f $DATA/annotations/panoptic_val.json ]]; then  # the main protocol's data
    log "generating $DATA"
    "$PYTHON" tools/dataset_converters/make_synthetic_panoptic.py --out "$DATA" --height 256 \
      --width 512 --num-train 100 --num-val 20 --no-progress > /dev/null
  fi
  for seed in $SEEDS; do
    for setting in "${SETTINGS[@]}"; do
      [[ $setting == ibs_class_paired ]] && continue
      run=$OUT/runs/${setting}_seed$seed
      if [[ -f $run/done ]]; then log "$run: done, skipped"; continue; fi
      resume=()
      [[ -f $run/last_checkpoint ]] && resume=(--resume)
      log "$run: training (${PROCS[$setting]} process(es))"
      t0=$(date +%s)
      if [[ ${PROCS[$setting]} == 1 ]]; then
        "$PYTHON" tools/train.py "$run/config.py" --work-dir "$run" "${resume[@]}" \
          > "$run/train.log" 2>&1 || { log "$run: FAILED, see $run/train.log"; exit 1; }
      else
        OMP_NUM_THREADS=1 PORT=$(( 29500 + RANDOM % 1000 )) bash tools/dist_train.sh \
          "$run/config.py" "${PROCS[$setting]}" --work-dir "$run" "${resume[@]}" \
          > "$run/train.log" 2>&1 || { log "$run: FAILED, see $run/train.log"; exit 1; }
      fi
      echo $(( $(date +%s) - t0 )) > "$run/wall_s"
      touch "$run/done"
      log "$run: finished in $(cat "$run/wall_s") s"
    done
  done
fi
[[ $REPORT_ON == 1 ]] || exit 0

REPORT=$OUT/report_targets
mkdir -p "$REPORT"
METRICS=(PQ PQ_th PQ_st Acc_th Prec_th confusion@30 confusion@50 confusion@70)
runs_of() {  # the comma-separated runs of SETTING for the seeds both A and B finished
  local paths=()
  for seed in $SEEDS; do
    [[ -f $OUT/runs/${1}_seed$seed/done && -f $OUT/runs/${2}_seed$seed/done ]] &&
      paths+=("$OUT/runs/${1}_seed$seed")
  done
  (IFS=,; echo "${paths[*]}")
}
compare() {  # compare NAME BASELINE SETTING
  local base runs
  base=$(runs_of "$2" "$3")
  runs=$(runs_of "$3" "$2")
  [[ -n $base ]] || { log "$1: no seed with both $2 and $3 finished"; return 0; }
  "$PYTHON" tools/analysis_tools/results_table.py "$2=$base" "$3=$runs" --baseline "$2" --ci \
    --metrics "${METRICS[@]}" --summary-json "$REPORT/$1.json" --out "$REPORT/$1.md" > /dev/null
  log "$1: $REPORT/$1.md"
}
compare all_pairs ibs_class_paired ibs_all_pairs
compare global ibs_partner_2x2 ibs_global_2x2
per_run=()
ibs_runs=()
for seed in $SEEDS; do
  for setting in $ALL_SETTINGS; do
    run=$OUT/runs/${setting}_seed$seed
    [[ -f $run/done ]] && per_run+=("${setting}_seed$seed=$run") && ibs_runs+=("$run")
  done
done
if [[ ${#per_run[@]} -gt 0 ]]; then
  "$PYTHON" tools/analysis_tools/results_table.py "${per_run[@]}" --metrics "${METRICS[@]}" \
    --out "$REPORT/per_run.md" > /dev/null
  "$PYTHON" tools/analysis_tools/ibs_diagnostics.py "${ibs_runs[@]}" \
    --out "$REPORT/diagnostics.md" > /dev/null
  {
    echo "Command: \`bash tools/reproduce_ibs_targets.sh ${ARGS[*]}\`; machine: $(nproc --all)" \
      "CPU cores, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| run | wall s (train + val) |"
    echo "|---|---|"
    for run in "${per_run[@]}"; do echo "| ${run%%=*} | $(cat "${run#*=}/wall_s") |"; done
  } > "$REPORT/wall.md"
fi
log "report in $REPORT"
