"""COCO-panoptic JSON files: reading one, and the segments of one of its annotations."""
from typing import Dict, Optional

from mmibs.utils import read_json_file

from .panoptic_stats import PanopticEvalError, Segments


def load_panoptic_json(path: str, what: str = 'JSON file',
                       backend_args: Optional[dict] = None) -> dict:
    """Read a COCO-panoptic JSON (one with ``annotations``; any mmengine file backend); errors
    name ``what`` (e.g. ``'GT file'``) and the file.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        PanopticEvalError: Malformed JSON, or no ``annotations``.
    """
    return read_json_file(path, PanopticEvalError, what=what, required=('annotations', ),
                          backend_args=backend_args)


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
