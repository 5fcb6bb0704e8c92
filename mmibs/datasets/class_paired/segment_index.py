"""Per-class index of the ground-truth segments of a COCO-panoptic dataset, for crop sampling.

The class-paired crop sampler of IBS (paper §4.2) draws a class, then two images that contain a
segment of that class, then one segment of that class in each image. The authors index *images
per class* offline (``DdeGeus/Mask2Former-IBS``
``mask2former/data/datasets/prepare_cityscapes_sampling.py``: one JSON per image on disk,
re-read for every sample); here the index lives in memory as a few flat numpy arrays
(``SegmentIndex``), built once per dataset from its data infos or from any COCO panoptic JSON,
with an optional on-disk cache (:mod:`~mmibs.datasets.class_paired.index_cache`).

Layout: every segment of the index belongs to a *group* = (class, image). Groups are sorted by
class, then by image; the segments of a group are contiguous. A group exists only if the image
holds at least one **non-crowd** segment of the class (the authors' index counts non-crowd
segments only), but the group lists *all* segments of that class in the image, crowd included
(the authors then pick among all of them).
"""
import json
from typing import Dict, List, Optional, Sequence

import numpy as np

from ...utils import atomic_open

#: Bump when the cached arrays change meaning; part of every cache key.
INDEX_FORMAT_VERSION = 1


class SegmentIndexError(ValueError):
    """Raised when the index cannot serve a request (e.g. a class with no segments)."""


