"""Shared parts of the training-step benchmarks (``bench_ibs_overhead.py``,
``bench_panoptic_fcn_ibs.py``): the synthetic batch, the timed steps with their peak memory,
and the parent process that runs each variant in its own child and prints the ratios.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[1]


def parse_step_args(argv: List[str], description: str, presets: Sequence[str],
                    variants: Sequence[str], batch_help: str, ibs_weight: float, warmup: int,
                    iters: int) -> argparse.Namespace:
    """The command line both benchmarks share (what :func:`make_batch`,
    :func:`measure_steps` and :func:`run_variants` read); the defaults differ per benchmark."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--preset', choices=tuple(presets), default='synthetic')
    parser.add_argument('--crop', type=int, nargs=2, default=(256, 512), metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=4, help=batch_help)
    parser.add_argument('--things-per-crop', type=int, default=8)
    parser.add_argument('--ibs-weight', type=float, default=ibs_weight)
    parser.add_argument('--warmup', type=int, default=warmup)
    parser.add_argument('--iters', type=int, default=iters)
    parser.add_argument('--rounds', type=int, default=3,
                        help='rounds over the variants (interleaved: baseline, A, B, baseline, '
                        'A, B, ...); time = min over rounds, memory = median. With 1 round the '
                        'order of the variants biases the ratios (caches, other processes)')
    parser.add_argument('--variants', nargs='+', choices=tuple(variants), default=list(variants),
                        help=f'variants to measure (default: all; the first is the baseline '
                        f'of the ratios): {", ".join(variants)}')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--worker', choices=tuple(variants), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def make_batch(args: argparse.Namespace, num_things: int, num_stuff: int, device,
               batch: Optional[int] = None, seed_offset: int = 0):
    """A fixed random batch: images (B, 3, H, W) and panoptic targets per crop.

    Each crop has three stuff bands and ``args.things_per_crop`` rectangular things (later
    ones cover earlier ones); labels are things first, void 255 in the semantic map. ``batch``
    (default ``args.batch``) crops from seed ``args.seed + seed_offset`` (a process of a
    multi-process variant: its rank); every crop has its own ``img_id``.
    """
    import torch
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData, PixelData
    batch = args.batch if batch is None else batch
    gen = torch.Generator().manual_seed(args.seed + seed_offset)
    h, w = args.crop
    inputs = torch.randn(batch, 3, h, w, generator=gen).to(device)
    samples = []
    for b in range(batch):
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
                                             batch_input_shape=(h, w),
                                             img_id=f'{seed_offset}-{b}'))
        sample.gt_instances = InstanceData(
            labels=torch.tensor(labels).to(device),
            masks=BitmapMasks(torch.stack(masks).numpy().astype('uint8'), h, w))
        sample.gt_sem_seg = PixelData(sem_seg=seg[None].to(device))
        samples.append(sample)
    return inputs, samples


def rss_kib(field: str) -> int:
    """``VmRSS`` or ``VmHWM`` of this process, KiB."""
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith(field + ':'):
            return int(line.split()[1])
    raise RuntimeError(f'{field} not in /proc/self/status')


def timed_calls(owner, name: str, totals: Dict[str, float], key: str) -> None:
    """Replace ``owner.name`` (a function or method) by a wrapper that adds its wall time to
    ``totals[key]`` (for the per-part breakdown of :func:`measure_steps`; benchmark children
    only)."""
    func = getattr(owner, name)
    totals.setdefault(key, 0.0)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - start

    setattr(owner, name, wrapper)


def measure_steps(step: Callable[[], None], args: argparse.Namespace, device,
                  breakdown: Optional[Dict[str, float]] = None) -> Dict[str, float]:
    """Median time of ``args.iters`` steps after ``args.warmup``; peak memory over all steps
    minus the memory before the first one (model and batch), MiB; and, for the parts timed into
    ``breakdown`` (:func:`timed_calls`), their mean seconds per timed step (``<part>_s``)."""
    import torch
    cuda = device.type == 'cuda'
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = rss_kib('VmRSS') * 1024
    for _ in range(args.warmup):
        step()
    breakdown = {} if breakdown is None else breakdown
    for key in breakdown:
        breakdown[key] = 0.0
    times = []
    for _ in range(args.iters):
        start = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated() if cuda else rss_kib('VmHWM') * 1024
    parts = {f'{key}_s': total / args.iters for key, total in breakdown.items()}
    return dict(time_s=statistics.median(times), peak_mib=(peak - base) / 2**20, **parts)


def run_variants(script: str, argv: List[str], variants: Sequence[str],
                 args: argparse.Namespace, baseline_of: Optional[Dict[str, str]] = None) -> None:
    """Run ``script --worker VARIANT`` in a child per variant and round; print the ratios to
    the first variant, or for the variants in ``baseline_of`` to the one named there."""
    variants = [variant for variant in variants if variant in args.variants]
    rounds: Dict[str, List[Dict[str, float]]] = {variant: [] for variant in variants}
    for _ in range(args.rounds):
        for variant in variants:
            out = subprocess.run([sys.executable, script, *argv, '--worker', variant],
                                 check=True, capture_output=True, text=True, cwd=REPO_ROOT,
                                 env=dict(os.environ, PYTHONWARNINGS='ignore'))
            rounds[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
    # Interference from other processes only slows a round down: keep the fastest round (and
    # its breakdown).
    results = {}
    for variant, runs in rounds.items():
        fastest = min(runs, key=lambda r: r['time_s'])
        results[variant] = dict(fastest, peak_mib=statistics.median(r['peak_mib'] for r in runs))
    baseline_of = baseline_of or {}
    memory = 'CUDA max_memory_allocated' if args.device.startswith('cuda') else 'peak RSS delta'
    print(f'preset {args.preset}, crop {args.crop[0]}x{args.crop[1]}, batch {args.batch}, '
          f'{args.things_per_crop} things/crop, device {args.device}, '
          f'IBS weight {args.ibs_weight}, '
          f'median of {args.iters} steps after {args.warmup} warm-up, best of {args.rounds} '
          f'rounds; memory: {memory}')
    print(f'{"variant":<16} {"step s":>8} {"x base":>7} {"peak MiB":>9} {"x base":>7}  base')
    for variant, result in results.items():
        name = baseline_of.get(variant, variants[0])
        base = results.get(name)
        if base is None:
            ratios, name = f'{"-":>7} {result["peak_mib"]:9.1f} {"-":>7}', f'({name} not run)'
        else:
            ratios = (f'{result["time_s"] / base["time_s"]:7.3f} {result["peak_mib"]:9.1f} '
                      f'{result["peak_mib"] / base["peak_mib"]:7.3f}')
        print(f'{variant:<16} {result["time_s"]:8.3f} {ratios}  {name}')
    for variant, result in results.items():
        parts = [(key[:-2], value) for key, value in result.items()
                 if key.endswith('_s') and key != 'time_s']
        if parts:
            print(f'{variant}: ' + ', '.join(
                f'{name} {value:.3f} s per step ({100 * value / result["time_s"]:.1f} %)'
                for name, value in parts))
