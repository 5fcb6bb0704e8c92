"""Writing the synthetic streets dataset: images, panoptic PNGs and JSONs, atomically."""

from __future__ import annotations

import copy
import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import numpy as np
from PIL import Image

from .categories import SYNTHETIC_STREETS_CATEGORIES
from .config import GENERATOR_VERSION, SPLITS, SyntheticStreetsConfig
from .renderer import SyntheticStreetSample, render_synthetic_street

try:  # tqdm is a soft dependency: without it there is simply no bar.
    from tqdm import tqdm as _tqdm
except ImportError:  # pragma: no cover - tqdm ships with mmdet's deps
    _tqdm = None


def _id_map_to_rgb(id_map: np.ndarray) -> np.ndarray:
    """panopticapi ``id2rgb``: ``id = R + 256 * G + 256 ** 2 * B``."""
    ids = id_map.astype(np.int64)
    return np.stack([ids % 256, (ids // 256) % 256, (ids // 65536) % 256],
                    axis=-1).astype(np.uint8)


def _write_sample(sample: SyntheticStreetSample, image_path: Path,
                  png_path: Path, jpeg_quality: int) -> None:
    """Write the JPEG image and the RGB-encoded panoptic PNG."""
    Image.fromarray(sample.image, mode='RGB').save(
        image_path, format='JPEG', quality=int(jpeg_quality))
    Image.fromarray(_id_map_to_rgb(sample.id_map), mode='RGB').save(
        png_path, format='PNG')


def _write_json(path: Path, data: Dict[str, Any]) -> None:
    """Write JSON deterministically (fixed key order, no timestamps)."""
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(data, f, separators=(',', ':'))
        f.write('\n')


def _dir_is_nonempty(path: Path) -> bool:
    """True if ``path`` is a directory with at least one entry."""
    with os.scandir(path) as it:
        return any(True for _ in it)


def _check_out_dir(out_dir: Path, overwrite: bool) -> None:
    """Raise ``FileExistsError`` if ``out_dir`` may not be (re)written."""
    if out_dir.exists() or out_dir.is_symlink():
        if not out_dir.is_dir():
            raise FileExistsError(
                f'Output path {out_dir} exists and is not a directory')
        if not overwrite and _dir_is_nonempty(out_dir):
            raise FileExistsError(
                f'Output directory {out_dir} already exists and is not '
                f'empty; pass overwrite=True (--overwrite) to replace it')


def _commit(tmp_dir: Path, out_dir: Path, overwrite: bool) -> None:
    """Atomically move the finished ``tmp_dir`` to ``out_dir``."""
    _check_out_dir(out_dir, overwrite)
    if not out_dir.exists():
        os.replace(tmp_dir, out_dir)
        return
    if not _dir_is_nonempty(out_dir):
        out_dir.rmdir()
        os.replace(tmp_dir, out_dir)
        return
    old_dir = out_dir.with_name(f'{out_dir.name}.old-{secrets.token_hex(4)}')
    os.replace(out_dir, old_dir)
    try:
        os.replace(tmp_dir, out_dir)
    except BaseException:
        os.replace(old_dir, out_dir)
        raise
    shutil.rmtree(old_dir, ignore_errors=True)


def generate_synthetic_streets(
        out_dir: Union[str, os.PathLike],
        cfg: Optional[SyntheticStreetsConfig] = None,
        progress: bool = True,
        overwrite: bool = False) -> Dict[str, Any]:
    """Generate the synthetic streets panoptic dataset under ``out_dir``.

    Everything is written into a temporary sibling directory
    ``<out_dir>.tmp-<random>`` which is renamed to ``out_dir`` only once the
    dataset is complete; on any error the temporary directory is removed
    and ``out_dir`` is left untouched.

    Args:
        out_dir: Destination directory (created; its parent too).
        cfg: Generator config; ``None`` uses the defaults (512x1024,
            40 train + 10 val images, seed 0).
        progress: Show a tqdm progress bar over the images.
        overwrite: Replace an existing non-empty ``out_dir``.  The old
            directory is only removed after the new dataset is complete.

    Returns:
        A summary dict with ``out_dir``, ``images`` (images per split),
        ``segments_per_class`` (non-crowd segments per split and class
        name), ``crowd_segments`` and ``images_with_void`` (per split).

    Raises:
        FileExistsError: If ``out_dir`` exists, is non-empty and
            ``overwrite`` is False (or is not a directory).
        ValueError: If a config value is invalid (names the field).
    """
    cfg = SyntheticStreetsConfig() if cfg is None else cfg
    if not isinstance(cfg, SyntheticStreetsConfig):
        raise TypeError(
            f'cfg must be a SyntheticStreetsConfig, got {type(cfg).__name__}')
    cfg.validate()
    cfg = copy.deepcopy(cfg)
    out_dir = Path(out_dir).expanduser().absolute()
    _check_out_dir(out_dir, overwrite)
    out_dir.parent.mkdir(parents=True, exist_ok=True)

    counts = {'train': cfg.num_train, 'val': cfg.num_val}
    names = {c['id']: str(c['name']) for c in SYNTHETIC_STREETS_CATEGORIES}
    summary: Dict[str, Any] = {
        'out_dir': str(out_dir),
        'images': dict(counts),
        'segments_per_class': {},
        'crowd_segments': {},
        'images_with_void': {},
    }

    tmp_dir = Path(tempfile.mkdtemp(prefix=f'{out_dir.name}.tmp-',
                                    dir=str(out_dir.parent)))
    bar = None
    try:
        if progress and _tqdm is not None:
            bar = _tqdm(total=sum(counts.values()), desc='synthetic streets',
                        unit='img')
        for split_index, split in enumerate(SPLITS):
            img_dir = tmp_dir / 'images' / split
            pan_dir = tmp_dir / 'annotations' / f'panoptic_{split}'
            img_dir.mkdir(parents=True)
            pan_dir.mkdir(parents=True)
            images: List[Dict[str, Any]] = []
            annotations: List[Dict[str, Any]] = []
            per_class = {str(c['name']): 0
                         for c in SYNTHETIC_STREETS_CATEGORIES}
            n_crowd = 0
            n_void = 0
            for i in range(counts[split]):
                sample = render_synthetic_street(cfg, split_index, i)
                stem = f'synth_{split}_{i:05d}'
                _write_sample(sample, img_dir / f'{stem}.jpg',
                              pan_dir / f'{stem}.png', cfg.jpeg_quality)
                images.append({'id': i + 1, 'file_name': f'{stem}.jpg',
                               'height': cfg.height, 'width': cfg.width})
                annotations.append({'image_id': i + 1,
                                    'file_name': f'{stem}.png',
                                    'segments_info': sample.segments_info})
                for seg in sample.segments_info:
                    if seg['iscrowd']:
                        n_crowd += 1
                    else:
                        per_class[names[seg['category_id']]] += 1
                n_void += int(bool((sample.id_map == 0).any()))
                if bar is not None:
                    bar.update(1)
            _write_json(tmp_dir / 'annotations' / f'panoptic_{split}.json', {
                'info': {
                    'description': 'mmibs synthetic streets panoptic dataset',
                    'version': GENERATOR_VERSION,
                    'split': split,
                    'generator_config': cfg.to_dict(),
                },
                'licenses': [],
                'images': images,
                'annotations': annotations,
                'categories': copy.deepcopy(SYNTHETIC_STREETS_CATEGORIES),
            })
            summary['segments_per_class'][split] = per_class
            summary['crowd_segments'][split] = n_crowd
            summary['images_with_void'][split] = n_void
        if bar is not None:
            bar.close()
            bar = None
        _commit(tmp_dir, out_dir, overwrite)
    except BaseException:
        if bar is not None:
            bar.close()
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return summary
