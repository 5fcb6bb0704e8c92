"""Fixtures of the model tests: a tiny Mask2Former(IBS) head and a synthetic batch for it."""
import copy
from typing import Callable, List, Sequence, Tuple

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData

#: Input (padded crop) size of the tiny batches, and the feature channels of the 4 levels.
INPUT_HW = (64, 128)
IN_CHANNELS = (32, 64, 128, 256)
NUM_THINGS, NUM_STUFF = 3, 5


@pytest.fixture(scope='session')
def head_cfg(repo_root) -> Config:
    """The baseline synthetic config's head (with train/test cfg), 3 decoder layers, 256 points."""
    cfg = Config.fromfile(str(repo_root / 'configs/mask2former'
                              / 'mask2former_r18-w32_1xb4-256x512-600it_synthetic-streets.py'))
    head = copy.deepcopy(cfg.model.panoptic_head)
    head.train_cfg = copy.deepcopy(cfg.model.train_cfg)
    head.train_cfg.num_points = 256
    head.test_cfg = copy.deepcopy(cfg.model.test_cfg)
    return head


@pytest.fixture(scope='session')
def build_head(head_cfg) -> Callable:
    """``build_head(**overrides)``: the tiny head, ``Mask2FormerIBSHead`` unless ``type`` says
    otherwise, with weights drawn from ``torch.manual_seed(0)`` (identical for every type)."""

    def build(**overrides) -> torch.nn.Module:
        cfg = copy.deepcopy(head_cfg)
        cfg.type = 'Mask2FormerIBSHead'
        cfg.update(overrides)
        torch.manual_seed(0)
        head = MODELS.build(cfg)
        head.init_weights()
        head.train()
        return head

    return build


def _sample(things: Sequence[Tuple[int, Tuple[int, int, int, int]]], stuff: Sequence[int],
            meta: dict) -> DetDataSample:
    """A data sample with thing boxes (label, (y0, y1, x0, x1)) on vertical stuff bands."""
    h, w = INPUT_HW
    seg = np.full((h, w), 255, dtype=np.int64)
    for i, label in enumerate(stuff):
        seg[:, i * w // len(stuff):(i + 1) * w // len(stuff)] = label
    masks, labels = [], []
    for label, (y0, y1, x0, x1) in things:
        mask = np.zeros((h, w), dtype=np.uint8)
        mask[y0:y1, x0:x1] = 1
        seg[mask.astype(bool)] = label
        masks.append(mask)
        labels.append(label)
    sample = DetDataSample(metainfo=dict(img_shape=INPUT_HW, pad_shape=INPUT_HW,
                                         batch_input_shape=INPUT_HW, **meta))
    sample.gt_instances = InstanceData(
        labels=torch.tensor(labels, dtype=torch.long),
        masks=BitmapMasks(masks if masks else np.zeros((0, h, w), np.uint8), h, w))
    sample.gt_sem_seg = PixelData(sem_seg=torch.from_numpy(seg)[None])
    return sample


@pytest.fixture(scope='session')
def make_batch() -> Callable:
    """``make_batch(batch_size, things=True, thing_label=None, metas=None, seed=0)``: features
    x (4 levels of a 64x128 input) and B data samples. Crop b has 2 things (classes b % 3 and
    (b + 1) % 3, or ``thing_label``) unless ``things`` is False, plus 2 stuff bands."""

    def make(batch_size: int, things: bool = True, thing_label: int = None,
             metas: List[dict] = None, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        h, w = INPUT_HW
        x = [torch.randn(batch_size, c, h // s, w // s, generator=gen)
             for c, s in zip(IN_CHANNELS, (4, 8, 16, 32))]
        samples = []
        for b in range(batch_size):
            labels = ([b % NUM_THINGS, (b + 1) % NUM_THINGS] if thing_label is None
                      else [thing_label] * 2)
            boxes = [(4 + 3 * b, 30 + 3 * b, 10, 50), (20, 60, 70 + 5 * b, 110)]
            objs = list(zip(labels, boxes)) if things else []
            stuff = [NUM_THINGS + b % NUM_STUFF, NUM_THINGS + (b + 2) % NUM_STUFF]
            samples.append(_sample(objs, stuff, (metas or [{}] * batch_size)[b]))
        return x, samples

    return make
