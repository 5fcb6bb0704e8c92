"""Resize-and-crop of one class-paired crop, computed on the crop only.

:class:`ClassPairedCrop` follows the authors' ``ResizeShortestEdgeAdaptive`` +
``RandomCropWithInstance`` (``DdeGeus/Mask2Former-IBS``
``mask2former/data/dataset_mappers/augmentations.py``, used by
``mask_former_panoptic_dataset_mapper_cropsampling.py``):

* **thing class** (the sampler gives a ``scale`` s): ratio r = s / sqrt(bbox_w * bbox_h) of the
  sampled segment's box at original resolution, clamped to
  [``min_short_side`` / short, ``max_short_side`` / short] and then lowered so the long side
  is at most ``max_long_side``; new size round(r * h) x round(r * w);
* **stuff class** (``scale=None``): the normal random resize (``stuff_resize``);
* **crop window**: top-left corner uniform over all windows of ``crop_size`` that contain the
  box centre (the pixel ``floor(centre)``), clipped to the image. The box centre can lie off the
  segment and a segment larger than the crop is only partly visible, as in the authors' code.

Unlike the authors (and mmdet's ``Resize`` + ``RandomCrop``), the full image is never resized:
the window is computed in resized coordinates and only the crop is interpolated from the original
image (bilinear with ``cv2.resize``'s half-pixel coordinates and border clamping for the image;
``cv2.resize``'s nearest-neighbour index mapping for masks and the semantic map). The result
equals resize-then-crop: exactly for float32 images, masks and the semantic map, within one grey
level for uint8 images (see ``tests/datasets/class_paired/test_crop.py``). When the resized
image is small (at most twice the crop's area), it is resized whole, which is cheaper.

Where the resized image is smaller than ``crop_size`` the crop is the whole image along that
side (padded later by ``BatchFixedSizePad``), like mmdet's ``RandomCrop``; the authors assert
instead. The transform never returns None: a sample it cannot process raises
:class:`ClassPairedCropError` naming the image.
"""
import math
from typing import Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS
from mmdet.structures.mask import BitmapMasks

from .sample import SAMPLE_KEY


class ClassPairedCropError(RuntimeError):
    """Raised when a class-paired crop cannot be made; names the image."""


