"""PanopticPixelMetric: PQ/SQ/RQ, Acc^th, Prec^th, confusion ratio and mIoU, in memory.

It takes mmdet's ``CocoPanopticMetric`` arguments with their meaning, so an mmdet config can
switch ``type='CocoPanopticMetric'`` to ``type='PanopticPixelMetric'`` and get the same
``coco_panoptic/`` keys with bit-identical values; ``metrics`` adds those of the IBS paper.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from .agreement_check import agreement_warnings
from .mmdet_predictions import decode_mmdet_panoptic
from .panoptic_export import PanopticPredictionWriter, png_id_map, prediction_png_name
from .panoptic_gt import PanopticJsonGT, gt_png_path, gt_segments_from_info
from .panoptic_png import read_id_runs
from .panoptic_stats import PQ_CROWD_RULES, PanopticEvalError, PanopticImageStats, image_stats
from .panoptic_summary import accumulate, summarize
from .panoptic_tables import per_class_table, summary_table

DEFAULT_THRESHOLDS = (10, 20, 30, 40, 50, 60, 70, 80, 90)
CROWD_MODES = ('ignore_same_class', 'count_as_fp')
#: Groups of returned keys (argument ``metric``): ``'PQ'`` (``CocoPanopticMetric``'s nine),
#: ``'pixel'`` (``Acc_th``, ``Prec_th``), ``'confusion'`` (``confusion@T``,
#: ``confusion_same@T``), ``'mIoU'`` (``mIoU``, ``mAcc``, ``aAcc``). The mmibs configs ask for
#: all of them.
METRIC_GROUPS = ('PQ', 'pixel', 'confusion', 'mIoU')


class OutfilePrefixError(ValueError, AssertionError):
    """``format_only=True`` without ``outfile_prefix``. Also an ``AssertionError``, which is what
    mmdet's ``CocoPanopticMetric`` raises there."""


@dataclass
class SampleResult:
    """What :meth:`PanopticPixelMetric.process` keeps of one image (collected across ranks; a
    dataclass, which mmengine's result collection passes through unchanged).

    Attributes:
        stats: its statistics (None with ``format_only``).
        annotation: its prediction's COCO-panoptic annotation (None without ``outfile_prefix``).
    """
    stats: Optional[PanopticImageStats]
    annotation: Optional[dict]


def check_things_first(dataset_meta: dict) -> int:
    """The number of thing classes; the metainfo must list ``classes`` things first.

    Raises:
        PanopticEvalError: ``classes`` does not start with ``thing_classes``.
    """
    classes, things = tuple(dataset_meta['classes']), tuple(dataset_meta['thing_classes'])
    if classes[:len(things)] != things:
        raise PanopticEvalError(
            f'dataset_meta: "classes" must list the thing classes first (labels below '
            f'len(thing_classes) are things); got classes={classes}, thing_classes={things}')
    return len(things)


