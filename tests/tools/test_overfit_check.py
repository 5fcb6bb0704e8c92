"""The overfitting check (tools/analysis_tools/overfit_check.py) of both networks.

Each network trains on two synthetic-streets images with no augmentation and is validated on
the same images through tools/analysis_tools/overfit_check.py (a subprocess, as a user runs
it). A correct port memorises them; the same check fails when a bug of the kind unit tests miss
is planted (tests/helpers/planted_bugs.py). Thresholds and the measured values:
docs/panoptic_fcn.md ("Overfitting check").
"""
import json
import os
import subprocess
import sys

import pytest

M2F = 'configs/mask2former/mask2former_r18-w32_1xb4-256x512-600it_synthetic-streets.py'
PFCN = 'configs/panoptic_fcn/panoptic-fcn_r18-w32_1xb4-256x512-600it_synthetic-streets.py'
#: network -> (config, pixel scale, iterations, pass thresholds)
CASES = {
    'mask2former': (M2F, 0.25, 300, dict(PQ=90, PQ_st=90, mIoU=90)),
    'panoptic_fcn': (PFCN, 0.5, 300, dict(PQ=50, PQ_st=50, mIoU=55)),
}


def overfit(repo_root, work_dir, network: str, bug: str = ''):
    """Run the check of ``network`` (with ``bug`` planted); its return code and overfit.json."""
    config, scale, iters, thresholds = CASES[network]
    cmd = [sys.executable, 'tools/analysis_tools/overfit_check.py', config, '--work-dir',
           str(work_dir), '--scale', str(scale), '--iters', str(iters), '--min',
           *[f'{key}={value}' for key, value in thresholds.items()]]
    env = dict(os.environ, OMP_NUM_THREADS='2', PYTHONWARNINGS='ignore', MMIBS_PLANTED_BUG=bug,
               PYTHONPATH=os.pathsep.join([str(repo_root / 'tests' / 'helpers'),
                                           os.environ.get('PYTHONPATH', '')]))
    if bug:
        cmd += ['--cfg-options', 'custom_imports.imports=[mmibs,planted_bugs]']
    proc = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, env=env,
                          timeout=900)
    output = proc.stdout + proc.stderr
    assert (work_dir / 'overfit.json').is_file(), output[-4000:]
    return proc.returncode, json.loads((work_dir / 'overfit.json').read_text()), output


@pytest.mark.parametrize('network', sorted(CASES))
def test_network_memorises_two_images(repo_root, tmp_path, network):
    code, result, output = overfit(repo_root, tmp_path, network)
    assert code == 0 and result['passed'], output[-2000:]
    assert result['metrics']['PQ_th'] > 50  # things are learned too, not only stuff


@pytest.mark.parametrize('network, bug, missed', [
    ('panoptic_fcn', 'pfcn_stuff_thing_embed', 'PQ_st'),
    ('mask2former', 'm2f_mirrored_targets', 'PQ'),
])
def test_check_fails_on_a_planted_bug(repo_root, tmp_path, network, bug, missed):
    code, result, output = overfit(repo_root, tmp_path, network, bug)
    assert code == 1 and not result['passed'], output[-2000:]
    assert result['metrics'][missed] < CASES[network][3][missed]
    assert 'overfit check: FAILED' in output
