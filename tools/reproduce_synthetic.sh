#!/usr/bin/env bash
# Reproduce the paper's confusion experiment (Table 3 settings, Figure 5, Figure 6) on the
# synthetic streets default, with one command:
#
#   bash tools/reproduce_synthetic.sh                 # CPU size: 256x512 images, 300 iterations
#   bash tools/reproduce_synthetic.sh --gpu           # 512x1024 images (the configs' own size)
#
# Trains four settings with the same model, optimizer, schedule, iterations, batch of 4 images
# and seeds, and evaluates each at the end of training (PanopticPixelMetric on the val split):
#   full-image             configs/mask2former/mask2former_r18-w32_1xb4-512x1024-300it_synthetic-streets-full-image.py
#   crop                   configs/mask2former/mask2former_r18-w32_1xb4-256x512-300it_synthetic-streets.py
#   crop-ibs-random        configs/mask2former/mask2former-ibs-random-pairing_r18-w32_1xb4-256x512-300it_synthetic-streets.py
#   crop-ibs-class-paired  configs/mask2former/mask2former-ibs-partner-pairing-class-paired_r18-w32_1xb4-256x512-300it_synthetic-streets.py
# Every pixel size of the configs is multiplied by --scale (tools/experiment_config.py) and
# the data are generated at that size. Output (--out, default work_dirs/reproduce_synthetic):
#   runs/<setting>_seed<s>/     config.py, the work dir, wall_s (training + validation time)
#   report/table.md             results_table.py: mean ± std over seeds, deltas vs crop
#   report/table_per_run.md     the same metrics for every run
#   report/confusion_curve.png  plot_confusion_curve.py (+ .json with the plotted numbers)
#   report/panels/              visualize_confusion.py: GT / crop / IBS + class-paired / full
#                               image (first seed), the 4 images most confused by crop
#   report/summary.md           command, machine, wall times
# Finished runs (runs/*/done) are skipped, so an interrupted reproduction resumes where it
# stopped (an unfinished run restarts from its last checkpoint).
#
# Options:
#   --out DIR        output folder
#   --seeds "0 1"    seeds (each setting is trained once per seed)
#   --iters N        training iterations (default 300)
#   --scale F        pixel-size factor of configs and data (default 0.5; --gpu: 1)
#   --num-val N      validation images (default 20)
#   --gpu            GPU preset: --scale 1 --iters 3000 --seeds "0 1 2"
#   --dry-run        write the configs only (no data, no training)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON=${PYTHON:-"$ROOT/.venv/bin/python"}
OUT=work_dirs/reproduce_synthetic
SEEDS="0 1"
ITERS=300
SCALE=0.5
NUM_TRAIN=40
NUM_VAL=20
DRY_RUN=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --out) OUT=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --iters) ITERS=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --num-val) NUM_VAL=$2; shift 2 ;;
    --gpu) SCALE=1; ITERS=3000; SEEDS="0 1 2"; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    *) echo "reproduce_synthetic.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
cd "$ROOT"
export PYTHONWARNINGS=ignore

SETTINGS=(full-image crop crop-ibs-random crop-ibs-class-paired)
declare -A CONFIG=(
  [full-image]=configs/mask2former/mask2former_r18-w32_1xb4-512x1024-300it_synthetic-streets-full-image.py
  [crop]=configs/mask2former/mask2former_r18-w32_1xb4-256x512-300it_synthetic-streets.py
  [crop-ibs-random]=configs/mask2former/mask2former-ibs-random-pairing_r18-w32_1xb4-256x512-300it_synthetic-streets.py
  [crop-ibs-class-paired]=configs/mask2former/mask2former-ibs-partner-pairing-class-paired_r18-w32_1xb4-256x512-300it_synthetic-streets.py
)
declare -A LABEL=(
  [full-image]='full image'
  [crop]='crop'
  [crop-ibs-random]='crop + IBS (random pairing)'
  [crop-ibs-class-paired]='crop + IBS + class-paired sampling'
)
HEIGHT=$("$PYTHON" -c "print(round(512 * $SCALE))")
WIDTH=$("$PYTHON" -c "print(round(1024 * $SCALE))")
DATA=data/synthetic-${HEIGHT}x${WIDTH}-val${NUM_VAL}
START=$(date +%s)

log() { echo "[reproduce $(date +%H:%M:%S)] $*"; }

for setting in "${SETTINGS[@]}"; do
  # shellcheck disable=SC2086
  "$PYTHON" tools/experiment_config.py "${CONFIG[$setting]}" \
    --out "$OUT/runs/${setting}_seed{seed}/config.py" --scale "$SCALE" --iters "$ITERS" \
    --seeds $SEEDS --data-root "$DATA/"
