"""Drop ground-truth segments that (almost) lie outside the crop (de Geus & Dubbelman, §5.2)."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RemoveSegmentsOutsideCrop(BaseTransform):
    """After cropping, keep only the non-crowd segments with more than ``min_area`` pixels.

    Mask2Former's Hungarian matching demands a prediction for every ground-truth segment; a
    segment that is outside the crop cannot be predicted. The authors therefore keep a thing or
    stuff segment only when it is not crowd and has more than 1 pixel inside the crop. Place
    this transform after the crop. It reads the masks, never the boxes, so it does not depend on
    ``RandomCrop(recompute_bbox=...)``.

    * Thing instances (``gt_masks``, ``gt_bboxes``, ``gt_bboxes_labels``, ``gt_ignore_flags``,
      index-aligned): an instance is kept when its mask has more than ``min_area`` pixels and
      it is not ignored (crowd). The pixels of a dropped instance become ``ignore_index`` in
      ``gt_seg_map``.
    * Stuff (``gt_seg_map``): mmdet's Mask2Former builds one stuff target per stuff label
      present in the semantic map, so a label with at most ``min_area`` pixels is set to
      ``ignore_index`` (any label; a thing label with that few pixels belongs to no kept
      instance either).

    Crowd things carry no instance after mmdet's panoptic loading and are not targets; crowd
    stuff cannot be told apart from its class after loading and is treated as that class.

    Required keys: ``gt_seg_map`` and/or ``gt_masks`` (with the aligned instance keys).
    Modified keys: ``gt_masks``, ``gt_bboxes``, ``gt_bboxes_labels``, ``gt_ignore_flags``,
    ``gt_seg_map``.

    Args:
        min_area: Segments with at most this many pixels are removed (the authors: 1).
        ignore_index: Void label of ``gt_seg_map``.
    """

    instance_keys = ('gt_bboxes', 'gt_bboxes_labels', 'gt_masks', 'gt_ignore_flags')

    def __init__(self, min_area: int = 1, ignore_index: int = 255) -> None:
        self.min_area = min_area
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> Optional[dict]:
        """Filter the instances and the semantic map of one cropped sample."""
        seg_map = results.get('gt_seg_map')
        if seg_map is not None:
            seg_map = seg_map.copy()
        masks = results.get('gt_masks')
        if masks is not None:
            keep = masks.areas > self.min_area
            if 'gt_ignore_flags' in results:
                keep &= ~results['gt_ignore_flags'].astype(bool)
            if seg_map is not None:
                for index in np.flatnonzero(~keep):
                    seg_map[masks.masks[index].astype(bool)] = self.ignore_index
            for key in self.instance_keys:
                if key in results:
                    results[key] = results[key][keep]
        if seg_map is not None:
            labels, counts = np.unique(seg_map, return_counts=True)
            for label in labels[(counts <= self.min_area) & (labels != self.ignore_index)]:
                seg_map[seg_map == label] = self.ignore_index
            results['gt_seg_map'] = seg_map
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(min_area={self.min_area}, '
                f'ignore_index={self.ignore_index})')
