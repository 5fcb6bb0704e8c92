"""A short train / validate / test / resume cycle of the baseline config, through the real tools.

The tiny dataset (128x256 images, 64x128 crops) keeps each run to a few seconds on a CPU.
"""
import copy
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import cv2
import mmengine
import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

from mmibs.engine import install_checkpoint_loaders

PQ_PATTERN = re.compile(r'coco_panoptic/PQ: ([0-9.]+)')


REPO_ROOT = Path(__file__).resolve().parents[2]


def run_tool(*args, timeout=600):
    """Run a repository tool with the current interpreter; return its combined output."""
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1')
    proc = subprocess.run(list(args), cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


def free_port() -> int:
    """A TCP port that is free on localhost right now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='module')
def trained(synthetic_root, make_tiny_cfg, tmp_path_factory):
    """Train the tiny config for 4 iterations with tools/train.py; return (config path, work
    dir)."""
    work_dir = tmp_path_factory.mktemp('train')
    cfg = make_tiny_cfg(synthetic_root, work_dir, max_iters=4)
    cfg.val_evaluator = [
        cfg.val_evaluator,
        dict(type='DumpDetResults', out_file_path=str(work_dir / 'val_predictions.pkl'))
    ]
    config_path = work_dir / 'tiny_config.py'
    cfg.dump(str(config_path))
    output = run_tool(sys.executable, 'tools/train.py', str(config_path), '--work-dir',
                      str(work_dir))
    return config_path, work_dir, output


def test_train_validates_and_saves_checkpoints(trained):
    _, work_dir, output = trained
    assert (work_dir / 'iter_4.pth').is_file() and (work_dir / 'iter_2.pth').is_file()
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith('iter_4.pth')
    assert PQ_PATTERN.search(output), output[-3000:]


def test_test_tool_reproduces_validation(trained, tmp_path):
    """tools/test.py on the last checkpoint gives the end-of-training validation, pixel for
    pixel."""
    config_path, work_dir, train_output = trained
    val_pq = PQ_PATTERN.findall(train_output)[-1]
    output = run_tool(sys.executable, 'tools/test.py', str(config_path),
                      str(work_dir / 'iter_4.pth'), '--work-dir', str(tmp_path), '--out',
                      str(tmp_path / 'test_predictions.pkl'))
    assert PQ_PATTERN.findall(output)[-1] == val_pq
    val_predictions = mmengine.load(work_dir / 'val_predictions.pkl')
    test_predictions = mmengine.load(tmp_path / 'test_predictions.pkl')
    assert [p['img_id'] for p in val_predictions] == [p['img_id'] for p in test_predictions]
    for val_pred, test_pred in zip(val_predictions, test_predictions):
        torch.testing.assert_close(test_pred['pred_panoptic_seg']['sem_seg'],
                                   val_pred['pred_panoptic_seg']['sem_seg'], rtol=0, atol=0)


def test_test_tool_show_dir_paints_every_test_image(trained, tmp_path):
    """mmdet's --show-dir: one painted image (GT | prediction) per test image under the
    timestamped work dir; --show-confusion draws them with ConfusionVisualizer instead."""
    config_path, work_dir, _ = trained
    drawings = {}
    for name, extra in (('mmdet', []), ('confusion', ['--show-confusion', '30'])):
        run_tool(sys.executable, 'tools/test.py', str(config_path), str(work_dir / 'iter_4.pth'),
                 '--work-dir', str(tmp_path / name), '--show-dir', 'vis', *extra)
        painted = sorted((tmp_path / name).glob('*/vis/*.*'))
        assert len(painted) == 2  # the tiny val split's 2 images
        drawings[name] = cv2.imread(str(painted[0]))
        assert drawings[name].shape == (128, 512, 3)
    assert not np.array_equal(drawings['mmdet'], drawings['confusion'])


def test_load_from_restores_the_trained_weights(trained, synthetic_root, make_tiny_cfg,
                                                tmp_path):
    """``load_from`` (what tools/test.py sets) loads every trained weight under torch >= 2.6."""
    _, work_dir, _ = trained
    cfg = make_tiny_cfg(synthetic_root, tmp_path, max_iters=4)
    cfg.load_from = str(work_dir / 'iter_4.pth')
    install_checkpoint_loaders(cfg)  # as tools/train.py and tools/test.py do
    runner = Runner.from_cfg(cfg)
    initial = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.load_or_resume()
    saved = _load_checkpoint(cfg.load_from, map_location='cpu')['state_dict']
    loaded = runner.model.state_dict()
    assert saved.keys() == loaded.keys()
    for key, value in saved.items():
        torch.testing.assert_close(loaded[key], value, rtol=0, atol=0)
    assert any(not torch.equal(initial[k], saved[k]) for k in saved if saved[k].is_floating_point())


class _RecordResumedState(Hook):
    """Records the iteration and optimizer state right after the Runner resumed."""

    def before_train(self, runner) -> None:
        self.iter = runner.iter
        self.optimizer_state = copy.deepcopy(runner.optim_wrapper.optimizer.state_dict())


def test_resume_restores_iteration_and_optimizer(trained, synthetic_root, make_tiny_cfg,
                                                 tmp_path):
    _, work_dir, _ = trained
    resume_dir = tmp_path / 'resume'
    resume_dir.mkdir()
    for name in ('iter_4.pth', 'last_checkpoint'):
        (resume_dir / name).write_bytes((work_dir / name).read_bytes())
    (resume_dir / 'last_checkpoint').write_text(str(resume_dir / 'iter_4.pth'))

    cfg = make_tiny_cfg(synthetic_root, resume_dir, max_iters=6)
    cfg.resume = True
    install_checkpoint_loaders(cfg)
    runner = Runner.from_cfg(cfg)
    recorder = _RecordResumedState()
    runner.register_hook(recorder)
    runner.train()

    saved = _load_checkpoint(str(work_dir / 'iter_4.pth'), map_location='cpu')
    assert recorder.iter == 4
    assert runner.iter == 6
    saved_state = saved['optimizer']['state']
    resumed_state = recorder.optimizer_state['state']
    assert saved_state.keys() == resumed_state.keys() and len(saved_state) > 0
    for key, value in saved_state.items():
        torch.testing.assert_close(resumed_state[key]['exp_avg'], value['exp_avg'])
        assert int(resumed_state[key]['step']) == int(value['step']) == 4


def test_dist_train_two_cpu_processes(trained, tmp_path, monkeypatch):
    config_path, _, _ = trained
    monkeypatch.setenv('PORT', str(free_port()))
    output = run_tool('bash', 'tools/dist_train.sh', str(config_path), '2', '--work-dir',
                      str(tmp_path))
    assert (tmp_path / 'iter_4.pth').is_file()
    assert re.search(r"world_size: 2|'world_size': 2|Distributed launcher: pytorch", output), \
        output[-3000:]
    assert PQ_PATTERN.search(output)


def test_dist_test_two_cpu_processes_matches_single_process(trained, tmp_path, monkeypatch):
    config_path, work_dir, train_output = trained
    monkeypatch.setenv('PORT', str(free_port()))
    output = run_tool('bash', 'tools/dist_test.sh', str(config_path), str(work_dir / 'iter_4.pth'),
                      '2', '--work-dir', str(tmp_path), '--out', str(tmp_path / 'dist.pkl'))
    assert PQ_PATTERN.findall(output)[-1] == PQ_PATTERN.findall(train_output)[-1]
    single = {p['img_id']: p for p in mmengine.load(work_dir / 'val_predictions.pkl')}
    dist = {p['img_id']: p for p in mmengine.load(tmp_path / 'dist.pkl')}
    assert dist.keys() == single.keys()
    for img_id, pred in dist.items():
        torch.testing.assert_close(pred['pred_panoptic_seg']['sem_seg'],
                                   single[img_id]['pred_panoptic_seg']['sem_seg'], rtol=0, atol=0)
