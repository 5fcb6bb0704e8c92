"""check_class_split: the heads' thing / stuff counts must match every dataset's metainfo."""
import importlib.util
from pathlib import Path

import pytest
from mmengine.config import Config

from mmibs.engine import ClassSplitError, check_class_split

REPO_ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC = REPO_ROOT / ('configs/mask2former/'
                         'mask2former_r18-w32_1xb4-256x512-600it_synthetic-streets.py')


def synthetic_cfg() -> Config:
    return Config.fromfile(str(SYNTHETIC))


def test_every_repository_config_agrees():
    configs = [p for p in sorted((REPO_ROOT / 'configs').rglob('*.py')) if '_base_' not in p.parts]
    assert len(configs) >= 30
    for path in configs:
        check_class_split(Config.fromfile(str(path)))


def test_head_with_other_counts_than_the_data_is_refused():
    # The case: 3 thing + 5 stuff classes in the data, 2 + 6 in the heads.
    cfg = synthetic_cfg()
    for head in (cfg.model.panoptic_head, cfg.model.panoptic_fusion_head):
        head.num_things_classes, head.num_stuff_classes = 2, 6
    with pytest.raises(ClassSplitError,
                       match=r"model.panoptic_head.num_things_classes=2, but "
                       r"train_dataloader.dataset \(SyntheticStreetsPanopticDataset\) has 3 "
                       r"thing classes \('person', 'car', 'truck'\)"):
        check_class_split(cfg)
    cfg = synthetic_cfg()
    cfg.model.panoptic_fusion_head.num_stuff_classes = 4
    with pytest.raises(ClassSplitError, match='model.panoptic_fusion_head.num_stuff_classes=4'):
        check_class_split(cfg)


def test_dataset_metainfo_of_the_config_counts():
    cfg = synthetic_cfg()
    meta = dict(thing_classes=('person', 'car'),
                stuff_classes=('truck', 'road', 'sidewalk', 'building', 'vegetation', 'sky'))
    meta['classes'] = meta['thing_classes'] + meta['stuff_classes']
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.metainfo = meta
    with pytest.raises(ClassSplitError, match=r'has 2 thing classes'):
        check_class_split(cfg)
    for head in (cfg.model.panoptic_head, cfg.model.panoptic_fusion_head):
        head.num_things_classes, head.num_stuff_classes = 2, 6
    check_class_split(cfg)
    # A mismatch only in the val loader is named as such.
    cfg.val_dataloader.dataset.metainfo = None
    with pytest.raises(ClassSplitError, match=r'val_dataloader.dataset'):
        check_class_split(cfg)


def test_train_and_test_tools_check_before_building_the_runner():
    spec = importlib.util.spec_from_file_location('runner_cli', REPO_ROOT / 'tools/runner_cli.py')
    runner_cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner_cli)
    cfg = synthetic_cfg()
    cfg.model.panoptic_head.num_things_classes = 2
    cfg.launcher = 'none'
    with pytest.raises(ClassSplitError, match='model.panoptic_head.num_things_classes=2'):
        runner_cli.build_runner(cfg)
