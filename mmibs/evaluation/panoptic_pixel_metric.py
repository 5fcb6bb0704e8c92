"""PanopticPixelMetric: PQ/SQ/RQ, Acc^th, Prec^th, confusion ratio and mIoU, in memory."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from .panoptic_io import decode_mmdet_panoptic
from .panoptic_png import read_id_runs
from .panoptic_stats import PanopticEvalError, PanopticImageStats, Segments, image_stats
from .panoptic_summary import accumulate, summarize
from .panoptic_tables import per_class_table, summary_table

DEFAULT_THRESHOLDS = (10, 20, 30, 40, 50, 60, 70, 80, 90)
CROWD_MODES = ('ignore_same_class', 'count_as_fp')


def gt_segments_from_info(segments_info: Sequence[dict], num_classes: int,
                          image_name: str) -> Segments:
    """GT :class:`Segments` from mmibs/mmdet ``segments_info`` (``id``, ``category``, ``iscrowd``).

    Raises:
        PanopticEvalError: a category is not one of the ``num_classes`` metainfo classes.
    """
    for seg in segments_info:
        if not 0 <= seg['category'] < num_classes:
            raise PanopticEvalError(
                f'{image_name}: GT segment {seg["id"]} has category {seg["category"]}, unknown '
                f'to the metainfo ({num_classes} classes)')
    return Segments.from_lists([s['id'] for s in segments_info],
                               [s['category'] for s in segments_info],
                               [bool(s.get('iscrowd', 0)) for s in segments_info])


def gt_png_path(seg_map_path: str, seg_prefix: Optional[str]) -> str:
    """``seg_prefix/basename(seg_map_path)`` when ``seg_prefix`` is set, else ``seg_map_path``."""
    return osp.join(seg_prefix, osp.basename(seg_map_path)) if seg_prefix else seg_map_path


@METRICS.register_module()
class PanopticPixelMetric(BaseMetric):
    """Panoptic metrics of the IBS paper, computed in one pass per image without temp files.

    Per image, the GT panoptic PNG (``seg_map_path`` of the metainfo) and mmdet's
    ``pred_panoptic_seg.sem_seg`` (1 x H x W, ``label + instance * INSTANCE_OFFSET``, void label
    ``num_classes`` or ``ignore_index``) are reduced to integer sufficient statistics; these are
    what mmengine collects across ranks, so any number of processes gives the same numbers.

    Computed (see ``docs/metrics.md``):

    * PQ, SQ, RQ for All / Things / Stuff and per class, with panopticapi's rules;
    * Acc^th and Prec^th (micro over all thing pixels of the dataset), and per thing class;
    * the confusion ratio for each threshold T (any-class and same-class variants);
    * optionally mIoU / mAcc / aAcc through mmseg's ``IoUMetric.total_area_to_metrics``.

    Logged values are percentages (mmdet's convention): ``PQ``, ``SQ``, ``RQ``, ``PQ_th``,
    ``SQ_th``, ``RQ_th``, ``PQ_st``, ``SQ_st``, ``RQ_st``, ``Acc_th``, ``Prec_th``,
    ``confusion@T``, ``confusion_same@T``, and ``mIoU``, ``mAcc``, ``aAcc`` when enabled.

    Args:
        thresholds: confusion thresholds T in percent.
        crowd_mode: ``'ignore_same_class'`` (default): predicted pixels on a crowd region of
            the predicted class are not counted in Prec^th; ``'count_as_fp'``: they count as
            false-positive pixels.
        with_miou: also compute the semantic mIoU of the panoptic prediction.
        classwise: log a per-class table.
        seg_prefix: folder of the GT PNGs; when set the PNG is ``seg_prefix/basename(seg_map_path)``
            (mmdet's ``CocoPanopticMetric`` argument), otherwise ``seg_map_path`` itself.
        label_divisor: mmdet's ``INSTANCE_OFFSET``.
        backend_args: mmengine file backend arguments for reading the PNGs.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: metric name prefix, default ``'panoptic'``.
    """
    default_prefix: Optional[str] = 'panoptic'

    def __init__(self,
                 thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                 crowd_mode: str = 'ignore_same_class',
                 with_miou: bool = True,
                 classwise: bool = False,
                 seg_prefix: Optional[str] = None,
                 label_divisor: int = INSTANCE_OFFSET,
                 backend_args: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if crowd_mode not in CROWD_MODES:
            raise ValueError(f'crowd_mode must be one of {CROWD_MODES}, got {crowd_mode!r}')
        self.thresholds = tuple(thresholds)
        self.crowd_mode = crowd_mode
        self.with_miou = with_miou
        self.classwise = classwise
        self.seg_prefix = seg_prefix
        self.label_divisor = label_divisor
        self.backend_args = backend_args

    @property
    def num_things(self) -> int:
        """Number of thing classes (the first labels; things-first metainfo)."""
        return len(self.dataset_meta['thing_classes'])

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.dataset_meta['classes'])

    def sample_stats(self, data_sample: dict) -> PanopticImageStats:
        """Statistics of one data sample (prediction + GT)."""
        gt_path = gt_png_path(data_sample['seg_map_path'], self.seg_prefix)
        pred = data_sample['pred_panoptic_seg']
        pan = pred['sem_seg']
        pan = (pan.cpu().numpy() if hasattr(pan, 'cpu') else np.asarray(pan))[0]
        pred_segments, void_ids = decode_mmdet_panoptic(
            pan, self.num_classes, pred.get('ignore_index', self.num_classes),
            self.label_divisor, image_name=f'prediction for {gt_path}')
        gt_segments = gt_segments_from_info(data_sample['segments_info'], self.num_classes,
                                            gt_path)
        return image_stats(
            read_id_runs(gt_path, self.backend_args), gt_segments, pan, pred_segments,
            self.num_classes, self.num_things, self.thresholds, pred_void_ids=void_ids,
            crowd_ignored_in_prec=self.crowd_mode == 'ignore_same_class',
            semantic=self.with_miou, image_name=gt_path)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Append the sufficient statistics of every sample to ``self.results``."""
        for data_sample in data_samples:
            self.results.append(self.sample_stats(data_sample))

    def compute_metrics(self, results: List[PanopticImageStats]) -> Dict[str, float]:
        """Aggregate the collected statistics, log the tables and return percentages."""
        totals = accumulate(results, self.num_classes, len(self.thresholds))
        summary = summarize(totals, self.num_things, self.thresholds)
        logger = MMLogger.get_current_instance()
        logger.info('Panoptic evaluation results:\n' + summary_table(summary))
        if self.classwise:
            logger.info('Per-class results:\n'
                        + per_class_table(summary, self.dataset_meta['classes']))
        return flat_metrics(summary)


def flat_metrics(summary: dict) -> Dict[str, float]:
    """The logged scalar metrics of a :func:`summarize` result (PQ groups optional), in percent."""
    metrics = {}
    for group, suffix in (('All', ''), ('Things', '_th'), ('Stuff', '_st')):
        for key in ('pq', 'sq', 'rq'):
            if group in summary:
                metrics[key.upper() + suffix] = 100 * summary[group][key]
    metrics['Acc_th'] = 100 * summary['acc_th']
    metrics['Prec_th'] = 100 * summary['prec_th']
    for t, value in summary['confusion'].items():
        metrics[f'confusion@{t:g}'] = 100 * value
    for t, value in summary['confusion_same_class'].items():
        metrics[f'confusion_same@{t:g}'] = 100 * value
    if 'miou' in summary:
        metrics.update(mIoU=100 * summary['miou'], mAcc=100 * summary['macc'],
                       aAcc=100 * summary['aacc'])
    return metrics
