"""Panoptic FCN training: solver (detectron2's WarmupPolyLR), tools on the synthetic config,
Cityscapes run.

The tool runs use the tiny synthetic tree (128x256 images, 64x128 crops) and the fake
Cityscapes tree (32x64 images) of tests/conftest.py; each takes seconds on a CPU.
"""
import math
import os
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS
from mmengine.runner import Runner

SYNTHETIC = 'configs/panoptic_fcn/panoptic-fcn_r18-w32_1xb4-256x512-600it_synthetic-streets.py'
CITYSCAPES_IBS = ('configs/panoptic_fcn/panoptic-fcn-ibs-partner-pairing-class-paired_'
                  'r50_4xb8-512x1024-65k_cityscapes-panoptic.py')
PQ_PATTERN = re.compile(r'coco_panoptic/PQ: ([0-9.]+)')


def d2_warmup_poly(it: int, base: float = 0.02, warmup: int = 1000,
                   max_iters: int = 65000) -> float:
    """detectron2's WarmupPolyLR (linear warm-up factor 0.001, power 0.9), written out."""
    factor = 0.001 + (1 - 0.001) * it / warmup if it < warmup else 1.0
    return base * factor * (1 - it / max_iters)**0.9


def test_schedule_optimiser_and_clipping_match_detectron2(repo_root, tiny_model_cfg):
    cfg = Config.fromfile(str(repo_root / 'configs/panoptic_fcn/'
                                          'panoptic-fcn_r50_4xb8-512x1024-65k_cityscapes-panoptic.py'))
    from mmdet.registry import MODELS
    model = MODELS.build(tiny_model_cfg)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert wrapper.clip_grad_kwargs == dict(clip_value=5.0)
    assert wrapper.clip_func is torch.nn.utils.clip_grad_value_
    decays = {id(group['params'][0]): group['weight_decay']
              for group in wrapper.optimizer.param_groups}
    gn = model.panoptic_head.position_head.convs[0].gn
    assert decays[id(gn.weight)] == 0 and decays[id(gn.bias)] == 0
    assert decays[id(model.panoptic_head.thing_embed.weight)] == 1e-4
    assert decays[id(model.panoptic_head.thing_embed.bias)] == 1e-4  # bias: plain weight decay
    # the schedulers on a one-group optimiser (stepping ~100 param groups 65k times is slow)
    single = OptimWrapper(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.02))
    schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=single))
                  for s in cfg.param_scheduler]
    lrs = {}
    for it in range(65000):  # the schedulers as the runner steps them (< 1 s)
        lrs[it] = single.optimizer.param_groups[0]['lr']
        for scheduler in schedulers:
            scheduler.step()
    for it in (0, 500, 1000, 30000, 64999):
        assert lrs[it] == pytest.approx(d2_warmup_poly(it), rel=1e-6), it


def run_tool(*args, timeout=600) -> str:
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout, env=env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


def tiny_synthetic_cfg(repo_root, data_root, work_dir, local_data, max_iters: int) -> Config:
    cfg = Config.fromfile(str(repo_root / SYNTHETIC))
    full_wh, crop_wh = (256, 128), (128, 64)
    cfg.model.panoptic_head.norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)
    cfg.model.test_cfg.stuff_area_limit = 32
    for step in cfg.train_dataloader.dataset.pipeline:
        if step.type == 'RandomResize':
            step.scale = full_wh
        if step.type == 'RandomCrop':
            step.crop_size = crop_wh
    for step in cfg.val_dataloader.dataset.pipeline:
        if step.type == 'Resize':
            step.scale = full_wh
    cfg.train_dataloader.batch_size = 2
    local_data(cfg, data_root, 'annotations/panoptic_val/')
    cfg.train_cfg.update(max_iters=max_iters, val_interval=max_iters)
    cfg.param_scheduler[0].end = 2
    cfg.param_scheduler[1].end = max_iters + 1
    cfg.default_hooks.checkpoint.interval = max_iters
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = str(work_dir)
    return cfg