@METRICS.register_module()
class PanopticPixelMetric(BaseMetric):
    """Panoptic metrics of the IBS paper, computed in one pass per image without temp files.

    Per image, the GT panoptic PNG and mmdet's ``pred_panoptic_seg.sem_seg`` (1 x H x W,
    ``label + instance * INSTANCE_OFFSET``, void label ``num_classes`` or ``ignore_index``) are
    reduced to integer sufficient statistics; these are what mmengine collects across ranks, so
    any number of processes gives the same numbers.

    Computed (see ``docs/metrics.md``):

    * PQ, SQ, RQ for All / Things / Stuff and per class, with panopticapi's rules;
    * Acc^th and Prec^th (micro over all thing pixels of the dataset), and per thing class;
    * the confusion ratio for each threshold T (any-class and same-class variants);
    * optionally mIoU / mAcc / aAcc through mmseg's ``IoUMetric.total_area_to_metrics``.

    Returned values are percentages (mmdet's convention), under mmdet's ``coco_panoptic/``
    prefix, by group (``metric``): ``PQ``, ``SQ``, ``RQ``, ``PQ_th``, ``SQ_th``, ``RQ_th``,
    ``PQ_st``, ``SQ_st``, ``RQ_st`` (``'PQ'``, what ``CocoPanopticMetric`` returns);
    ``Acc_th``, ``Prec_th`` (``'pixel'``); ``confusion@T``, ``confusion_same@T``
    (``'confusion'``); ``mIoU``, ``mAcc``, ``aAcc`` (``'mIoU'``). The logged summary table
    always shows PQ, Acc^th, Prec^th and the confusion ratio.

    GT: the sample's ``seg_map_path`` and ``segments_info`` (crowd from ``iscrowd``, or mmdet's
    ``is_thing=False`` on a thing class), or, with ``ann_file``, the JSON's annotation of the
    sample's ``img_id``.

    Args:
        ann_file: COCO-panoptic JSON of the GT (``CocoPanopticMetric``'s argument). When set,
            each image's GT segments (and, if the sample has no ``seg_map_path``, its PNG name)
            come from this file, looked up by ``img_id``; categories are matched to the
            metainfo classes by name.
        seg_prefix: folder of the GT PNGs; the PNG is ``seg_prefix/basename(seg_map_path)``
            (or ``seg_prefix/file_name`` of ``ann_file``), otherwise ``seg_map_path`` itself.
        classwise: log a per-class table (PQ, SQ, RQ, Acc, Prec, IoU).
        format_only: only write the predictions (needs ``outfile_prefix``; e.g. for a test
            server whose images have no GT) and return no metrics.
        outfile_prefix: write the predictions in COCO panoptic format as
            ``<outfile_prefix>.panoptic/*.png`` and ``<outfile_prefix>.panoptic.json``,
            atomically (see :mod:`~mmibs.evaluation.panoptic_export`); category ids are those
            of ``ann_file`` when given, else the labels. Without it nothing is written.
        nproc: accepted for ``CocoPanopticMetric`` compatibility; unused, because the
            statistics are computed image by image in :meth:`process`.
        metric: group(s) of returned keys, one or several of :data:`METRIC_GROUPS` (named like
            mmdet ``CocoMetric``'s ``metric``; ``metrics`` would make mmengine take the
            evaluator config for an ``Evaluator``'s). Default ``'PQ'``: exactly
            ``CocoPanopticMetric``'s keys; the mmibs configs set all four groups (``'mIoU'``
            also makes each image compute its semantic areas).
        thresholds: confusion thresholds T in percent.
        crowd_mode: ``'ignore_same_class'`` (default): predicted pixels on a crowd region of
            the predicted class are not counted in Prec^th; ``'count_as_fp'``: they count as
            false-positive pixels.
        pq_crowd_rule: ``'last_listed'`` (default, panopticapi): an unmatched prediction is
            ignored in PQ when more than half of it is void or on the *last listed* crowd
            segment of its class; ``'all'``: on any crowd segment of its class.
        label_divisor: mmdet's ``INSTANCE_OFFSET``.
        file_client_args: refused, as in mmdet 3 (use ``backend_args``).
        backend_args: mmengine file backend arguments for the GT PNGs and ``ann_file``.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: metric name prefix, default ``'coco_panoptic'``.
    """
    default_prefix: Optional[str] = 'coco_panoptic'

    def __init__(self,
                 ann_file: Optional[str] = None,
                 seg_prefix: Optional[str] = None,
                 classwise: bool = False,
                 format_only: bool = False,
                 outfile_prefix: Optional[str] = None,
                 nproc: int = 32,
                 metric: Union[str, Sequence[str]] = 'PQ',
                 thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                 crowd_mode: str = 'ignore_same_class',
                 pq_crowd_rule: str = 'last_listed',
                 label_divisor: int = INSTANCE_OFFSET,
                 file_client_args: Optional[dict] = None,
                 backend_args: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if crowd_mode not in CROWD_MODES:
            raise ValueError(f'crowd_mode must be one of {CROWD_MODES}, got {crowd_mode!r}')
        if pq_crowd_rule not in PQ_CROWD_RULES:
            raise ValueError(
                f'pq_crowd_rule must be one of {PQ_CROWD_RULES}, got {pq_crowd_rule!r}')
        metrics = (metric, ) if isinstance(metric, str) else tuple(metric)
        if not metrics or any(m not in METRIC_GROUPS for m in metrics):
            raise ValueError(f'PanopticPixelMetric: metric must be PQ or a non-empty subset of '
                             f'{METRIC_GROUPS}, got {metric!r}')
        if format_only and not outfile_prefix:
            raise OutfilePrefixError('PanopticPixelMetric: format_only=True needs '
                                     'outfile_prefix (where the prediction PNGs and JSON are '
                                     'written)')
        if file_client_args is not None:
            raise ValueError('PanopticPixelMetric: file_client_args is deprecated in mmdet 3; '
                             'use backend_args')
        self.thresholds = tuple(thresholds)
        self.crowd_mode = crowd_mode
        self.pq_crowd_rule = pq_crowd_rule
        self.metrics = metrics
        self.classwise = classwise
        self.format_only = format_only
        self.nproc = nproc
        self.seg_prefix = seg_prefix
        self.label_divisor = label_divisor
        self.backend_args = backend_args
        self.gt_json = PanopticJsonGT(ann_file, backend_args) if ann_file else None
        self.writer = PanopticPredictionWriter(outfile_prefix) if outfile_prefix else None

    @property
    def num_things(self) -> int:
        """Number of thing classes (the first labels; things-first metainfo)."""
        return check_things_first(self.dataset_meta)

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.dataset_meta['classes'])

    def gt_of(self, data_sample: dict):
        """The GT PNG path and :class:`Segments` of a data sample."""
        if self.gt_json is not None:
            png, segments = self.gt_json.image(data_sample.get('img_id'),
                                               self.dataset_meta['classes'], self.seg_prefix)
            if 'seg_map_path' in data_sample:
                png = gt_png_path(data_sample['seg_map_path'], self.seg_prefix)
            return png, segments
        missing = [key for key in ('seg_map_path', 'segments_info') if key not in data_sample]
        if missing:
            raise PanopticEvalError(
                f'PanopticPixelMetric: the data sample of {data_sample.get("img_path")!r} has no '
                f'{missing}: pack them in the test pipeline (PackDetInputs meta_keys) or set '
                'ann_file')
        png = gt_png_path(data_sample['seg_map_path'], self.seg_prefix)
        return png, gt_segments_from_info(data_sample['segments_info'], self.num_classes,
                                          self.num_things, png)

    def sample_result(self, data_sample: dict) -> SampleResult:
        """Statistics (unless ``format_only``) and written prediction of one data sample."""
        pred = data_sample['pred_panoptic_seg']
        pan = pred['sem_seg']
        pan = (pan.cpu().numpy() if hasattr(pan, 'cpu') else np.asarray(pan))[0]
        name = data_sample.get('img_path') or data_sample.get('img_id')
        pred_segments, void_ids = decode_mmdet_panoptic(
            pan, self.num_classes, pred.get('ignore_index', self.num_classes),
            self.label_divisor, image_name=f'prediction for {name}')
        annotation = None
        if self.writer is not None:
            id_map, png_ids = png_id_map(pan, pred_segments, void_ids)
            labels = dict(zip(png_ids.tolist(), pred_segments.labels.tolist()))
            annotation = self.writer.write_image(
                data_sample.get('img_id'),
                prediction_png_name(data_sample.get('img_path'), data_sample.get('img_id')),
                id_map, labels)
        if self.format_only:
            return SampleResult(None, annotation)
        gt_path, gt_segments = self.gt_of(data_sample)
        stats = image_stats(
            read_id_runs(gt_path, self.backend_args), gt_segments, pan, pred_segments,
            self.num_classes, self.num_things, self.thresholds, pred_void_ids=void_ids,
            crowd_ignored_in_prec=self.crowd_mode == 'ignore_same_class',
            semantic='mIoU' in self.metrics, image_name=gt_path,
            pq_crowd_rule=self.pq_crowd_rule)
        return SampleResult(stats, annotation)

    def sample_stats(self, data_sample: dict) -> PanopticImageStats:
        """Statistics of one data sample (prediction + GT)."""
        return self.sample_result(data_sample).stats

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Append the statistics (and written prediction) of every sample to ``self.results``."""
        for data_sample in data_samples:
            self.results.append(self.sample_result(data_sample))

    def compute_metrics(self, results: List[SampleResult]) -> Dict[str, float]:
        """Finish the written predictions, aggregate the statistics, log the tables and return
        percentages (nothing with ``format_only``)."""
        logger = MMLogger.get_current_instance()
        if self.writer is not None:
            self.finalize_predictions([r.annotation for r in results])
            logger.info(f'Panoptic predictions written to {self.writer.png_dir} and '
                        f'{self.writer.json_path}')
        if self.format_only:
            return {}
        totals = accumulate([r.stats for r in results], self.num_classes, len(self.thresholds))
        summary = summarize(totals, self.num_things, self.thresholds)
        logger.info('Panoptic evaluation results:\n' + summary_table(summary))
        for warning in agreement_warnings(totals, self.num_things, self.dataset_meta['classes']):
            logger.warning(f'PanopticPixelMetric: {warning}. Check that the model and the dataset '
                           'list the classes in the same order (things first)')
        if self.classwise:
            logger.info('Per-class results:\n'
                        + per_class_table(summary, self.dataset_meta['classes']))
        return flat_metrics(summary, self.metrics)

    def finalize_predictions(self, annotations: List[dict]) -> None:
        """Write the prediction JSON, with ``ann_file``'s category ids when it is set."""
        classes = self.dataset_meta['classes']
        if self.gt_json is not None:
            category_of_label = self.gt_json.category_ids(classes)
        else:
            category_of_label = {label: label for label in range(len(classes))}
        num_things = self.num_things
        categories = [dict(id=category_of_label[label], name=name, isthing=int(label < num_things))
                      for label, name in enumerate(classes)]
        self.writer.finalize(annotations, category_of_label, categories)


def flat_metrics(summary: dict, groups: Sequence[str] = METRIC_GROUPS) -> Dict[str, float]:
    """The scalar metrics of a :func:`summarize` result in percent, for the key ``groups``
    (:data:`METRIC_GROUPS`; PQ and mIoU only where the summary has them)."""
    metrics = {}
    if 'PQ' in groups:
        for group, suffix in (('All', ''), ('Things', '_th'), ('Stuff', '_st')):
            for key in ('pq', 'sq', 'rq'):
                if group in summary:
                    metrics[key.upper() + suffix] = 100 * summary[group][key]
    if 'pixel' in groups:
        metrics['Acc_th'] = 100 * summary['acc_th']
        metrics['Prec_th'] = 100 * summary['prec_th']
    if 'confusion' in groups:
        for t, value in summary['confusion'].items():
            metrics[f'confusion@{t:g}'] = 100 * value
        for t, value in summary['confusion_same_class'].items():
            metrics[f'confusion_same@{t:g}'] = 100 * value
    if 'mIoU' in groups and 'miou' in summary:
        metrics.update(mIoU=100 * summary['miou'], mAcc=100 * summary['macc'],
                       aAcc=100 * summary['aacc'])
    return metrics
