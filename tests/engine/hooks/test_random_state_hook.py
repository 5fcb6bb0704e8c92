"""RandomStateHook: a run killed (SIGKILL) and resumed with tools/train.py --resume continues
bit for bit like the uninterrupted run, for the crop baseline and for IBS + class-paired
sampling."""
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[3]

KILL_HOOK = '''
import os
import signal

from mmdet.registry import HOOKS
from mmengine.hooks import Hook


@HOOKS.register_module()
class KillAtIterHook(Hook):
    """SIGKILL the process after iteration ``at_iter`` (1-based), as a preemption would."""
    priority = 'LOWEST'

    def __init__(self, at_iter):
        self.at_iter = at_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.at_iter:
            os.kill(os.getpid(), signal.SIGKILL)
'''


def train(config: Path, work_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=f'{config.parent}{os.pathsep}{REPO_ROOT}',
               OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    return subprocess.run([sys.executable, 'tools/train.py', str(config), '--work-dir',
                           str(work_dir), *extra], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def logged_losses(work_dir: Path) -> dict:
    """``{iteration: {key: value}}`` of every logged training iteration (the later record of
    an iteration wins: a resumed run logs from its checkpoint on)."""
    records = {}
    for path in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if 'loss' in record:
                records[record['iter']] = {k: v for k, v in record.items()
                                           if re.match(r'(d\d+\.)?loss|grad_norm|ibs_', k)}
    return records


@pytest.mark.parametrize('setting', ['crop', 'ibs_class_paired'])
def test_kill_and_resume_is_exact(setting, synthetic_root, make_tiny_cfg,
                                  make_tiny_class_paired_cfg, tmp_path):
    make = make_tiny_cfg if setting == 'crop' else make_tiny_class_paired_cfg
    cfg = make(synthetic_root, tmp_path / 'unused', max_iters=8)
    cfg.default_hooks.checkpoint.interval = 4
    cfg.log_processor = dict(type='LogProcessor', window_size=1, by_epoch=False)
    if cfg.get('val_cfg'):
        cfg.train_cfg.val_interval = 4  # validation at the checkpoint: must not shift the RNG
    (tmp_path / 'kill_hook.py').write_text(KILL_HOOK)
    plain = tmp_path / 'plain.py'
    cfg.dump(str(plain))
    cfg.custom_imports = dict(imports=['mmibs', 'kill_hook'], allow_failed_imports=False)
    cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
        dict(type='KillAtIterHook', at_iter=6)]
    killed_cfg = tmp_path / 'killed.py'
    cfg.dump(str(killed_cfg))

    done = train(plain, tmp_path / 'uninterrupted')
    assert done.returncode == 0, done.stderr[-3000:]
    killed = train(killed_cfg, tmp_path / 'resumed')
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert (tmp_path / 'resumed' / 'iter_4.pth').is_file()
    assert not (tmp_path / 'resumed' / 'iter_8.pth').exists()
    resumed = train(plain, tmp_path / 'resumed', '--resume')
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    expected, got = logged_losses(tmp_path / 'uninterrupted'), logged_losses(tmp_path / 'resumed')
    assert sorted(got) == sorted(expected) == list(range(1, 9))
    for iteration in range(5, 9):  # the resumed iterations
        assert got[iteration] == expected[iteration], iteration
    final = torch.load(tmp_path / 'resumed' / 'iter_8.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    reference = torch.load(tmp_path / 'uninterrupted' / 'iter_8.pth', map_location='cpu',
                           weights_only=False)['state_dict']
    for key, value in reference.items():
        assert torch.equal(final[key], value), key
