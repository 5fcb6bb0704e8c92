"""tools/setup_env.sh is idempotent: a second run needs no network and builds nothing."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)

pytestmark = pytest.mark.skipif(not (VENV / '.mmibs-env-ready').is_file(),
                                reason='runs only inside the .venv that `make` set up')


def test_second_run_is_cheap_and_offline():
    env = dict(os.environ, PIP_NO_INDEX='1')  # any download attempt fails the run
    proc = subprocess.run(['bash', 'tools/setup_env.sh', str(VENV)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert 'building mmcv' not in output and 'installing torch' not in output
    assert 'ready: torch' in output and 'mmcv 2.1.0 (ops compiled' in output


def test_make_considers_the_environment_up_to_date():
    proc = subprocess.run(['make', '-q', 'env', f'VENV={VENV}'], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
