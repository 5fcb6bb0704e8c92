"""COCO-panoptic JSON files: reading one, and the segments of one of its annotations."""
import json
from typing import Dict

from .panoptic_stats import PanopticEvalError, Segments


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
