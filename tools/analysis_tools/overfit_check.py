"""Overfitting check of a synthetic-streets model: train on 1-2 images, evaluate on the same ones.

The standard sanity check of a port: with no augmentation, a correct model memorises a couple
of images within a few hundred iterations, so its PQ on those images is near perfect. A defect
in targets, kernels, losses, upsampling or inference (the kind unit tests miss because each
part is right on its own) keeps it far below. The check generates a small synthetic-streets
set (``--num-images`` training images at ``--scale`` of 512x1024), trains CONFIG on it with
every augmentation removed (no flip, resize or crop: the images at their own size), then
validates on the same images and compares the metrics with the thresholds (``--min``).

Thresholds and measured results: docs/panoptic_fcn.md ("Overfitting check");
tests/tools/test_overfit_check.py runs it for both networks and on a planted bug.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config, ConfigDict, DictAction
from mmengine.runner import Runner
from mmengine.utils import import_modules_from_strings

import mmibs  # noqa: F401  (registers components)
from mmibs.datasets.synthetic import SyntheticStreetsConfig, generate_synthetic_streets
from mmibs.utils import atomic_open

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from experiment_config import derive_config  # noqa: E402  (tools/experiment_config.py)

#: Default pass thresholds (metric key of the evaluator without the ``coco_panoptic/`` prefix).
DEFAULT_THRESHOLDS = dict(PQ=90.0, PQ_st=90.0, mIoU=90.0)
#: Metrics printed and written to ``overfit.json``.
REPORTED = ('PQ', 'PQ_th', 'PQ_st', 'SQ_st', 'mIoU', 'Acc_th')
_PREFIX = 'coco_panoptic/'


def image_hw(scale: float) -> Tuple[int, int]:
    """(height, width) of the check's images: the configs' 512 x 1024 times ``scale``."""
    return round(512 * scale), round(1024 * scale)


def _no_augmentation_pipeline(full_wh: Sequence[int]) -> List[dict]:
    """The training pipeline without augmentation: load, resize to the image size, pack."""
    return [
        dict(type='LoadImageFromFile', to_float32=True),
        dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True),
        dict(type='Resize', scale=tuple(full_wh), keep_ratio=True),
        dict(type='PackDetInputs'),
    ]


def overfit_config(cfg: Config, data_root: str, scale: float, iters: int, num_images: int,
                   seed: int = 0) -> Config:
    """Turn a synthetic-streets crop-baseline config into the overfitting experiment, in place.

    Pixel sizes are scaled by ``scale`` (:func:`derive_config`), the training set is the
    ``num_images`` images of ``data_root`` (one batch holds them all), the training pipeline
    has no augmentation, and validation runs on the same images (``panoptic_train``).

    Raises:
        ValueError: ``cfg`` samples crops with a batch sampler (an IBS / class-paired config):
            the check is for the models, use their crop baselines.
    """
    if cfg.train_dataloader.get('batch_sampler') is not None:
        raise ValueError('overfit_check: train_dataloader.batch_sampler is set (a class-paired '
                         'config); use the crop-baseline config of the model')
    derive_config(cfg, scale=scale, max_iters=iters, seed=seed, data_root=data_root,
                  num_workers=0)
    full_wh = image_hw(scale)[::-1]
    for aug in cfg.model.data_preprocessor.get('batch_augments') or []:
        if 'size' in aug:  # Mask2Former pads the batch to the crop size: now the image size
            aug['size'] = full_wh[::-1]
    train = cfg.train_dataloader
    train.batch_size = num_images
    train.dataset.pipeline = _no_augmentation_pipeline(full_wh)
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.ann_file = train.dataset.ann_file
        loader.dataset.data_prefix = ConfigDict(train.dataset.data_prefix)
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        evaluator.seg_prefix = data_root + 'annotations/panoptic_train/'
    cfg.train_cfg.val_interval = iters + 1  # validated once, after training
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1, save_last=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=max(1, iters // 10))
    cfg.log_processor = dict(type='LogProcessor', window_size=max(1, iters // 10),
                             by_epoch=False)
    cfg.pop('custom_hooks', None)
    return cfg


def make_data(data_root: str, scale: float, num_images: int) -> None:
    """Generate the check's synthetic-streets images unless ``data_root`` already has them."""
    if osp.exists(osp.join(data_root, 'annotations', 'panoptic_train.json')):
        return
    height, width = image_hw(scale)
    generate_synthetic_streets(
        data_root,
        SyntheticStreetsConfig(height=height, width=width, num_train=num_images, num_val=1),
        progress=False)