done
log "configs written to $OUT/runs (scale $SCALE, $ITERS iterations, seeds $SEEDS)"
[[ $DRY_RUN == 1 ]] && exit 0

if [[ ! -f $DATA/annotations/panoptic_val.json ]]; then
  log "generating $DATA (${HEIGHT}x${WIDTH}, $NUM_TRAIN train / $NUM_VAL val images)"
  "$PYTHON" tools/dataset_converters/make_synthetic_panoptic.py --out "$DATA" \
    --height "$HEIGHT" --width "$WIDTH" --num-train "$NUM_TRAIN" --num-val "$NUM_VAL" \
    --no-progress > /dev/null
fi

# Seed by seed, so that an early stop leaves complete comparisons.
for seed in $SEEDS; do
  for setting in "${SETTINGS[@]}"; do
    run=$OUT/runs/${setting}_seed$seed
    if [[ -f $run/done ]]; then log "$run: done, skipped"; continue; fi
    log "$run: training"
    resume=()
    [[ -f $run/last_checkpoint ]] && resume=(--resume)
    t0=$(date +%s)
    "$PYTHON" tools/train.py "$run/config.py" --work-dir "$run" "${resume[@]}" \
      > "$run/train.log" 2>&1 || { log "$run: FAILED, see $run/train.log"; exit 1; }
    echo $(( $(date +%s) - t0 )) > "$run/wall_s"
    touch "$run/done"
    log "$run: finished in $(cat "$run/wall_s") s"
  done
done

REPORT=$OUT/report
mkdir -p "$REPORT"
specs=()
for setting in "${SETTINGS[@]}"; do
  paths=()
  for seed in $SEEDS; do paths+=("$OUT/runs/${setting}_seed$seed"); done
  specs+=("${LABEL[$setting]}=$(IFS=,; echo "${paths[*]}")")
done
METRICS=(PQ PQ_th PQ_st Acc_th Prec_th confusion@30 confusion@50 confusion@70)
"$PYTHON" tools/analysis_tools/results_table.py "${specs[@]}" --baseline crop \
  --metrics "${METRICS[@]}" --out "$REPORT/table.md"
per_run=()
for seed in $SEEDS; do
  for setting in "${SETTINGS[@]}"; do
    per_run+=("${setting}_seed$seed=$OUT/runs/${setting}_seed$seed")
  done
done
"$PYTHON" tools/analysis_tools/results_table.py "${per_run[@]}" --metrics "${METRICS[@]}" \
  --out "$REPORT/table_per_run.md" > /dev/null
"$PYTHON" tools/analysis_tools/plot_confusion_curve.py "${specs[@]}" \
  --out "$REPORT/confusion_curve.png" \
  --title "Confusion on synthetic streets val (${HEIGHT}x${WIDTH}, $ITERS it)"
first_seed=${SEEDS%% *}
panels=()
# Figure 6: the crop baseline first (images ordered by its confused segments), then IBS.
for setting in crop crop-ibs-class-paired full-image; do
  run=$OUT/runs/${setting}_seed$first_seed
  panels+=(--panel "${LABEL[$setting]}" "$run/config.py" "$(cat "$run/last_checkpoint")")
done
"$PYTHON" tools/analysis_tools/visualize_confusion.py "$DATA/annotations/panoptic_val.json" \
  --img-dir "$DATA/images/val" "${panels[@]}" --out-dir "$REPORT/panels" --max-images 4 \
  --order confused

{
  echo "# Synthetic reproduction report"
  echo
  echo "Command: \`bash tools/reproduce_synthetic.sh --out $OUT --seeds \"$SEEDS\" --iters $ITERS --scale $SCALE --num-val $NUM_VAL\`"
  echo
  echo "Machine: $(nproc --all) CPU cores, $(uname -m), OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}," \
    "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "Data: $DATA (${HEIGHT}x${WIDTH}, $NUM_TRAIN train / $NUM_VAL val images)"
  echo
  echo "| run | wall s (train + val) |"
  echo "|---|---|"
  total=0
  for seed in $SEEDS; do
    for setting in "${SETTINGS[@]}"; do
      wall=$(cat "$OUT/runs/${setting}_seed$seed/wall_s")
      total=$(( total + wall ))
      echo "| ${setting}_seed$seed | $wall |"
    done
  done
  echo
  echo "Sum of the runs' wall times: $total s; this invocation (skipping finished runs," \
    "with data generation and report): $(( $(date +%s) - START )) s"
  echo
  cat "$REPORT/table.md"
} > "$REPORT/summary.md.tmp" && mv "$REPORT/summary.md.tmp" "$REPORT/summary.md"
log "report in $REPORT"
