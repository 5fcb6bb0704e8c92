"""Training with the class-paired sampler: the IBS head pairs class-paired crops, a resumed run
sees the same pairs without loading the skipped batches, and a real 2-process gloo run keeps
pairs adjacent on every rank.

The config is the repository's "IBS + class-paired sampling" config shrunk like the tiny
baseline (128x256 images, 64x128 crops, batch 2 = one pair), without validation.
"""
import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.runner import Runner

from mmibs.datasets import CocoFormatPanopticDataset, PairedSample
from mmibs.engine import install_checkpoint_loaders

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLE_KEYS = ('index', 'segment_id', 'label', 'scale', 'partner', 'seed', 'batch', 'pair')

RECORDER = """
import json, os
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmdet.registry import HOOKS

def summary(data_batch):
    return [dict({k: m['ibs_sample'][k] for k in %r}, ibs_partner=m['ibs_partner'],
                 window=list(m['ibs_sample']['crop_window']),
                 centre=list(m['ibs_sample']['centre']),
                 resized=list(m['ibs_sample']['resized_shape']))
            for m in (s.metainfo for s in data_batch['data_samples'])]

@HOOKS.register_module(force=True)
class PairRecorderHook(Hook):
    def __init__(self):
        self.batches = {}
    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.batches[batch_idx] = summary(data_batch)
    def after_train(self, runner):
        with open(os.path.join(runner.work_dir, f'pairs_rank{get_rank()}.json'), 'w') as f:
            json.dump(self.batches, f)
""" % (SAMPLE_KEYS, )


def check_batch(batch, crops_per_batch=2):
    assert len(batch) == crops_per_batch
    for position, crop in enumerate(batch):
        partner = batch[crop['ibs_partner']]
        assert crop['ibs_partner'] == crop['partner'] == position ^ 1
        assert partner['label'] == crop['label'] and partner['scale'] == crop['scale']
        # the crop window contains the sampled segment's box centre (its pixel)
        x0, y0, x1, y1 = crop['window']
        new_h, new_w = crop['resized']
        assert x0 <= min(math.floor(crop['centre'][0]), new_w - 1) < x1
        assert y0 <= min(math.floor(crop['centre'][1]), new_h - 1) < y1


def load_recorder(tmp_path):
    path = tmp_path / 'pair_recorder.py'
    path.write_text(RECORDER)
    sys.path.insert(0, str(tmp_path))
    try:
        import importlib
        module = importlib.import_module('pair_recorder')
        return importlib.reload(module)
    finally:
        sys.path.remove(str(tmp_path))


@pytest.fixture(scope='module')
def uninterrupted(synthetic_root, make_tiny_class_paired_cfg, tmp_path_factory):
    """4 iterations in this process; records batches and the IBS head's pairing."""
    work_dir = tmp_path_factory.mktemp('class_paired')
    recorder_module = load_recorder(tmp_path_factory.mktemp('recorder'))
    cfg = make_tiny_class_paired_cfg(synthetic_root, work_dir, max_iters=4)
    runner = Runner.from_cfg(cfg)
    recorder = recorder_module.PairRecorderHook()
    runner.register_hook(recorder)
    head_pairs = []
    from mmibs.models.ibs import pairing as pairing_module
    original = pairing_module.partner_targets

    def recording_partner_targets(batch_img_metas, device):
        targets = original(batch_img_metas, device)
        head_pairs.append(([dict(m['ibs_sample'], ibs_partner=m['ibs_partner'])
                            for m in batch_img_metas], targets.tolist()))
        return targets

    mp = pytest.MonkeyPatch()
    mp.setattr(pairing_module, 'partner_targets', recording_partner_targets)
    try:
        runner.train()
    finally:
        mp.undo()
    return cfg, work_dir, recorder.batches, head_pairs, recorder_module


def test_ibs_head_pairs_class_paired_crops(uninterrupted):
    _, work_dir, batches, head_pairs, _ = uninterrupted
    assert sorted(batches) == [0, 1, 2, 3]
    for batch in batches.values():
        check_batch(batch)
    assert len(head_pairs) >= 4  # once per training step at least
    for metas, targets in head_pairs:
        for b, t in enumerate(targets):
            assert t == metas[b]['ibs_partner'] == b ^ 1
            assert metas[t]['label'] == metas[b]['label']
            assert metas[t]['pair'] == metas[b]['pair'] and metas[t]['batch'] == metas[b]['batch']
    assert (work_dir / 'iter_2.pth').is_file()


def test_resume_sees_the_same_pairs_without_loading_skipped_batches(
        uninterrupted, synthetic_root, make_tiny_class_paired_cfg, tmp_path, monkeypatch):
    cfg, work_dir, batches, _, recorder_module = uninterrupted
    resume_dir = tmp_path / 'resume'
    resume_dir.mkdir()
    (resume_dir / 'iter_2.pth').write_bytes((work_dir / 'iter_2.pth').read_bytes())
    (resume_dir / 'last_checkpoint').write_text(str(resume_dir / 'iter_2.pth'))
    cfg = make_tiny_class_paired_cfg(synthetic_root, resume_dir, max_iters=4)
    cfg.resume = True
    cfg.randomness = dict(seed=None)  # the sampler seed must come from the checkpoint
    install_checkpoint_loaders(cfg)  # as tools/train.py does before it resumes
    loads = []
    original = CocoFormatPanopticDataset.__getitem__

    def counting_getitem(self, idx):
        if isinstance(idx, PairedSample):
            loads.append(idx)
        return original(self, idx)

    monkeypatch.setattr(CocoFormatPanopticDataset, '__getitem__', counting_getitem)
    runner = Runner.from_cfg(cfg)
    recorder = recorder_module.PairRecorderHook()
    runner.register_hook(recorder)
    runner.train()
    assert sorted(recorder.batches) == [2, 3]
    for i in (2, 3):
        assert recorder.batches[i] == batches[i]
    assert len(loads) == 2 * 2  # 2 iterations x 2 crops: the skipped 2 iterations load nothing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_two_gloo_processes_keep_pairs_adjacent_on_every_rank(synthetic_root,
                                                              make_tiny_class_paired_cfg,
                                                              tmp_path):
    work_dir = tmp_path / 'dist'
    (tmp_path / 'pair_recorder.py').write_text(RECORDER)
    cfg = make_tiny_class_paired_cfg(synthetic_root, work_dir, max_iters=2)
    cfg.custom_imports = dict(imports=['mmibs', 'pair_recorder'], allow_failed_imports=False)
    cfg.custom_hooks = cfg.custom_hooks + [dict(type='PairRecorderHook')]
    config_path = tmp_path / 'class_paired_tiny.py'
    cfg.dump(str(config_path))
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', PORT=str(free_port()),
               PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run(['bash', 'tools/dist_train.sh', str(config_path), '2', '--work-dir',
                           str(work_dir)], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    per_rank = [json.loads((work_dir / f'pairs_rank{r}.json').read_text()) for r in (0, 1)]
    for batches in per_rank:
        assert sorted(batches) == ['0', '1']
        for batch in batches.values():
            check_batch(batch)
    assert per_rank[0] != per_rank[1]  # each rank draws its own pairs
