"""Evaluate a checkpoint with the test split and evaluator of its config.

Examples::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --out work_dirs/x/results.pkl
    bash tools/dist_test.sh CONFIG CHECKPOINT 2
"""
import argparse
import os
import os.path as osp

from mmdet.evaluation import DumpDetResults
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmibs  # noqa: F401  (registers components)
from mmibs.engine import install_checkpoint_loaders
from mmibs.utils import setup_cpu_distributed, teardown_distributed


def parse_args() -> argparse.Namespace:
    """Parse the command line (same options as mmdet's ``tools/test.py``)."""
    parser = argparse.ArgumentParser(description='Test (and evaluate) a panoptic model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the directory to save the evaluation metrics')
    parser.add_argument('--out', help='dump predictions to this pickle file')
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
    """Build the Runner, load the checkpoint and run the test loop."""
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not exist')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint

    install_checkpoint_loaders(cfg)  # safe local loading, clear errors for failed downloads
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out {args.out!r}: the output file must be a .pkl file')
        runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=args.out))
    runner.test()
    teardown_distributed()


if __name__ == '__main__':
    main()