class SegmentIndex:
    """In-memory per-class index of segments (see the module docstring for the layout).

    Build with :meth:`from_data_infos` (what datasets do) or :meth:`from_coco_panoptic`.

    Attributes (numpy arrays):
        seg_image (S,) int64: dataset index of the segment's image.
        seg_id (S,) int64: panoptic segment id.
        seg_bbox (S, 4) float32: x1, y1, x2, y2 at original resolution.
        seg_area (S,) int64: pixel area.
        seg_crowd (S,) bool: iscrowd.
        group_image (G,) int64: image of each (class, image) group.
        group_ptr (G + 1,) int64: segments of group g are ``group_ptr[g]:group_ptr[g + 1]``.
        class_ptr (C + 1,) int64: groups of class c are ``class_ptr[c]:class_ptr[c + 1]``.
    """

    ARRAYS = ('seg_image', 'seg_id', 'seg_bbox', 'seg_area', 'seg_crowd', 'group_image',
              'group_ptr', 'class_ptr', 'crowd_only_images')

    def __init__(self, class_names: Sequence[str], thing_classes: Sequence[str],
                 arrays: Dict[str, np.ndarray]):
        self.class_names = tuple(class_names)
        self.thing_classes = tuple(thing_classes)
        missing = [name for name in self.ARRAYS if name not in arrays]
        if missing:
            raise SegmentIndexError(f'SegmentIndex: missing arrays {missing}')
        for name in self.ARRAYS:
            setattr(self, name, np.asarray(arrays[name]))
        if len(self.class_ptr) != self.num_classes + 1:
            raise SegmentIndexError(
                f'SegmentIndex: {len(self.class_ptr) - 1} classes in the arrays, '
                f'{self.num_classes} class names')
        thing_set = set(self.thing_classes)
        self.is_thing = np.array([name in thing_set for name in self.class_names], dtype=bool)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_data_infos(cls, data_infos: Sequence[dict], class_names: Sequence[str],
                        thing_classes: Sequence[str]) -> 'SegmentIndex':
        """Index data infos of :class:`CocoFormatPanopticDataset` (``segments_info`` with
        contiguous ``category``, ``id``, ``bbox`` as x1, y1, x2, y2, ``area``, ``iscrowd``).
        ``data_infos[i]`` is dataset index ``i``."""
        num_classes = len(class_names)
        # per class: list of (image, [segments])
        per_class: List[List[tuple]] = [[] for _ in range(num_classes)]
        for image, info in enumerate(data_infos):
            by_label: Dict[int, list] = {}
            for seg in info['segments_info']:
                label = int(seg['category'])
                if not 0 <= label < num_classes:
                    raise SegmentIndexError(
                        f'{info.get("img_path", image)}: segment {seg["id"]} has label {label}, '
                        f'outside 0..{num_classes - 1}')
                by_label.setdefault(label, []).append(seg)
            for label, segs in by_label.items():
                per_class[label].append((image, segs))
        return cls._from_groups(per_class, class_names, thing_classes)

    @classmethod
    def from_coco_panoptic(cls, raw: dict,
                           class_names: Optional[Sequence[str]] = None) -> 'SegmentIndex':
        """Index a loaded COCO panoptic JSON (``images``, ``annotations``, ``categories``).

        Labels follow ``class_names`` (category names; default: the JSON's category order),
        image indices follow the order of ``images``. Bboxes are converted from x, y, w, h.
        """
        categories = raw['categories']
        if class_names is None:
            class_names = [cat['name'] for cat in categories]
        label_of_name = {name: i for i, name in enumerate(class_names)}
        label_of_id = {}
        for cat in categories:
            if cat['name'] in label_of_name:
                label_of_id[cat['id']] = label_of_name[cat['name']]
        thing_classes = [cat['name'] for cat in categories
                         if cat.get('isthing', 0) and cat['name'] in label_of_name]
        annotations = {ann['image_id']: ann for ann in raw['annotations']}
        infos = []
        for img in raw['images']:
            ann = annotations.get(img['id'], {'segments_info': []})
            segments = []
            for seg in ann['segments_info']:
                if seg['category_id'] not in label_of_id:
                    raise SegmentIndexError(
                        f'{img["file_name"]}: segment {seg["id"]} has unknown category_id '
                        f'{seg["category_id"]}')
                x, y, w, h = seg['bbox']
                segments.append(dict(id=seg['id'], category=label_of_id[seg['category_id']],
                                     bbox=[x, y, x + w, y + h], area=seg['area'],
                                     iscrowd=int(seg.get('iscrowd', 0))))
            infos.append(dict(img_path=img['file_name'], segments_info=segments))
        return cls.from_data_infos(infos, class_names, thing_classes)

    @classmethod
    def _from_groups(cls, per_class: List[List[tuple]], class_names: Sequence[str],
                     thing_classes: Sequence[str]) -> 'SegmentIndex':
        seg_image, seg_id, seg_bbox, seg_area, seg_crowd = [], [], [], [], []
        group_image, group_ptr, class_ptr = [], [0], [0]
        crowd_only = []
        for groups in per_class:
            n_crowd_only = 0
            for image, segs in groups:
                if all(int(seg.get('iscrowd', 0)) for seg in segs):
                    n_crowd_only += 1  # the authors' index counts non-crowd segments only
                    continue
                for seg in segs:
                    seg_image.append(image)
                    seg_id.append(int(seg['id']))
                    seg_bbox.append([float(v) for v in seg['bbox']])
                    seg_area.append(int(seg['area']))
                    seg_crowd.append(bool(int(seg.get('iscrowd', 0))))
                group_image.append(image)
                group_ptr.append(len(seg_id))
            class_ptr.append(len(group_image))
            crowd_only.append(n_crowd_only)
        arrays = dict(
            seg_image=np.asarray(seg_image, dtype=np.int64),
            seg_id=np.asarray(seg_id, dtype=np.int64),
            seg_bbox=np.asarray(seg_bbox, dtype=np.float32).reshape(-1, 4),
            seg_area=np.asarray(seg_area, dtype=np.int64),
            seg_crowd=np.asarray(seg_crowd, dtype=bool),
            group_image=np.asarray(group_image, dtype=np.int64),
            group_ptr=np.asarray(group_ptr, dtype=np.int64),
            class_ptr=np.asarray(class_ptr, dtype=np.int64),
            crowd_only_images=np.asarray(crowd_only, dtype=np.int64))
        return cls(class_names, thing_classes, arrays)

    # ------------------------------------------------------------------ queries
    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def num_images(self, label: int) -> int:
        """Images holding at least one non-crowd segment of class ``label``."""
        return int(self.class_ptr[label + 1] - self.class_ptr[label])

    def _class_segments(self, label: int) -> slice:
        g0, g1 = self.class_ptr[label], self.class_ptr[label + 1]
        return slice(int(self.group_ptr[g0]), int(self.group_ptr[g1]))

    def num_segments(self, label: int, include_crowd: bool = False) -> int:
        """Segments of class ``label`` in the index (non-crowd unless ``include_crowd``)."""
        sl = self._class_segments(label)
        crowd = self.seg_crowd[sl]
        return int(len(crowd) if include_crowd else (~crowd).sum())

    def counts(self) -> List[dict]:
        """Per-class counts: name, thing, images, segments, crowd segments."""
        return [
            dict(label=c, name=self.class_names[c], thing=bool(self.is_thing[c]),
                 images=self.num_images(c), segments=self.num_segments(c),
                 crowd=self.num_segments(c, include_crowd=True) - self.num_segments(c),
                 crowd_only_images=int(self.crowd_only_images[c]))
            for c in range(self.num_classes)
        ]

    def empty_classes(self) -> List[int]:
        """Labels without any non-crowd segment."""
        return [c for c in range(self.num_classes) if self.num_images(c) == 0]

    def segment(self, position: int) -> dict:
        """The segment at flat position ``position`` as a dict."""
        return dict(image=int(self.seg_image[position]), segment_id=int(self.seg_id[position]),
                    bbox=self.seg_bbox[position].tolist(), area=int(self.seg_area[position]),
                    iscrowd=bool(self.seg_crowd[position]))

    def draw(self, label: int, rng: np.random.Generator, mode: str = 'image',
             include_crowd: bool = True, exclude_image: Optional[int] = None) -> int:
        """Draw one segment of class ``label``; return its flat position.

        Args:
            mode: ``'image'`` (the authors' rule): an image uniformly among the images of the
                class, then a segment uniformly among that image's segments of the class.
                ``'segment'``: uniformly among all segments of the class.
            include_crowd: Whether crowd segments may be drawn (the authors: yes, in mode
                ``'image'``).
            exclude_image: Never draw from this image (``avoid_same_image``).
        """
        g0, g1 = int(self.class_ptr[label]), int(self.class_ptr[label + 1])
        if g1 == g0:
            raise SegmentIndexError(
                f'class {label} ({self.class_names[label]!r}) has no segments in the index')
        if mode == 'image':
            groups = np.arange(g0, g1)
            if exclude_image is not None:
                groups = groups[self.group_image[g0:g1] != exclude_image]
                if len(groups) == 0:
                    raise SegmentIndexError(
                        f'class {label} ({self.class_names[label]!r}) occurs in one image only; '
                        'it cannot be paired with avoid_same_image=True')
            group = int(groups[rng.integers(len(groups))])
            positions = np.arange(self.group_ptr[group], self.group_ptr[group + 1])
            if not include_crowd:
                positions = positions[~self.seg_crowd[positions]]
            return int(positions[rng.integers(len(positions))])
        if mode == 'segment':
            sl = self._class_segments(label)
            keep = np.ones(sl.stop - sl.start, dtype=bool)
            if not include_crowd:
                keep &= ~self.seg_crowd[sl]
            if exclude_image is not None:
                keep &= self.seg_image[sl] != exclude_image
            positions = np.flatnonzero(keep)
            if len(positions) == 0:
                raise SegmentIndexError(
                    f'class {label} ({self.class_names[label]!r}) has no segment to draw '
                    f'(include_crowd={include_crowd}, exclude_image={exclude_image})')
            return sl.start + int(positions[rng.integers(len(positions))])
        raise ValueError(f"segment sampling mode must be 'image' or 'segment', got {mode!r}")

    # ------------------------------------------------------------------ persistence
    def save(self, path: str) -> None:
        """Write the index to ``path`` (.npz) atomically (temporary file + rename)."""
        meta = json.dumps(dict(version=INDEX_FORMAT_VERSION, class_names=self.class_names,
                               thing_classes=self.thing_classes))
        with atomic_open(path, 'wb') as f:
            np.savez(f, meta=np.array(meta), **{k: getattr(self, k) for k in self.ARRAYS})

    @classmethod
    def load(cls, path: str) -> 'SegmentIndex':
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data['meta']))
            if meta.get('version') != INDEX_FORMAT_VERSION:
                raise SegmentIndexError(f'{path}: index format {meta.get("version")}, '
                                        f'expected {INDEX_FORMAT_VERSION}')
            arrays = {k: data[k] for k in cls.ARRAYS}
        return cls(meta['class_names'], meta['thing_classes'], arrays)
