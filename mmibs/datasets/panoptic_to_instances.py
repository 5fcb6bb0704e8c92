"""COCO panoptic (JSON + PNGs) -> COCO instance JSON of the thing segments, RLE masks.

Instance-segmentation evaluation (paper Table 4, Mask2Former on Mapillary Vistas) scores COCO
AP with mmdet's ``CocoMetric``, which needs a COCO *instance* annotation file. This module
derives it from the panoptic annotations, so that both tasks use the same ground truth:

* ``images``: copied unchanged (same ids as the panoptic JSON, strings allowed);
* ``categories``: the thing categories (``isthing`` = 1), in the JSON order, ids unchanged;
* ``annotations``: one per thing segment with pixels, crowd included (``iscrowd`` kept):
  ``id`` (1, 2, ... in file order), ``image_id``, ``category_id``, ``iscrowd``,
  ``segmentation`` (COCO RLE of the PNG mask), ``area`` and ``bbox`` (``[x, y, w, h]``) from
  that mask.

Listed thing segments without pixels in the PNG are skipped when their JSON ``area`` is 0 and
are an error otherwise; a ``category_id`` that is not a JSON category, a missing PNG, a PNG
whose size differs from its image, or an image without annotation is an error naming the file
and the segment.
"""
import json
import os.path as osp
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
import pycocotools.mask as mask_util
from mmengine.logging import print_log
from mmengine.utils import track_parallel_progress, track_progress

from mmibs.utils import atomic_open, read_json_file

from .coco_format_panoptic import PanopticAnnotationError


def read_ids_png(path: str) -> np.ndarray:
    """Read a COCO panoptic PNG and return its (H, W) int64 ids ``R + 256 G + 256^2 B``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'panoptic PNG {path!r} not found')
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise PanopticAnnotationError(f'{path}: cannot be decoded as an image')
    bgr = bgr.astype(np.int64)
    return bgr[..., 2] + 256 * bgr[..., 1] + 256 * 256 * bgr[..., 0]


def _encode(mask: np.ndarray) -> dict:
    """COCO RLE of a (H, W) bool mask, ``counts`` as str (JSON-serialisable)."""
    rle = mask_util.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def segment_mask(ids: np.ndarray, seg: dict) -> np.ndarray:
    """(H, W) bool mask of segment ``seg`` in the id map ``ids``.

    Compares only inside the JSON ``bbox`` when the pixels found there number the JSON
    ``area`` (then none can lie outside), the whole map otherwise.
    """
    x, y, w, h = (int(round(v)) for v in seg.get('bbox', (0, 0, 0, 0)))
    if w > 0 and h > 0 and x >= 0 and y >= 0:
        local = ids[y:y + h, x:x + w] == seg['id']
        if int(local.sum()) == seg.get('area', -1):
            mask = np.zeros(ids.shape, bool)
            mask[y:y + h, x:x + w] = local
            return mask
    return ids == seg['id']


def image_instances(task: Tuple[dict, dict, str, Dict[int, bool]]) -> Tuple[List[dict], int]:
    """Thing annotations (without ``id``) of one image, and its number of skipped segments.

    Args:
        task: (image info, panoptic annotation, PNG folder, ``{category_id: isthing}``).
    """
    img_info, ann, seg_dir, is_thing = task
    path = osp.join(seg_dir, ann['file_name'])
    ids = read_ids_png(path)
    if ids.shape != (img_info['height'], img_info['width']):
        raise PanopticAnnotationError(
            f'{path}: PNG size {ids.shape} differs from the size '
            f'{(img_info["height"], img_info["width"])} of image {img_info["file_name"]!r}')
    annotations, skipped = [], 0
    for seg in ann['segments_info']:
        if seg['category_id'] not in is_thing:
            raise PanopticAnnotationError(
                f'{path}: segment {seg["id"]} has category_id {seg["category_id"]}, which is '
                f'not among the JSON categories {sorted(is_thing)}')
        if not is_thing[seg['category_id']]:
            continue
        mask = segment_mask(ids, seg)
        if not mask.any():
            if seg.get('area', 1) == 0:
                skipped += 1
                continue
            raise PanopticAnnotationError(
                f'{path}: segment {seg["id"]} (category_id {seg["category_id"]}) is listed in '
                'segments_info but has no pixels in the PNG')
        rle = _encode(mask)
        annotations.append(dict(
            image_id=img_info['id'], category_id=seg['category_id'],
            iscrowd=int(seg.get('iscrowd', 0)), segmentation=rle,
            area=int(mask_util.area(rle)),
            bbox=[float(v) for v in mask_util.toBbox(rle)]))
    return annotations, skipped


def panoptic_to_instances(ann_file: str, seg_dir: str, out_file: Optional[str] = None,
                          nproc: int = 1, progress: bool = True) -> dict:
    """Convert a COCO panoptic annotation file to a COCO instance annotation file.

    Args:
        ann_file: COCO panoptic JSON.
        seg_dir: Folder of its PNGs (``annotations[i].file_name`` is relative to it).
        out_file: Where to write the instance JSON (atomically); None: do not write.
        nproc: Worker processes.
        progress: Show a progress bar.

    Returns:
        The instance annotation dict (``images``, ``annotations``, ``categories``).
    """
    raw = read_json_file(ann_file, PanopticAnnotationError, what='panoptic annotation file',
                         required=('images', 'annotations', 'categories'))
    is_thing = {cat['id']: bool(cat.get('isthing', 0)) for cat in raw['categories']}
    ann_of = {ann['image_id']: ann for ann in raw['annotations']}
    tasks = []
    for img_info in raw['images']:
        ann = ann_of.get(img_info['id'])
        if ann is None:
            raise PanopticAnnotationError(
                f'{ann_file}: image {img_info["file_name"]!r} (id {img_info["id"]!r}) has no '
                'entry in "annotations"')
        tasks.append((img_info, ann, seg_dir, is_thing))

    if nproc > 1:
        results = track_parallel_progress(image_instances, tasks, nproc)
    elif progress:
        results = track_progress(image_instances, tasks)
    else:
        results = [image_instances(task) for task in tasks]
    annotations = []
    for image_annotations, _ in results:
        for ann in image_annotations:
            annotations.append(dict(id=len(annotations) + 1, **ann))
    out = dict(
        info=dict(description=f'thing instances of {osp.basename(ann_file)}'),
        images=raw['images'],
        annotations=annotations,
        categories=[dict(id=c['id'], name=c['name'], supercategory=c.get('supercategory', ''))
                    for c in raw['categories'] if c.get('isthing', 0)])
    num_skipped = sum(skipped for _, skipped in results)
    if num_skipped:
        print_log(f'{ann_file}: skipped {num_skipped} thing segments with zero area',
                  logger='current')
    if out_file:
        with atomic_open(out_file, 'w', encoding='utf-8') as f:
            json.dump(out, f)
    return out
