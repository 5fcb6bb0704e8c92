"""Training-step time and peak memory of Panoptic FCN: baseline vs Intra-Batch Supervision.

One command measures the variants on the same synthetic batch (same seed, same weights) and
prints their ratios to the baseline. Each variant runs in its own child process, so its
peak memory is its own:

* CUDA: ``torch.cuda.max_memory_allocated`` over all steps minus the memory allocated before
  the first step (model, batch);
* CPU: the child's peak resident set size over all steps (``VmHWM``) minus its resident set
  size before the first step (``VmRSS``); allocator caching makes differences of a few MiB noise.

A step is forward + losses + backward of the whole detector; the optimiser step, identical for
both, is left out. The time is the median over ``--iters`` steps after ``--warmup`` steps, the
fastest of ``--rounds`` interleaved rounds; the memory is the median over rounds. IBS uses
partner pairing (crop 2k <-> 2k+1), as with class-paired crops.

Presets:

* ``cityscapes-r50``: the authors' Panoptic FCN R-50 Cityscapes model (256 channels, DCNv2
  position head, K = 7, 8 + 11 classes), IBS weight 4 x 1; use with ``--crop 512 1024
  --batch 8`` (8 crops per GPU in the paper) on a GPU;
* ``synthetic``: the synthetic-streets config's model (half-width R-18, 32 channels, plain
  position head), IBS weight 4.

Examples::

    python bench/bench_panoptic_fcn_ibs.py --preset cityscapes-r50 --crop 512 1024 --batch 8 \
        --device cuda
    python bench/bench_panoptic_fcn_ibs.py --preset synthetic --crop 256 512 --batch 4
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List

from step_bench import make_batch, measure_steps, parse_step_args, run_variants

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    'synthetic': REPO_ROOT / 'configs/panoptic_fcn/'
    'panoptic-fcn_r18-w32_1xb4-256x512-600it_synthetic-streets.py',
    'cityscapes-r50': REPO_ROOT / 'configs/_base_/models/panoptic_fcn_r50_fpn.py',
}
VARIANTS = ('baseline', 'ibs')


def parse_args(argv: List[str]) -> argparse.Namespace:
    return parse_step_args(argv, __doc__.split('\n')[0], tuple(CONFIGS), VARIANTS,
                           batch_help='crops per step (per GPU), even', ibs_weight=4.0,
                           warmup=1, iters=3)


def model_cfg(args: argparse.Namespace, variant: str):
    """The detector config of ``variant`` for the preset (no pretrained download)."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(CONFIGS[args.preset])).model
    cfg.backbone.init_cfg = None
    if variant != 'baseline':
        cfg.panoptic_head.ibs = dict(type='IntraBatchSupervision', pairing='partner',
                                     loss=dict(type='IBSLoss', loss_weight=args.ibs_weight))
    return cfg


def run_worker(args: argparse.Namespace) -> Dict[str, float]:
    """Build one variant, run the steps and return time (s) and peak memory (MiB)."""
    import torch
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    import mmibs  # noqa: F401  (registers Panoptic FCN)
    register_all_modules()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    model = MODELS.build(model_cfg(args, args.worker))
    model.init_weights()
    model.to(device).train()
    head = model.panoptic_head
    inputs, samples = make_batch(args, head.num_things_classes, head.num_stuff_classes, device)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        losses = model.loss(inputs, samples)
        sum(losses.values()).backward()

    return measure_steps(step, args, device)


def main(argv: List[str]) -> None:
    args = parse_args(argv)
    if args.batch < 2 or args.batch % 2:
        raise SystemExit('--batch must be even (IBS pairs crops 2k <-> 2k+1)')
    if args.worker:
        print(json.dumps(run_worker(args)))
        return
    run_variants(__file__, argv, VARIANTS, args)


if __name__ == '__main__':
    main(sys.argv[1:])
