"""The overfitting check (tools/analysis_tools/overfit_check.py) of both networks.

Each network trains on two synthetic-streets images with no augmentation and is validated on
the same images through tools/analysis_tools/overfit_check.py (a subprocess, as a user runs
it). A correct port memorises them; the same check fails when a bug of the kind unit tests miss
is planted (tests/helpers/planted_bugs.py). Thresholds and the measured values:
docs/panoptic_fcn.md ("Overfitting check").
"""
import contextlib
import io
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


def overfit(repo_root, work_dir, network: str, bug: str = '', cfg_options=()):
    """Run the check of ``network`` (with ``bug`` planted, ``cfg_options`` applied); its return
    code, overfit.json and output."""
    config, scale, iters, thresholds = CASES[network]
    cmd = [sys.executable, 'tools/analysis_tools/overfit_check.py', config, '--work-dir',
           str(work_dir), '--scale', str(scale), '--iters', str(iters), '--min',
           *[f'{key}={value}' for key, value in thresholds.items()]]
    env = dict(os.environ, OMP_NUM_THREADS='2', PYTHONWARNINGS='ignore', MMIBS_PLANTED_BUG=bug,
               PYTHONPATH=os.pathsep.join([str(repo_root / 'tests' / 'helpers'),
                                           os.environ.get('PYTHONPATH', '')]))
    cfg_options = list(cfg_options)
    if bug:
        cfg_options.append('custom_imports.imports=[mmibs,planted_bugs]')
    if cfg_options:
        cmd += ['--cfg-options', *cfg_options]
    proc = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, env=env,
                          timeout=900)
    output = proc.stdout + proc.stderr
    assert (work_dir / 'overfit.json').is_file(), output[-4000:]
    return proc.returncode, json.loads((work_dir / 'overfit.json').read_text()), output


@pytest.fixture(scope='module')
def memorised_m2f(repo_root, tmp_path_factory):
    """The clean Mask2Former check, keeping its final checkpoint (work dir, result, output)."""
    work_dir = tmp_path_factory.mktemp('overfit_m2f')
    code, result, output = overfit(repo_root, work_dir, 'mask2former', cfg_options=[
        'default_hooks.checkpoint.save_last=True', 'default_hooks.checkpoint.by_epoch=False'])
    return work_dir, code, result, output


def test_mask2former_memorises_two_images(memorised_m2f):
    _, code, result, output = memorised_m2f
    assert code == 0 and result['passed'], output[-2000:]
    assert result['metrics']['PQ_th'] > 50  # things are learned too, not only stuff


def test_panoptic_fcn_memorises_two_images(repo_root, tmp_path):
    code, result, output = overfit(repo_root, tmp_path, 'panoptic_fcn')
    assert code == 0 and result['passed'], output[-2000:]
    assert result['metrics']['PQ_th'] > 50


def test_out_dir_export_scores_exactly_as_the_test_tool(memorised_m2f, repo_root, tmp_path,
                                                        tool):
    """tools/test.py --out-dir writes COCO panoptic predictions with the dataset's (stuff-first)
    category ids; eval_panoptic.py on them gives every number tools/test.py logged (on the
    memorised model, so that PQ, SQ, Acc^th and Prec^th are far from 0)."""
    work_dir = memorised_m2f[0]
    config = next(work_dir.glob('*.py'))
    out_dir = tmp_path / 'preds'
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', str(config), str(work_dir / 'iter_300.pth'),
         '--work-dir', str(tmp_path / 'run'), '--out-dir', str(out_dir)],
        cwd=repo_root, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='2', PYTHONWARNINGS='ignore'))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    logged = json.loads(next((tmp_path / 'run').glob('*/*.json')).read_text().splitlines()[-1])
    assert logged['coco_panoptic/PQ'] > 90 and logged['coco_panoptic/Acc_th'] > 90
    gt_json = next(work_dir.glob('data-*')) / 'annotations' / 'panoptic_train.json'
    assert json.loads(gt_json.read_text())['categories'][0]['isthing'] == 0  # stuff first
    with contextlib.redirect_stdout(io.StringIO()):
        scores = tool('analysis_tools/eval_panoptic').main(
            [str(gt_json), str(out_dir / 'results.panoptic.json')])
    assert scores['warnings'] == []
    expected = {'coco_panoptic/Acc_th': scores['acc_th'],
                'coco_panoptic/Prec_th': scores['prec_th']}
    for group, suffix in (('All', ''), ('Things', '_th'), ('Stuff', '_st')):
        for key in ('pq', 'sq', 'rq'):
            expected[f'coco_panoptic/{key.upper()}{suffix}'] = scores[group][key]
    for t, value in scores['confusion'].items():
        expected[f'coco_panoptic/confusion@{t}'] = value
        expected[f'coco_panoptic/confusion_same@{t}'] = scores['confusion_same_class'][t]
    assert len(expected) == 29
    for key, value in expected.items():
        assert logged[key] == pytest.approx(100 * value, abs=1e-9), key


@pytest.mark.parametrize('network, bug, missed', [
    ('panoptic_fcn', 'pfcn_stuff_thing_embed', 'PQ_st'),
    ('mask2former', 'm2f_mirrored_targets', 'PQ'),
])
def test_check_fails_on_a_planted_bug(repo_root, tmp_path, network, bug, missed):
    code, result, output = overfit(repo_root, tmp_path, network, bug)
    assert code == 1 and not result['passed'], output[-2000:]
    assert result['metrics'][missed] < CASES[network][3][missed]
    assert 'overfit check: FAILED' in output
