"""What ``tools/train.py`` and ``tools/test.py`` share: mmdet's common options, the config with
them applied, and the Runner with mmibs' checkpoint loaders installed."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmibs  # noqa: F401  (registers components)
from mmibs.engine import check_class_split, install_checkpoint_loaders
from mmibs.utils import setup_cpu_distributed


def parse_common_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Add ``config``-independent options of mmdet's tools (``--work-dir``, ``--cfg-options``,
    ``--launcher``, ``--local_rank``) to ``parser`` and parse the command line."""
    parser.add_argument('--work-dir', help='the directory for logs, checkpoints and metrics')
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


def load_config(args: argparse.Namespace) -> Config:
    """``args.config`` with the launcher, ``--cfg-options`` and the work dir (``--work-dir``, the
    config's, or ``work_dirs/<config name>``) applied."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_runner(cfg: Config) -> Runner:
    """The Runner of ``cfg`` (or its ``runner_type``), after checking that the heads and the
    datasets agree on the thing / stuff split (:func:`mmibs.engine.check_class_split`) and
    installing mmibs' checkpoint
    loaders (safe local loading, clear errors for failed downloads) and, on CPU-only machines
    with a launcher, the gloo process group."""
    check_class_split(cfg)
    install_checkpoint_loaders(cfg)
    setup_cpu_distributed(cfg, cfg.launcher)
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
