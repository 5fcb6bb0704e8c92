"""Random panoptic GT / prediction pairs in COCO panoptic format, for tests and benchmarks
(``from panoptic_cases import ...``: tests/conftest.py and bench/ put tests/helpers on sys.path).

A case paints stuff bands, thing rectangles or polygons (some crowd) and void boxes into a GT id
map; the
prediction is the GT shifted by a few pixels, relabelled to fresh ids, with some segments given
a wrong class, plus extra boxes: unmatched segments, segments spanning several instances and
void. Ids are random in ``[1, 2**24)``, so most exceed 255.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

from mmibs.evaluation.panoptic_png import id_to_rgb

#: A case: (GT id map, GT segments, predicted id map, predicted segments). Segments are dicts
#: with ``id``, ``label`` (contiguous, things first) and ``iscrowd``.
Case = Tuple[np.ndarray, List[dict], np.ndarray, List[dict]]


def _fresh_ids(rng: np.random.Generator, n: int, max_id: int) -> np.ndarray:
    if max_id < 1 << 16:
        return rng.choice(np.arange(1, max_id), size=n, replace=False)
    return rng.permutation(np.unique(rng.integers(1, max_id, size=3 * n + 16)))[:n]


def random_case(rng: np.random.Generator, height: int, width: int, num_things: int,
                num_stuff: int, num_segments: int, max_id: int = 1 << 24,
                crowd_prob: float = 0.1, wrong_class_prob: float = 0.1,
                num_extra: int = 8, num_void: int = 3, shapes: str = 'boxes',
                crowd_per_class: int = 1) -> Case:
    """One random case of size ``height`` x ``width`` with about ``num_segments`` GT segments.

    At most ``crowd_per_class`` crowd segments per class are drawn (default 1, COCO's and
    Cityscapes' convention; more exercise panopticapi's one-crowd-segment-per-class rule).
    ``shapes='polygons'`` draws each GT segment as a random hexagon inside its box (slanted
    edges, like polygon annotations) instead of the box itself.
    """
    if shapes not in ('boxes', 'polygons'):
        raise ValueError(f"shapes must be 'boxes' or 'polygons', not {shapes!r}")
    num_classes = num_things + num_stuff
    labels: Dict[int, int] = {}
    crowd: Dict[int, bool] = {}
    gt_label_map = np.zeros((height, width), np.int32)  # temporary: index into segment order
    next_index = 1
    bands = np.sort(rng.choice(np.arange(1, width), size=min(4, width - 1), replace=False))
    for x0, x1 in zip(np.r_[0, bands], np.r_[bands, width]):
        gt_label_map[:, x0:x1] = next_index
        labels[next_index], crowd[next_index] = int(rng.integers(num_things, num_classes)), False
        next_index += 1
    crowd_count: Dict[int, int] = {}
    for _ in range(max(num_segments - len(bands) - 1, 0)):
        h = int(np.clip(rng.lognormal(np.log(height / 8), 0.8), 1, height))
        w = int(np.clip(rng.lognormal(np.log(width / 12), 0.8), 1, width))
        y, x = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
        if shapes == 'boxes':
            gt_label_map[y:y + h, x:x + w] = next_index
        else:
            angles = np.sort(rng.uniform(0, 2 * np.pi, 6))
            corners = np.stack([x + w / 2 * (1 + np.cos(angles)),
                                y + h / 2 * (1 + np.sin(angles))], axis=1)
            cv2.fillPoly(gt_label_map, [corners.round().astype(np.int32)], next_index)
        label = int(rng.integers(0, num_things)) if num_things else int(rng.integers(num_classes))
        is_crowd = (label < num_things and crowd_count.get(label, 0) < crowd_per_class
                    and rng.random() < crowd_prob)
        if is_crowd:
            crowd_count[label] = crowd_count.get(label, 0) + 1
        labels[next_index], crowd[next_index] = label, bool(is_crowd)
        next_index += 1
    for _ in range(num_void):
        h, w = int(rng.integers(1, height // 4 + 2)), int(rng.integers(1, width // 4 + 2))
        y, x = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
        gt_label_map[y:y + h, x:x + w] = 0

    present = np.flatnonzero(np.bincount(gt_label_map.ravel()))
    present = present[present > 0]
    gt_ids_of = np.zeros(next_index, np.int64)
    gt_ids_of[present] = _fresh_ids(rng, len(present), max_id)
    gt_ids = gt_ids_of[gt_label_map]
    gt_segments = [dict(id=int(gt_ids_of[i]), label=labels[i], iscrowd=int(crowd[i]))
                   for i in present]

    dy, dx = (int(v) for v in rng.integers(-3, 4, size=2))
    pred_label_map = np.roll(gt_label_map, (dy, dx), axis=(0, 1))
    pred_labels = {i: (int(rng.integers(num_classes)) if rng.random() < wrong_class_prob
                       else labels[i]) for i in present}
    pred_labels[0] = int(rng.integers(num_things, num_classes)) if num_stuff else 0
    for _ in range(num_extra):
        h = int(rng.integers(1, height // 3 + 2))
        w = int(rng.integers(1, width // 3 + 2))
        y, x = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
        pred_label_map[y:y + h, x:x + w] = next_index
        pred_labels[next_index] = int(rng.integers(num_classes))
        next_index += 1
    void_index = next_index
    for _ in range(num_void):
        h, w = int(rng.integers(1, height // 5 + 2)), int(rng.integers(1, width // 5 + 2))
        y, x = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
        pred_label_map[y:y + h, x:x + w] = void_index
    present = np.flatnonzero(np.bincount(pred_label_map.ravel(), minlength=void_index + 1))
    present = present[present != void_index]
    pred_ids_of = np.zeros(void_index + 1, np.int64)
    pred_ids_of[present] = _fresh_ids(rng, len(present), max_id)
    pred_ids = pred_ids_of[pred_label_map]
    pred_segments = [dict(id=int(pred_ids_of[i]), label=pred_labels[i], iscrowd=0)
                     for i in present]
    return gt_ids, gt_segments, pred_ids, pred_segments


def category_id_of(label: int) -> int:
    """The JSON category id used for a label in written cases (not equal to the label)."""
    return 7 * label + 3


def categories(num_things: int, num_stuff: int) -> List[dict]:
    """COCO panoptic categories for the written cases (stuff listed first, as Cityscapes)."""
    cats = [dict(id=category_id_of(label), name=f'class{label}', isthing=int(label < num_things),
                 supercategory='x') for label in range(num_things + num_stuff)]
    return cats[num_things:] + cats[:num_things]


def write_coco_panoptic(json_path: str, cases: Sequence[Case], num_things: int,
                        num_stuff: int, writer: str = 'opencv') -> Tuple[str, str]:
    """Write the GT and the predictions of ``cases`` in COCO panoptic format.

    Writes ``<json_path>_gt.json`` + folder ``<json_path>_gt/`` and ``<json_path>_pred.json`` +
    ``<json_path>_pred/`` (panopticapi's folder convention). Image ``k`` has id ``k`` and PNG
    ``img_<k>.png``. ``writer`` encodes the PNGs with ``'opencv'`` (as mmcv does: Sub filter on
    every row) or ``'pillow'`` (as panopticapi and cityscapesscripts do: adaptive filters).

    Returns:
        The GT and prediction JSON paths.
    """
    if writer not in ('opencv', 'pillow'):
        raise ValueError(f"writer must be 'opencv' or 'pillow', not {writer!r}")
    paths = []
    for which in ('gt', 'pred'):
        folder = f'{json_path}_{which}'
        os.makedirs(folder, exist_ok=True)
        images, annotations = [], []
        for k, (gt_ids, gt_segs, pred_ids, pred_segs) in enumerate(cases):
            ids, segs = (gt_ids, gt_segs) if which == 'gt' else (pred_ids, pred_segs)
            name = f'img_{k}.png'
            if writer == 'opencv':
                cv2.imwrite(osp.join(folder, name), id_to_rgb(ids)[..., ::-1])
            else:
                Image.fromarray(id_to_rgb(ids)).save(osp.join(folder, name))
            areas = dict(zip(*np.unique(ids, return_counts=True)))
            images.append(dict(id=k, file_name=f'img_{k}.jpg', height=ids.shape[0],
                               width=ids.shape[1]))
            annotations.append(dict(image_id=k, file_name=name, segments_info=[
                dict(id=s['id'], category_id=category_id_of(s['label']),
                     iscrowd=s['iscrowd'], area=int(areas.get(s['id'], 0)), bbox=[0, 0, 1, 1])
                for s in segs]))
        with open(f'{folder}.json', 'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=categories(num_things, num_stuff)), f)
        paths.append(f'{folder}.json')
    return paths[0], paths[1]
