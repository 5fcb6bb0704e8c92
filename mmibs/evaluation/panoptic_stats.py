"""Per-image sufficient statistics of panoptic evaluation, from one joint histogram.

Every statistic of an image (PQ counts, Acc^th / Prec^th pixel counts, the confusion counts and
the semantic areas for mIoU) is derived from a single ``(gt segment, predicted segment)``
intersection table, built with one ``np.bincount`` over the image's pixels. All statistics are
integers, so summing them over images (in any order, on any number of processes) is exact.

Conventions (panopticapi's):

* GT id 0 is void. A GT pixel whose id is neither 0 nor listed in the GT segments is
  "unlabelled": it matches nothing and is not void either (panopticapi treats it so).
* Labels are contiguous, things first: label ``< num_things`` is a thing class.
* A GT segment with ``iscrowd`` is a crowd region: never matched, never a false negative.
"""
import threading
from dataclasses import dataclass
from typing import NamedTuple, Optional, Sequence

import numpy as np

#: Ids at or above this use a sorted search instead of a lookup table (2**24 covers RGB ids).
LUT_LIMIT = 1 << 25


class Segments(NamedTuple):
    """The segments of one panoptic map.

    Attributes:
        ids (np.ndarray): (N,) int64 segment ids as they appear in the id map.
        labels (np.ndarray): (N,) int64 contiguous class labels, things first.
        iscrowd (np.ndarray): (N,) bool crowd flags (all False for predictions).
    """
    ids: np.ndarray
    labels: np.ndarray
    iscrowd: np.ndarray

    @classmethod
    def from_lists(cls, ids: Sequence[int], labels: Sequence[int],
                   iscrowd: Optional[Sequence[bool]] = None) -> 'Segments':
        """Build from Python sequences; ``iscrowd`` defaults to all False."""
        ids_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        crowd = np.zeros(len(ids_arr), bool) if iscrowd is None else np.asarray(iscrowd, bool)
        return cls(ids_arr, np.asarray(labels, dtype=np.int64).reshape(-1), crowd.reshape(-1))


@dataclass
class PanopticImageStats:
    """Integer sufficient statistics of one image; ``C`` classes, ``K`` thresholds, ``M`` matches.

    Attributes:
        tp, fp, fn (np.ndarray): (C,) PQ true positives, false positives, false negatives.
        match_label, match_inter, match_union (np.ndarray): (M,) class, intersection and union
            (void-corrected, as panopticapi) of every matched pair; IoU = inter / union.
        tp_px (np.ndarray): (C,) pixels of matched predictions inside their matched GT segment.
        gt_px (np.ndarray): (C,) pixels of non-crowd GT segments.
        pred_px (np.ndarray): (C,) non-void pixels of predicted segments (minus same-class crowd
            pixels when crowd is ignored), counted under the predicted class.
        num_pred_things (int): predicted thing segments.
        confused_any, confused_same (np.ndarray): (K,) predicted thing segments covering more
            than T % of at least two non-crowd GT thing segments (of any class / of its class).
        sem_intersect, sem_pred, sem_label (np.ndarray or None): (C,) semantic areas as mmseg's
            ``IoUMetric.intersect_and_union`` counts them (None when not requested).
    """
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    match_label: np.ndarray
    match_inter: np.ndarray
    match_union: np.ndarray
    tp_px: np.ndarray
    gt_px: np.ndarray
    pred_px: np.ndarray
    num_pred_things: int
    confused_any: np.ndarray
    confused_same: np.ndarray
    sem_intersect: Optional[np.ndarray] = None
    sem_pred: Optional[np.ndarray] = None
    sem_label: Optional[np.ndarray] = None


class PanopticEvalError(ValueError):
    """Raised for predictions or GT that cannot be evaluated (unknown ids or categories)."""


_buffers = threading.local()


def _zero_lut(size: int, dtype: type) -> np.ndarray:
    """A zero lookup table of at least ``size`` entries, reused per thread and dtype.

    Callers must reset every entry they set back to 0. Reuse avoids allocating and clearing a
    table of up to 2**24 entries per image (RGB-encoded ids span 24 bits).
    """
    key = np.dtype(dtype).name
    lut = getattr(_buffers, key, None)
    if lut is None or len(lut) < size:
        lut = np.zeros(max(size, 1 << 16), dtype)
        setattr(_buffers, key, lut)
    return lut


