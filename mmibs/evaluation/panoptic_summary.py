"""Aggregation of per-image statistics into PQ/SQ/RQ, Acc^th/Prec^th, confusion and mIoU.

Integer counts are summed; IoU sums are ``math.fsum`` of the per-match ``inter / union``, which
is correctly rounded and therefore independent of the order (and number of processes) in which
images arrive. All returned values are fractions in [0, 1]; an undefined value (a zero
denominator) is ``nan``, except per-class PQ/SQ/RQ, which follow panopticapi (0.0 for a class
without TP, FP or FN; such classes do not count in the averages).
"""
import math
from dataclasses import dataclass
from typing import Dict, Optional, Sequence

import numpy as np
import torch

from .panoptic_stats import PanopticImageStats


@dataclass
class PanopticTotals:
    """Dataset totals; ``C`` classes, ``K`` thresholds.

    Attributes:
        iou_sum (np.ndarray): (C,) float64 sum of matched IoUs per class.
        tp, fp, fn, tp_px, gt_px, pred_px (np.ndarray): (C,) int64 summed counts.
        num_pred_things (int): predicted thing segments.
        confused_any, confused_same (np.ndarray): (K,) summed confusion counts.
        class_overlap (np.ndarray): (C, C) summed GT-class x predicted-class pixels.
        sem_intersect, sem_union, sem_pred, sem_label (np.ndarray or None): (C,) semantic areas.
        num_images (int): number of images.
    """
    iou_sum: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tp_px: np.ndarray
    gt_px: np.ndarray
    pred_px: np.ndarray
    num_pred_things: int
    confused_any: np.ndarray
    confused_same: np.ndarray
    class_overlap: np.ndarray
    num_images: int
    sem_intersect: Optional[np.ndarray] = None
    sem_union: Optional[np.ndarray] = None
    sem_pred: Optional[np.ndarray] = None
    sem_label: Optional[np.ndarray] = None


def accumulate(stats: Sequence[PanopticImageStats], num_classes: int,
               num_thresholds: int) -> PanopticTotals:
    """Sum per-image statistics; the result does not depend on the order of ``stats``."""
    zeros_c = np.zeros(num_classes, np.int64)
    zeros_k = np.zeros(num_thresholds, np.int64)

    def total(name: str, zeros: np.ndarray) -> np.ndarray:
        return sum((getattr(s, name) for s in stats), zeros.copy())

    labels = np.concatenate([s.match_label for s in stats] + [zeros_c[:0]])
    ious = (np.concatenate([s.match_inter for s in stats] + [zeros_c[:0]])
            / np.concatenate([s.match_union for s in stats] + [zeros_c[:0] + 1]))
    iou_sum = np.array([math.fsum(ious[labels == c]) for c in range(num_classes)])
    totals = PanopticTotals(
        iou_sum=iou_sum, tp=total('tp', zeros_c), fp=total('fp', zeros_c),
        fn=total('fn', zeros_c), tp_px=total('tp_px', zeros_c), gt_px=total('gt_px', zeros_c),
        pred_px=total('pred_px', zeros_c),
        num_pred_things=sum(s.num_pred_things for s in stats),
        confused_any=total('confused_any', zeros_k),
        confused_same=total('confused_same', zeros_k),
        class_overlap=sum((s.class_overlap for s in stats),
                          np.zeros((num_classes, num_classes), np.int64)),
        num_images=len(stats))
    if stats and all(s.sem_label is not None for s in stats):
        totals.sem_intersect = total('sem_intersect', zeros_c)
        totals.sem_pred = total('sem_pred', zeros_c)
        totals.sem_label = total('sem_label', zeros_c)
        totals.sem_union = totals.sem_pred + totals.sem_label - totals.sem_intersect
    return totals


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float('nan')


def _nanmean(values: np.ndarray) -> float:
    valid = values[~np.isnan(values)]
    return float(valid.mean()) if len(valid) else float('nan')


