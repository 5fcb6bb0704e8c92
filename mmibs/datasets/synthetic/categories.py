"""Category table of the *synthetic streets* panoptic dataset.

The table mirrors the Cityscapes panoptic conventions on purpose:

* category ids are the Cityscapes label ids of the same classes
  (road=7, sidewalk=8, building=11, vegetation=21, sky=23, person=24,
  car=26, truck=27);
* the list is sorted by ascending id, which - exactly like Cityscapes -
  puts the *stuff* classes **before** the *thing* classes.  mmdet-style
  panoptic datasets expect things first, so any dataset class consuming
  this table has to re-order it (things first, then stuff).  Keeping the
  Cityscapes order here makes the synthetic data exercise that code path;
* ``color`` is the Cityscapes palette colour of the class (used for
  visualisation only; the rendered images use their own appearance
  colours).

Every entry is a plain dict with the keys ``id``, ``name``,
``supercategory``, ``isthing`` (0/1) and ``color`` (``[r, g, b]``), i.e.
exactly what goes into the ``categories`` field of a COCO panoptic JSON.
"""

from __future__ import annotations

from typing import Dict, List, Tuple, Union

CategoryDict = Dict[str, Union[int, str, List[int]]]

#: The category table in ascending id order (stuff first, like Cityscapes).
SYNTHETIC_STREETS_CATEGORIES: List[CategoryDict] = [
    {'id': 7, 'name': 'road', 'supercategory': 'flat', 'isthing': 0,
     'color': [128, 64, 128]},
    {'id': 8, 'name': 'sidewalk', 'supercategory': 'flat', 'isthing': 0,
     'color': [244, 35, 232]},
    {'id': 11, 'name': 'building', 'supercategory': 'construction',
     'isthing': 0, 'color': [70, 70, 70]},
    {'id': 21, 'name': 'vegetation', 'supercategory': 'nature', 'isthing': 0,
     'color': [107, 142, 35]},
    {'id': 23, 'name': 'sky', 'supercategory': 'sky', 'isthing': 0,
     'color': [70, 130, 180]},
    {'id': 24, 'name': 'person', 'supercategory': 'human', 'isthing': 1,
     'color': [220, 20, 60]},
    {'id': 26, 'name': 'car', 'supercategory': 'vehicle', 'isthing': 1,
     'color': [0, 0, 142]},
    {'id': 27, 'name': 'truck', 'supercategory': 'vehicle', 'isthing': 1,
     'color': [0, 0, 70]},
]

#: Thing class names in ascending category-id order.
THING_CLASSES: Tuple[str, ...] = tuple(
    str(c['name']) for c in SYNTHETIC_STREETS_CATEGORIES if c['isthing'])

#: Stuff class names in ascending category-id order.
STUFF_CLASSES: Tuple[str, ...] = tuple(
    str(c['name']) for c in SYNTHETIC_STREETS_CATEGORIES if not c['isthing'])

#: Category id of every class name.
CATEGORY_IDS: Dict[str, int] = {
    str(c['name']): int(c['id'])  # type: ignore[arg-type]
    for c in SYNTHETIC_STREETS_CATEGORIES
}

#: Thing category ids in ascending order.
THING_CATEGORY_IDS: Tuple[int, ...] = tuple(
    CATEGORY_IDS[name] for name in THING_CLASSES)

#: Stuff category ids in ascending order.
STUFF_CATEGORY_IDS: Tuple[int, ...] = tuple(
    CATEGORY_IDS[name] for name in STUFF_CLASSES)

__all__ = [
    'SYNTHETIC_STREETS_CATEGORIES',
    'THING_CLASSES',
    'STUFF_CLASSES',
    'CATEGORY_IDS',
    'THING_CATEGORY_IDS',
    'STUFF_CATEGORY_IDS',
]
