"""Scoring one (GT PNG, predicted PNG) pair: the picklable worker of the evaluation CLI."""
from typing import Sequence, Tuple

from .panoptic_png import read_id_runs
from .panoptic_stats import PanopticImageStats, Segments, image_stats

#: One image's job: (image id, GT PNG, GT segments, predicted PNG, predicted segments).
Job = Tuple[object, str, Segments, str, Segments]


class ImageScorer:
    """Picklable per-image worker: reads both PNGs as runs of ids, returns the image statistics."""

    def __init__(self, num_classes: int, num_things: int, thresholds: Sequence[float],
                 crowd_ignored: bool, pq_crowd_rule: str = 'last_listed') -> None:
        self.num_classes = num_classes
        self.num_things = num_things
        self.thresholds = tuple(thresholds)
        self.crowd_ignored = crowd_ignored
        self.pq_crowd_rule = pq_crowd_rule

    def __call__(self, job: Job) -> PanopticImageStats:
        image_id, gt_png, gt_segments, pred_png, pred_segments = job
        return image_stats(
            read_id_runs(gt_png), gt_segments, read_id_runs(pred_png), pred_segments,
            self.num_classes, self.num_things, self.thresholds,
            crowd_ignored_in_prec=self.crowd_ignored, pq_crowd_rule=self.pq_crowd_rule,
            image_name=f'image id {image_id!r} ({pred_png} vs {gt_png})')
