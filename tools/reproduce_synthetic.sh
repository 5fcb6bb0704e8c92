#!/usr/bin/env bash
# The pre-registered reproduction of the paper's confusion experiment (Table 3 settings,
# Figure 5, Figure 6) on the synthetic streets default (protocol: docs/reproduction.md):
#
#   bash tools/reproduce_synthetic.sh                       # the protocol: 6 settings x 5 seeds
#   bash tools/reproduce_synthetic.sh --settings "crop ibs_class_paired" --seeds 0   # make demo
#   bash tools/reproduce_synthetic.sh --gpu                 # the configs' own size, on a GPU
#   bash tools/reproduce_synthetic.sh --model panoptic_fcn  # the protocol for Panoptic FCN
#
# Settings (same model, optimizer, schedule, iterations, batch of 4 images and seeds):
#   full_image           configs/mask2former/mask2former_r18-w32_1xb4-512x1024-600it_synthetic-streets-full-image.py
#   crop                 configs/mask2former/mask2former_r18-w32_1xb4-256x512-600it_synthetic-streets.py
#   ibs_random           configs/mask2former/mask2former-ibs-random-pairing_r18-w32_1xb4-256x512-600it_synthetic-streets.py
#   ibs_class_paired     configs/mask2former/mask2former-ibs-partner-pairing-class-paired_r18-w32_1xb4-256x512-600it_synthetic-streets.py
#   crop_d0              crop, on data generated with --instance-diversity 0 (instances are clones)
#   ibs_class_paired_d0  ibs_class_paired, on the same diversity-0 data
# With --model panoptic_fcn (paper Table 3's network; default out work_dirs/reproduce_synthetic_pfcn,
# summary.json under a "panoptic_fcn" key), three settings:
#   crop                 configs/panoptic_fcn/panoptic-fcn_r18-w32_1xb4-256x512-600it_synthetic-streets.py
#   ibs_random           configs/panoptic_fcn/panoptic-fcn-ibs-random-pairing_r18-w32_1xb4-256x512-600it_synthetic-streets.py
#   ibs_class_paired     configs/panoptic_fcn/panoptic-fcn-ibs-partner-pairing-class-paired_r18-w32_1xb4-256x512-600it_synthetic-streets.py
# Every pixel size of the configs is multiplied by --scale (tools/experiment_config.py) and the
# data are generated at that size. Output (--out, default work_dirs/reproduce_synthetic):
#   runs/<setting>_seed<s>/     config.py, the work dir, train.log, wall_s (training + validation)
#   report/table.md             mean ± std over seeds, paired differences to crop with 95 % CIs
#                               (tools/analysis_tools/protocol_report.py)
#   report/table_ablation_d0.md ibs_class_paired_d0 vs crop_d0, paired, 95 % CIs
#   report/table_per_run.md     every run's metrics
#   report/summary.json         n_seeds, means, paired differences + CIs to crop and, as
#                               "vs_crop_d0", the ablation's to crop_d0
#   report/diagnostics.md       IBS diagnostics of every IBS run (ibs_diagnostics.py)
#   report/confusion_curve.png  Figure 5 (plot_confusion_curve.py, + .json)
#   report/panels/              Figure 6 (visualize_confusion.py): GT / crop / IBS + class-paired
#                               [/ full image] of the first seed, the images crop confuses most
#   report/summary.md           command, machine, wall times, the table
# Runs go seed by seed over the crop-resolution settings, then full_image (3.5x the time per
# step) for every seed. Finished runs (runs/*/done) are skipped, so the protocol can run in
# parts: an interrupted invocation resumes where it stopped (an unfinished run restarts from
# its last checkpoint). The report covers the runs that are done.
#
# Options:
#   --model NAME        mask2former (default) or panoptic_fcn
#   --out DIR           output folder
#   --seeds "0 1"       seeds (default "0 1 2 3 4")
#   --settings "a b"    settings to run, of the six above (default: all)
#   --iters N           training iterations (default 600)
#   --scale F           pixel-size factor of configs and data (default 0.5; --gpu: 1)
#   --num-train N       training images (default 100)
#   --num-val N         validation images (default 20)
#   --data-dir DIR      parent folder of the generated data (default data)
#   --panel-images N    val images in the Figure-6 panels (default 2)
#   --gpu               GPU preset: --scale 1 --iters 3000
#   --no-report         train only
#   --report-only       no training: the report of the runs that are done
#   --dry-run           write the configs only (no data, no training)
# Environment: PYTHON (default .venv/bin/python), PROGRESS_S (seconds between the progress lines
# of a training run, read from its train.log; default 30).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON=${PYTHON:-"$ROOT/.venv/bin/python"}
OUT=
MODEL=mask2former
SEEDS="0 1 2 3 4"
SETTINGS_ARG=
ITERS=600
SCALE=0.5
NUM_TRAIN=100
NUM_VAL=20
DATA_DIR=data
DRY_RUN=0
REPORT_ON=1
TRAIN_ON=1
PANEL_IMAGES=2
PROGRESS_S=${PROGRESS_S:-30}  # seconds between progress lines of a training run
ARGS=("$@")
while [[ $# -gt 0 ]]; do
  case $1 in
    --model) MODEL=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --settings) SETTINGS_ARG=$2; shift 2 ;;
    --iters) ITERS=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --num-train) NUM_TRAIN=$2; shift 2 ;;
    --num-val) NUM_VAL=$2; shift 2 ;;
    --data-dir) DATA_DIR=$2; shift 2 ;;
    --panel-images) PANEL_IMAGES=$2; shift 2 ;;
    --gpu) SCALE=1; ITERS=3000; shift ;;
    --no-report) REPORT_ON=0; shift ;;
    --report-only) TRAIN_ON=0; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "reproduce_synthetic.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
