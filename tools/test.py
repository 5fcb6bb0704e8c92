"""Evaluate a checkpoint with the test split and evaluator of its config.

Examples::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --out work_dirs/x/results.pkl
    bash tools/dist_test.sh CONFIG CHECKPOINT 2
"""
import argparse
import os.path as osp

from mmdet.evaluation import DumpDetResults
from runner_cli import build_runner, load_config, parse_common_args  # this folder

from mmibs.utils import teardown_distributed


def parse_args() -> argparse.Namespace:
    """Parse the command line (same options as mmdet's ``tools/test.py``)."""
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a panoptic model',
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump predictions to this pickle file')
    return parse_common_args(parser)


def main() -> None:
    """Build the Runner, load the checkpoint and run the test loop."""
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not exist')
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out {args.out!r}: the output file must be a .pkl file')
    cfg = load_config(args)
    cfg.load_from = args.checkpoint

    runner = build_runner(cfg)
    if args.out is not None:
        runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=args.out))
    runner.test()
    teardown_distributed()


if __name__ == '__main__':
    main()
