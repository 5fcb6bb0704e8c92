"""Tests of the synthetic streets panoptic dataset generator.

The datasets are generated at a small size (128x256, 4 + 3 images) once per
module; the whole file runs in a few seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Set, Tuple

import numpy as np
import pytest
from panopticapi.evaluation import pq_compute
from panopticapi.utils import rgb2id
from PIL import Image

import mmibs.datasets.synthetic.writer as writer_module
from mmibs.datasets.synthetic import (
    STUFF_CLASSES,
    SYNTHETIC_STREETS_CATEGORIES,
    THING_CLASSES,
    SyntheticStreetsConfig,
    generate_synthetic_streets,
    render_synthetic_street,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = REPO_ROOT / 'tools' / 'dataset_converters' / 'make_synthetic_panoptic.py'
# Tiny images keep the small instances (the default 4e-3 voids everything below 131 px here).
SMALL = dict(height=128, width=256, num_train=4, num_val=3, seed=0, min_instance_fraction=1e-4)
THING_IDS = {c['id'] for c in SYNTHETIC_STREETS_CATEGORIES if c['isthing']}
STUFF_IDS = {c['id'] for c in SYNTHETIC_STREETS_CATEGORIES
             if not c['isthing']}


def _read_tree(root: Path) -> Dict[str, bytes]:
    """All files under ``root`` as ``{relative posix path: bytes}``."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob('*')) if p.is_file()}


def _load_split(root: Path, split: str) -> Tuple[dict, Path]:
    """The panoptic JSON of ``split`` and its PNG folder."""
    ann_dir = root / 'annotations'
    with open(ann_dir / f'panoptic_{split}.json', encoding='utf-8') as f:
        data = json.load(f)
    return data, ann_dir / f'panoptic_{split}'


def _id_map(png_path: Path) -> np.ndarray:
    """Decode a panoptic PNG with panopticapi's reference ``rgb2id``."""
    return rgb2id(np.array(Image.open(png_path), dtype=np.uint32))


@pytest.fixture(scope='module')
def small_cfg() -> SyntheticStreetsConfig:
    """The small config used by most tests."""
    return SyntheticStreetsConfig(**SMALL)


@pytest.fixture(scope='module')
def dataset(tmp_path_factory: pytest.TempPathFactory,
            small_cfg: SyntheticStreetsConfig) -> Tuple[Path, dict]:
    """A small generated dataset and its summary."""
    out = tmp_path_factory.mktemp('synthetic') / 'a'
    summary = generate_synthetic_streets(out, small_cfg, progress=False)
    return out, summary


@pytest.fixture(scope='module')
def annotations(dataset: Tuple[Path, dict]
                ) -> List[Tuple[dict, np.ndarray]]:
    """``(annotation, id map)`` of every image of both splits."""
    root, _ = dataset
    out = []
    for split in ('train', 'val'):
        data, png_dir = _load_split(root, split)
        for ann in data['annotations']:
            out.append((ann, _id_map(png_dir / ann['file_name'])))
    return out


# ----------------------------------------------------------------- layout
def test_layout_and_summary(dataset: Tuple[Path, dict]) -> None:
    """The documented layout, file formats and summary are produced."""
    root, summary = dataset
    assert summary['images'] == {'train': 4, 'val': 3}
    assert set(summary['segments_per_class']['train']) == \
        set(THING_CLASSES) | set(STUFF_CLASSES)
    for split, n in (('train', 4), ('val', 3)):
        data, png_dir = _load_split(root, split)
        assert set(data) == {'info', 'licenses', 'images', 'annotations',
                             'categories'}
        assert data['categories'] == SYNTHETIC_STREETS_CATEGORIES
        assert data['info']['generator_config']['height'] == 128
        assert len(data['images']) == len(data['annotations']) == n
        for i, (img, ann) in enumerate(zip(data['images'],
                                           data['annotations'])):
            stem = f'synth_{split}_{i:05d}'
            assert img['file_name'] == f'{stem}.jpg'
            assert ann['file_name'] == f'{stem}.png'
            assert ann['image_id'] == img['id']
            assert (img['height'], img['width']) == (128, 256)
            jpg = Image.open(root / 'images' / split / img['file_name'])
            assert jpg.format == 'JPEG' and jpg.mode == 'RGB'
            assert jpg.size == (256, 128)
            png = Image.open(png_dir / ann['file_name'])
            assert png.format == 'PNG' and png.mode == 'RGB'
            assert png.size == (256, 128)
        assert len({img['id'] for img in data['images']}) == n
    # nothing else is left next to the output (no temp dirs)
    assert sorted(p.name for p in root.parent.iterdir()) == ['a']


