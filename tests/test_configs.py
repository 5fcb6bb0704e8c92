"""Every experiment config builds against a fake tree of its dataset.

For each config under ``configs/`` (except ``_base_``): the model (backbone weights not
downloaded), the train / val / test dataloaders with their datasets, samplers and batch samplers
(one batch of indices drawn), and the evaluators, with ``data_root`` and the evaluator paths
moved to the session's fake tree of the config's dataset type (synthetic streets, Cityscapes,
Mapillary Vistas). The model's class counts must match the dataset's metainfo.
"""
import ast
import copy
from pathlib import Path

import mmdet
import pytest
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.runner import Runner

from mmibs.datasets.class_paired import CLASS_PAIRED_META_KEYS

CONFIG_ROOT = Path(__file__).resolve().parents[1] / 'configs'
CONFIGS = sorted(p for p in CONFIG_ROOT.rglob('*.py') if '_base_' not in p.parts)
#: The fixture holding a fake tree of each dataset type.
TREE_OF_DATASET = {
    'SyntheticStreetsPanopticDataset': 'synthetic_root',
    'CityscapesPanopticDataset': 'fake_cityscapes_root',
    'MapillaryVistasPanopticDataset': 'fake_vistas_root',
}
PIXEL_METRICS = {'PanopticPixelMetric', 'CocoInstancePixelMetric'}
MMDET_M2F = (Path(mmdet.__file__).parent / '.mim' / 'configs' / 'mask2former' /
             'mask2former_r50_8xb2-lsj-50e_coco-panoptic.py')


def config_id(path: Path) -> str:
    return str(path.relative_to(CONFIG_ROOT))


