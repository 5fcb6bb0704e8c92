#!/usr/bin/env bash
# Creates (or completes) the repository's virtual environment for mmibs.
#
#   bash tools/setup_env.sh [VENV_DIR]      (default: .venv)
#
# Steps, each skipped when already satisfied, so a second run costs seconds:
#   1. the virtual environment (it sees the system site-packages when the system python already has torch,
#      so an existing CUDA torch is reused instead of replaced);
#   2. build tooling and numpy 1.x (requirements/build.txt);
#   3. torch==2.13.0 when no torch is importable (requirements/torch.txt);
#   4. mmcv 2.1.0 built from source with compiled ops against that torch (requirements/mmcv.txt);
#      with a CUDA torch and nvcc, the CUDA ops are built too;
#   5. mmdet, mmsegmentation, mmengine, panopticapi, cityscapesscripts, pytest and mmibs itself (editable,
#      which compiles its C PNG decoder mmibs/evaluation/csrc/png_runs.c).
set -euo pipefail

cd "$(dirname "$0")/.."
VENV="${1:-.venv}"
SYS_PYTHON="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '[setup_env] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
    venv_flags=()
    if "$SYS_PYTHON" -c 'import torch' >/dev/null 2>&1; then
        log "system python has torch $("$SYS_PYTHON" -c 'import torch; print(torch.__version__)'); reusing it"
        venv_flags+=(--system-site-packages)
    fi
    log "creating virtual environment $VENV"
    "$SYS_PYTHON" -m venv "${venv_flags[@]}" "$VENV"
fi
PY="$VENV/bin/python"
pip_install() { "$PY" -m pip install --quiet "$@"; }

log "build tooling"
pip_install -r requirements/build.txt

if ! "$PY" -c 'import torch' >/dev/null 2>&1; then
    log "installing torch (requirements/torch.txt)"
    pip_install -r requirements/torch.txt
fi
"$PY" -c 'import torch; print("[setup_env] torch", torch.__version__, "cuda", torch.version.cuda)'

mmcv_ok() {
    "$PY" - <<'EOF' >/dev/null 2>&1
import mmcv
from mmcv.ops import nms  # loads the compiled mmcv._ext
assert mmcv.__version__ == '2.1.0', mmcv.__version__
EOF
}
if ! mmcv_ok; then
    mmcv_env=(MMCV_WITH_OPS=1 "MAX_JOBS=${MAX_JOBS:-$(nproc)}")
    cache_flags=()
    if "$PY" -c 'import torch, sys; sys.exit(torch.version.cuda is None)' && command -v nvcc >/dev/null 2>&1; then
        log "CUDA torch and nvcc found: building mmcv with CUDA ops"
        mmcv_env+=(FORCE_CUDA=1)
        # pip's wheel cache may hold a CPU-only build of the same sdist.
        cache_flags+=(--no-cache-dir)
    fi
    log "building mmcv 2.1.0 with ops from source (about 13 min on 2 cores; pip caches the wheel)"
    env "${mmcv_env[@]}" "$PY" -m pip install --quiet --no-build-isolation "${cache_flags[@]}" \
        -r requirements/mmcv.txt -r requirements/runtime.txt
    mmcv_ok || { log "mmcv was installed but its compiled ops do not import"; exit 1; }
fi

log "runtime and test requirements"
pip_install -r requirements/runtime.txt -r requirements/tests.txt
if ! "$PY" -I - <<'EOF' >/dev/null 2>&1  # -I: the current directory is not on sys.path
import importlib.util, pathlib, sys
spec = importlib.util.find_spec('mmibs')  # locates the package without importing it
if spec is None or pathlib.Path(spec.origin).resolve().parents[1] != pathlib.Path.cwd().resolve():
    sys.exit(1)
# The compiled PNG decoder must exist and be newer than its C source.
ext = importlib.util.find_spec('mmibs.evaluation._png_runs')
source = pathlib.Path('mmibs/evaluation/csrc/png_runs.c')
sys.exit(ext is None or pathlib.Path(ext.origin).stat().st_mtime < source.stat().st_mtime)
EOF
then
    log "installing mmibs (editable; compiles mmibs/evaluation/csrc/png_runs.c)"
    pip_install --no-deps --no-build-isolation -e .
fi

"$PY" - <<'EOF'
import mmcv, mmdet, mmengine, numpy, torch
from mmcv.ops import get_compiling_cuda_version
import mmibs  # noqa: F401
print(f'[setup_env] ready: torch {torch.__version__}, mmcv {mmcv.__version__} '
      f'(ops compiled, CUDA: {get_compiling_cuda_version()}), mmdet {mmdet.__version__}, '
      f'mmengine {mmengine.__version__}, numpy {numpy.__version__}')
EOF