def test_synthetic_config_trains_then_tools_test_scores(repo_root, synthetic_root, tmp_path,
                                                        local_data):
    cfg = tiny_synthetic_cfg(repo_root, synthetic_root, tmp_path, local_data, max_iters=3)
    config = tmp_path / 'pfcn_tiny.py'
    cfg.dump(str(config))
    output = run_tool(str(repo_root / 'tools/train.py'), str(config), '--work-dir',
                      str(tmp_path))
    assert 'loss_seg_th' in output and PQ_PATTERN.search(output)
    checkpoint = tmp_path / 'iter_3.pth'
    assert checkpoint.is_file()
    output = run_tool(str(repo_root / 'tools/test.py'), str(config), str(checkpoint),
                      '--work-dir', str(tmp_path / 'test'))
    pq = PQ_PATTERN.findall(output)
    assert pq and 0 <= float(pq[-1]) <= 100
    assert 'coco_panoptic/Acc_th' in output
    # the stuff-path diagnosis on the same checkpoint: rows of the first val image's classes
    # (training-path IoUs in [0, 1]) and a 4-panel stride-4 figure
    diag = tmp_path / 'diag'
    output = run_tool(str(repo_root / 'tools/analysis_tools/pfcn_stuff_diagnosis.py'),
                      str(config), str(checkpoint), '--out-dir', str(diag), '--max-images', '1')
    rows = [line.split('|')[1:-1] for line in (diag / 'report.md').read_text().splitlines()
            if line.startswith('| synth_val')]
    train_ious = [float(r[3]) for r in rows if r[3].strip() != '–']
    assert train_ious and all(0 <= iou <= 1 for iou in train_ious), output[-2000:]
    import cv2
    panel = cv2.imread(str(next(diag.glob('*_stuff.png'))))
    assert panel.shape[:2] == (2 * 128 // 4, 2 * 4 * 256 // 4)  # 4 stride-4 maps, drawn x2


def test_cityscapes_ibs_config_few_iterations(repo_root, fake_cityscapes_root, tmp_path,
                                              local_data):
    """The Cityscapes IBS + class-paired config as released but for sizes: 64 x 128 crops,
    2 crops (one pair), no pretrained download, validation at 64 x 128, no checkpoint."""
    cfg = Config.fromfile(str(repo_root / CITYSCAPES_IBS))
    assert cfg.model.panoptic_head.ibs.loss.loss_weight == 4.0
    assert cfg.train_dataloader.batch_size == 8
    crop_wh = (128, 64)
    cfg.work_dir = str(tmp_path)
    cfg.model.backbone.init_cfg = None
    for step in cfg.train_dataloader.dataset.pipeline:
        if step.type == 'ClassPairedCrop':
            step.update(crop_size=crop_wh, min_short_side=64, max_short_side=192,
                        max_long_side=384, stuff_resize=dict(scale=(128, 64),
                                                             ratio_range=(1.0, 2.0)))
    for step in cfg.val_dataloader.dataset.pipeline:
        if step.type == 'Resize':
            step.scale = crop_wh
    cfg.train_dataloader.batch_size = 2
    local_data(cfg, fake_cityscapes_root, 'gtFine/cityscapes_panoptic_val/')
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.param_scheduler[0].end = 2
    cfg.param_scheduler[1].end = 3
    cfg.model.test_cfg.stuff_area_limit = 8
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = None
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub
    for key in ('loss_pos_th', 'loss_pos_st', 'loss_seg_th', 'loss_seg_st', 'loss_ibs_th'):
        values = hub.get_scalar(f'train/{key}').data[0]
        assert len(values) == 2 and all(math.isfinite(v) and v >= 0 for v in values), key
    assert 'coco_panoptic/PQ' in hub.log_scalars or 'val/coco_panoptic/PQ' in hub.log_scalars
