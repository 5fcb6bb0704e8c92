"""Per-image sufficient statistics of panoptic evaluation, from one joint histogram.

Every statistic of an image (PQ counts, Acc^th / Prec^th pixel counts, the confusion counts and
the semantic areas for mIoU) is derived from a single ``(gt segment, predicted segment)``
intersection table, built from the runs of equal ids of both maps (one ``np.bincount`` over the
pieces of the image on which both ids are constant). All statistics are
integers, so summing them over images (in any order, on any number of processes) is exact.

Conventions (panopticapi's):

* GT id 0 is void. A GT pixel whose id is neither 0 nor listed in the GT segments is
  "unlabelled": it matches nothing and is not void either (panopticapi treats it so).
* Labels are contiguous, things first: label ``< num_things`` is a thing class.
* A GT segment with ``iscrowd`` is a crowd region: never matched, never a false negative.
* An unmatched prediction is ignored (not a false positive) when more than half of it lies on
  void or on a crowd region of its class. Which crowd region: ``pq_crowd_rule`` (see
  :data:`PQ_CROWD_RULES`); by default panopticapi's, the **last listed** crowd segment of the
  class in ``segments_info`` (panopticapi keeps one crowd segment per class and image, a dict
  entry overwritten while it walks the list).
"""
from dataclasses import dataclass
from typing import NamedTuple, Optional, Sequence, Union

import numpy as np

from .id_runs import IdRuns

#: Which same-class crowd GT segments decide whether an unmatched prediction is ignored in PQ:
#: ``'last_listed'`` (panopticapi and cityscapesscripts: only the class' last crowd segment in
#: ``segments_info``) or ``'all'`` (every crowd segment of the class).
PQ_CROWD_RULES = ('last_listed', 'all')


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
        class_overlap (np.ndarray): (C, C) pixels of GT class ``g`` (row, non-void GT segments,
            crowd included) predicted as class ``p`` (column, non-void predictions), whatever
            the segments; what :mod:`~mmibs.evaluation.agreement_check` reads.
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
    class_overlap: np.ndarray
    sem_intersect: Optional[np.ndarray] = None
    sem_pred: Optional[np.ndarray] = None
    sem_label: Optional[np.ndarray] = None


#: An (H, W) id map, dense or as runs of equal ids.
IdMap = Union[np.ndarray, IdRuns]


def as_runs(id_map: IdMap) -> IdRuns:
    """``id_map`` as :class:`IdRuns` (converted when it is a dense (H, W) array)."""
    return id_map if isinstance(id_map, IdRuns) else IdRuns.from_dense(np.asarray(id_map))


class PanopticEvalError(ValueError):
    """Raised for predictions or GT that cannot be evaluated (unknown ids or categories)."""


def compact_ids(ids: np.ndarray, segment_ids: np.ndarray, void_ids: Sequence[int] = (0, ),
                scale: int = 1) -> np.ndarray:
    """Map ids to compact indices times ``scale``: unlisted -> 0, void -> 1, listed i -> i + 2.

    Args:
        ids: (R,) non-negative integer ids (e.g. of runs).
        segment_ids: (N,) distinct listed ids (a listed id is never void).
        void_ids: ids that mean void.
        scale: multiplier of the indices (lets a caller form joint indices with one addition).

    Returns:
        (R,) int64 indices with values in ``scale * [0, N + 1]``.
    """
    void = np.asarray(void_ids, dtype=np.int64).reshape(-1)
    keys = np.concatenate([np.asarray(segment_ids, dtype=np.int64), void])
    values = scale * np.concatenate([np.arange(2, len(keys) - len(void) + 2),
                                     np.ones(len(void), np.int64)])
    if not len(keys):
        return np.zeros(len(ids), np.int64)
    order = np.argsort(keys, kind='stable')  # a listed id shadows the same void id
    keys, values = keys[order], values[order]
    pos = np.minimum(np.searchsorted(keys, ids), len(keys) - 1)
    return np.where(keys[pos] == ids, values[pos], 0)


def intersection_table(gt_runs: IdRuns, gt_segment_ids: np.ndarray, pred_runs: IdRuns,
                       pred_segment_ids: np.ndarray,
                       pred_void_ids: Sequence[int] = (0, )) -> np.ndarray:
    """Pixel counts of every (GT, predicted) index pair, from runs of equal ids.

    Indices follow :func:`compact_ids`: 0 = not listed, 1 = void, i + 2 = listed segment i. The
    boundaries of both maps' runs split the image into pieces on which the GT and the predicted
    id are both constant; each piece adds its length to one table cell, so the cost grows with
    the number of runs, not of pixels.

    Args:
        gt_runs: the (H, W) GT ids as runs (0 = void).
        gt_segment_ids: (N,) listed GT ids.
        pred_runs: the predicted ids as runs, same size.
        pred_segment_ids: (M,) listed predicted ids.
        pred_void_ids: predicted ids that mean void.

    Returns:
        (N + 2, M + 2) int64 table.
    """
    cols = len(pred_segment_ids) + 2
    gt_index = compact_ids(gt_runs.ids, gt_segment_ids, scale=cols)
    pred_index = compact_ids(pred_runs.ids, pred_segment_ids, pred_void_ids)
    # Both start lists are sorted: a stable sort merges them in linear time. After k merged
    # starts, the pieces' GT run is the last GT start among them (likewise for predictions).
    merged = np.concatenate([gt_runs.starts, pred_runs.starts])
    order = np.argsort(merged, kind='stable')
    bounds = merged[order]
    gt_run = np.cumsum(order < len(gt_runs.starts)) - 1
    pred_run = np.arange(len(order)) - 1 - gt_run
    last = np.empty(len(bounds), bool)  # one piece per distinct start: the last of equal ones
    last[-1] = True
    np.not_equal(bounds[1:], bounds[:-1], out=last[:-1])
    bounds = bounds[last]
    lengths = np.diff(bounds, append=gt_runs.height * gt_runs.width)
    joint = gt_index[gt_run[last]] + pred_index[pred_run[last]]
    rows = len(gt_segment_ids) + 2
    table = np.bincount(joint, weights=lengths, minlength=rows * cols)  # exact below 2**53
    return table.astype(np.int64).reshape(rows, cols)