def run_overfit(config: str, work_dir: str, scale: float = 0.25, iters: int = 300,
                num_images: int = 2, seed: int = 0, data_root: Optional[str] = None,
                cfg_options: Optional[dict] = None) -> Dict[str, float]:
    """Generate the data, train, validate on the training images; the metrics without prefix.

    Args:
        config: A synthetic-streets crop-baseline config.
        work_dir: Output folder (data under ``data/`` unless ``data_root``; logs).
        scale: Pixel-size factor of the data and config (0.25: 128x256 images).
        iters: Training iterations.
        num_images: Training images, all in one batch.
        seed: ``randomness.seed``.
        data_root: Existing or new data folder (default ``work_dir/data-<h>x<w>-n<N>/``).
        cfg_options: Overrides merged into the derived config (as ``--cfg-options``).
    """
    if data_root is None:
        height, width = image_hw(scale)
        data_root = osp.join(work_dir, f'data-{height}x{width}-n{num_images}')
    data_root = data_root.rstrip('/') + '/'
    make_data(data_root, scale, num_images)
    cfg = overfit_config(Config.fromfile(config), data_root, scale, iters, num_images, seed)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
        if 'custom_imports' in cfg_options or any(
                key.startswith('custom_imports.') for key in cfg_options):
            import_modules_from_strings(**cfg.custom_imports)  # fromfile imported the file's
    cfg.work_dir = work_dir
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val()
    return {key[len(_PREFIX):]: float(value) for key, value in metrics.items()
            if key.startswith(_PREFIX)}


def failures(metrics: Dict[str, float], thresholds: Dict[str, float]) -> List[str]:
    """The thresholds ``metrics`` misses, as ``'PQ 41.2 < 90'`` lines (a missing key fails)."""
    missed = []
    for key, low in thresholds.items():
        value = metrics.get(key)
        if value is None or not value >= low:
            missed.append(f'{key} {value if value is None else round(value, 1)} < {low:g}')
    return missed


def _threshold(text: str) -> tuple:
    key, sep, value = text.partition('=')
    if not sep:
        raise argparse.ArgumentTypeError(f'--min takes METRIC=VALUE, got {text!r}')
    return key, float(value)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line; returns the exit status (1 when a threshold is missed)."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='examples:\n'
        '  python tools/analysis_tools/overfit_check.py configs/panoptic_fcn/'
        'panoptic-fcn_r18-w32_1xb4-256x512-600it_synthetic-streets.py --work-dir '
        'work_dirs/overfit_pfcn\n'
        '  python tools/analysis_tools/overfit_check.py configs/mask2former/'
        'mask2former_r18-w32_1xb4-256x512-600it_synthetic-streets.py --work-dir '
        'work_dirs/overfit_m2f --iters 200 --min PQ=90 mIoU=95')
    parser.add_argument('config', help='a synthetic-streets crop-baseline config')
    parser.add_argument('--work-dir', required=True, help='output folder (data, logs, '
                        'overfit.json)')
    parser.add_argument('--scale', type=float, default=0.25,
                        help='pixel-size factor (default 0.25: 128x256 images)')
    parser.add_argument('--iters', type=int, default=300, help='training iterations (300)')
    parser.add_argument('--num-images', type=int, default=2, help='training images (2)')
    parser.add_argument('--seed', type=int, default=0, help='randomness.seed (0)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='key=value overrides of the derived config, as in tools/train.py')
    parser.add_argument('--min', nargs='+', type=_threshold, metavar='METRIC=VALUE',
                        help='pass thresholds (default: ' +
                        ' '.join(f'{k}={v:g}' for k, v in DEFAULT_THRESHOLDS.items()) + ')')
    args = parser.parse_args(argv)
    thresholds = dict(args.min) if args.min else dict(DEFAULT_THRESHOLDS)
    metrics = run_overfit(args.config, args.work_dir, args.scale, args.iters, args.num_images,
                          args.seed, cfg_options=args.cfg_options)
    missed = failures(metrics, thresholds)
    result = dict(config=args.config, scale=args.scale, iters=args.iters,
                  num_images=args.num_images, seed=args.seed, thresholds=thresholds,
                  metrics=metrics, passed=not missed)
    with atomic_open(osp.join(args.work_dir, 'overfit.json'), 'w', encoding='utf-8') as f:
        json.dump(result, f, indent=1)
    print('overfit check: ' + ', '.join(f'{key} {metrics[key]:.1f}' for key in REPORTED
                                        if key in metrics))
    print('overfit check: ' + ('passed' if not missed else 'FAILED: ' + '; '.join(missed)))
    return 1 if missed else 0


if __name__ == '__main__':
    sys.exit(main())
