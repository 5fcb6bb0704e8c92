"""The check that model, data and IBS agree on the thing / stuff split, before a run starts.

A child config that inherits a dataset of 3 thing + 5 stuff classes but sets the heads to
``num_things_classes=2, num_stuff_classes=6`` trains and validates without any error in mmdet:
the third thing class becomes stuff for the head, IBS (which supervises the queries matched to
labels below ``num_things_classes``) skips it, and the metric scores a model whose class
semantics differ from the data. :func:`check_class_split` compares every head's counts with the
metainfo of every dataloader's dataset and raises naming the config keys and both values.
"""
from typing import Iterator, Optional, Tuple

from mmdet.registry import DATASETS
from mmengine.config import Config

#: The model keys whose ``num_things_classes`` / ``num_stuff_classes`` must match the data.
HEAD_KEYS = ('panoptic_head', 'panoptic_fusion_head')
LOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
KIND = {'num_things_classes': 'thing', 'num_stuff_classes': 'stuff'}


class ClassSplitError(ValueError):
    """The model's thing / stuff class counts disagree with a dataset's metainfo."""


def _datasets(cfg: Config) -> Iterator[Tuple[str, dict]]:
    """(config key, dataset config) of every dataloader, through dataset wrappers."""
    for loader_key in LOADER_KEYS:
        loader = cfg.get(loader_key)
        dataset = loader.get('dataset') if loader else None
        key = f'{loader_key}.dataset'
        while isinstance(dataset, dict) and isinstance(dataset.get('dataset'), dict):
            dataset, key = dataset['dataset'], key + '.dataset'
        if isinstance(dataset, dict):
            yield key, dataset


def _split(dataset: dict) -> Optional[Tuple[tuple, tuple]]:
    """(thing classes, stuff classes) of a dataset config: its class's ``METAINFO`` updated by
    the config's ``metainfo``; None when neither names classes."""
    dataset_type = dataset.get('type')
    cls = DATASETS.get(dataset_type) if isinstance(dataset_type, str) else dataset_type
    meta = dict(getattr(cls, 'METAINFO', {}) or {})
    meta.update(dataset.get('metainfo') or {})
    if 'thing_classes' in meta:
        return tuple(meta['thing_classes']), tuple(meta.get('stuff_classes', ()))
    if 'classes' in meta:  # an instance-segmentation dataset: every class is a thing
        return tuple(meta['classes']), ()
    return None


def check_class_split(cfg: Config) -> None:
    """Raise :class:`ClassSplitError` if a head's ``num_things_classes`` /
    ``num_stuff_classes`` differs from the thing / stuff classes of a dataloader's dataset.

    ``num_stuff_classes=0`` is accepted with any stuff classes: instance segmentation on a
    panoptic dataset (e.g. the Vistas instance configs), where stuff is not modelled."""
    model = cfg.get('model') or {}
    heads = [(f'model.{name}', model[name]) for name in HEAD_KEYS
             if isinstance(model.get(name), dict)]
    for dataset_key, dataset in _datasets(cfg):
        split = _split(dataset)
        if split is None:
            continue
        for head_key, head in heads:
            for field, names in zip(('num_things_classes', 'num_stuff_classes'), split):
                if field == 'num_stuff_classes' and head.get(field) == 0:
                    continue
                if field in head and head[field] != len(names):
                    raise ClassSplitError(
                        f'{head_key}.{field}={head[field]}, but {dataset_key} '
                        f'({dataset.get("type")}) has {len(names)} {KIND[field]} classes '
                        f'{names}; set {head_key}.{field} (and the other head and the dataset '
                        'metainfo) so that they agree')