cd "$ROOT"
export PYTHONWARNINGS=ignore

M2F=configs/mask2former
PFCN=configs/panoptic_fcn
SUMMARY_KEY=()
case $MODEL in
  mask2former)
    declare -A CONFIG=(
      [full_image]=$M2F/mask2former_r18-w32_1xb4-512x1024-600it_synthetic-streets-full-image.py
      [crop]=$M2F/mask2former_r18-w32_1xb4-256x512-600it_synthetic-streets.py
      [ibs_random]=$M2F/mask2former-ibs-random-pairing_r18-w32_1xb4-256x512-600it_synthetic-streets.py
      [ibs_class_paired]=$M2F/mask2former-ibs-partner-pairing-class-paired_r18-w32_1xb4-256x512-600it_synthetic-streets.py
    )
    CONFIG[crop_d0]=${CONFIG[crop]}
    CONFIG[ibs_class_paired_d0]=${CONFIG[ibs_class_paired]}
    ALL_SETTINGS="crop ibs_class_paired ibs_random crop_d0 ibs_class_paired_d0 full_image"
    OUT=${OUT:-work_dirs/reproduce_synthetic} ;;
  panoptic_fcn)
    declare -A CONFIG=(
      [crop]=$PFCN/panoptic-fcn_r18-w32_1xb4-256x512-600it_synthetic-streets.py
      [ibs_random]=$PFCN/panoptic-fcn-ibs-random-pairing_r18-w32_1xb4-256x512-600it_synthetic-streets.py
      [ibs_class_paired]=$PFCN/panoptic-fcn-ibs-partner-pairing-class-paired_r18-w32_1xb4-256x512-600it_synthetic-streets.py
    )
    ALL_SETTINGS="crop ibs_class_paired ibs_random"
    SUMMARY_KEY=(--summary-key panoptic_fcn)
    OUT=${OUT:-work_dirs/reproduce_synthetic_pfcn} ;;
  *) echo "reproduce_synthetic.sh: unknown --model $MODEL (mask2former or panoptic_fcn)" >&2
     exit 2 ;;
esac
SETTINGS_ARG=${SETTINGS_ARG:-$ALL_SETTINGS}
read -r -a SETTINGS <<< "$SETTINGS_ARG"
for setting in "${SETTINGS[@]}"; do
  [[ -n ${CONFIG[$setting]:-} ]] || {
    echo "reproduce_synthetic.sh: unknown setting $setting (one of: $ALL_SETTINGS)" >&2; exit 2; }
done
HEIGHT=$("$PYTHON" -c "print(round(512 * $SCALE))")
WIDTH=$("$PYTHON" -c "print(round(1024 * $SCALE))")
GEN_MAJOR=$("$PYTHON" -c "from mmibs.datasets.synthetic import GENERATOR_MAJOR; print(GENERATOR_MAJOR)")
DATA=$DATA_DIR/synthetic-v${GEN_MAJOR}-${HEIGHT}x${WIDTH}-t${NUM_TRAIN}-v${NUM_VAL}
data_of() { if [[ $1 == *_d0 ]]; then echo "$DATA-d0"; else echo "$DATA"; fi; }
START=$(date +%s)

