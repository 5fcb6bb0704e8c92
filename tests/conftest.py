"""Shared fixtures: a tiny synthetic-streets dataset and a tiny Mask2Former config for it."""
import copy
import importlib.util
import os.path as osp
import sys
from pathlib import Path

import pytest
from mmdet.utils import register_all_modules
from mmengine.config import Config

from mmibs.datasets.synthetic import SyntheticStreetsConfig, generate_synthetic_streets

# Components are built by type name outside a Runner too, in mmdet's scope (as configs set it).
register_all_modules(init_default_scope=True)

REPO_ROOT = Path(__file__).resolve().parents[1]
# Test helpers (tests/helpers/*.py) are imported by module name; bench/ does the same.
HELPERS = str(REPO_ROOT / 'tests' / 'helpers')
if HELPERS not in sys.path:
    sys.path.insert(0, HELPERS)
BASELINE_CONFIG = (REPO_ROOT / 'configs/mask2former'
                   / 'mask2former_r18-w32_1xb4-256x512-600it_synthetic-streets.py')

#: Sizes of the tiny dataset the tests train on: 128x256 images, 64x128 crops.
TINY_IMAGE_HW = (128, 256)
TINY_CROP_HW = (64, 128)


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory) -> Path:
    """A tiny synthetic-streets dataset (4 train, 2 val images of 128x256), generated once; it
    keeps the small instances (the default 4e-3 voids everything below 131 px here) and has a
    crowd segment in every image, so that the tests see every kind of segment."""
    root = tmp_path_factory.mktemp('data') / 'synthetic'
    cfg = SyntheticStreetsConfig(height=TINY_IMAGE_HW[0], width=TINY_IMAGE_HW[1], num_train=4,
                                 num_val=2, seed=0, min_instance_fraction=1e-4, crowd_prob=1.0)
    generate_synthetic_streets(root, cfg, progress=False)
    return root


