"""Deriving an experiment config from a synthetic-streets config: pixel scale, budget, data.

The reproduction script (``tools/reproduce_synthetic.sh``) trains the configs of
``configs/{mask2former,ibs}/*synthetic-streets*.py`` at a reduced size on a CPU and at their
own size on a GPU. :func:`derive_config` rescales every pixel size of such a config (images,
crops, resize clamps, class-paired scales) by one factor and sets the iteration budget, seed and
data root, so the four training settings stay identical apart from what distinguishes them.

Command line (writes the derived config to ``--out``; with several ``--seeds`` one config per
seed, ``{seed}`` in ``--out`` standing for it)::

    python tools/experiment_config.py CONFIG --out 'runs/crop_seed{seed}/config.py' \
        [--scale 0.5] [--iters 300] [--seeds 0 1] [--data-root data/synthetic/] [--num-workers 2] \
        [--cfg-options model.panoptic_head.ibs.loss.loss_weight=50]

``--cfg-options`` (as in ``tools/train.py``) is applied after the derivation.
"""
import argparse
import math
from typing import List, Optional, Sequence

from mmengine.config import Config, ConfigDict, DictAction

from mmibs.utils import atomic_open

#: Keys of pipeline steps that hold (w, h) or (h, w) pixel pairs.
_PAIR_KEYS = {'RandomResize': ('scale', ), 'Resize': ('scale', ), 'RandomCrop': ('crop_size', ),
              'ClassPairedCrop': ('crop_size', )}
#: Keys of pipeline steps that hold one pixel length.
_LENGTH_KEYS = {'ClassPairedCrop': ('min_short_side', 'max_short_side', 'max_long_side')}


def _scaled(value: float, factor: float) -> int:
    """``round(value * factor)``, at least 1."""
    return max(1, int(round(value * factor)))


def _scale_pair(pair: Sequence[int], factor: float) -> tuple:
    return tuple(_scaled(v, factor) for v in pair)


def scale_pipeline(pipeline: List[dict], factor: float) -> None:
    """Scale the pixel sizes of a data pipeline in place (resizes, crops, class-paired clamps)."""
    for step in pipeline:
        kind = step.get('type')
        for key in _PAIR_KEYS.get(kind, ()):
            if key in step and step[key] is not None:
                step[key] = _scale_pair(step[key], factor)
        for key in _LENGTH_KEYS.get(kind, ()):
            if key in step:
                step[key] = _scaled(step[key], factor)
        if kind == 'ClassPairedCrop' and step.get('stuff_resize'):
            resize = step['stuff_resize']
            if 'scale' in resize:
                resize['scale'] = _scale_pair(resize['scale'], factor)
            for key in ('short_side', 'max_long_side'):
                if key in resize:
                    value = resize[key]
                    resize[key] = (_scale_pair(value, factor)
                                   if isinstance(value, (list, tuple)) else _scaled(value, factor))


def scale_model(model: ConfigDict, factor: float) -> None:
    """Scale the pixel sizes of a model config in place: Panoptic FCN's level assignment
    (``panoptic_head.target_generator.instance_scales``, lengths) and its stuff area limit
    (``test_cfg.stuff_area_limit``, an area: ``factor ** 2``). Mask2Former has none."""
    generator = model.get('panoptic_head', {}).get('target_generator') or {}
    if 'instance_scales' in generator:
        generator['instance_scales'] = tuple(
            tuple(bound * factor for bound in scales) for scales in generator['instance_scales'])
    test_cfg = model.get('test_cfg') or {}
    if 'stuff_area_limit' in test_cfg:
        test_cfg['stuff_area_limit'] = _scaled(test_cfg['stuff_area_limit'], factor**2)


