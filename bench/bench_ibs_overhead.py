"""Training-step time and peak memory of Mask2Former: baseline vs IBS (partner, all pairs,
global batch).

One command measures the variants on the same synthetic batch (same seed, same weights)
and prints the ratios to the baseline:

* ``baseline``: no IBS, one process with ``--batch`` crops;
* ``ibs``: IBS with partner pairing (crop 2k <-> 2k+1), one target per crop;
* ``ibs_all``: IBS with ``pairing='all'``, every other crop of the batch a target;
* ``baseline_2ranks``: no IBS, 2 gloo processes (DDP) x ``--batch / 2`` crops, 1 thread each;
* ``ibs_global``: as ``baseline_2ranks`` with ``scope='global', pairing='all'``: the thing
  embeddings of both processes gathered, every other crop of the 2-process batch a target.

The 2-process variants report process 0's step time and peak memory; their ratios are to
``baseline_2ranks``, the others' to ``baseline``. For IBS it also prints the time per step of
the second Hungarian matching of the IBS predictions and of the IBS loss's forward (the backward
is in the step time only). Each variant runs in its own child process, so its peak memory is
its own:

* CUDA: ``torch.cuda.max_memory_allocated`` over all steps minus the memory allocated before
  the first step (model, batch);
* CPU: the child's peak resident set size over all steps (``VmHWM`` of ``/proc/self/status``)
  minus its resident set size before the first step (``VmRSS``). CPU RSS includes allocator
  caching, so treat differences below a few MiB as noise.

A step is forward + losses + backward of the whole detector (``model.loss`` then
``backward``); the optimiser step, identical for all variants, is left out. The time is the
median over ``--iters`` steps after ``--warmup`` steps, the fastest of ``--rounds`` interleaved
rounds (default 3; other processes can only slow a round down, and one round's fixed variant
order biases the ratios); the memory is the median over rounds.

Presets:

* ``cityscapes-r50``: the authors' Mask2Former R-50 Cityscapes model: 256-d, 100 queries,
  9 decoder layers (10 predictions), 12544 points, 8 thing + 11 stuff classes; use with
  ``--crop 512 1024 --batch 4`` (4 crops per GPU in the paper) on a GPU;
* ``synthetic``: the synthetic-streets demo model (half-width R-18, 64-d, 30 queries,
  3 decoder layers, 3136 points, 3 + 5 classes).

Examples::

    python bench/bench_ibs_overhead.py --preset cityscapes-r50 --crop 512 1024 --batch 4 \
        --device cuda
    python bench/bench_ibs_overhead.py --preset synthetic --crop 256 512 --batch 4
    python bench/bench_ibs_overhead.py --preset cityscapes-r50 --crop 512 1024 --batch 4 \
        --variants baseline ibs ibs_all --warmup 1 --iters 2
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List

from step_bench import make_batch, measure_steps, parse_step_args, run_variants, timed_calls

REPO_ROOT = Path(__file__).resolve().parents[1]
BASELINE_CONFIG = (REPO_ROOT / 'configs/mask2former'
                   / 'mask2former_r18-w32_1xb4-256x512-600it_synthetic-streets.py')
VARIANTS = ('baseline', 'ibs', 'ibs_all', 'baseline_2ranks', 'ibs_global')
TWO_RANKS = ('baseline_2ranks', 'ibs_global')


def parse_args(argv: List[str]) -> argparse.Namespace:
    return parse_step_args(argv, __doc__.split('\n')[0], ('synthetic', 'cityscapes-r50'),
                           VARIANTS, batch_help='crops per step (per GPU)', ibs_weight=50.0,
                           warmup=2, iters=5)


def model_cfg(args: argparse.Namespace, variant: str):
    """The detector config of ``variant`` for the preset."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(BASELINE_CONFIG)).model
    cfg.data_preprocessor.batch_augments[0].size = tuple(args.crop)
    head = cfg.panoptic_head
    if args.preset == 'cityscapes-r50':
        # mmdet's stock R-50 Mask2Former (256-d, 100 queries, 6 pixel-decoder and 9 decoder
        # layers) with Cityscapes classes and 12544 points, as the authors.
        import mmdet
        stock = Config.fromfile(str(Path(mmdet.__file__).parent / '.mim/configs/mask2former'
                                    / 'mask2former_r50_8xb2-lsj-50e_coco-panoptic.py'))
        cfg.backbone = stock.model.backbone
        cfg.backbone.init_cfg = None
        head_type_kwargs = dict(num_things_classes=8, num_stuff_classes=11)
        cfg.panoptic_head = stock.model.panoptic_head
        cfg.panoptic_head.update(head_type_kwargs)
        cfg.panoptic_head.loss_cls.class_weight = [1.0] * 19 + [0.1]
        cfg.panoptic_fusion_head.update(head_type_kwargs)
        cfg.train_cfg.num_points = 12544
        head = cfg.panoptic_head
    if variant.startswith('ibs'):
        pairing = dict(ibs=dict(pairing='partner'), ibs_all=dict(pairing='all'),
                       ibs_global=dict(pairing='all', scope='global'))[variant]
        head.update(type='Mask2FormerIBSHead', ibs=dict(
            type='IntraBatchSupervision', loss=dict(type='IBSLoss', loss_weight=args.ibs_weight),
            point_sampling=True, seed=args.seed, **pairing))
    return cfg


