"""COCO-panoptic-format dataset with explicit, things-first metainfo.

mmdet's ``CocoPanopticDataset`` maps JSON categories to labels with
``coco.get_cat_ids(cat_names=classes)``, which returns ids in the *JSON* order rather than
the order of ``classes``. Cityscapes' panoptic JSON lists stuff first, so every label comes
out shifted. :class:`CocoFormatPanopticDataset` maps categories **by name** onto the
metainfo order, requires that order to be things first (``classes == thing_classes +
stuff_classes``), and checks the ``isthing`` flags against it.

Each data info keeps what the later stages need:

* ``img_path``, ``seg_map_path`` (from the annotation's own ``file_name``), ``img_id``,
  ``height``, ``width``;
* ``segments_info``: ``id``, ``category`` (contiguous label), ``is_thing`` (False for crowd
  things, as in mmdet), ``iscrowd``, ``bbox`` (x1, y1, x2, y2), ``area``;
* ``instances``: one per non-crowd thing segment, aligned with the ``gt_masks`` that
  :class:`~mmibs.datasets.transforms.LoadPanopticAnnotationsChecked` builds (crowd things stay
  in ``segments_info`` only, where they become crowd regions of the semantic map), as in mmdet.
"""
import os.path as osp
import random
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmdet.datasets import CocoPanopticDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log

from mmibs.utils import read_json_file

from .class_paired import (
    PARTNER_KEY,
    SAMPLE_KEY,
    ClassPairedCropError,
    PairedSample,
    SegmentIndex,
)
from .class_paired.index_cache import cache_key, load_or_build


class PanopticAnnotationError(ValueError):
    """Raised for a panoptic annotation file or PNG that does not follow the COCO format."""


class PairedSampleError(RuntimeError):
    """Raised when a class-paired sample cannot be produced; it is never silently replaced."""


class SampleLoadError(RuntimeError):
    """Raised when a transform fails on a sample (a missing or undecodable image file, ...);
    names the image file, its id and the annotation PNG, which a DataLoader worker's bare
    traceback does not. The transform's own exception is its ``__cause__``."""


