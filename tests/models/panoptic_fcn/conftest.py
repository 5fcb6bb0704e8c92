"""Fixtures of the Panoptic FCN tests: hand-built data samples and a tiny detector config."""
import copy
from typing import Callable, Optional, Sequence, Tuple

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData

SYNTHETIC_CONFIG = ('configs/panoptic_fcn/'
                    'panoptic-fcn_r18-w32_1xb4-256x512-600it_synthetic-streets.py')


def make_sample(input_hw: Tuple[int, int],
                things: Sequence[Tuple[int, np.ndarray]] = (),
                sem: Optional[np.ndarray] = None,
                img_hw: Optional[Tuple[int, int]] = None,
                **meta) -> DetDataSample:
    """A padded training sample: thing masks (label, bool mask of ``input_hw``) and a
    things-first semantic map (255 = void, default all void); things are painted into it."""
    h, w = input_hw
    seg = np.full((h, w), 255, np.int64) if sem is None else sem.astype(np.int64).copy()
    masks = np.zeros((len(things), h, w), np.uint8)
    labels = []
    for i, (label, mask) in enumerate(things):
        masks[i] = mask
        seg[mask.astype(bool)] = label
        labels.append(label)
    sample = DetDataSample(metainfo=dict(img_shape=img_hw or input_hw, pad_shape=input_hw,
                                         batch_input_shape=input_hw, ori_shape=img_hw or input_hw,
                                         **meta))
    sample.gt_instances = InstanceData(labels=torch.tensor(labels, dtype=torch.long),
                                       masks=BitmapMasks(masks, h, w))
    sample.gt_sem_seg = PixelData(sem_seg=torch.from_numpy(seg)[None])
    return sample


def box_mask(input_hw: Tuple[int, int], y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """A rectangle mask [y0:y1, x0:x1] of ``input_hw``."""
    mask = np.zeros(input_hw, bool)
    mask[y0:y1, x0:x1] = True
    return mask


@pytest.fixture(scope='session')
def pfcn_sample() -> Callable:
    """:func:`make_sample`."""
    return make_sample


@pytest.fixture(scope='session')
def pfcn_box() -> Callable:
    """:func:`box_mask`."""
    return box_mask


@pytest.fixture(scope='session')
def tiny_model_cfg(repo_root) -> Config:
    """The synthetic config's detector, 32 channels, with the official DCN position head."""
    cfg = Config.fromfile(str(repo_root / SYNTHETIC_CONFIG))
    model = copy.deepcopy(cfg.model)
    model.neck.out_channels = 32
    # GN with 8 groups: 1 x 1 levels (P7 of a 64 x 128 input) need > 1 value per group
    model.panoptic_head.update(in_channels=32, feat_channels=32, kernel_channels=32,
                               encode_channels=32, position_dcn=True,
                               norm_cfg=dict(type='GN', num_groups=8, requires_grad=True))
    model.test_cfg.stuff_area_limit = 16
    return model


@pytest.fixture(scope='session')
def tiny_batch(pfcn_sample, pfcn_box) -> Callable:
    """``tiny_batch(**meta_per_crop)``: inputs (2, 3, 64, 128) and 2 crops: crop 0 with two
    things on two stuff bands, crop 1 with no thing (stuff and void only)."""

    def build(seed: int = 0):
        hw = (64, 128)
        sem0 = np.full(hw, 3, np.int64)
        sem0[:, 64:] = 4
        sem1 = np.full(hw, 5, np.int64)
        sem1[:16] = 255
        things = [(0, pfcn_box(hw, 4, 30, 10, 50)), (1, pfcn_box(hw, 20, 60, 70, 110))]
        samples = [pfcn_sample(hw, things, sem0), pfcn_sample(hw, (), sem1)]
        inputs = torch.randn(2, 3, *hw, generator=torch.Generator().manual_seed(seed))
        return inputs, samples

    return build


@pytest.fixture(scope='session')
def build_pfcn_head(tiny_model_cfg) -> Callable:
    """``build_pfcn_head(**overrides)``: the tiny config's head (32 channels, 3 things + 5
    stuff, all-classes stuff branch), weights from ``torch.manual_seed(0)``, in train mode."""
    from mmdet.registry import MODELS

    def build(**overrides) -> torch.nn.Module:
        cfg = copy.deepcopy(tiny_model_cfg.panoptic_head)
        cfg.test_cfg = copy.deepcopy(tiny_model_cfg.test_cfg)
        cfg.update(overrides)
        torch.manual_seed(0)
        head = MODELS.build(cfg)
        head.init_weights()
        return head.train()

    return build