# ------------------------------------------------------------ determinism
def test_same_seed_is_byte_identical(
        dataset: Tuple[Path, dict], small_cfg: SyntheticStreetsConfig,
        tmp_path: Path) -> None:
    """Same config and seed give byte-identical JSON, PNG and JPEG files."""
    root, _ = dataset
    generate_synthetic_streets(tmp_path / 'b', small_cfg, progress=False)
    first, second = _read_tree(root), _read_tree(tmp_path / 'b')
    assert sorted(first) == sorted(second)
    assert len(first) == 2 * (4 + 3) + 2
    for name in first:
        assert first[name] == second[name], name


def test_different_seed_changes_output(dataset: Tuple[Path, dict],
                                       tmp_path: Path) -> None:
    """Another seed renders different images."""
    root, _ = dataset
    cfg = SyntheticStreetsConfig(**{**SMALL, 'seed': 1, 'num_train': 1,
                                    'num_val': 1})
    generate_synthetic_streets(tmp_path / 'c', cfg, progress=False)
    for rel in ('images/train/synth_train_00000.jpg',
                'annotations/panoptic_train/synth_train_00000.png',
                'images/val/synth_val_00000.jpg'):
        assert (root / rel).read_bytes() != (tmp_path / 'c' / rel).read_bytes()


def test_image_does_not_depend_on_split_sizes(dataset: Tuple[Path, dict],
                                              tmp_path: Path) -> None:
    """Image i is the same whatever num_train / num_val are."""
    root, _ = dataset
    cfg = SyntheticStreetsConfig(**{**SMALL, 'num_train': 2, 'num_val': 1})
    generate_synthetic_streets(tmp_path / 'd', cfg, progress=False)
    small = _read_tree(tmp_path / 'd')
    big = _read_tree(root)
    images = [k for k in small if not k.endswith('.json')]
    assert len(images) == 2 * (2 + 1)
    for name in images:
        assert small[name] == big[name], name
    # and the annotations of those images are identical too
    for split in ('train', 'val'):
        a, _ = _load_split(tmp_path / 'd', split)
        b, _ = _load_split(root, split)
        assert a['annotations'] == b['annotations'][:len(a['annotations'])]


# --------------------------------------------------------- format validity
def test_png_and_segments_info_agree(
        annotations: List[Tuple[dict, np.ndarray]]) -> None:
    """PNG ids, areas and bboxes match segments_info exactly (panopticapi rgb2id)."""
    for ann, id_map in annotations:
        segs = {s['id']: s for s in ann['segments_info']}
        assert len(segs) == len(ann['segments_info']), 'duplicate ids'
        ids, counts = np.unique(id_map, return_counts=True)
        present = {int(i): int(c) for i, c in zip(ids, counts) if i != 0}
        assert set(present) == set(segs), ann['file_name']
        stuff_seen: Counter = Counter()
        for seg_id, seg in segs.items():
            assert 0 < seg_id < 2 ** 24
            assert set(seg) == {'id', 'category_id', 'iscrowd', 'bbox',
                                'area'}
            assert seg['category_id'] in THING_IDS | STUFF_IDS
            assert seg['area'] == present[seg_id] > 0
            assert all(isinstance(v, int) for v in seg['bbox'])
            ys, xs = np.nonzero(id_map == seg_id)
            assert seg['bbox'] == [int(xs.min()), int(ys.min()),
                                   int(xs.max() - xs.min() + 1),
                                   int(ys.max() - ys.min() + 1)]
            assert seg['iscrowd'] in (0, 1)
            if seg['category_id'] in STUFF_IDS:
                assert seg['iscrowd'] == 0
                stuff_seen[seg['category_id']] += 1
        assert all(n == 1 for n in stuff_seen.values())
        crowd_cats = [s['category_id'] for s in segs.values()
                      if s['iscrowd']]
        assert len(crowd_cats) == len(set(crowd_cats))


def test_pq_of_ground_truth_against_itself(
        dataset: Tuple[Path, dict]) -> None:
    """panopticapi's pq_compute accepts the files and gives PQ 1 for GT vs GT."""
    root, _ = dataset
    for split in ('train', 'val'):
        gt_json = str(root / 'annotations' / f'panoptic_{split}.json')
        gt_dir = str(root / 'annotations' / f'panoptic_{split}')
        results = pq_compute(gt_json, gt_json, gt_dir, gt_dir)
        assert results['All']['pq'] == pytest.approx(1.0)
        assert results['Things']['n'] == len(THING_IDS)


