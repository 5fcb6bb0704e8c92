"""Ground truth of the panoptic metrics: from data samples (mmibs or mmdet datasets) or from a
COCO-panoptic JSON (``ann_file``, as mmdet's ``CocoPanopticMetric`` takes it)."""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

from .coco_panoptic_json import load_panoptic_json, segments_of
from .panoptic_stats import PanopticEvalError, Segments


def gt_segments_from_info(segments_info: Sequence[dict], num_classes: int, num_things: int,
                          image_name: str) -> Segments:
    """GT :class:`Segments` from a data sample's ``segments_info`` (``id``, ``category``).

    Crowd flags: ``iscrowd`` where the segment has it (mmibs datasets); otherwise mmdet's
    convention, where a thing-class segment with ``is_thing=False`` is a crowd region (mmdet's
    ``CocoPanopticDataset`` keeps only ``is_thing``).

    Raises:
        PanopticEvalError: a category is not one of the ``num_classes`` metainfo classes.
    """
    for seg in segments_info:
        if not 0 <= seg['category'] < num_classes:
            raise PanopticEvalError(
                f'{image_name}: GT segment {seg["id"]} has category {seg["category"]}, unknown '
                f'to the metainfo ({num_classes} classes)')

    def crowd(seg: dict) -> bool:
        if 'iscrowd' in seg:
            return bool(seg['iscrowd'])
        return seg['category'] < num_things and not seg.get('is_thing', True)

    return Segments.from_lists([s['id'] for s in segments_info],
                               [s['category'] for s in segments_info],
                               [crowd(s) for s in segments_info])


def gt_png_path(seg_map_path: str, seg_prefix: Optional[str]) -> str:
    """``seg_prefix/basename(seg_map_path)`` when ``seg_prefix`` is set, else ``seg_map_path``."""
    return osp.join(seg_prefix, osp.basename(seg_map_path)) if seg_prefix else seg_map_path


class PanopticJsonGT:
    """The annotations of a COCO-panoptic JSON, looked up by image id.

    Categories are matched to the metainfo classes **by name** (mmdet's ``get_cat_ids`` returns
    them in the JSON's order instead, which shifts labels when the JSON lists stuff first).

    Args:
        ann_file: the JSON (any mmengine file backend).
        backend_args: mmengine file backend arguments.

    Raises:
        FileNotFoundError, PanopticEvalError: the file is missing or not COCO panoptic.
    """

    def __init__(self, ann_file: str, backend_args: Optional[dict] = None) -> None:
        self.ann_file = ann_file
        data = load_panoptic_json(ann_file, what='ann_file', backend_args=backend_args)
        if 'categories' not in data:
            raise PanopticEvalError(f'ann_file {ann_file}: no "categories"')
        self.categories = data['categories']
        self.annotations = {ann['image_id']: ann for ann in data['annotations']}

    def category_ids(self, classes: Sequence[str]) -> Dict[int, int]:
        """``{label: category_id}`` for the metainfo ``classes``.

        Raises:
            PanopticEvalError: a class has no category of that name in the JSON.
        """
        by_name = {cat['name']: cat['id'] for cat in self.categories}
        missing = [name for name in classes if name not in by_name]
        if missing:
            raise PanopticEvalError(
                f'ann_file {self.ann_file}: classes {missing} of the metainfo are not among its '
                f'categories {sorted(by_name)}')
        return {label: by_name[name] for label, name in enumerate(classes)}

    def image(self, image_id, classes: Sequence[str],
              seg_prefix: Optional[str]) -> Tuple[str, Segments]:
        """The GT PNG (``seg_prefix/file_name``) and segments of image ``image_id``.

        Raises:
            PanopticEvalError: the JSON has no annotation for ``image_id``, or a segment's
                category is not one of ``classes``.
        """
        ann = self.annotations.get(image_id)
        if ann is None:
            raise PanopticEvalError(
                f'ann_file {self.ann_file}: no annotation for image id {image_id!r}')
        labels = {cat_id: label for label, cat_id in self.category_ids(classes).items()}
        png = osp.join(seg_prefix, ann['file_name']) if seg_prefix else ann['file_name']
        return png, segments_of(ann, labels, f'ann_file {self.ann_file}')