def derive_config(cfg: Config, scale: float = 1.0, max_iters: Optional[int] = None,
                  seed: Optional[int] = None, data_root: Optional[str] = None,
                  num_workers: Optional[int] = None) -> Config:
    """Rescale and re-budget a synthetic-streets config in place and return it.

    Args:
        cfg: A config whose train / val / test dataloaders use the synthetic-streets layout
            (``data_root`` + ``annotations/panoptic_{split}``) and whose evaluators have
            ``seg_prefix``.
        scale: Factor for every pixel size: ``BatchFixedSizePad`` sizes, ``Resize`` /
            ``RandomResize`` scales, ``RandomCrop`` / ``ClassPairedCrop`` crop sizes and clamps,
            the ``ClassPairedBatchSampler`` scale options and the model's (:func:`scale_model`).
            The data must have been generated at the same factor (e.g. 256x512 images for 0.5).
        max_iters: Training iterations; the poly schedule, validation and the last checkpoint
            follow. ``None`` keeps the config's.
        seed: ``randomness.seed``; ``None`` keeps the config's.
        data_root: Dataset root (with a trailing ``/``) of all loaders and evaluators.
        num_workers: Dataloader workers of every loader (0 disables persistent workers).

    Returns:
        ``cfg``, modified.

    Raises:
        ValueError: ``scale`` or ``max_iters`` is not positive.
    """
    if not scale > 0 or not math.isfinite(scale):
        raise ValueError(f'scale must be a positive number, got {scale}')
    if max_iters is not None and max_iters <= 0:
        raise ValueError(f'max_iters must be positive, got {max_iters}')
    loaders = [cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader]
    if scale != 1.0:
        for aug in cfg.model.data_preprocessor.get('batch_augments') or []:
            if 'size' in aug:
                aug['size'] = _scale_pair(aug['size'], scale)
        for loader in loaders:
            scale_pipeline(loader.dataset.pipeline, scale)
        for name in ('train_pipeline', 'test_pipeline'):
            if name in cfg:
                scale_pipeline(cfg[name], scale)
        for name in ('crop_size', 'full_size'):  # the configs' own variables, for readers
            if name in cfg:
                cfg[name] = _scale_pair(cfg[name], scale)
        sampler = cfg.train_dataloader.get('batch_sampler')
        if sampler and 'scale_options' in sampler:
            sampler['scale_options'] = tuple(s * scale for s in sampler['scale_options'])
        scale_model(cfg.model, scale)
    if max_iters is not None:
        cfg.train_cfg.max_iters = max_iters
        cfg.train_cfg.val_interval = max_iters
        schedulers = cfg.param_scheduler
        for sched in schedulers if isinstance(schedulers, list) else [schedulers]:
            if sched.get('end', 0) > max_iters or sched.get('type') == 'PolyLR':
                sched['end'] = max_iters
        checkpoint = cfg.default_hooks.checkpoint
        checkpoint.interval = min(checkpoint.get('interval', max_iters), max_iters)
    if seed is not None:
        cfg.randomness = ConfigDict(cfg.get('randomness') or {}, seed=seed)
    if data_root is not None:
        root = data_root if data_root.endswith('/') else data_root + '/'
        cfg.data_root = root
        for loader in loaders:
            loader.dataset.data_root = root
        evaluators = [cfg.val_evaluator, cfg.test_evaluator]
        for evaluator in evaluators:
            for metric in evaluator if isinstance(evaluator, list) else [evaluator]:
                if 'seg_prefix' in metric:
                    metric['seg_prefix'] = root + 'annotations/panoptic_val/'
    if num_workers is not None:
        for loader in loaders:
            loader.num_workers = num_workers
            loader.persistent_workers = num_workers > 0
    return cfg


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Write the derived config(s) of the command line's CONFIG to ``--out``."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='examples:\n'
        '  python tools/experiment_config.py configs/mask2former/mask2former_r18-w32_1xb4-256x512-'
        '600it_synthetic-streets.py --out runs/crop_seed{seed}/config.py --scale 0.5 --seeds 0 1\n'
        '  python tools/experiment_config.py CONFIG --out x.py --cfg-options '
        'model.panoptic_head.ibs.loss.loss_weight=50')
    parser.add_argument('config', help='a synthetic-streets config')
    parser.add_argument('--out', required=True, help='derived config file (.py)')
    parser.add_argument('--scale', type=float, default=1.0, help='factor of every pixel size')
    parser.add_argument('--iters', type=int, help='training iterations')
    parser.add_argument('--seeds', type=int, nargs='+', help='randomness.seed, one config each')
    parser.add_argument('--data-root', help='dataset root of all loaders and evaluators')
    parser.add_argument('--num-workers', type=int, help='dataloader workers')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='key=value overrides applied after the derivation, as in '
                        'tools/train.py')
    args = parser.parse_args(argv)
    seeds = args.seeds or [None]
    if len(seeds) > 1 and '{seed}' not in args.out:
        parser.error('--out must contain {seed} when several --seeds are given')
    for seed in seeds:
        cfg = derive_config(Config.fromfile(args.config), args.scale, args.iters, seed,
                            args.data_root, args.num_workers)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        with atomic_open(args.out.replace('{seed}', str(seed)), 'w', encoding='utf-8') as f:
            f.write(cfg.pretty_text)


if __name__ == '__main__':
    main()
