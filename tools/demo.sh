#!/usr/bin/env bash
# `make demo`: the crop baseline and crop + IBS + class-paired sampling, trained with the same
# seed on the synthetic default (seed 0 of these two settings of the pre-registered protocol,
# tools/reproduce_synthetic.sh, docs/reproduction.md), then tools/test.py on the IBS checkpoint.
# Prints both rows and the differences (PQ, PQ^th, Acc^th, Prec^th, confusion@50) and writes the
# Figure-5 curve and a Figure-6 panel to WORK_DIR/report.
#   bash tools/demo.sh [WORK_DIR]      (default work_dirs/demo)
set -euo pipefail
WORK_DIR=${1:-work_dirs/demo}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON=${PYTHON:-"$ROOT/.venv/bin/python"}
cd "$ROOT"
START=$(date +%s)

bash tools/reproduce_synthetic.sh --out "$WORK_DIR" --seeds 0 \
  --settings "crop ibs_class_paired" --panel-images 1
IBS_RUN=$WORK_DIR/runs/ibs_class_paired_seed0
echo "[demo] evaluating $(cat "$IBS_RUN/last_checkpoint") with tools/test.py"
PYTHONWARNINGS=ignore "$PYTHON" tools/test.py "$IBS_RUN/config.py" "$(cat "$IBS_RUN/last_checkpoint")" \
  --work-dir "$IBS_RUN/test" > "$IBS_RUN/test.log" 2>&1 || {
  echo "[demo] tools/test.py failed, see $IBS_RUN/test.log" >&2; exit 1; }
echo "[demo] tools/test.py on that checkpoint (equals the validation at the end of training):"
"$PYTHON" tools/analysis_tools/results_table.py "ibs_class_paired (tools/test.py)=$IBS_RUN/test" \
  --metrics PQ PQ_th Acc_th Prec_th confusion@50

echo
echo "[demo] crop baseline vs crop + IBS + class-paired sampling (seed 0; one seed is an"
echo "[demo] example, not a result: docs/reproduction.md has the 5-seed protocol with CIs)"
"$PYTHON" tools/analysis_tools/results_table.py "crop=$WORK_DIR/runs/crop_seed0" \
  "ibs_class_paired=$IBS_RUN" --baseline crop \
  --metrics PQ PQ_th Acc_th Prec_th confusion@50 --out "$WORK_DIR/report/demo_table.md"
echo "[demo] IBS diagnostics (first / middle / last logging window):"
cat "$WORK_DIR/report/diagnostics.md"
echo "[demo] where things are:"
echo "  checkpoints    $WORK_DIR/runs/{crop,ibs_class_paired}_seed0/iter_600.pth"
echo "  training logs  $WORK_DIR/runs/*_seed0/train.log (metrics: <timestamp>/vis_data/scalars.json)"
echo "  test log       $IBS_RUN/test.log (tools/test.py work dir: $IBS_RUN/test)"
echo "  tables         $WORK_DIR/report/{demo_table.md,table.md,summary.json,diagnostics.md}"
echo "  Figure 5       $WORK_DIR/report/confusion_curve.png"
echo "  Figure 6       $WORK_DIR/report/panels/*.png"
echo "[demo] total $(( $(date +%s) - START )) s (finished runs are kept: a re-run only redoes the report)"
