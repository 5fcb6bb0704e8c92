"""Writing panoptic predictions in COCO panoptic format (PNG folder + JSON), atomically.

Layout (mmdet's ``CocoPanopticMetric`` ``outfile_prefix`` convention)::

    <outfile_prefix>.panoptic/<image>.png     ids as RGB (id = R + 256 G + 256^2 B), 0 = void
    <outfile_prefix>.panoptic.json            {"annotations": [...], "categories": [...]}

PNGs are written, by every rank, into ``<outfile_prefix>.panoptic.partial/``; once all images
are in, :meth:`PanopticPredictionWriter.finalize` (rank 0) writes the JSON and moves the folder
into place. An interrupted run leaves the previous outputs as they were (plus the partial
folder, cleaned up by the next complete run).
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..utils import atomic_open
from .id_runs import IdRuns
from .panoptic_png import id_to_rgb
from .panoptic_stats import PanopticEvalError, Segments, compact_ids

#: Largest id an RGB panoptic PNG can hold.
MAX_PNG_ID = (1 << 24) - 1


def prediction_png_name(img_path: Optional[str], img_id) -> str:
    """PNG name of an image's prediction: the image's file name with ``.png`` (as mmdet), or
    ``<img_id>.png`` when the sample has no ``img_path``.

    Raises:
        PanopticEvalError: the sample has neither.
    """
    if img_path:
        return osp.splitext(osp.basename(img_path))[0] + '.png'
    if img_id is None:
        raise PanopticEvalError('a data sample has neither img_path nor img_id: its prediction '
                                'cannot be named (pack them in the test pipeline)')
    return f'{img_id}.png'


def png_id_map(pan: np.ndarray, segments: Segments,
               void_values: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """PNG ids of an mmdet panoptic map.

    Each segment keeps its value as its id and void values become 0; a segment whose value is 0
    (only possible for a label-0 stuff class or a thing with instance 0) gets the id
    ``max(values) + 1`` instead, since 0 means void.

    Args:
        pan: (H, W) mmdet panoptic map.
        segments: its (N,) listed segments (ids = values).
        void_values: its void values.

    Returns:
        The (H, W) int64 id map and the (N,) PNG id of each segment.
    """
    ids = np.where(np.isin(pan, void_values), 0, pan).astype(np.int64)
    png_ids = segments.ids.copy()
    if (png_ids == 0).any():
        png_ids[png_ids == 0] = int(png_ids.max()) + 1
        ids[pan == 0] = int(png_ids.max())
    return ids, png_ids


class PanopticPredictionWriter:
    """Writes one PNG per image and, at the end, the JSON of all images.

    Args:
        outfile_prefix: path prefix of the outputs (e.g. ``work_dirs/x/results``).
    """

    def __init__(self, outfile_prefix: str) -> None:
        self.png_dir = f'{outfile_prefix}.panoptic'
        self.json_path = f'{outfile_prefix}.panoptic.json'
        self.staging_dir = f'{self.png_dir}.partial'

    def write_image(self, image_id, file_name: str, id_map: np.ndarray,
                    labels: Dict[int, int]) -> dict:
        """Write the PNG of one image into the staging folder; return its JSON annotation.

        Args:
            image_id: the image id (JSON ``image_id``).
            file_name: PNG name (see :func:`prediction_png_name`).
            id_map: (H, W) PNG ids, 0 = void (see :func:`png_id_map`).
            labels: ``{id: label}`` of the segments in ``id_map``.

        Returns:
            ``{'image_id', 'file_name', 'segments_info': [{'id', 'category_id' (the label; the
            category is set by :meth:`finalize`), 'area', 'iscrowd'}]}``.
        """
        if id_map.size and int(id_map.max()) > MAX_PNG_ID:
            raise PanopticEvalError(
                f'prediction for image {image_id!r}: segment id {int(id_map.max())} does not '
                f'fit in an RGB PNG (max {MAX_PNG_ID})')
        os.makedirs(self.staging_dir, exist_ok=True)
        path = osp.join(self.staging_dir, file_name)
        if not cv2.imwrite(path, id_to_rgb(id_map)[..., ::-1]):
            raise OSError(f'could not write the prediction PNG {path}')
        runs = IdRuns.from_dense(id_map)
        ids = np.array(sorted(labels), np.int64)
        areas = np.bincount(compact_ids(runs.ids, ids), weights=runs.lengths,
                            minlength=len(ids) + 2)[2:].astype(np.int64)
        return dict(image_id=image_id, file_name=file_name, segments_info=[
            dict(id=int(i), category_id=int(labels[int(i)]), area=int(a), iscrowd=0)
            for i, a in zip(ids, areas)])

    def finalize(self, annotations: Sequence[dict], category_of_label: Dict[int, int],
                 categories: List[dict]) -> None:
        """Write the JSON and put the PNG folder in place (rank 0, after all ranks wrote).

        Args:
            annotations: what :meth:`write_image` returned for every image.
            category_of_label: ``{label: category_id}`` written into ``segments_info``.
            categories: the JSON ``categories`` (``id``, ``name``, ``isthing``).
        """
        os.makedirs(self.staging_dir, exist_ok=True)
        names = {ann['file_name'] for ann in annotations}
        if len(names) != len(annotations):
            raise PanopticEvalError(
                f'{self.json_path}: several images share a prediction PNG name; image file '
                'names must be unique')
        missing = sorted(n for n in names if not osp.isfile(osp.join(self.staging_dir, n)))
        if missing:
            raise PanopticEvalError(
                f'{self.staging_dir}: prediction PNGs {missing[:5]} are missing (with several '
                'processes, outfile_prefix must be on storage that all of them share)')
        for stale in set(os.listdir(self.staging_dir)) - names:  # from an interrupted run
            os.remove(osp.join(self.staging_dir, stale))
        isthing = {cat['id']: cat['isthing'] for cat in categories}
        out = []
        for ann in annotations:
            segments = []
            for seg in ann['segments_info']:
                category = category_of_label[seg['category_id']]
                segments.append(dict(seg, category_id=category, isthing=isthing[category]))
            out.append(dict(ann, segments_info=segments))
        with atomic_open(f'{self.json_path}.partial', 'w', encoding='utf-8') as f:
            json.dump(dict(annotations=out, categories=categories), f)
        old = f'{self.png_dir}.old'
        if osp.isdir(old):
            shutil.rmtree(old)
        if osp.isdir(self.png_dir):
            os.replace(self.png_dir, old)
        os.replace(self.staging_dir, self.png_dir)
        os.replace(f'{self.json_path}.partial', self.json_path)
        shutil.rmtree(old, ignore_errors=True)
