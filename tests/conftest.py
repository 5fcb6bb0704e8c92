"""Shared fixtures: a tiny synthetic-streets dataset and a tiny Mask2Former config for it."""
import os.path as osp
from pathlib import Path

import pytest
from mmdet.utils import register_all_modules
from mmengine.config import Config

from mmibs.datasets.synthetic import SyntheticStreetsConfig, generate_synthetic_streets

# Components are built by type name outside a Runner too, in mmdet's scope (as configs set it).
register_all_modules(init_default_scope=True)

REPO_ROOT = Path(__file__).resolve().parents[1]
BASELINE_CONFIG = REPO_ROOT / 'configs/mask2former/mask2former_r18-w32_1xb4-256x512-300it_synthetic-streets.py'

#: Sizes of the tiny dataset the tests train on: 128x256 images, 64x128 crops.
TINY_IMAGE_HW = (128, 256)
TINY_CROP_HW = (64, 128)


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory) -> Path:
    """A tiny synthetic-streets dataset (4 train, 2 val images of 128x256), generated once."""
    root = tmp_path_factory.mktemp('data') / 'synthetic'
    cfg = SyntheticStreetsConfig(height=TINY_IMAGE_HW[0], width=TINY_IMAGE_HW[1], num_train=4,
                                 num_val=2, seed=0)
    generate_synthetic_streets(root, cfg, progress=False)
    return root


def tiny_baseline_cfg(data_root: Path, work_dir: Path, max_iters: int = 4) -> Config:
    """The baseline synthetic config, shrunk to the tiny dataset and ``max_iters`` iterations."""
    cfg = Config.fromfile(str(BASELINE_CONFIG))
    root = str(data_root) + '/'
    full_wh = (TINY_IMAGE_HW[1], TINY_IMAGE_HW[0])
    cfg.model.data_preprocessor.batch_augments[0].size = TINY_CROP_HW
    cfg.model.train_cfg.num_points = 256
    for step in cfg.train_pipeline:
        if step.type == 'RandomResize':
            step.scale = full_wh
        if step.type == 'RandomCrop':
            step.crop_size = TINY_CROP_HW[::-1]  # RandomCrop takes (w, h)
    for step in cfg.test_pipeline:
        if step.type == 'Resize':
            step.scale = full_wh
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.update(data_root=root, pipeline=cfg.train_pipeline)
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        loader.update(num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=root, pipeline=cfg.test_pipeline)
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        evaluator.seg_prefix = osp.join(root, 'annotations/panoptic_val/')
    cfg.train_cfg.update(max_iters=max_iters, val_interval=max_iters)
    cfg.param_scheduler.end = max_iters
    cfg.default_hooks.checkpoint.interval = max(1, max_iters // 2)
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = str(work_dir)
    return cfg


@pytest.fixture(scope='session')
def make_tiny_cfg():
    """:func:`tiny_baseline_cfg`, for tests (test modules cannot import conftest)."""
    return tiny_baseline_cfg


@pytest.fixture(scope='session')
def repo_root() -> Path:
    """The repository root, the working directory of the tools."""
    return REPO_ROOT