# ------------------------------------------------- the confusion property
def _touching_pairs(id_map: np.ndarray) -> Set[Tuple[int, int]]:
    """Unordered pairs of different ids that are 4-neighbours."""
    pairs: Set[Tuple[int, int]] = set()
    for a, b in ((id_map[:, :-1], id_map[:, 1:]),
                 (id_map[:-1, :], id_map[1:, :])):
        diff = a != b
        both = np.stack([a[diff], b[diff]], axis=1)
        for x, y in np.unique(np.sort(both, axis=1), axis=0).tolist():
            pairs.add((x, y))
    return pairs


def test_images_contain_the_confusion_setting(
        annotations: List[Tuple[dict, np.ndarray]]) -> None:
    """Many, touching and large same-class instances, crowds and void exist."""
    max_same_class = 0
    touching_same_class = 0
    large = 0
    crowds = 0
    void_images = 0
    for ann, id_map in annotations:
        segs = {s['id']: s for s in ann['segments_info']}
        things = [s for s in segs.values()
                  if s['category_id'] in THING_IDS and not s['iscrowd']]
        per_class = Counter(s['category_id'] for s in things)
        max_same_class = max([max_same_class, *per_class.values()])
        for x, y in _touching_pairs(id_map):
            if x == 0 or y == 0:
                continue
            sx, sy = segs[x], segs[y]
            if sx['category_id'] == sy['category_id'] and \
                    sx['category_id'] in THING_IDS and \
                    not sx['iscrowd'] and not sy['iscrowd']:
                touching_same_class += 1
        large += sum(s['area'] > 0.02 * id_map.size for s in things)
        crowds += sum(s['iscrowd'] for s in segs.values())
        void_images += int((id_map == 0).any())
    assert max_same_class >= 4
    assert touching_same_class >= 3
    assert large >= 3
    assert crowds >= 1
    assert void_images >= 1


def test_large_instances_exceed_a_quarter_crop_at_default_size() -> None:
    """At 512x1024 some instances are larger than a quarter of a 256x512 crop."""
    cfg = SyntheticStreetsConfig()
    quarter_crop = 256 * 512 / 4
    areas = []
    for i in range(3):
        sample = render_synthetic_street(cfg, 0, i)
        assert sample.image.shape == (512, 1024, 3)
        assert sample.image.dtype == np.uint8
        areas += [s['area'] for s in sample.segments_info
                  if s['category_id'] in THING_IDS and not s['iscrowd']]
    assert sum(a > quarter_crop for a in areas) >= 2


# -------------------------------------------------------- category table
def test_category_table() -> None:
    """Cityscapes ids and colours, ascending ids, stuff first."""
    ids = [c['id'] for c in SYNTHETIC_STREETS_CATEGORIES]
    assert ids == sorted(ids) == [7, 8, 11, 21, 23, 24, 26, 27]
    # stuff first, exactly like Cityscapes
    assert [c['isthing'] for c in SYNTHETIC_STREETS_CATEGORIES] == \
        [0, 0, 0, 0, 0, 1, 1, 1]
    assert STUFF_CLASSES == ('road', 'sidewalk', 'building', 'vegetation',
                             'sky')
    assert THING_CLASSES == ('person', 'car', 'truck')
    colors = {c['name']: tuple(c['color'])
              for c in SYNTHETIC_STREETS_CATEGORIES}
    assert colors == {
        'road': (128, 64, 128), 'sidewalk': (244, 35, 232),
        'building': (70, 70, 70), 'vegetation': (107, 142, 35),
        'sky': (70, 130, 180), 'person': (220, 20, 60),
        'car': (0, 0, 142), 'truck': (0, 0, 70)}
    for c in SYNTHETIC_STREETS_CATEGORIES:
        assert set(c) == {'id', 'name', 'supercategory', 'isthing', 'color'}


# ------------------------------------------------------------- bad input
def test_nonempty_out_dir_requires_overwrite(
        tmp_path: Path, small_cfg: SyntheticStreetsConfig) -> None:
    """A non-empty out_dir is refused and left untouched."""
    out = tmp_path / 'existing'
    out.mkdir()
    (out / 'keep.txt').write_text('precious')
    with pytest.raises(FileExistsError, match=str(out)):
        generate_synthetic_streets(out, small_cfg, progress=False)
    assert [p.name for p in out.iterdir()] == ['keep.txt']
    assert (out / 'keep.txt').read_text() == 'precious'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['existing']


