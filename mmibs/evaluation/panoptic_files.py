"""COCO-panoptic files: reading the JSON, the segments of an annotation, and scoring one pair
of PNGs (the picklable worker of the evaluation CLI)."""
import json
from typing import Dict, Sequence, Tuple

from .panoptic_png import read_id_runs
from .panoptic_stats import PanopticEvalError, PanopticImageStats, Segments, image_stats

#: One image's job: (image id, GT PNG, GT segments, predicted PNG, predicted segments).
Job = Tuple[object, str, Segments, str, Segments]


def load_panoptic_json(path: str, what: str = '') -> dict:
    """Read a COCO-panoptic JSON (one with ``annotations``); errors name ``what`` and the file.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        PanopticEvalError: Malformed JSON, or no ``annotations``.
    """
    where = f'{what} {path}' if what else path
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except FileNotFoundError as e:
        raise FileNotFoundError(f'{where}: file not found') from e
    except json.JSONDecodeError as e:
        raise PanopticEvalError(f'{where}: malformed JSON ({e})') from e
    if 'annotations' not in data:
        raise PanopticEvalError(f'{where}: not a COCO panoptic file (no "annotations")')
    return data


def segments_of(ann: dict, labels: Dict[int, int], where: str) -> Segments:
    """The segments of one COCO-panoptic annotation (``segments_info``), labelled by ``labels``.

    Args:
        ann: An entry of the JSON's ``annotations``.
        labels: ``{category_id: label}``.
        where: The JSON file, named in the error.

    Raises:
        PanopticEvalError: A segment's ``category_id`` is not in ``labels`` (names file, image
            and segment id).
    """
    for seg in ann['segments_info']:
        if seg['category_id'] not in labels:
            raise PanopticEvalError(
                f'{where}: image {ann["image_id"]!r}, segment {seg["id"]} has category_id '
                f'{seg["category_id"]}, which is not among the GT categories {sorted(labels)}')
    infos = ann['segments_info']
    return Segments.from_lists([s['id'] for s in infos],
                               [labels[s['category_id']] for s in infos],
                               [bool(s.get('iscrowd', 0)) for s in infos])


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
