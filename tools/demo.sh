#!/usr/bin/env bash
# The main job of `make demo`: train CONFIG on the synthetic default (validating at the end and
# saving checkpoints), then evaluate the saved checkpoint with tools/test.py.
#   bash tools/demo.sh CONFIG WORK_DIR
set -euo pipefail
CONFIG=$1
WORK_DIR=$2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON=${PYTHON:-"$ROOT/.venv/bin/python"}

"$PYTHON" "$ROOT/tools/train.py" "$CONFIG" --work-dir "$WORK_DIR"
CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
echo "[demo] evaluating $CHECKPOINT with tools/test.py"
"$PYTHON" "$ROOT/tools/test.py" "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR/test"
