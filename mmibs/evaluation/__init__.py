"""Evaluation metrics of mmibs, registered in mmdet's METRICS.

* :class:`PanopticPixelMetric`: PQ/SQ/RQ, Acc^th, Prec^th, confusion ratio and mIoU of panoptic
  predictions, from per-image integer statistics (see ``docs/metrics.md``); a drop-in for
  mmdet's ``CocoPanopticMetric`` (its arguments, keys and values; :data:`METRIC_GROUPS` adds
  the paper's metrics) that can also write COCO-panoptic predictions.
* :class:`CocoInstancePixelMetric`: mmdet's COCO AP plus Acc^th / Prec^th of instance
  predictions.
* :func:`read_id_runs`: a COCO-panoptic PNG decoded into :class:`IdRuns` (runs of equal ids).
"""
from .id_runs import IdRuns
from .instance_pixel_metric import CocoInstancePixelMetric, resolve_overlaps
from .panoptic_pixel_metric import METRIC_GROUPS, PanopticPixelMetric
from .panoptic_png import read_id_runs
from .panoptic_stats import (
    PQ_CROWD_RULES,
    PanopticEvalError,
    PanopticImageStats,
    Segments,
    image_stats,
)
from .panoptic_summary import accumulate, summarize

__all__ = [
    'CocoInstancePixelMetric', 'IdRuns', 'METRIC_GROUPS', 'PQ_CROWD_RULES', 'PanopticEvalError',
    'PanopticImageStats',
    'PanopticPixelMetric', 'Segments', 'accumulate', 'image_stats', 'read_id_runs',
    'resolve_overlaps', 'summarize'
]