def tiny_baseline_cfg(data_root: Path, work_dir: Path, max_iters: int = 4) -> Config:
    """The baseline synthetic config, shrunk to the tiny dataset and ``max_iters`` iterations."""
    cfg = Config.fromfile(str(BASELINE_CONFIG))
    root = str(data_root) + '/'
    full_wh = (TINY_IMAGE_HW[1], TINY_IMAGE_HW[0])
    cfg.model.data_preprocessor.batch_augments[0].size = TINY_CROP_HW
    cfg.model.train_cfg.num_points = 256
    for step in cfg.train_pipeline:
        if step.type == 'RandomResize':
            step.scale = full_wh
        if step.type == 'RandomCrop':
            step.crop_size = TINY_CROP_HW[::-1]  # RandomCrop takes (w, h)
    for step in cfg.test_pipeline:
        if step.type == 'Resize':
            step.scale = full_wh
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.update(data_root=root, pipeline=cfg.train_pipeline)
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        loader.update(num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=root, pipeline=cfg.test_pipeline)
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        evaluator.seg_prefix = osp.join(root, 'annotations/panoptic_val/')
    cfg.train_cfg.update(max_iters=max_iters, val_interval=max_iters)
    cfg.param_scheduler.end = max_iters
    cfg.default_hooks.checkpoint.interval = max(1, max_iters // 2)
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = str(work_dir)
    # The Runner's visualizer and message hub are process-wide singletons looked up by name
    # (mmdet's runtime names the visualizer 'visualizer'; the hub takes the experiment name,
    # a timestamp by default): a second Runner in the same test process would get the first
    # one's visualizer and log its scalars into the first work dir. One name per work dir.
    cfg.experiment_name = Path(work_dir).name
    cfg.visualizer.name = f'visualizer_{Path(work_dir).name}'
    return cfg


CLASS_PAIRED_CONFIG = (REPO_ROOT / 'configs/mask2former' /
                       'mask2former-ibs-partner-pairing-class-paired_r18-w32_1xb4-256x512-'
                       '600it_synthetic-streets.py')


def tiny_class_paired_cfg(data_root: Path, work_dir: Path, max_iters: int) -> Config:
    """The IBS + class-paired synthetic config on the tiny dataset (the baseline's shrinking,
    the class-paired pipeline, sampler and hooks at a quarter of the default sizes), without
    validation."""
    cfg = tiny_baseline_cfg(data_root, work_dir, max_iters=max_iters)
    full = Config.fromfile(str(CLASS_PAIRED_CONFIG))
    model = copy.deepcopy(full.model)
    model.data_preprocessor.batch_augments[0].size = TINY_CROP_HW
    model.train_cfg.num_points = 256
    cfg.model = model
    pipeline = copy.deepcopy(full.train_dataloader.dataset.pipeline)
    for step in pipeline:
        if step.type == 'ClassPairedCrop':  # synthetic default / 4, as the tiny images are
            step.update(crop_size=TINY_CROP_HW[::-1], min_short_side=64, max_short_side=387,
                        max_long_side=774, stuff_resize=dict(scale=(256, 128),
                                                             ratio_range=(0.5, 2.0)))
    cfg.train_dataloader.dataset.pipeline = pipeline
    cfg.train_dataloader.batch_sampler = dict(
        full.train_dataloader.batch_sampler, scale_options=(4, 8, 16, 32, 64),
        skip_empty_classes=True)
    cfg.custom_hooks = copy.deepcopy(full.custom_hooks)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    return cfg


def use_local_data(cfg: Config, data_root: Path, seg_dir: str) -> None:
    """Point a config's train / val / test dataloaders at ``data_root``, loading in-process
    (no workers), and its evaluators at the GT PNGs in ``data_root / seg_dir``."""
    root = str(data_root) + '/'
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.update(num_workers=0, persistent_workers=False)
        loader.dataset.data_root = root
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator.seg_prefix = root + seg_dir
    cfg.test_evaluator = cfg.val_evaluator


@pytest.fixture(scope='session')
def local_data():
    """:func:`use_local_data`, for tests (test modules cannot import conftest)."""
    return use_local_data


@pytest.fixture(scope='session')
def make_tiny_class_paired_cfg():
    """:func:`tiny_class_paired_cfg`, for tests."""
    return tiny_class_paired_cfg


@pytest.fixture(scope='session')
def make_tiny_cfg():
    """:func:`tiny_baseline_cfg`, for tests (test modules cannot import conftest)."""
    return tiny_baseline_cfg


@pytest.fixture(scope='session')
def repo_root() -> Path:
    """The repository root, the working directory of the tools."""
    return REPO_ROOT


@pytest.fixture(scope='session')
def tool():
    """``tool('analysis_tools/eval_panoptic')`` imports ``tools/<path>.py`` as a module, with its
    folder on ``sys.path`` as when it runs as a script (tools import their folder's helpers)."""

    def load(path: str):
        file = REPO_ROOT / 'tools' / f'{path}.py'
        if str(file.parent) not in sys.path:
            sys.path.insert(0, str(file.parent))
        spec = importlib.util.spec_from_file_location(file.stem, file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


# --------------------------------------------------------------------------------------------
# Tiny fake Cityscapes and Mapillary Vistas trees in the official layouts (datasets, configs).
FAKE_CITYSCAPES_CITIES = {'train': ('aachen', 'bochum'), 'val': ('frankfurt',)}
FAKE_CITYSCAPES_FRAMES = ('000019', '000020')
FAKE_CITYSCAPES_HW = (32, 64)  # >= 32: the configs filter smaller images
FAKE_VISTAS_HW = (32, 48)
FAKE_VISTAS_KEYS = ('aaaaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbbbb')


def fake_cityscapes_instance_ids(seed: int):
    """An instanceIds map: stuff by labelId, things labelId*1000+k, a crowd, void, ignored."""
    import numpy as np
    from cityscapesscripts.helpers.labels import name2label

    h, w = FAKE_CITYSCAPES_HW
    rng = np.random.default_rng(seed)
    lid = {name: label.id for name, label in name2label.items()}
    ids = np.full((h, w), lid['road'], dtype=np.uint16)  # 16-bit PNG as the official files
    ids[:6] = lid['sky']
    ids[6:10, :20] = lid['building']
    ids[6:10, 20:] = lid['vegetation']
    ids[10:12, :] = lid['sidewalk']
    ids[0:2, 0:4] = 0                          # unlabeled (void)
    ids[22:, 30:] = lid['ground']              # ignoreInEval -> void
    x = int(rng.integers(0, 6))
    ids[12:20, x:x + 4] = lid['car'] * 1000 + 0
    ids[12:20, x + 5:x + 9] = lid['car'] * 1000 + 1
    ids[13:21, 15:18] = lid['person'] * 1000 + 0
    ids[13:21, 19:22] = lid['person']           # crowd: thing labelId without instance
    ids[14:20, 24:27] = lid['rider'] * 1000 + 3
    ids[14:20, 28:31] = lid['bicycle'] * 1000 + 0
    ids[20:22, 34:38] = lid['pole']
    return ids


def write_fake_cityscapes(root: Path) -> Path:
    """leftImg8bit + gtFine (instanceIds, labelIds, polygons) in the official naming."""
    import json

    import numpy as np
    from PIL import Image

    h, w = FAKE_CITYSCAPES_HW
    seed = 0
    for split, cities in FAKE_CITYSCAPES_CITIES.items():
        for city in cities:
            for frame in FAKE_CITYSCAPES_FRAMES:
                stem = f'{city}_000000_{frame}'
                img_dir = root / 'leftImg8bit' / split / city
                gt_dir = root / 'gtFine' / split / city
                img_dir.mkdir(parents=True, exist_ok=True)
                gt_dir.mkdir(parents=True, exist_ok=True)
                ids = fake_cityscapes_instance_ids(seed)
                seed += 1
                Image.fromarray(np.full((h, w, 3), seed, np.uint8)).save(
                    img_dir / f'{stem}_leftImg8bit.png')
                Image.fromarray(ids).save(gt_dir / f'{stem}_gtFine_instanceIds.png')
                label_ids = np.where(ids >= 1000, ids // 1000, ids).astype(np.uint8)
                Image.fromarray(label_ids).save(gt_dir / f'{stem}_gtFine_labelIds.png')
                (gt_dir / f'{stem}_gtFine_polygons.json').write_text(
                    json.dumps({'imgHeight': h, 'imgWidth': w, 'objects': []}))
    return root


def write_fake_vistas(root: Path, split: str = 'training', categories=None,
                      extra_segment=None) -> Path:
    """Two images with a ``panoptic_2018.json`` in v1.2 layout.

    Categories default to v1.2's ``config.json`` order with 1-based ids; segments: sky, road,
    building, a car, a person, a crowd of persons, a traffic sign, plus ``extra_segment``
    (``(name, (y0, y1, x0, x1), iscrowd)``; an unknown name gets category id 999).
    """
    import json

    import numpy as np
    from panopticapi.utils import id2rgb
    from PIL import Image

    from mmibs.datasets.mapillary_vistas_panoptic import VISTAS_V12_CATEGORIES

    h, w = FAKE_VISTAS_HW
    if categories is None:
        categories = [dict(id=i + 1, name=n, supercategory='x', isthing=int(t), color=list(c))
                      for i, (n, t, c) in enumerate(VISTAS_V12_CATEGORIES)]
    cat_id = {c['name']: c['id'] for c in categories}
    (root / split / 'images').mkdir(parents=True, exist_ok=True)
    (root / split / 'panoptic').mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for k, key in enumerate(FAKE_VISTAS_KEYS):
        ids = np.zeros((h, w), np.int64)   # 0: void
        layout = [('Sky', (0, 6, 0, w), 0), ('Road', (12, h, 0, w), 0),
                  ('Building', (6, 12, 0, 16), 0), ('Car', (8, 16, 2 + k, 10 + k), 0),
                  ('Person', (6, 14, 20, 24), 0), ('Person', (6, 14, 25, 28), 1),
                  ('Traffic Sign (Front)', (1, 4, 28, 31), 0)]
        if extra_segment:
            layout.append(extra_segment)
        for n, (_, (y0, y1, x0, x1), _) in enumerate(layout):
            ids[y0:y1, x0:x1] = 1000 * (n + 1) + k
        segments = []
        for n, (name, _, crowd) in enumerate(layout):
            seg_id = 1000 * (n + 1) + k
            ys, xs = np.nonzero(ids == seg_id)
            segments.append(dict(
                id=seg_id, category_id=cat_id.get(name, 999), iscrowd=crowd, area=int(len(ys)),
                bbox=[int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                      int(ys.max() - ys.min() + 1)]))
        Image.fromarray(np.full((h, w, 3), 100 + k, np.uint8)).save(
            root / split / 'images' / f'{key}.jpg')
        Image.fromarray(id2rgb(ids)).save(root / split / 'panoptic' / f'{key}.png')
        images.append(dict(id=key, file_name=f'{key}.jpg', height=h, width=w))
        annotations.append(dict(image_id=key, file_name=f'{key}.png', segments_info=segments))
    (root / split / 'panoptic' / 'panoptic_2018.json').write_text(json.dumps(
        dict(images=images, annotations=annotations, categories=categories)))
    return root


@pytest.fixture(scope='session')
def fake_cityscapes_root(tmp_path_factory) -> Path:
    """A tiny Cityscapes tree (train: 4, val: 2 images), converted by the converter CLI."""
    import subprocess
    import sys

    root = write_fake_cityscapes(tmp_path_factory.mktemp('cityscapes'))
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / 'tools/dataset_converters/cityscapes.py'),
         '--data-root', str(root), '--splits', 'train', 'val'],
        capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


@pytest.fixture(scope='session')
def fake_vistas_root(tmp_path_factory) -> Path:
    """A tiny Vistas v1.2 tree (training, validation: 2 images each) with the instance JSON."""
    from mmibs.datasets.panoptic_to_instances import panoptic_to_instances

    root = tmp_path_factory.mktemp('mapillary_vistas')
    for split in ('training', 'validation'):
        write_fake_vistas(root, split)
    panoptic_to_instances(str(root / 'validation/panoptic/panoptic_2018.json'),
                          str(root / 'validation/panoptic'),
                          str(root / 'validation/instances_2018.json'), progress=False)
    return root


@pytest.fixture(scope='session')
def fake_vistas_writer():
    """:func:`write_fake_vistas`, for tests that need variants of the tree."""
    return write_fake_vistas