def test_overwrite_replaces_and_empty_dir_is_fine(
        tmp_path: Path) -> None:
    """An empty out_dir is filled; overwrite=True replaces a non-empty one."""
    cfg = SyntheticStreetsConfig(**{**SMALL, 'num_train': 1, 'num_val': 1})
    out = tmp_path / 'existing'
    out.mkdir()
    generate_synthetic_streets(out, cfg, progress=False)  # empty: allowed
    (out / 'keep.txt').write_text('old')
    generate_synthetic_streets(out, cfg, progress=False, overwrite=True)
    assert not (out / 'keep.txt').exists()
    assert (out / 'annotations' / 'panoptic_val.json').is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['existing']


@pytest.mark.parametrize('field, value', [
    ('height', 0),
    ('width', -5),
    ('num_train', 0),
    ('num_val', 0),
    ('seed', -1),
    ('crowd_prob', 1.5),
    ('noise_std', -1.0),
    ('jpeg_quality', 0),
    ('vehicles_per_row', (5, 2)),
    ('person_groups', (1,)),
    ('outline_width', -1),
])
def test_invalid_config_raises(field: str, value: object) -> None:
    """Invalid values raise ValueError naming the field."""
    with pytest.raises(ValueError, match=field):
        SyntheticStreetsConfig(**{field: value})


def test_invalid_config_is_rejected_before_writing(tmp_path: Path) -> None:
    """A config mutated into an invalid state is rejected before any write."""
    cfg = SyntheticStreetsConfig(**SMALL)
    cfg.num_val = 0  # mutated after construction
    with pytest.raises(ValueError, match='num_val'):
        generate_synthetic_streets(tmp_path / 'out', cfg, progress=False)
    assert list(tmp_path.iterdir()) == []


def _fail_on_third_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the 3rd rendered image raise."""
    real = writer_module.render_synthetic_street
    calls = {'n': 0}

    def flaky(*args, **kwargs):
        calls['n'] += 1
        if calls['n'] == 3:
            raise RuntimeError('simulated failure')
        return real(*args, **kwargs)

    monkeypatch.setattr(writer_module, 'render_synthetic_street', flaky)


def test_failure_leaves_no_partial_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        small_cfg: SyntheticStreetsConfig) -> None:
    """A failure mid-generation leaves neither out_dir nor a temp dir."""
    _fail_on_third_call(monkeypatch)
    with pytest.raises(RuntimeError, match='simulated'):
        generate_synthetic_streets(tmp_path / 'out', small_cfg,
                                   progress=False)
    assert list(tmp_path.iterdir()) == []


def test_failure_with_overwrite_keeps_old_dataset(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        small_cfg: SyntheticStreetsConfig) -> None:
    """A failure with overwrite=True keeps the old directory intact."""
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'old.txt').write_text('old')
    _fail_on_third_call(monkeypatch)
    with pytest.raises(RuntimeError, match='simulated'):
        generate_synthetic_streets(out, small_cfg, progress=False,
                                   overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out']
    assert [p.name for p in out.iterdir()] == ['old.txt']


# -------------------------------------------------------------------- CLI
def test_cli_writes_expected_layout(tmp_path: Path) -> None:
    """The CLI writes the layout and refuses to overwrite without --overwrite."""
    out = tmp_path / 'cli_out'
    cmd = [sys.executable, str(CLI), '--out', str(out), '--height', '64',
           '--width', '128', '--num-train', '2', '--num-val', '1',
           '--seed', '3', '--no-progress']
    proc = subprocess.run(cmd, cwd=str(REPO_ROOT), capture_output=True,
                          text=True, timeout=300, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert '"train": 2' in proc.stdout
    for rel in ('images/train/synth_train_00000.jpg',
                'images/train/synth_train_00001.jpg',
                'images/val/synth_val_00000.jpg',
                'annotations/panoptic_train/synth_train_00001.png',
                'annotations/panoptic_val/synth_val_00000.png',
                'annotations/panoptic_train.json',
                'annotations/panoptic_val.json'):
        assert (out / rel).is_file(), rel
    data, _ = _load_split(out, 'train')
    assert data['info']['generator_config']['seed'] == 3
    # a second run without --overwrite refuses to touch the output
    proc = subprocess.run(cmd, cwd=str(REPO_ROOT), capture_output=True,
                          text=True, timeout=300, env=dict(os.environ))
    assert proc.returncode != 0
    assert str(out) in proc.stderr