def pq_summary(totals: PanopticTotals, num_things: int) -> dict:
    """PQ/SQ/RQ exactly as panopticapi's ``PQStat.pq_average``.

    Returns:
        ``{'All' | 'Things' | 'Stuff': {'pq', 'sq', 'rq', 'n'}, 'per_class': {label: {'pq',
        'sq', 'rq'}}}``; a group without any class that has TP, FP or FN gets nan and n = 0.
    """
    per_class = {}
    for c in range(len(totals.tp)):
        tp, fp, fn, iou = int(totals.tp[c]), int(totals.fp[c]), int(totals.fn[c]), totals.iou_sum[c]
        if tp + fp + fn == 0:
            per_class[c] = {'pq': 0.0, 'sq': 0.0, 'rq': 0.0}
            continue
        den = tp + 0.5 * fp + 0.5 * fn
        per_class[c] = {'pq': iou / den, 'sq': iou / tp if tp else 0.0, 'rq': tp / den}
    result = {}
    groups = {'All': range(len(totals.tp)), 'Things': range(num_things),
              'Stuff': range(num_things, len(totals.tp))}
    for name, classes in groups.items():
        valid = [c for c in classes if totals.tp[c] + totals.fp[c] + totals.fn[c] > 0]
        result[name] = {
            key: (sum(per_class[c][key] for c in valid) / len(valid) if valid else float('nan'))
            for key in ('pq', 'sq', 'rq')}
        result[name]['n'] = len(valid)
    result['per_class'] = per_class
    return result


def pixel_summary(totals: PanopticTotals, num_things: int) -> dict:
    """Acc^th and Prec^th, micro-averaged over all thing pixels of the dataset, plus per class.

    Returns:
        ``{'acc_th', 'prec_th', 'per_class': {label: {'acc', 'prec'}}}`` (thing labels only).
    """
    th = slice(0, num_things)
    return {
        'acc_th': _ratio(totals.tp_px[th].sum(), totals.gt_px[th].sum()),
        'prec_th': _ratio(totals.tp_px[th].sum(), totals.pred_px[th].sum()),
        'per_class': {c: {'acc': _ratio(totals.tp_px[c], totals.gt_px[c]),
                          'prec': _ratio(totals.tp_px[c], totals.pred_px[c])}
                      for c in range(num_things)},
    }


def confusion_summary(totals: PanopticTotals, thresholds: Sequence[float]) -> dict:
    """Confusion ratios (Fig. 5), pooled over the dataset's predicted thing segments.

    Returns:
        ``{'confusion': {T: ratio}, 'confusion_same_class': {T: ratio}}``.
    """
    return {
        'confusion': {t: _ratio(n, totals.num_pred_things)
                      for t, n in zip(thresholds, totals.confused_any)},
        'confusion_same_class': {t: _ratio(n, totals.num_pred_things)
                                 for t, n in zip(thresholds, totals.confused_same)},
    }


def semantic_summary(totals: PanopticTotals) -> Dict[str, object]:
    """mIoU, mAcc and aAcc through mmseg's ``IoUMetric.total_area_to_metrics``.

    Returns:
        ``{'miou', 'macc', 'aacc', 'per_class': {label: {'iou', 'acc'}}}``; classes absent from
        both GT and prediction get nan and are left out of the means (as mmseg's ``nanmean``).
    """
    from mmseg.evaluation.metrics import IoUMetric
    areas = [torch.from_numpy(a.astype(np.float64)) for a in
             (totals.sem_intersect, totals.sem_union, totals.sem_pred, totals.sem_label)]
    metrics = IoUMetric.total_area_to_metrics(*areas, metrics=['mIoU'])
    return {
        'miou': _nanmean(metrics['IoU']),
        'macc': _nanmean(metrics['Acc']),
        'aacc': float(metrics['aAcc']),
        'per_class': {c: {'iou': float(metrics['IoU'][c]), 'acc': float(metrics['Acc'][c])}
                      for c in range(len(totals.sem_label))},
    }


def summarize(totals: PanopticTotals, num_things: int, thresholds: Sequence[float]) -> dict:
    """All results of a dataset as one dict (fractions; per-class entries keyed by label)."""
    pq = pq_summary(totals, num_things)
    pixels = pixel_summary(totals, num_things)
    per_class = {c: dict(v) for c, v in pq.pop('per_class').items()}
    for c, values in pixels.pop('per_class').items():
        per_class[c].update(values)
    result = dict(pq, **pixels, **confusion_summary(totals, thresholds))
    if totals.sem_label is not None:
        semantic = semantic_summary(totals)
        for c, values in semantic.pop('per_class').items():
            per_class[c].update(values)
        result.update(semantic)
    result['per_class'] = per_class
    result['num_images'] = totals.num_images
    return result
