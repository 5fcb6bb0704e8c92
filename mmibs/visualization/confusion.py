"""Which predicted thing segments of an image are confused, by the metric's own rule.

A predicted thing segment is *confused* at threshold T when it covers more than T % of at least
two non-crowd GT thing segments (paper §6.2). The rule lives in
:func:`mmibs.evaluation.image_stats` (``confused_any`` / ``confused_same``), which counts confused
segments per image; this module asks it about one predicted segment at a time, so the segments
marked in a figure are exactly those the confusion ratio counts.
"""
import numpy as np

from mmibs.evaluation import Segments, image_stats


def confused_segments(gt_ids: np.ndarray, gt_segments: Segments, pred_ids: np.ndarray,
                      pred_segments: Segments, num_classes: int, num_things: int,
                      threshold: float = 50.0, same_class: bool = False) -> np.ndarray:
    """Flags of the confused predicted segments of one image.

    Args:
        gt_ids: (H, W) GT segment ids, 0 = void.
        gt_segments: the listed GT segments (contiguous labels, things first).
        pred_ids: (H, W) non-negative predicted segment ids; ids not in ``pred_segments`` are
            void.
        pred_segments: the (M,) listed predicted segments.
        num_classes: number of classes.
        num_things: the first ``num_things`` labels are things.
        threshold: T in percent.
        same_class: count only GT segments of the predicted segment's class.

    Returns:
        (M,) bool, True for the confused predicted thing segments (stuff is never confused).
    """
    flags = np.zeros(len(pred_segments.ids), bool)
    void = int(max(pred_ids.max(initial=0), pred_segments.ids.max(initial=0))) + 1
    for j in np.flatnonzero(pred_segments.labels < num_things):
        seg_id = pred_segments.ids[j]
        alone = np.where(pred_ids == seg_id, seg_id, void)
        stats = image_stats(gt_ids, gt_segments, alone,
                            Segments.from_lists([seg_id], [pred_segments.labels[j]]),
                            num_classes, num_things, (threshold, ), pred_void_ids=(void, ))
        flags[j] = (stats.confused_same if same_class else stats.confused_any)[0] > 0
    return flags


def segment_boxes(ids: np.ndarray, segment_ids: np.ndarray) -> np.ndarray:
    """(N, 4) ``x1, y1, x2, y2`` pixel-edge boxes of the given segments of an id map."""
    boxes = np.zeros((len(segment_ids), 4), np.float32)
    for k, seg_id in enumerate(segment_ids):
        rows, cols = np.nonzero(ids == seg_id)
        if len(rows):
            boxes[k] = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    return boxes