log() { echo "[reproduce $(date +%H:%M:%S)] $*"; }

if [[ $TRAIN_ON == 1 ]]; then
  for setting in "${SETTINGS[@]}"; do
    # shellcheck disable=SC2086
    "$PYTHON" tools/experiment_config.py "${CONFIG[$setting]}" \
      --out "$OUT/runs/${setting}_seed{seed}/config.py" --scale "$SCALE" --iters "$ITERS" \
      --seeds $SEEDS --data-root "$(data_of "$setting")/"
  done
  log "configs written to $OUT/runs (scale $SCALE, $ITERS iterations, seeds $SEEDS)"
fi
[[ $DRY_RUN == 1 ]] && exit 0

generate() {  # generate DIR [generator options]
  local dir=$1; shift
  [[ -f $dir/annotations/panoptic_val.json ]] && return 0
  log "generating $dir (${HEIGHT}x${WIDTH}, $NUM_TRAIN train / $NUM_VAL val images $*)"
  "$PYTHON" tools/dataset_converters/make_synthetic_panoptic.py --out "$dir" \
    --height "$HEIGHT" --width "$WIDTH" --num-train "$NUM_TRAIN" --num-val "$NUM_VAL" \
    --no-progress "$@" > /dev/null
}
generate "$DATA"
[[ " ${SETTINGS[*]} " == *_d0\ * ]] && generate "$DATA-d0" --instance-diversity 0

progress() {  # progress RUN: its last logged iteration and ETA, from train.log
  local line
  line=$(grep -o 'Iter(train) \[ *[0-9]*/[0-9]*\].*eta: [0-9:]*' "$1/train.log" | tail -n 1) || true
  if [[ -n $line ]]; then
    log "$1: iteration $(sed 's/.*\[ *\([0-9]*\/[0-9]*\)\].*/\1/' <<< "$line"), eta ${line##*eta: }"
  else
    log "$1: starting (train.log has no iteration yet)"
  fi
}

train() {  # train SETTING SEED
  local run=$OUT/runs/${1}_seed$2
  if [[ -f $run/done ]]; then log "$run: done, skipped"; return 0; fi
  if [[ $TRAIN_ON == 0 ]]; then log "$run: not done, left out of the report"; return 0; fi
  log "$run: training"
  local resume=()
  [[ -f $run/last_checkpoint ]] && resume=(--resume)
  local t0
  t0=$(date +%s)
  "$PYTHON" tools/train.py "$run/config.py" --work-dir "$run" "${resume[@]}" \
    > "$run/train.log" 2>&1 &
  local pid=$! waited=0
  trap 'kill "$pid" 2>/dev/null; exit 143' TERM INT  # stopping the script stops the run
  while kill -0 "$pid" 2>/dev/null; do  # a progress line every PROGRESS_S seconds
    sleep 1
    (( ++waited % PROGRESS_S == 0 )) && progress "$run"
  done
  wait "$pid" || { log "$run: FAILED, see $run/train.log"; exit 1; }
  trap - TERM INT
  echo $(( $(date +%s) - t0 )) > "$run/wall_s"
  touch "$run/done"
  log "$run: finished in $(cat "$run/wall_s") s"
}
# Seed by seed over the crop-resolution settings, so that an early stop leaves complete
# comparisons; then the expensive full-image runs.
for seed in $SEEDS; do
  for setting in "${SETTINGS[@]}"; do
    [[ $setting == full_image ]] || train "$setting" "$seed"
  done
done
if [[ " ${SETTINGS[*]} " == *" full_image "* ]]; then
  for seed in $SEEDS; do train full_image "$seed"; done
fi
[[ $REPORT_ON == 1 ]] || exit 0