def compact_ids(id_map: np.ndarray, segment_ids: np.ndarray, void_ids: Sequence[int] = (0, ),
                scale: int = 1) -> np.ndarray:
    """Map ids to compact indices times ``scale``: unlisted -> 0, void -> 1, listed i -> i + 2.

    Args:
        id_map: (H, W) non-negative integer segment ids.
        segment_ids: (N,) distinct listed ids (none of them void).
        void_ids: ids that mean void.
        scale: multiplier of the indices (lets a caller form joint indices with one addition).

    Returns:
        (H, W) index map (uint16 or int32) with values in ``scale * [0, N + 1]``.
    """
    n = len(segment_ids)
    void = np.asarray(void_ids, dtype=np.int64).reshape(-1)
    values = scale * np.arange(2, n + 2)
    dtype = np.uint16 if scale * (n + 2) <= np.iinfo(np.uint16).max else np.int32
    top = max(int(id_map.max(initial=0)), int(segment_ids.max(initial=0)),
              int(void.max(initial=0)))
    if top >= LUT_LIMIT:
        keys = np.concatenate([segment_ids, void])
        key_values = np.concatenate([values, np.full(len(void), scale)])
        order = np.argsort(keys)
        keys, key_values = keys[order], key_values[order]
        pos = np.minimum(np.searchsorted(keys, id_map), len(keys) - 1)
        return np.where(keys[pos] == id_map, key_values[pos], 0).astype(dtype)
    lut = _zero_lut(top + 1, dtype)
    try:
        lut[void] = scale
        lut[segment_ids] = values
        return lut[id_map]
    finally:
        lut[void] = 0
        lut[segment_ids] = 0


def intersection_table(gt_ids: np.ndarray, gt_segment_ids: np.ndarray, pred_ids: np.ndarray,
                       pred_segment_ids: np.ndarray,
                       pred_void_ids: Sequence[int] = (0, )) -> np.ndarray:
    """Pixel counts of every (GT, predicted) index pair, by one ``np.bincount``.

    Indices follow :func:`compact_ids`: 0 = not listed, 1 = void, i + 2 = listed segment i.

    Args:
        gt_ids: (H, W) GT ids (0 = void).
        gt_segment_ids: (N,) listed GT ids.
        pred_ids: (H, W) predicted ids.
        pred_segment_ids: (M,) listed predicted ids.
        pred_void_ids: predicted ids that mean void.

    Returns:
        (N + 2, M + 2) int64 table.
    """
    cols = len(pred_segment_ids) + 2
    joint = compact_ids(gt_ids, gt_segment_ids, scale=cols)
    joint += compact_ids(pred_ids, pred_segment_ids, pred_void_ids).astype(joint.dtype, copy=False)
    rows = len(gt_segment_ids) + 2
    return np.bincount(joint.ravel(), minlength=rows * cols).reshape(rows, cols)


