"""Reading panoptic PNGs and decoding mmdet's panoptic predictions into segments."""
from typing import Optional, Tuple

import cv2
import numpy as np
from mmengine.fileio import get

from .panoptic_stats import LUT_LIMIT, PanopticEvalError, Segments


def rgb_to_id(bgr: np.ndarray) -> np.ndarray:
    """panopticapi's ``rgb2id`` for a BGR image as OpenCV decodes it.

    Args:
        bgr: (H, W, 3) uint8, channels B, G, R.

    Returns:
        (H, W) int32 ids ``R + 256 * G + 256**2 * B``.
    """
    ids = bgr[..., 0].astype(np.int32) << 16
    ids |= bgr[..., 1].astype(np.int32) << 8
    ids |= bgr[..., 2]
    return ids


def read_panoptic_png(path: str, backend_args: Optional[dict] = None) -> np.ndarray:
    """Read a COCO-panoptic PNG (any mmengine file backend) and return its (H, W) int32 ids."""
    try:
        data = get(path, backend_args=backend_args)
    except FileNotFoundError as e:
        raise FileNotFoundError(f'panoptic PNG {path!r} not found') from e
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise PanopticEvalError(f'{path}: cannot be decoded as an image')
    return rgb_to_id(bgr)


def decode_mmdet_panoptic(pan: np.ndarray, num_classes: int, ignore_index: int,
                          label_divisor: int, image_name: str = ''
                          ) -> Tuple[Segments, np.ndarray]:
    """Segments of an mmdet panoptic map (``label + instance * label_divisor``).

    Every distinct value is one segment with label ``value % label_divisor``; values whose label
    is ``num_classes`` or ``ignore_index`` are void.

    Args:
        pan: (H, W) non-negative integer panoptic map.
        num_classes: number of classes (also mmdet's void label).
        ignore_index: another void label.
        label_divisor: mmdet's ``INSTANCE_OFFSET`` (1000).
        image_name: named in error messages.

    Returns:
        The listed (non-void) segments and the (V,) void values present in ``pan``.
    """
    if pan.size and pan.min() < 0:
        raise PanopticEvalError(f'{image_name}: negative values in the panoptic prediction')
    top = int(pan.max(initial=0))
    if top < LUT_LIMIT:
        values = np.flatnonzero(np.bincount(pan.ravel(), minlength=1)).astype(np.int64)
    else:
        values = np.unique(pan).astype(np.int64)
    labels = values % label_divisor
    void = (labels == num_classes) | (labels == ignore_index)
    unknown = ~void & (labels > num_classes)
    if unknown.any():
        raise PanopticEvalError(
            f'{image_name}: predicted segments {values[unknown].tolist()[:10]} have labels '
            f'{labels[unknown].tolist()[:10]}, which are neither one of the {num_classes} '
            f'classes nor void ({num_classes} or ignore_index {ignore_index})')
    return Segments.from_lists(values[~void], labels[~void]), values[void]