@TRANSFORMS.register_module()
class ClassPairedCrop(BaseTransform):
    """Resize an image so the sampled segment has the pair's scale, then crop around it.

    Required keys: ``img``, ``img_path``, ``segments_info``, ``ibs_sample`` (set by
    :meth:`CocoFormatPanopticDataset.__getitem__` from a
    :class:`~mmibs.datasets.class_paired.PairedSample`); optional ``gt_bboxes``,
    ``gt_bboxes_labels``, ``gt_ignore_flags``, ``gt_masks``, ``gt_seg_map``.

    Modified keys: ``img``, ``img_shape``, the ``gt_*`` keys (instances whose resized box lies
    outside the crop are dropped and boxes are recomputed from the cropped masks, as mmdet's
    ``RandomCrop(recompute_bbox=True)``), ``ibs_sample`` (adds ``ratio``, ``resized_shape``,
    ``crop_window`` and ``centre`` for checks). Added keys: ``scale``, ``scale_factor``,
    ``keep_ratio``, ``homography_matrix``.

    Args:
        crop_size (tuple[int, int]): (w, h) of the crop, as mmdet's ``RandomCrop`` takes it.
        min_short_side, max_short_side, max_long_side (int): Clamps of the thing-class resize
            (S_min, S_max, L_max). Defaults 1024 / 6192 / 9288 (the code defaults; Cityscapes
            512 / 3096 / 6192, Vistas 1024 / 6192 / 9288, the authors' ``NEW_SAMPLING`` configs).
        stuff_resize (dict): Random resize for stuff classes. Either mmdet style
            ``dict(scale=(w, h), ratio_range=(lo, hi))`` (as ``RandomResize(keep_ratio=True)``)
            or detectron2 style ``dict(short_side=(lo, hi) or [choices],
            sample_style='range'|'choice', max_long_side=L)``. Default: mmdet style
            (2048, 1024) x (0.5, 2.0), the Cityscapes crop baseline.
        interpolation (str): ``'bilinear'`` (default) or ``'nearest'`` for the image.
    """

    def __init__(self,
                 crop_size: Tuple[int, int],
                 min_short_side: int = 1024,
                 max_short_side: int = 6192,
                 max_long_side: int = 9288,
                 stuff_resize: Optional[dict] = None,
                 interpolation: str = 'bilinear') -> None:
        if len(crop_size) != 2 or min(crop_size) <= 0:
            raise ValueError(f'ClassPairedCrop: crop_size must be (w, h) > 0, got {crop_size}')
        if not 0 < min_short_side <= max_short_side:
            raise ValueError('ClassPairedCrop: need 0 < min_short_side <= max_short_side, got '
                             f'{min_short_side}, {max_short_side}')
        self.crop_w, self.crop_h = int(crop_size[0]), int(crop_size[1])
        self.min_short_side = min_short_side
        self.max_short_side = max_short_side
        self.max_long_side = max_long_side
        if stuff_resize is None:
            stuff_resize = dict(scale=(2048, 1024), ratio_range=(0.5, 2.0))
        self.stuff_resize = dict(stuff_resize)
        if not ({'scale', 'ratio_range'} <= set(self.stuff_resize)
                or 'short_side' in self.stuff_resize):
            raise ValueError('ClassPairedCrop: stuff_resize needs scale + ratio_range (mmdet '
                             f'style) or short_side (detectron2 style), got {stuff_resize}')
        if interpolation not in ('bilinear', 'nearest'):
            raise ValueError(f'ClassPairedCrop: interpolation must be bilinear or nearest, got '
                             f'{interpolation!r}')
        self.interpolation = interpolation

    # ------------------------------------------------------------------ sizes
    def thing_ratio(self, height: int, width: int, bbox: Sequence[float], scale: float) -> float:
        """The authors' adaptive ratio (``ResizeShortestEdgeAdaptive``): sqrt(bbox area) -> scale,
        clamped."""
        box_w, box_h = bbox[2] - bbox[0], bbox[3] - bbox[1]
        side = math.sqrt(max(box_w, 0) * max(box_h, 0))
        if side <= 0:
            raise ValueError(f'empty bbox {list(bbox)}')
        short, long = min(height, width), max(height, width)
        ratio = scale / side
        ratio = min(max(ratio, self.min_short_side / short), self.max_short_side / short)
        if long * ratio > self.max_long_side:
            ratio = self.max_long_side / long
        return ratio

    def stuff_size(self, height: int, width: int) -> Tuple[int, int]:
        """(new_h, new_w) of the normal random resize (uses numpy's global RNG)."""
        cfg = self.stuff_resize
        if 'short_side' in cfg:  # detectron2 ResizeShortestEdge
            choices = cfg['short_side']
            if cfg.get('sample_style', 'range') == 'range':
                short = np.random.randint(int(choices[0]), int(choices[1]) + 1)
            else:
                short = choices[np.random.randint(len(choices))]
            ratio = short / min(height, width)
            max_long = cfg.get('max_long_side')
            if max_long and max(height, width) * ratio > max_long:
                ratio = max_long / max(height, width)
            return int(height * ratio + 0.5), int(width * ratio + 0.5)
        lo, hi = cfg['ratio_range']  # mmdet RandomResize(ratio_range) + Resize(keep_ratio)
        factor = np.random.random_sample() * (hi - lo) + lo
        target_w, target_h = int(cfg['scale'][0] * factor), int(cfg['scale'][1] * factor)
        ratio = min(max(target_w, target_h) / max(height, width),
                    min(target_w, target_h) / min(height, width))
        return int(height * ratio + 0.5), int(width * ratio + 0.5)

    @staticmethod
    def window_start(centre: float, size: int, crop: int) -> int:
        """Uniform start of a window of ``crop`` pixels in [0, size) containing the centre's
        pixel (``crop <= size``)."""
        pixel = min(max(int(math.floor(centre)), 0), size - 1)
        lo = max(pixel - crop + 1, 0)
        hi = min(size - crop, pixel)
        return int(np.random.randint(lo, hi + 1))

    # ------------------------------------------------------------------ sampling maps
    @staticmethod
    def nearest_indices(start: int, count: int, src: int, dst: int) -> np.ndarray:
        """Source indices of dst pixels start..start+count-1, as cv2.resize INTER_NEAREST."""
        inv = 1.0 / (dst / src)
        idx = np.floor(np.arange(start, start + count, dtype=np.float64) * inv).astype(np.int64)
        return np.minimum(idx, src - 1)

    @staticmethod
    def linear_coords(start: int, count: int, src: int, dst: int):
        """Source pixel pairs and weights of dst pixels start..start+count-1 for a bilinear
        resize src -> dst with cv2.resize's half-pixel mapping and border clamping."""
        f = (np.arange(start, start + count, dtype=np.float64) + 0.5) * (src / dst) - 0.5
        i0 = np.floor(f).astype(np.int64)
        f -= i0
        low = i0 < 0
        f[low], i0[low] = 0.0, 0
        high = i0 >= src - 1
        f[high], i0[high] = 0.0, src - 1
        return i0, np.minimum(i0 + 1, src - 1), f.astype(np.float32)

    def crop_image(self, img: np.ndarray, new_hw: Tuple[int, int],
                   window: Tuple[int, int, int, int]) -> np.ndarray:
        """The window (x0, y0, x1, y1) of ``img`` resized to ``new_hw``, without resizing all.

        When the resized image is at most ``2 x`` the crop's area it is cheaper to resize it
        all (``mmcv.imresize``, exactly mmdet's ``Resize``) and slice. Otherwise the window is
        interpolated directly: bilinear as two separable passes with cv2.resize's coordinates
        (identical for float32 images; uint8 within 1 grey level of cv2's fixed-point weights),
        nearest with cv2's index mapping.
        """
        h, w = img.shape[:2]
        x0, y0, x1, y1 = window
        new_h, new_w = new_hw
        if (new_h, new_w) == (h, w):
            return np.ascontiguousarray(img[y0:y1, x0:x1])
        if new_h * new_w <= 2 * (y1 - y0) * (x1 - x0):
            resized = mmcv.imresize(img, (new_w, new_h), interpolation=self.interpolation)
            return np.ascontiguousarray(resized[y0:y1, x0:x1])
        if self.interpolation == 'nearest':
            rows = self.nearest_indices(y0, y1 - y0, h, new_h)
            cols = self.nearest_indices(x0, x1 - x0, w, new_w)
            return img[rows][:, cols]
        ya, yb, wy = self.linear_coords(y0, y1 - y0, h, new_h)
        xa, xb, wx = self.linear_coords(x0, x1 - x0, w, new_w)
        lo, hi = int(xa.min()), int(xb.max()) + 1
        sub = img[:, lo:hi]
        trailing = (1, ) * (img.ndim - 2)
        top = sub[ya].astype(np.float32, copy=False)
        vertical = top + (sub[yb].astype(np.float32, copy=False) - top) * wy.reshape(
            (-1, 1) + trailing)
        left = vertical[:, xa - lo]
        out = left + (vertical[:, xb - lo] - left) * wx.reshape((1, -1) + trailing)
        if img.dtype == np.uint8:
            return np.clip(np.rint(out), 0, 255).astype(np.uint8)
        return out.astype(img.dtype, copy=False)

    # ------------------------------------------------------------------ transform
    def _fail(self, results: dict, message: str):
        raise ClassPairedCropError(f'ClassPairedCrop: {results.get("img_path")}: {message}')

    def transform(self, results: dict) -> dict:
        sample = results.get(SAMPLE_KEY)
        if sample is None:
            self._fail(results, 'no "ibs_sample" in the results; ClassPairedCrop needs the '
                       'structured indices of ClassPairedBatchSampler '
                       '(train_dataloader.batch_sampler)')
        segment = None
        for seg in results.get('segments_info', ()):
            if seg['id'] == sample['segment_id']:
                segment = seg
                break
        if segment is None:
            self._fail(results, f'sampled segment {sample["segment_id"]} is not in its '
                       'segments_info (index and dataset out of sync?)')
        if int(segment['category']) != int(sample['label']):
            self._fail(results, f'sampled segment {sample["segment_id"]} has label '
                       f'{segment["category"]}, the sampler drew class {sample["label"]}')
        img = results['img']
        h, w = img.shape[:2]
        for key in ('gt_seg_map', ):
            if results.get(key) is not None and results[key].shape[:2] != (h, w):
                self._fail(results, f'{key} is {results[key].shape[:2]}, image is {(h, w)}')
        masks = results.get('gt_masks')
        if masks is not None and (masks.height, masks.width) != (h, w):
            self._fail(results, f'gt_masks are {(masks.height, masks.width)}, image is {(h, w)}')

        bbox = [float(v) for v in segment['bbox']]
        if sample.get('scale') is not None:
            try:
                ratio = self.thing_ratio(h, w, bbox, float(sample['scale']))
            except ValueError as e:
                self._fail(results, f'segment {sample["segment_id"]}: {e}')
            new_h, new_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
        else:
            new_h, new_w = self.stuff_size(h, w)
        new_h, new_w = max(new_h, 1), max(new_w, 1)
        scale_w, scale_h = new_w / w, new_h / h

        crop_h, crop_w = min(self.crop_h, new_h), min(self.crop_w, new_w)
        cx = (bbox[0] + bbox[2]) / 2 * scale_w
        cy = (bbox[1] + bbox[3]) / 2 * scale_h
        y0 = self.window_start(cy, new_h, crop_h)
        x0 = self.window_start(cx, new_w, crop_w)
        window = (x0, y0, x0 + crop_w, y0 + crop_h)

        results['img'] = self.crop_image(img, (new_h, new_w), window)
        results['img_shape'] = (crop_h, crop_w)
        results['scale'] = (new_w, new_h)
        results['scale_factor'] = (scale_w, scale_h)
        results['keep_ratio'] = True
        homography = np.array([[scale_w, 0, -x0], [0, scale_h, -y0], [0, 0, 1]],
                              dtype=np.float32)
        if results.get('homography_matrix') is None:
            results['homography_matrix'] = homography
        else:
            results['homography_matrix'] = homography @ results['homography_matrix']

        rows = self.nearest_indices(y0, crop_h, h, new_h)
        cols = self.nearest_indices(x0, crop_w, w, new_w)
        if results.get('gt_seg_map') is not None:
            results['gt_seg_map'] = np.ascontiguousarray(results['gt_seg_map'][rows][:, cols])
        self._crop_instances(results, (scale_w, scale_h), window, rows, cols)

        sample = dict(sample)
        sample.update(ratio=(scale_w, scale_h), resized_shape=(new_h, new_w), crop_window=window,
                      centre=(cx, cy), bbox=bbox)
        results[SAMPLE_KEY] = sample
        return results

    @staticmethod
    def _crop_instances(results: dict, scale: Tuple[float, float], window, rows, cols) -> None:
        boxes = results.get('gt_bboxes')
        if boxes is None:
            masks = results.get('gt_masks')
            if masks is not None:
                results['gt_masks'] = BitmapMasks(masks.masks[:, rows][:, :, cols], len(rows),
                                                  len(cols))
            return
        x0, y0, x1, y1 = window
        boxes = boxes.clone()
        boxes.rescale_(scale)
        boxes.translate_([-x0, -y0])
        boxes.clip_((y1 - y0, x1 - x0))
        valid = boxes.is_inside((y1 - y0, x1 - x0)).numpy()
        results['gt_bboxes'] = boxes[valid]
        for key in ('gt_bboxes_labels', 'gt_ignore_flags', 'gt_instances_ids'):
            if results.get(key) is not None:
                results[key] = results[key][valid]
        masks = results.get('gt_masks')
        if masks is not None:
            kept = masks.masks[valid.nonzero()[0]]
            cropped = kept[:, rows][:, :, cols] if len(kept) else np.zeros(
                (0, len(rows), len(cols)), dtype=kept.dtype)
            results['gt_masks'] = BitmapMasks(cropped, len(rows), len(cols))
            results['gt_bboxes'] = results['gt_masks'].get_bboxes(type(results['gt_bboxes']))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(crop_size={(self.crop_w, self.crop_h)}, '
                f'min_short_side={self.min_short_side}, max_short_side={self.max_short_side}, '
                f'max_long_side={self.max_long_side}, stuff_resize={self.stuff_resize}, '
                f'interpolation={self.interpolation!r})')