def last_listed_crowd(labels: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """(N,) bool: the crowd segments listed last among the crowd segments of their class.

    Args:
        labels: (N,) class labels of the GT segments, in ``segments_info`` order.
        crowd: (N,) crowd flags.
    """
    positions = np.flatnonzero(crowd)[::-1]  # last listed first
    _, first_of_class = np.unique(labels[positions], return_index=True)
    last = np.zeros(len(labels), bool)
    last[positions[first_of_class]] = True
    return last


def image_stats(gt_ids: IdMap, gt_segments: Segments, pred_ids: IdMap,
                pred_segments: Segments, num_classes: int, num_things: int,
                thresholds: Sequence[float], pred_void_ids: Sequence[int] = (0, ),
                crowd_ignored_in_prec: bool = True, semantic: bool = False,
                image_name: str = '', pq_crowd_rule: str = 'last_listed') -> PanopticImageStats:
    """Compute all sufficient statistics of one image from one intersection table.

    Args:
        gt_ids: (H, W) GT segment ids (an array or its :class:`IdRuns`), 0 = void.
        gt_segments: the listed GT segments (labels in ``[0, num_classes)``).
        pred_ids: (H, W) predicted segment ids (an array or its :class:`IdRuns`).
        pred_segments: the listed predicted segments; every non-void id of ``pred_ids`` must be
            listed and every listed segment must have pixels.
        num_classes: number of classes ``C``.
        num_things: the first ``num_things`` labels are thing classes.
        thresholds: confusion thresholds T in percent.
        pred_void_ids: ids of ``pred_ids`` that mean void (no prediction).
        crowd_ignored_in_prec: exclude predicted pixels on same-class crowd regions (all of
            them, whatever ``pq_crowd_rule``) from the Prec^th denominator (otherwise they count
            as false-positive pixels).
        semantic: also compute the semantic areas for mIoU.
        image_name: named in error messages.
        pq_crowd_rule: one of :data:`PQ_CROWD_RULES`: the crowd segments that can make PQ
            ignore an unmatched prediction (default: panopticapi's last listed one per class).

    Returns:
        The image's :class:`PanopticImageStats`.
    """
    if pq_crowd_rule not in PQ_CROWD_RULES:
        raise ValueError(f'pq_crowd_rule must be one of {PQ_CROWD_RULES}, got {pq_crowd_rule!r}')
    gt_runs, pred_runs = as_runs(gt_ids), as_runs(pred_ids)
    if gt_runs.shape != pred_runs.shape:
        raise PanopticEvalError(
            f'{image_name}: prediction shape {pred_runs.shape} differs from the GT shape '
            f'{gt_runs.shape}')
    for what, segs in (('GT', gt_segments), ('predicted', pred_segments)):
        bad = (segs.labels < 0) | (segs.labels >= num_classes)
        if bad.any():
            raise PanopticEvalError(
                f'{image_name}: {what} segments {segs.ids[bad].tolist()[:10]} have labels '
                f'{segs.labels[bad].tolist()[:10]} outside the {num_classes} known classes')
    table = intersection_table(gt_runs, gt_segments.ids, pred_runs, pred_segments.ids,
                               pred_void_ids)
    pred_cols = table[:, 2:]  # rows: 0 GT not listed, 1 GT void, 2.. GT segments
    unlisted = table[:, 0]
    if unlisted.any():
        raise PanopticEvalError(
            f'{image_name}: {int(unlisted.sum())} predicted pixels carry ids that are not in '
            f"the prediction's segment list {pred_segments.ids.tolist()[:20]}")
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
    if pq_crowd_rule == 'last_listed':
        pq_crowd = last_listed_crowd(gl, crowd)
        on_pq_crowd = (inter * (same_class & pq_crowd[:, None])).sum(0)
    else:
        on_pq_crowd = on_same_crowd
    ignored = 2 * (pred_on_void + on_pq_crowd) > pred_area
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
        confused_same=((covers & same).sum(1) >= 2).sum(1).astype(np.int64),
        class_overlap=np.bincount((gl[:, None] * num_classes + pl[None, :]).ravel(),
                                  weights=inter.ravel(), minlength=num_classes * num_classes)
        .astype(np.int64).reshape(num_classes, num_classes))
    if semantic:
        # mmseg ignores GT void / unlabelled pixels; a void prediction is no class.
        stats.sem_label = per_class(gl, gt_area)
        stats.sem_pred = per_class(pl, pred_area - pred_on_void - pred_cols[0])
        stats.sem_intersect = per_class(gl[np.nonzero(same_class)[0]], inter[same_class])
    return stats
