"""Evaluation metrics of mmibs, registered in mmdet's METRICS.

* :class:`PanopticPixelMetric`: PQ/SQ/RQ, Acc^th, Prec^th, confusion ratio and mIoU of panoptic
  predictions, from per-image integer statistics (see ``docs/metrics.md``).
* :class:`CocoInstancePixelMetric`: mmdet's COCO AP plus Acc^th / Prec^th of instance
  predictions.
"""
from .instance_pixel_metric import CocoInstancePixelMetric, resolve_overlaps
from .panoptic_pixel_metric import PanopticPixelMetric
from .panoptic_stats import PanopticEvalError, PanopticImageStats, Segments, image_stats
from .panoptic_summary import accumulate, summarize

__all__ = [
    'CocoInstancePixelMetric', 'PanopticEvalError', 'PanopticImageStats', 'PanopticPixelMetric',
    'Segments', 'accumulate', 'image_stats', 'resolve_overlaps', 'summarize'
]