def reroot(obj, old: str, new: str):
    """``obj`` with every string starting with ``old`` moved under ``new`` (nested dicts/lists)."""
    if isinstance(obj, str):
        return new + obj[len(old):] if obj.startswith(old) else obj
    if isinstance(obj, dict):
        return type(obj)({k: reroot(v, old, new) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return type(obj)(reroot(v, old, new) for v in obj)
    return obj


def base_files(path: Path) -> list:
    """The ``_base_`` entries of a config file (a string or a list of strings)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_' for t in node.targets):
            bases = ast.literal_eval(node.value)
            return [bases] if isinstance(bases, str) else list(bases)
    return []


def inheritance_depth(path: Path) -> int:
    """Longest chain of ``_base_`` files of this repository above ``path`` (mmdet's excluded)."""
    bases = base_files(path)
    local = [(path.parent / b).resolve() for b in bases if '::' not in b]
    return max((1 + inheritance_depth(b) for b in local), default=1 if bases else 0)


def test_there_are_configs():
    ids = {config_id(p) for p in CONFIGS}
    assert 'ibs/m2f_r50_cityscapes_ibs.py' in ids
    assert len(ids) >= 15


@pytest.mark.parametrize('config', CONFIGS, ids=config_id)
def test_inheritance_depth(config):
    assert inheritance_depth(config) <= 3


def things_and_stuff_of(model) -> tuple:
    """The (num_things_classes, num_stuff_classes) values of all submodules that have them."""
    things = {m.num_things_classes for m in model.modules() if hasattr(m, 'num_things_classes')}
    stuff = {m.num_stuff_classes for m in model.modules() if hasattr(m, 'num_stuff_classes')}
    return things, stuff


@pytest.mark.parametrize('config', CONFIGS, ids=config_id)
def test_config_builds(config, request, tmp_path):
    cfg = Config.fromfile(str(config))
    assert cfg.default_scope == 'mmdet'
    assert 'mmibs' in cfg.custom_imports.imports
    dataset_type = cfg.train_dataloader.dataset.type
    assert dataset_type in TREE_OF_DATASET, f'{config}: no fake tree for {dataset_type}'
    new_root = str(request.getfixturevalue(TREE_OF_DATASET[dataset_type])) + '/'
    old_root = cfg.train_dataloader.dataset.data_root

    loaders = {}
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader_cfg = reroot(copy.deepcopy(cfg[name]), old_root, new_root)
        loader_cfg.dataset.data_root = new_root
        loader_cfg.update(num_workers=0, persistent_workers=False)
        loader = Runner.build_dataloader(loader_cfg, seed=0)
        assert len(loader.dataset) > 0
        assert loader.dataset.metainfo['classes'] == (
            loader.dataset.metainfo['thing_classes'] + loader.dataset.metainfo['stuff_classes'])
        batch = next(iter(loader.batch_sampler))
        assert len(batch) == loader_cfg.batch_size
        loaders[name] = loader
    meta = loaders['train_dataloader'].dataset.metainfo
    assert loaders['val_dataloader'].dataset.metainfo['classes'] == meta['classes']
    batch_sampler_cfg = cfg.train_dataloader.get('batch_sampler')
    if batch_sampler_cfg:
        sampler = loaders['train_dataloader'].batch_sampler
        assert type(sampler).__name__ == batch_sampler_cfg.type
        if batch_sampler_cfg.type == 'ClassPairedBatchSampler':
            batch = next(iter(sampler))
            assert [s.partner for s in batch] == [i ^ 1 for i in range(len(batch))]

    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.init_cfg = None  # no download
    model = MODELS.build(model_cfg)
    things, stuff = things_and_stuff_of(model)
    assert things == {len(meta['thing_classes'])}, f'{config}: model things {things}'
    # instance segmentation configs predict things only
    assert stuff in ({len(meta['stuff_classes'])}, {0}), f'{config}: model stuff {stuff}'
    head = model.panoptic_head if hasattr(model, 'panoptic_head') else None
    if head is not None and getattr(getattr(head, 'loss_cls', None), 'class_weight', None):
        assert len(head.loss_cls.class_weight) == head.num_classes + 1

    for name in ('val_evaluator', 'test_evaluator'):
        evaluator = Evaluator(reroot(copy.deepcopy(cfg[name]), old_root, new_root))
        evaluator.dataset_meta = meta
        # every experiment reports the paper's pixel metrics (Acc^th, Prec^th, confusion)
        assert {type(m).__name__ for m in evaluator.metrics} & PIXEL_METRICS, f'{config}: {name}'


def _normalised_model(model: dict) -> dict:
    """A Mask2Former model dict without the settings documented as dataset-specific."""
    model = copy.deepcopy(model)
    model['data_preprocessor'].pop('batch_augments')
    for key in ('norm_cfg', 'norm_eval'):
        model['backbone'].pop(key)
    for head in ('panoptic_head', 'panoptic_fusion_head'):
        model[head].pop('num_things_classes')
        model[head].pop('num_stuff_classes')
    model['panoptic_head']['loss_cls'].pop('class_weight')
    for key in ('instance_on', 'object_mask_thr'):
        model['test_cfg'].pop(key, None)
    return model


def test_mask2former_model_base_is_mmdet_mask2former():
    """The R-50 model base differs from mmdet's Mask2Former only where its header says so."""
    ours = Config.fromfile(str(CONFIG_ROOT / '_base_/models/mask2former_r50_panoptic.py'))
    theirs = Config.fromfile(str(MMDET_M2F))
    assert _normalised_model(ours.model.to_dict()) == _normalised_model(theirs.model.to_dict())
    assert ours.optim_wrapper.optimizer == theirs.optim_wrapper.optimizer
    assert ours.optim_wrapper.paramwise_cfg == theirs.optim_wrapper.paramwise_cfg
    assert ours.optim_wrapper.clip_grad == theirs.optim_wrapper.clip_grad


#: Where the colour augmentation sits in the authors' Mask2Former training: after the crop (or
#: the resize, without crop), before the flip.
M2F_CROP_STEPS = ('RandomCrop', 'ClassPairedCrop')


@pytest.mark.parametrize('config', CONFIGS, ids=config_id)
def test_colour_augmentation_follows_the_authors(config):
    """Mask2Former on Cityscapes / Vistas: ColorAugSSD (the authors' COLOR_AUG_SSD) between the
    crop and the flip; Panoptic FCN: none (the official one uses resize, crop and flip only);
    mmdet's PhotoMetricDistortion (hue +-18 degrees, channel swaps) nowhere."""
    cfg = Config.fromfile(str(config))
    steps = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert 'PhotoMetricDistortion' not in steps
    real_data = cfg.train_dataloader.dataset.type != 'SyntheticStreetsPanopticDataset'
    if cfg.model.type == 'Mask2Former' and real_data:
        assert steps.count('ColorAugSSD') == 1, steps
        position = steps.index('ColorAugSSD')
        before = [s for s in steps[:position] if s in M2F_CROP_STEPS or 'Resize' in s]
        assert before and steps.index('RandomFlip') == position + 1, steps
    else:
        assert 'ColorAugSSD' not in steps, steps


@pytest.mark.parametrize('config', CONFIGS, ids=config_id)
def test_training_sets_keep_every_image(config):
    """The authors train on (and the class-paired index covers) every image of the JSON."""
    dataset = Config.fromfile(str(config)).train_dataloader.dataset
    assert dataset.get('filter_cfg') is None, dataset.get('filter_cfg')


@pytest.mark.parametrize('config', CONFIGS, ids=config_id)
def test_class_paired_configs_are_complete(config):
    """A config with the class-paired batch sampler also has its crop, the metainfo keys the
    heads read (mmibs.datasets.class_paired.CLASS_PAIRED_META_KEYS) and the resume hook; a
    config without it has none of them."""
    cfg = Config.fromfile(str(config))
    batch_sampler = cfg.train_dataloader.get('batch_sampler') or {}
    steps = {t['type']: t for t in cfg.train_dataloader.dataset.pipeline}
    hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
    if batch_sampler.get('type') == 'ClassPairedBatchSampler':
        assert 'ClassPairedCrop' in steps and 'RandomCrop' not in steps, list(steps)
        assert tuple(steps['PackDetInputs']['meta_keys']) == CLASS_PAIRED_META_KEYS
        assert hooks.count('ClassPairedSamplerHook') == 1, hooks
        assert cfg.train_dataloader.batch_size % 2 == 0
    else:
        assert 'ClassPairedCrop' not in steps, list(steps)
        assert 'ClassPairedSamplerHook' not in hooks, hooks


ALIASES = sorted((CONFIG_ROOT / 'ibs').glob('*.py')) + sorted(CONFIG_ROOT.glob('*/m2f_*.py'))


@pytest.mark.parametrize('alias', ALIASES, ids=config_id)
def test_short_aliases_are_thin(alias):
    """A short alias (``configs/ibs/m2f_r50_cityscapes_ibs.py`` etc.) is one ``_base_`` line and
    nothing else, and names a full config of the same folder layout."""
    body = ast.parse(alias.read_text()).body
    assert len(body) == 1 and base_files(alias), f'{alias}: more than `_base_ = ...`'
    (base,) = base_files(alias)
    target = (alias.parent / base).resolve()
    assert target.is_file() and target.parent.parent == CONFIG_ROOT
    assert Config.fromfile(str(alias)).to_dict() == Config.fromfile(str(target)).to_dict()
