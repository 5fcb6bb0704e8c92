"""Every experiment config builds: model, datasets (on the tiny synthetic tree) and evaluator."""
from pathlib import Path

import pytest
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.evaluator import Evaluator

CONFIG_ROOT = Path(__file__).resolve().parents[1] / 'configs'
CONFIGS = sorted(p for p in CONFIG_ROOT.rglob('*.py') if '_base_' not in p.parts)


def test_there_are_configs():
    assert CONFIGS


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: str(p.relative_to(CONFIG_ROOT)))
def test_config_builds(config, synthetic_root):
    cfg = Config.fromfile(str(config))
    assert cfg.default_scope == 'mmdet'
    assert 'mmibs' in cfg.custom_imports.imports
    model = MODELS.build(cfg.model)
    assert model.panoptic_head.num_things_classes == 3
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        dataset = DATASETS.build(dict(loader.dataset, data_root=str(synthetic_root) + '/'))
        assert len(dataset) > 0
        assert dataset.metainfo['thing_classes'] == ('person', 'car', 'truck')
    Evaluator(cfg.val_evaluator)