REPORT=$OUT/report
mkdir -p "$REPORT"
runs_of() {  # the comma-separated finished runs of SETTING, in seed order
  local paths=()
  for seed in $SEEDS; do
    [[ -f $OUT/runs/${1}_seed$seed/done ]] && paths+=("$OUT/runs/${1}_seed$seed")
  done
  (IFS=,; echo "${paths[*]}")
}
specs=()
main_settings=()
ablation=()
for setting in "${SETTINGS[@]}"; do
  runs=$(runs_of "$setting")
  [[ -n $runs ]] && specs+=("$setting=$runs")
  if [[ $setting == *_d0 ]]; then ablation+=("$setting"); else main_settings+=("$setting"); fi
done
# crop_d0 first: the ablation's own baseline (its val set is the diversity-0 data).
[[ " ${ablation[*]} " == *" crop_d0 "* ]] && ablation=(crop_d0 "${ablation[@]/crop_d0}")
read -r -a ablation <<< "${ablation[*]}"
METRICS=(PQ PQ_th PQ_st Acc_th Prec_th confusion@30 confusion@50 confusion@70)
if [[ " ${SETTINGS[*]} " == *" crop "* && -n $(runs_of crop) ]]; then
  # shellcheck disable=SC2086
  "$PYTHON" tools/analysis_tools/protocol_report.py "$OUT/runs" --seeds $SEEDS \
    --settings "${main_settings[@]}" --ablation "${ablation[@]}" --out-dir "$REPORT" \
    "${SUMMARY_KEY[@]}"
else
  "$PYTHON" tools/analysis_tools/results_table.py "${specs[@]}" --metrics "${METRICS[@]}" \
    --out "$REPORT/table.md"
fi
per_run=()
for seed in $SEEDS; do
  for setting in "${SETTINGS[@]}"; do
    run=$OUT/runs/${setting}_seed$seed
    [[ -f $run/done ]] && per_run+=("${setting}_seed$seed=$run")
  done
done
"$PYTHON" tools/analysis_tools/results_table.py "${per_run[@]}" --metrics "${METRICS[@]}" \
  --out "$REPORT/table_per_run.md" > /dev/null
ibs_runs=()
for run in "${per_run[@]}"; do [[ ${run%%=*} == ibs_* ]] && ibs_runs+=("${run#*=}"); done
if [[ ${#ibs_runs[@]} -gt 0 ]]; then
  "$PYTHON" tools/analysis_tools/ibs_diagnostics.py "${ibs_runs[@]}" \
    --out "$REPORT/diagnostics.md" > /dev/null
fi
"$PYTHON" tools/analysis_tools/plot_confusion_curve.py "${specs[@]}" \
  --out "$REPORT/confusion_curve.png" \
  --title "Confusion on synthetic streets val (${HEIGHT}x${WIDTH}, $ITERS it)"
first_seed=${SEEDS%% *}
panels=()
# Figure 6: the crop baseline first (images ordered by its confused segments), then IBS.
for setting in crop ibs_class_paired full_image; do
  run=$OUT/runs/${setting}_seed$first_seed
  [[ -f $run/done ]] && panels+=(--panel "$setting" "$run/config.py" "$(cat "$run/last_checkpoint")")
done
if [[ ${#panels[@]} -ge 6 ]]; then
  "$PYTHON" tools/analysis_tools/visualize_confusion.py "$DATA/annotations/panoptic_val.json" \
    --img-dir "$DATA/images/val" "${panels[@]}" --out-dir "$REPORT/panels" --max-images "$PANEL_IMAGES" \
    --order confused
fi

{
  echo "# Synthetic reproduction report"
  echo
  echo "Command: \`bash tools/reproduce_synthetic.sh ${ARGS[*]}\`"
  echo
  echo "Machine: $(nproc --all) CPU cores, $(uname -m), OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}," \
    "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "Data: $DATA (${HEIGHT}x${WIDTH}, $NUM_TRAIN train / $NUM_VAL val images; *_d0: $DATA-d0)"
  echo
  echo "| run | wall s (train + val) |"
  echo "|---|---|"
  total=0
  for run in "${per_run[@]}"; do
    wall=$(cat "${run#*=}/wall_s")
    total=$(( total + wall ))
    echo "| ${run%%=*} | $wall |"
  done
  echo
  echo "Sum of the runs' wall times: $total s; this invocation (skipping finished runs," \
    "with data generation and report): $(( $(date +%s) - START )) s"
  echo
  cat "$REPORT/table.md"
} > "$REPORT/summary.md.tmp" && mv "$REPORT/summary.md.tmp" "$REPORT/summary.md"
log "report in $REPORT"
