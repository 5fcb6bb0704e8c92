"""RemoveSegmentsOutsideCrop: only non-crowd segments with more than 1 pixel stay targets."""
import numpy as np
import torch
from mmdet.registry import DATASETS, TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks

from mmibs.datasets import RemoveSegmentsOutsideCrop


def _results():
    h, w = 8, 10
    seg = np.full((h, w), 3, dtype=np.uint8)  # stuff 3 everywhere
    seg[0, 0] = 4  # stuff 4: 1 pixel -> removed
    seg[7, 8:10] = 5  # stuff 5: 2 pixels -> kept
    masks = np.zeros((4, h, w), dtype=np.uint8)
    masks[0, 7, 0] = 1  # thing, 1 pixel -> removed
    masks[1, 2:4, 2:4] = 1  # thing, 4 pixels -> kept
    masks[2, 4:6, 5:7] = 1  # crowd/ignored, 4 pixels -> removed
    masks[3, 5, 0:2] = 1  # thing class 0, 2 pixels -> kept
    labels = np.array([1, 2, 1, 0])
    for mask, label in zip(masks, labels):
        seg[mask.astype(bool)] = label
    return dict(
        gt_seg_map=seg,
        gt_masks=BitmapMasks(masks, h, w),
        gt_bboxes=HorizontalBoxes(torch.tensor(
            [[0, 7, 1, 8], [2, 2, 4, 4], [5, 4, 7, 6], [0, 5, 2, 6]], dtype=torch.float32)),
        gt_bboxes_labels=labels,
        gt_ignore_flags=np.array([False, False, True, False]))


def test_keeps_only_non_crowd_segments_with_more_than_one_pixel():
    results = RemoveSegmentsOutsideCrop(min_area=1)(_results())
    assert results['gt_bboxes_labels'].tolist() == [2, 0]
    assert len(results['gt_masks']) == 2 and results['gt_masks'].areas.tolist() == [4, 2]
    assert results['gt_bboxes'].tensor[:, 0].tolist() == [2, 0]
    assert results['gt_ignore_flags'].tolist() == [False, False]
    seg = results['gt_seg_map']
    assert seg[0, 0] == 255  # 1-pixel stuff
    assert seg[7, 0] == 255 and (seg[4:6, 5:7] == 255).all()  # dropped instances' pixels
    labels, counts = np.unique(seg, return_counts=True)
    assert set(labels.tolist()) == {0, 2, 3, 5, 255}
    assert (counts[labels != 255] > 1).all()


def test_min_area_and_missing_keys():
    results = _results()
    del results['gt_masks']
    out = RemoveSegmentsOutsideCrop(min_area=2)(results)
    labels, counts = np.unique(out['gt_seg_map'], return_counts=True)
    assert 5 not in labels and 0 not in labels  # 2-pixel segments are gone with min_area=2
    assert 'min_area=2' in repr(RemoveSegmentsOutsideCrop(min_area=2))


def test_in_the_training_pipeline(synthetic_root, make_tiny_cfg, tmp_path):
    cfg = make_tiny_cfg(synthetic_root, tmp_path)
    types = [step.type for step in cfg.train_pipeline]
    assert types.index('RemoveSegmentsOutsideCrop') == types.index('RandomCrop') + 1
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    pack = TRANSFORMS.build(dict(type='PackDetInputs'))
    steps = [TRANSFORMS.build(step) for step in cfg.train_pipeline if step.type != 'PackDetInputs']
    for index in range(len(dataset)):
        for _ in range(3):
            results = dataset.get_data_info(index)
            for step in steps:
                results = step(results)
            n = len(results['gt_bboxes_labels'])
            assert len(results['gt_masks']) == len(results['gt_bboxes']) == n
            assert (results['gt_masks'].areas > 1).all()
            labels, counts = np.unique(results['gt_seg_map'], return_counts=True)
            assert (counts[labels != 255] > 1).all()
            pack(results)