@DATASETS.register_module()
class CocoFormatPanopticDataset(CocoPanopticDataset):
    """Panoptic dataset in COCO panoptic format whose labels follow the metainfo, things first.

    ``metainfo`` (or the subclass' ``METAINFO``) must hold ``thing_classes``, ``stuff_classes``
    and ``classes = thing_classes + stuff_classes``; names must match the ``name`` of the JSON
    categories. Every category used by a segment must be one of these classes.

    Args:
        ann_file (str): Path of the COCO panoptic JSON.
        data_prefix (dict): ``img`` (image folder) and ``seg`` (panoptic PNG folder).
        segment_index_cache (str, optional): Folder for the on-disk cache of the per-class
            segment index (:meth:`get_segment_index`), keyed by the annotation file's hash.
            Defaults to None (index built in memory only).
        **kwargs: Passed to :class:`mmdet.datasets.CocoPanopticDataset`.

    Besides integer indices, ``dataset[i]`` accepts a
    :class:`~mmibs.datasets.class_paired.PairedSample` (what
    :class:`~mmibs.datasets.class_paired.ClassPairedBatchSampler` yields): see :meth:`__getitem__`.
    """

    METAINFO = dict(classes=(), thing_classes=(), stuff_classes=(), palette=[])

    def __init__(self, *args, segment_index_cache: Optional[str] = None, **kwargs) -> None:
        self.segment_index_cache = segment_index_cache
        self._segment_index: Optional[SegmentIndex] = None
        super().__init__(*args, **kwargs)

    def get_segment_index(self) -> SegmentIndex:
        """The per-class segment index of this dataset (after filtering), built once.

        Image indices of the index are indices of this dataset. With ``segment_index_cache``
        the index is cached on disk under a key made of the annotation file's SHA-256, the
        classes and the image ids of the (filtered) data list.
        """
        if self._segment_index is None:
            if not self._fully_initialized:
                self.full_init()
            infos = [self.get_data_info(i) for i in range(len(self))]
            classes = tuple(self.metainfo['classes'])
            things = tuple(self.metainfo['thing_classes'])

            def build() -> SegmentIndex:
                return SegmentIndex.from_data_infos(infos, classes, things)

            key = None
            if self.segment_index_cache:
                key = cache_key(self.ann_file, type(self).__name__, classes, things,
                                tuple(info['img_id'] for info in infos))
            self._segment_index = load_or_build(self.segment_index_cache, key, build)
        return self._segment_index

    def __getitem__(self, idx: Any) -> Any:
        """``dataset[int]`` as in mmengine; ``dataset[PairedSample]`` for class-paired crops.

        A paired sample runs the pipeline on its image with ``results['ibs_sample']`` (the
        sample as a dict, read by :class:`~mmibs.datasets.class_paired.ClassPairedCrop`) and
        ``results['ibs_partner']`` (partner position in the per-rank batch). numpy's and
        Python's global RNGs are seeded with the sample's seed for the pipeline (and restored
        afterwards), so a crop depends only on its sample, not on the worker or on resuming.
        Unlike mmengine's ``__getitem__``, a pipeline that returns None raises
        :class:`PairedSampleError` naming the image instead of fetching a random other image,
        which would silently break the pair.
        """
        if not isinstance(idx, PairedSample):
            return super().__getitem__(idx)
        if not self._fully_initialized:
            print_log('Please call `full_init()` method manually to accelerate the speed.',
                      logger='current')
            self.full_init()
        data_info = self.get_data_info(idx.index)
        data_info[SAMPLE_KEY] = idx._asdict()
        data_info[PARTNER_KEY] = idx.partner
        np_state, py_state = np.random.get_state(), random.getstate()
        np.random.seed(idx.seed % (2**32))
        random.seed(idx.seed)
        try:
            data = self.run_pipeline(data_info)
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)
        if data is None:
            raise PairedSampleError(
                f'{type(self).__name__}: the pipeline returned None for the class-paired crop of '
                f'{data_info.get("img_path")} (segment {idx.segment_id}, class {idx.label}); a '
                'transform dropped the sample (e.g. RandomCrop without allow_negative_crop, or '
                'a filter). Class-paired samples are never replaced by another image.')
        return data

    def prepare_data(self, idx: int) -> Any:
        """mmengine's ``prepare_data`` through :meth:`run_pipeline`."""
        return self.run_pipeline(self.get_data_info(idx))

    def run_pipeline(self, data_info: dict) -> Any:
        """The pipeline's output for ``data_info``.

        Raises:
            SampleLoadError: a transform failed (e.g. mmcv's ``LoadImageFromFile`` on a missing
                or undecodable image); the message names the image, its id and the PNG.
                mmibs' own errors, which name the sample already (:class:`PanopticAnnotationError`,
                :class:`~mmibs.datasets.class_paired.ClassPairedCropError`), pass as they are.
        """
        try:
            return self.pipeline(data_info)
        except (PanopticAnnotationError, ClassPairedCropError):
            raise
        except Exception as e:  # any transform failure, re-raised with the sample named
            raise SampleLoadError(
                f'{type(self).__name__}: the pipeline failed on image {data_info.get("img_path")} '
                f'(image id {data_info.get("img_id")!r}, panoptic PNG '
                f'{data_info.get("seg_map_path")}): {type(e).__name__}: {e}') from e

    def load_data_list(self) -> List[dict]:
        """Load the JSON and return one data info per image, in the JSON's image order."""
        self._check_metainfo()
        raw = self._read_json()
        label_of_category = self._map_categories(raw['categories'])
        annotations = {}
        for ann in raw['annotations']:
            if ann['image_id'] in annotations:
                raise PanopticAnnotationError(
                    f'{self.ann_file}: image_id {ann["image_id"]!r} has two annotations')
            annotations[ann['image_id']] = ann

        self.num_empty_segments = 0
        data_list = []
        for img_info in raw['images']:
            ann = annotations.pop(img_info['id'], None)
            if ann is None:
                raise PanopticAnnotationError(
                    f'{self.ann_file}: image {img_info["file_name"]!r} (id {img_info["id"]!r}) '
                    'has no entry in "annotations"')
            data_list.append(self._parse_image(img_info, ann, label_of_category))
        if annotations:
            raise PanopticAnnotationError(
                f'{self.ann_file}: annotations for unknown image ids '
                f'{sorted(map(str, annotations))[:5]}')
        if self.num_empty_segments:
            print_log(
                f'{self.ann_file}: skipped {self.num_empty_segments} segments with zero area',
                logger='current')
        return data_list

    def _check_metainfo(self) -> None:
        """Require ``classes == thing_classes + stuff_classes`` (things first)."""
        things = tuple(self.metainfo.get('thing_classes', ()))
        stuff = tuple(self.metainfo.get('stuff_classes', ()))
        classes = tuple(self.metainfo.get('classes', ()))
        if not classes or classes != things + stuff:
            raise ValueError(
                f'{type(self).__name__}: metainfo "classes" must equal thing_classes + '
                f'stuff_classes (things first); got classes={classes}, '
                f'thing_classes={things}, stuff_classes={stuff}')

    def _read_json(self) -> dict:
        """Read the annotation file, turning I/O and format problems into clear errors."""
        if not self.ann_file:
            raise FileNotFoundError(f'{type(self).__name__}: ann_file is not set')
        return read_json_file(
            self.ann_file, PanopticAnnotationError, what='annotation file',
            required=('images', 'annotations', 'categories'), backend_args=self.backend_args,
            hint=f' ({type(self).__name__}, data_root={self.data_root!r}); generate or convert '
            'the dataset first, see docs/datasets.md')

    def _map_categories(self, categories: Sequence[dict]) -> Dict[int, int]:
        """Return ``{category_id: label}`` by matching JSON names to the metainfo classes."""
        by_name = {cat['name']: cat for cat in categories}
        thing_classes = set(self.metainfo['thing_classes'])
        label_of_category = {}
        for label, name in enumerate(self.metainfo['classes']):
            cat = by_name.get(name)
            if cat is None:
                raise PanopticAnnotationError(
                    f'{self.ann_file}: class {name!r} of the metainfo is not among the JSON '
                    f'categories {sorted(by_name)}')
            if bool(cat.get('isthing', 0)) != (name in thing_classes):
                raise PanopticAnnotationError(
                    f'{self.ann_file}: category {name!r} (id {cat["id"]}) has isthing='
                    f'{cat.get("isthing")} but the metainfo lists it as '
                    f'{"a thing" if name in thing_classes else "stuff"}')
            label_of_category[cat['id']] = label
        self.cat_ids = list(label_of_category)
        self.cat2label = label_of_category
        return label_of_category

    def _parse_image(self, img_info: dict, ann: dict, label_of_category: Dict[int, int]) -> dict:
        """Build the data info of one image."""
        num_things = len(self.metainfo['thing_classes'])
        data_info = dict(
            img_path=osp.join(self.data_prefix.get('img', '') or '', img_info['file_name']),
            seg_map_path=osp.join(self.data_prefix.get('seg', '') or '', ann['file_name']),
            img_id=img_info['id'],
            height=img_info['height'],
            width=img_info['width'],
        )
        instances, segments_info = [], []
        seen_ids = set()
        for seg in ann['segments_info']:
            if seg['id'] in seen_ids:
                raise PanopticAnnotationError(
                    f'{self.ann_file}: segment id {seg["id"]} appears twice in '
                    f'{ann["file_name"]}')
            seen_ids.add(seg['id'])
            label = label_of_category.get(seg['category_id'])
            if label is None:
                raise PanopticAnnotationError(
                    f'{self.ann_file}: segment {seg["id"]} of {ann["file_name"]} has '
                    f'category_id {seg["category_id"]}, which is not one of the metainfo '
                    f'classes (known ids {sorted(label_of_category)})')
            x, y, w, h = seg['bbox']
            if seg['area'] <= 0 or w < 1 or h < 1:
                self.num_empty_segments += 1
                continue
            iscrowd = int(seg.get('iscrowd', 0))
            bbox = [x, y, x + w, y + h]
            is_thing = label < num_things
            if is_thing and not iscrowd:
                instances.append(dict(bbox=bbox, bbox_label=label, ignore_flag=0))
            segments_info.append(
                dict(id=seg['id'], category=label, is_thing=is_thing and not iscrowd,
                     iscrowd=iscrowd, bbox=bbox, area=seg['area']))
        data_info['instances'] = instances
        data_info['segments_info'] = segments_info
        return data_info