def image_stats(gt_ids: np.ndarray, gt_segments: Segments, pred_ids: np.ndarray,
                pred_segments: Segments, num_classes: int, num_things: int,
                thresholds: Sequence[float], pred_void_ids: Sequence[int] = (0, ),
                crowd_ignored_in_prec: bool = True, semantic: bool = False,
                image_name: str = '') -> PanopticImageStats:
    """Compute all sufficient statistics of one image in one pass over its pixels.

    Args:
        gt_ids: (H, W) GT segment ids, 0 = void.
        gt_segments: the listed GT segments (labels in ``[0, num_classes)``).
        pred_ids: (H, W) predicted segment ids.
        pred_segments: the listed predicted segments; every non-void id of ``pred_ids`` must be
            listed and every listed segment must have pixels.
        num_classes: number of classes ``C``.
        num_things: the first ``num_things`` labels are thing classes.
        thresholds: confusion thresholds T in percent.
        pred_void_ids: ids of ``pred_ids`` that mean void (no prediction).
        crowd_ignored_in_prec: exclude predicted pixels on same-class crowd regions from the
            Prec^th denominator (otherwise they count as false-positive pixels).
        semantic: also compute the semantic areas for mIoU.
        image_name: named in error messages.

    Returns:
        The image's :class:`PanopticImageStats`.
    """
    if gt_ids.shape != pred_ids.shape:
        raise PanopticEvalError(
            f'{image_name}: prediction shape {pred_ids.shape} differs from the GT shape '
            f'{gt_ids.shape}')
    for what, segs in (('GT', gt_segments), ('predicted', pred_segments)):
        bad = (segs.labels < 0) | (segs.labels >= num_classes)
        if bad.any():
            raise PanopticEvalError(
                f'{image_name}: {what} segments {segs.ids[bad].tolist()[:10]} have labels '
                f'{segs.labels[bad].tolist()[:10]} outside the {num_classes} known classes')
    table = intersection_table(gt_ids, gt_segments.ids, pred_ids, pred_segments.ids,
                               pred_void_ids)
    pred_cols = table[:, 2:]  # rows: 0 GT not listed, 1 GT void, 2.. GT segments
    unlisted = table[:, 0]
    if unlisted.any():
        raise PanopticEvalError(
            f'{image_name}: {int(unlisted.sum())} predicted pixels carry ids that are not in '
            f'the prediction\'s segment list {pred_segments.ids.tolist()[:20]}')
    pred_area = pred_cols.sum(0)
    if (pred_area == 0).any():
        raise PanopticEvalError(
            f'{image_name}: predicted segments {pred_segments.ids[pred_area == 0].tolist()} '
            'are listed but have no pixels')
    n_gt, n_pred = len(gt_segments.ids), len(pred_segments.ids)
    inter = pred_cols[2:]  # (n_gt, n_pred)
    pred_on_void = pred_cols[1]
    gt_area = table[2:].sum(1)
    gl, crowd, pl = gt_segments.labels, gt_segments.iscrowd, pred_segments.labels
    same_class = gl[:, None] == pl[None, :]

    # PQ matching: same class, non-crowd GT, IoU > 0.5 (2 * inter > union, exact in integers).
    gi, pj = np.nonzero((inter > 0) & same_class & ~crowd[:, None])
    m_inter = inter[gi, pj]
    m_union = pred_area[pj] + gt_area[gi] - m_inter - pred_on_void[pj]
    keep = 2 * m_inter > m_union
    gi, pj, m_inter, m_union = gi[keep], pj[keep], m_inter[keep], m_union[keep]
    gt_matched = np.zeros(n_gt, bool)
    gt_matched[gi] = True
    pred_matched = np.zeros(n_pred, bool)
    pred_matched[pj] = True

    on_same_crowd = (inter * (same_class & crowd[:, None])).sum(0)  # (n_pred,)
    ignored = 2 * (pred_on_void + on_same_crowd) > pred_area
    fp_preds = ~pred_matched & ~ignored
    fn_gts = ~gt_matched & ~crowd

    def per_class(labels: np.ndarray, weights: Optional[np.ndarray] = None) -> np.ndarray:
        if weights is None:
            return np.bincount(labels, minlength=num_classes).astype(np.int64)
        return np.bincount(labels, weights=weights, minlength=num_classes).astype(np.int64)

    pred_valid = pred_area - pred_on_void - (on_same_crowd if crowd_ignored_in_prec else 0)

    # Confusion: predicted things covering > T % of >= 2 non-crowd GT thing segments.
    gt_thing = (gl < num_things) & ~crowd
    pred_thing = pl < num_things
    cover_inter = inter[np.ix_(gt_thing, pred_thing)]  # (G, P)
    t = np.asarray(thresholds, dtype=np.float64)[:, None, None]
    covers = cover_inter * 100.0 > t * gt_area[gt_thing][None, :, None]  # (K, G, P)
    same = same_class[np.ix_(gt_thing, pred_thing)][None]

    stats = PanopticImageStats(
        tp=per_class(gl[gi]),
        fp=per_class(pl[fp_preds]),
        fn=per_class(gl[fn_gts]),
        match_label=gl[gi].astype(np.int64),
        match_inter=m_inter.astype(np.int64),
        match_union=m_union.astype(np.int64),
        tp_px=per_class(gl[gi], m_inter),
        gt_px=per_class(gl[~crowd], gt_area[~crowd]),
        pred_px=per_class(pl, pred_valid),
        num_pred_things=int(pred_thing.sum()),
        confused_any=(covers.sum(1) >= 2).sum(1).astype(np.int64),
        confused_same=((covers & same).sum(1) >= 2).sum(1).astype(np.int64))
    if semantic:
        # mmseg ignores GT void / unlabelled pixels; a void prediction is no class.
        stats.sem_label = per_class(gl, gt_area)
        stats.sem_pred = per_class(pl, pred_area - pred_on_void - pred_cols[0])
        stats.sem_intersect = per_class(gl[np.nonzero(same_class)[0]], inter[same_class])
    return stats
