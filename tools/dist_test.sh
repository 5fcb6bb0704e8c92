#!/usr/bin/env bash
# Distributed testing:  bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py options]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT as in mmdet's script.
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
exec bash "$DIR/torchrun.sh" "$DIR/test.py" "$3" "$1" "$2" "${@:4}"
