"""`configs/ibs/m2f_r50_cityscapes_ibs.py` trains a few iterations on CPU (fake Cityscapes).

The paper's Cityscapes Mask2Former + IBS + class-paired config runs through mmengine's Runner
as written, except for sizes and what needs a GPU: 64x128 crops instead of 512x1024, 20
queries and 256 points, no AMP, no pretrained download, validation at 64x128, no checkpoint.
"""
import math

from mmengine.config import Config
from mmengine.runner import Runner

CONFIG = 'configs/ibs/m2f_r50_cityscapes_ibs.py'
CROP_HW = (64, 128)
MAX_ITERS = 2


def tiny_cfg(repo_root, data_root, work_dir, local_data) -> Config:
    cfg = Config.fromfile(str(repo_root / CONFIG))
    cfg.work_dir = str(work_dir)
    cfg.optim_wrapper.type = 'OptimWrapper'  # AMP needs a GPU
    cfg.optim_wrapper.pop('loss_scale')
    cfg.model.backbone.init_cfg = None
    cfg.model.data_preprocessor.batch_augments[0].size = CROP_HW
    cfg.model.panoptic_head.num_queries = 20
    cfg.model.train_cfg.num_points = 256
    for step in cfg.train_dataloader.dataset.pipeline:
        if step.type == 'ClassPairedCrop':
            step.crop_size = CROP_HW[::-1]
    for step in cfg.val_dataloader.dataset.pipeline:
        if step.type == 'Resize':
            step.scale = CROP_HW[::-1]
    local_data(cfg, data_root, 'gtFine/cityscapes_panoptic_val/')
    cfg.train_cfg.update(max_iters=MAX_ITERS, val_interval=MAX_ITERS)
    cfg.param_scheduler.end = MAX_ITERS
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = None
    cfg.randomness = dict(seed=0)
    return cfg


def test_few_iterations_log_finite_ibs_losses(repo_root, fake_cityscapes_root, tmp_path,
                                              local_data):
    cfg = tiny_cfg(repo_root, fake_cityscapes_root, tmp_path, local_data)
    # as released: 4 crops per GPU in class-paired pairs, random IBS target, weight 50
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.train_dataloader.batch_sampler.type == 'ClassPairedBatchSampler'
    assert cfg.model.panoptic_head.ibs.loss.loss_weight == 50.0
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub
    ibs = hub.get_scalar('train/loss_ibs').data[0]
    assert len(ibs) == MAX_ITERS
    assert all(math.isfinite(v) and v >= 0 for v in ibs)
    # the 8 supervised decoder predictions before the last one (d0, query-only, has none)
    layers = [hub.get_scalar(f'train/d{k}.loss_ibs').data[0] for k in range(1, 9)]
    assert all(len(values) == MAX_ITERS for values in layers)
    assert 'train/d0.loss_ibs' not in hub.log_scalars
    assert sum(ibs) + sum(sum(values) for values in layers) > 0  # some thing was supervised
    assert math.isfinite(hub.get_scalar('train/loss').current())
    assert 'coco_panoptic/PQ' in hub.log_scalars.keys() or 'val/coco_panoptic/PQ' in hub.log_scalars
