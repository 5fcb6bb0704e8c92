r"""Train a panoptic model with mmibs (mmengine Runner).

Examples::

    python tools/train.py \
        configs/mask2former/mask2former_r18-w32_1xb4-256x512-600it_synthetic-streets.py
    bash tools/dist_train.sh CONFIG 2          # torchrun; gloo when there is no GPU
    python tools/train.py CONFIG --resume      # continue from the latest checkpoint of the work dir
"""
import argparse

from runner_cli import build_runner, load_config, parse_common_args  # this folder

from mmibs.utils import teardown_distributed


def parse_args() -> argparse.Namespace:
    """Parse the command line (same options as mmdet's ``tools/train.py``)."""
    parser = argparse.ArgumentParser(
        description='Train a panoptic segmentation model',
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true', help='scale the LR to the batch')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or from the latest one of the work dir if no path')
    return parse_common_args(parser)


def add_random_state_hook(cfg) -> None:
    """Add ``RandomStateHook`` to ``custom_hooks`` unless the config has it: checkpoints then
    hold the random state and ``--resume`` continues the run exactly (docs/checkpoints.md)."""
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(h.get('type') in ('RandomStateHook', 'mmibs.RandomStateHook') for h in hooks):
        hooks.append(dict(type='RandomStateHook'))
    cfg.custom_hooks = hooks


def main() -> None:
    """Build the Runner from the config and train."""
    args = parse_args()
    cfg = load_config(args)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise RuntimeError(f'{args.config}: --auto-scale-lr needs '
                               'auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    add_random_state_hook(cfg)

    build_runner(cfg).train()
    teardown_distributed()


if __name__ == '__main__':
    main()
