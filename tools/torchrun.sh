#!/usr/bin/env bash
# Shared launcher of dist_train.sh / dist_test.sh:  bash tools/torchrun.sh SCRIPT NUM_PROCS [script args]
# Multi-node through NNODES, NODE_RANK, MASTER_ADDR and PORT, as mmdet's scripts.
# Uses the repository's .venv when PYTHON is not set and .venv exists.
set -euo pipefail
SCRIPT=$1
NPROC=$2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python; fi
fi
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROC" \
    "$SCRIPT" "${@:3}" --launcher pytorch
