"""CocoInstancePixelMetric: mmdet's COCO AP plus Acc^th / Prec^th of instance predictions.

Paper Table 4 reports Acc^th and Prec^th for instance segmentation. Instance masks may overlap,
while the pixel metrics need one segment per pixel, so the predictions are first resolved into
a non-overlapping thing map (:func:`resolve_overlaps`, detectron2's rule for combining
instances into a panoptic output), then scored against the panoptic GT exactly as
:class:`~mmibs.evaluation.PanopticPixelMetric` scores thing segments.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pycocotools.mask as mask_util
from mmdet.evaluation.metrics import CocoMetric
from mmdet.registry import METRICS

from .panoptic_gt import gt_png_path, gt_segments_from_info
from .panoptic_pixel_metric import CROWD_MODES, DEFAULT_THRESHOLDS, flat_metrics
from .panoptic_png import read_id_runs
from .panoptic_stats import Segments, image_stats
from .panoptic_summary import accumulate, confusion_summary, pixel_summary


def resolve_overlaps(masks: np.ndarray, labels: np.ndarray, scores: np.ndarray,
                     score_thr: float, overlap_thr: float) -> Tuple[np.ndarray, Segments]:
    """Paint instances into one id map, highest score first.

    Instances with ``score < score_thr`` or no pixels are dropped. In decreasing score order,
    an instance more than ``overlap_thr`` of whose pixels are already taken is dropped; the
    others take their still-free pixels. Free pixels at the end are void (id 0).

    Args:
        masks: (N, H, W) bool instance masks.
        labels: (N,) thing labels.
        scores: (N,) confidence scores.
        score_thr: minimum score.
        overlap_thr: maximum fraction of an instance already covered by higher-scoring ones.

    Returns:
        (H, W) int32 id map (ids 1..K) and the K kept segments.
    """
    id_map = np.zeros(masks.shape[1:], np.int32)
    kept_labels = []
    for i in np.argsort(-scores, kind='stable'):
        if scores[i] < score_thr:
            break
        mask = masks[i]
        area = int(mask.sum())
        if area == 0:
            continue
        free = mask & (id_map == 0)
        if area - int(free.sum()) > overlap_thr * area:
            continue
        kept_labels.append(int(labels[i]))
        id_map[free] = len(kept_labels)
    ids = np.arange(1, len(kept_labels) + 1)
    present = np.bincount(id_map.ravel(), minlength=len(ids) + 1)[1:] > 0
    return id_map, Segments.from_lists(ids[present], np.asarray(kept_labels, np.int64)[present])


@METRICS.register_module()
class CocoInstancePixelMetric(CocoMetric):
    """mmdet's :class:`CocoMetric` (AP, unchanged) plus thing Acc^th, Prec^th and confusion.

    The pixel metrics need the panoptic GT of each image: ``seg_map_path`` and
    ``segments_info`` in the data sample's metainfo (as the panoptic test pipeline packs them),
    with a things-first ``dataset_meta`` (``classes``, ``thing_classes``). Predicted labels are
    thing labels (the first ``len(thing_classes)`` classes).

    Args:
        score_thr: instances scoring below it are not painted (default 0.5).
        overlap_thr: an instance more than this fraction hidden by higher-scoring ones is
            dropped (default 0.5, detectron2's ``overlap_threshold``).
        thresholds: confusion thresholds T in percent.
        crowd_mode: as :class:`~mmibs.evaluation.PanopticPixelMetric`.
        seg_prefix: as :class:`~mmibs.evaluation.PanopticPixelMetric`.
        **kwargs: passed to :class:`mmdet.evaluation.metrics.CocoMetric`.
    """

    def __init__(self,
                 score_thr: float = 0.5,
                 overlap_thr: float = 0.5,
                 thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                 crowd_mode: str = 'ignore_same_class',
                 seg_prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if crowd_mode not in CROWD_MODES:
            raise ValueError(f'crowd_mode must be one of {CROWD_MODES}, got {crowd_mode!r}')
        self.score_thr = score_thr
        self.overlap_thr = overlap_thr
        self.thresholds = tuple(thresholds)
        self.crowd_mode = crowd_mode
        self.seg_prefix = seg_prefix

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """CocoMetric's processing, with the image's pixel statistics added to each result."""
        start = len(self.results)
        super().process(data_batch, data_samples)
        num_classes = len(self.dataset_meta['classes'])
        num_things = len(self.dataset_meta['thing_classes'])
        for k, data_sample in enumerate(data_samples):
            pred = data_sample['pred_instances']
            masks = pred['masks']
            if isinstance(masks, list):  # RLE-encoded
                masks = mask_util.decode(masks).transpose(2, 0, 1) if masks else \
                    np.zeros((0, *data_sample['ori_shape']), np.uint8)
            else:
                masks = masks.detach().cpu().numpy()
            pred_ids, pred_segments = resolve_overlaps(
                masks.astype(bool), pred['labels'].cpu().numpy(), pred['scores'].cpu().numpy(),
                self.score_thr, self.overlap_thr)
            path = gt_png_path(data_sample['seg_map_path'], self.seg_prefix)
            stats = image_stats(
                read_id_runs(path, self.backend_args),
                gt_segments_from_info(data_sample['segments_info'], num_classes, num_things,
                                      path),
                pred_ids, pred_segments, num_classes, num_things, self.thresholds,
                crowd_ignored_in_prec=self.crowd_mode == 'ignore_same_class', image_name=path)
            self.results[start + k] = (*self.results[start + k], stats)

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """COCO AP from CocoMetric, plus ``Acc_th``, ``Prec_th`` and ``confusion@T`` (percent)."""
        metrics = super().compute_metrics([r[:2] for r in results])
        num_things = len(self.dataset_meta['thing_classes'])
        totals = accumulate([r[2] for r in results], len(self.dataset_meta['classes']),
                            len(self.thresholds))
        pixels = pixel_summary(totals, num_things)
        summary = dict(pixels, **confusion_summary(totals, self.thresholds))
        metrics.update(flat_metrics(summary))
        return metrics
