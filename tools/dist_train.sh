#!/usr/bin/env bash
# Distributed training:  bash tools/dist_train.sh CONFIG NUM_PROCS [train.py options]
# One process per GPU; without a GPU the processes train on the CPU with the gloo backend.
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT as in mmdet's script.
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
exec bash "$DIR/torchrun.sh" "$DIR/train.py" "$2" "$1" "${@:3}"
