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

    python bench/bench_panoptic_fcn_ibs.py --preset cityscapes-r50 --crop 512 1024 --batch 8 --device cuda
    python bench/bench_panoptic_fcn_ibs.py --preset synthetic --crop 256 512 --batch 4
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    'synthetic': REPO_ROOT / 'configs/panoptic_fcn/'
    'panoptic-fcn_r18-w32_1xb4-256x512-300it_synthetic-streets.py',
    'cityscapes-r50': REPO_ROOT / 'configs/_base_/models/panoptic_fcn_r50_fpn.py',
}
VARIANTS = ('baseline', 'ibs')


def parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--preset', choices=tuple(CONFIGS), default='synthetic')
    parser.add_argument('--crop', type=int, nargs=2, default=(256, 512), metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=4, help='crops per step (per GPU), even')
    parser.add_argument('--things-per-crop', type=int, default=8)
    parser.add_argument('--ibs-weight', type=float, default=4.0)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--iters', type=int, default=3)
    parser.add_argument('--rounds', type=int, default=1,
                        help='rounds over the variants (interleaved); time = min over rounds')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--worker', choices=VARIANTS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def model_cfg(args: argparse.Namespace, variant: str):
    """The detector config of ``variant`` for the preset (no pretrained download)."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(CONFIGS[args.preset])).model
    cfg.backbone.init_cfg = None
    if variant != 'baseline':
        cfg.panoptic_head.update(loss_ibs=dict(type='IBSLoss', loss_weight=args.ibs_weight),
                                 ibs_pairing='partner')
    return cfg


def make_batch(args: argparse.Namespace, num_things: int, num_stuff: int, device):
    """A fixed random batch: images, thing masks (rectangles) and a things-first semantic map."""
    import torch
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData, PixelData
    gen = torch.Generator().manual_seed(args.seed)
    h, w = args.crop
    inputs = torch.randn(args.batch, 3, h, w, generator=gen).to(device)
    samples = []
    for _ in range(args.batch):
        seg = torch.full((h, w), 255, dtype=torch.long)
        bands = torch.randperm(num_stuff, generator=gen)[:3] + num_things
        for i, label in enumerate(bands.tolist()):
            seg[i * h // 3:(i + 1) * h // 3] = label
        masks, labels = [], []
        for _ in range(args.things_per_crop):
            bh, bw = (int(torch.randint(s // 16, s // 3, (1, ), generator=gen)) for s in (h, w))
            y0 = int(torch.randint(0, h - bh, (1, ), generator=gen))
            x0 = int(torch.randint(0, w - bw, (1, ), generator=gen))
            mask = torch.zeros(h, w, dtype=torch.bool)
            mask[y0:y0 + bh, x0:x0 + bw] = True
            label = int(torch.randint(0, num_things, (1, ), generator=gen))
            for previous in masks:
                previous &= ~mask
            seg[mask] = label
            masks.append(mask)
            labels.append(label)
        sample = DetDataSample(metainfo=dict(img_shape=(h, w), pad_shape=(h, w),
                                             batch_input_shape=(h, w)))
        sample.gt_instances = InstanceData(
            labels=torch.tensor(labels).to(device),
            masks=BitmapMasks(torch.stack(masks).numpy().astype('uint8'), h, w))
        sample.gt_sem_seg = PixelData(sem_seg=seg[None].to(device))
        samples.append(sample)
    return inputs, samples


def _rss_kib(field: str) -> int:
    """``VmRSS`` or ``VmHWM`` of this process, KiB."""
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith(field + ':'):
            return int(line.split()[1])
    raise RuntimeError(f'{field} not in /proc/self/status')


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

    cuda = device.type == 'cuda'
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = _rss_kib('VmRSS') * 1024
    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.iters):
        start = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated() if cuda else _rss_kib('VmHWM') * 1024
    return dict(time_s=statistics.median(times), peak_mib=(peak - base) / 2**20)


def main(argv: List[str]) -> None:
    args = parse_args(argv)
    if args.batch < 2 or args.batch % 2:
        raise SystemExit('--batch must be even (IBS pairs crops 2k <-> 2k+1)')
    if args.worker:
        print(json.dumps(run_worker(args)))
        return
    rounds: Dict[str, List[Dict[str, float]]] = {variant: [] for variant in VARIANTS}
    for _ in range(args.rounds):
        for variant in VARIANTS:
            out = subprocess.run([sys.executable, __file__, *argv, '--worker', variant],
                                 check=True, capture_output=True, text=True, cwd=REPO_ROOT,
                                 env=dict(os.environ, PYTHONWARNINGS='ignore'))
            rounds[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
    results = {variant: dict(time_s=min(r['time_s'] for r in runs),
                             peak_mib=statistics.median(r['peak_mib'] for r in runs))
               for variant, runs in rounds.items()}
    base = results['baseline']
    memory = 'CUDA max_memory_allocated' if args.device.startswith('cuda') else 'peak RSS delta'
    print(f'preset {args.preset}, crop {args.crop[0]}x{args.crop[1]}, batch {args.batch}, '
          f'{args.things_per_crop} things/crop, device {args.device}, IBS weight '
          f'{args.ibs_weight}, median of {args.iters} steps after {args.warmup} warm-up, best of '
          f'{args.rounds} rounds; memory: {memory}')
    print(f'{"variant":<10} {"step s":>8} {"x base":>7} {"peak MiB":>9} {"x base":>7}')
    for variant, result in results.items():
        print(f'{variant:<10} {result["time_s"]:8.3f} {result["time_s"] / base["time_s"]:7.3f} '
              f'{result["peak_mib"]:9.1f} {result["peak_mib"] / base["peak_mib"]:7.3f}')


if __name__ == '__main__':
    main(sys.argv[1:])