def run_worker(args: argparse.Namespace, rank: int = 0) -> Dict[str, float]:
    """Build one variant, run the steps and return time (s) and peak memory (MiB); in a
    2-process variant, process ``rank`` (its process group is initialised)."""
    import torch
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    import mmibs  # noqa: F401  (registers the IBS head and loss)
    register_all_modules()
    two_ranks = args.worker in TWO_RANKS
    if two_ranks:
        torch.set_num_threads(1)  # 2 processes on the 2 cores
    elif args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device, rank) if args.device == 'cuda' else torch.device(
        args.device)
    cfg = model_cfg(args, args.worker)
    torch.manual_seed(args.seed)
    model = MODELS.build(cfg)
    model.init_weights()
    model.to(device).train()
    head = model.panoptic_head
    inputs, samples = make_batch(args, head.num_things_classes, head.num_stuff_classes, device,
                                 batch=args.batch // 2 if two_ranks else None, seed_offset=rank)
    forward = model
    if two_ranks:
        from torch.nn.parallel import DistributedDataParallel
        forward = DistributedDataParallel(model, find_unused_parameters=True)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        torch.manual_seed(args.seed)
        losses = forward(inputs, samples, mode='loss')
        sum(v for k, v in losses.items() if 'loss' in k).backward()

    breakdown: Dict[str, float] = {}
    if args.worker.startswith('ibs'):
        # The parts IBS adds to the forward pass: the second Hungarian matching of each IBS
        # prediction (mmdet's _loss_by_feat_single does not return its own) and the IBS loss.
        from mmibs.models.ibs import maskformer_ibs
        timed_calls(maskformer_ibs, 'matched_labels', breakdown, 'second_matching')
        timed_calls(type(head), '_loss_ibs_single', breakdown, 'ibs_loss_forward')
    return measure_steps(step, args, device, breakdown)


def rank_worker(rank: int, args: argparse.Namespace, port: int, out: str) -> None:
    """Process ``rank`` of a 2-process variant: gloo (CPU) or nccl (CUDA) group, steps, result
    of process 0 to ``out``."""
    import os

    import torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('nccl' if args.device == 'cuda' else 'gloo', rank=rank,
                            world_size=2)
    try:
        result = run_worker(args, rank)
        if rank == 0:
            Path(out).write_text(json.dumps(result))
    finally:
        dist.destroy_process_group()


def run_two_ranks(args: argparse.Namespace) -> Dict[str, float]:
    """Run a 2-process variant (fresh processes, spawned) and return process 0's result."""
    import socket
    import tempfile

    import torch.multiprocessing as mp
    if args.batch % 2:
        raise SystemExit(f'--batch {args.batch}: the 2-process variants need an even batch')
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / 'rank0.json')
        mp.start_processes(rank_worker, args=(args, port, out), nprocs=2, join=True,
                           start_method='spawn')
        return json.loads(Path(out).read_text())


def main(argv: List[str]) -> None:
    args = parse_args(argv)
    if args.worker:
        result = run_two_ranks(args) if args.worker in TWO_RANKS else run_worker(args)
        print(json.dumps(result))
        return
    run_variants(__file__, argv, VARIANTS, args, baseline_of=dict(ibs_global='baseline_2ranks'))


if __name__ == '__main__':
    main(sys.argv[1:])
