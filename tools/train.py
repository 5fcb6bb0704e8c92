"""Train a panoptic model with mmibs (mmengine Runner).

Examples::

    python tools/train.py \
        configs/mask2former/mask2former_r18-w32_1xb4-256x512-300it_synthetic-streets.py
    bash tools/dist_train.sh CONFIG 2          # torchrun; gloo when there is no GPU
    python tools/train.py CONFIG --resume      # continue from the latest checkpoint of the work dir
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmibs  # noqa: F401  (registers components)
from mmibs.engine import install_checkpoint_loaders
from mmibs.utils import setup_cpu_distributed, teardown_distributed


def parse_args() -> argparse.Namespace:
    """Parse the command line (same options as mmdet's ``tools/train.py``)."""
    parser = argparse.ArgumentParser(description='Train a panoptic segmentation model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true', help='scale the LR to the batch')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or from the latest one of the work dir if no path')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, xxx=yyy pairs merged into the config')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main() -> None:
    """Build the Runner from the config and train."""
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

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

    install_checkpoint_loaders(cfg)  # safe local loading, clear errors for failed downloads
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()
    teardown_distributed()


if __name__ == '__main__':
    main()
