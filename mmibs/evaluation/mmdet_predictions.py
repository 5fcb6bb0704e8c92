"""Decoding mmdet's panoptic predictions (``label + instance * label_divisor``) into segments."""
from typing import Tuple

import numpy as np

from .panoptic_stats import PanopticEvalError, Segments

#: Maps whose largest value is below this count values with a bincount, others sort.
LUT_LIMIT = 1 << 25


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
