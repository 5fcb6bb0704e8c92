"""Memory and time of the IBS loss alone at the authors' Cityscapes / Vistas sizes, by pairing.

The whole-model benchmark (``bench_ibs_overhead.py``) cannot run 8 processes x 2 crops of
1024 x 1024 here; this one measures what the global scope adds on one process of such a run:
``IntraBatchSupervision`` (with Mask2Former's point sampling) on the thing embeddings of every
crop of the global batch against this process's crop features, exactly as after the gather
(``IntraBatchSupervision.pair_logits`` + ``IBSLoss``), for all IBS predictions of a step,
then one backward. Settings (each in its own child process, interleaved over ``--rounds``):

* ``partner``: one target per crop (the authors at 2 crops per GPU, the paper's wording);
* ``all``: every other crop of this process's batch;
* ``global``: every other crop of the W x B global batch (rows of all W processes);
* ``global_cap``: ``global`` with ``max_pairs=--max-pairs``.

Memory = the child's peak RSS over the step minus its RSS before and minus the gradients of the
embeddings and features (which the regular losses allocate anyway), i.e. what IBS holds (CPU;
allocator caching makes a few MiB noise); time = the fastest round. For scale, the regular
mask logits that Mask2Former's own losses keep per step, B x Q x h x w fp32 x predictions, are
printed too.

Presets: ``cityscapes`` (W = 4 GPUs x B = 4 crops of 512 x 1024, features 128 x 256, 100
queries) and ``vistas`` (W = 8 x B = 2 crops of 1024 x 1024, features 256 x 256, 200 queries);
C = 256, 9 IBS predictions, 12544 points.

Examples::

    OMP_NUM_THREADS=2 python bench/bench_ibs_pairs.py --preset vistas --things-per-crop 20
    OMP_NUM_THREADS=2 python bench/bench_ibs_pairs.py --preset cityscapes --rounds 3
"""
import argparse
import json
import os
import subprocess
import sys
import time
from typing import Dict, List

PRESETS = dict(
    cityscapes=dict(world=4, batch=4, hw=(128, 256), queries=100),
    vistas=dict(world=8, batch=2, hw=(256, 256), queries=200),
)
SETTINGS = ('partner', 'all', 'global', 'global_cap')


def parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog='examples:\n' + __doc__.split('Examples::')[1])
    parser.add_argument('--preset', choices=tuple(PRESETS), default='vistas')
    parser.add_argument('--things-per-crop', type=int, default=10,
                        help='thing-matched queries per crop (default 10)')
    parser.add_argument('--max-pairs', type=int, default=256, help='cap of global_cap')
    parser.add_argument('--predictions', type=int, default=9, help='IBS predictions per step')
    parser.add_argument('--channels', type=int, default=256)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--settings', nargs='+', choices=SETTINGS, default=list(SETTINGS))
    parser.add_argument('--worker', choices=SETTINGS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def rss_kib(field: str) -> int:
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(field)


def run_worker(args: argparse.Namespace) -> Dict[str, float]:
    """One step of the IBS predictions of one process, for ``args.worker``."""
    import torch

    import mmibs  # noqa: F401  (registers the IBS components)
    from mmibs.models.ibs import IntraBatchSupervision
    preset = PRESETS[args.preset]
    world, batch, (h, w) = preset['world'], preset['batch'], preset['hw']
    scope_crops = world * batch if args.worker.startswith('global') else batch
    gen = torch.Generator().manual_seed(0)
    ibs = IntraBatchSupervision(
        loss=dict(type='IBSLoss', loss_weight=100.0), pairing='partner' if args.worker ==
        'partner' else 'all', seed=0, max_pairs=args.max_pairs if args.worker == 'global_cap'
        else None, point_sampling=dict(num_points=12544, oversample_ratio=3.0,
                                       importance_sample_ratio=0.75))
    # Source crops 0..S-1; this process holds crops 0..B-1 of them (offset 0).
    matrix = torch.zeros(scope_crops, batch, dtype=torch.bool)
    for s in range(scope_crops):
        if args.worker == 'partner':
            if s < batch and (s ^ 1) < batch:
                matrix[s, s ^ 1] = True
        else:
            matrix[s] = torch.arange(batch) != s
    src = torch.arange(scope_crops).repeat_interleave(args.things_per_crop)
    inputs = [(torch.randn(src.shape[0], args.channels, generator=gen, requires_grad=True),
               torch.randn(batch, args.channels, h, w, generator=gen, requires_grad=True))
              for _ in range(args.predictions)]
    before = rss_kib('VmRSS')
    start = time.perf_counter()
    total, pairs = 0.0, 0
    for rows, features in inputs:
        logits, _, num_masks = ibs.pair_logits(rows, src, matrix, features)
        total = total + ibs.loss(logits)
        pairs = num_masks
    total.backward()
    elapsed = time.perf_counter() - start
    # The gradients of the embeddings and features exist without IBS too (the regular losses
    # give them): left out, so the figure is what IBS itself holds.
    input_grads = sum(t.numel() * t.element_size() for pair in inputs for t in pair) / 2**20
    return dict(time_s=elapsed, peak_mib=(rss_kib('VmHWM') - before) / 1024 - input_grads,
                pairs=pairs)


def main(argv: List[str]) -> None:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(run_worker(args)))
        return
    results: Dict[str, List[Dict[str, float]]] = {s: [] for s in args.settings}
    for round_index in range(args.rounds):
        for setting in args.settings:
            out = subprocess.run([sys.executable, __file__, *argv, '--worker', setting],
                                 check=True, capture_output=True, text=True,
                                 env=dict(os.environ, PYTHONWARNINGS='ignore'))
            results[setting].append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f'round {round_index + 1}/{args.rounds} done', file=sys.stderr)
    preset = PRESETS[args.preset]
    regular = (preset['batch'] * preset['queries'] * preset['hw'][0] * preset['hw'][1] * 4
               * args.predictions / 2**20)
    print(f'preset {args.preset}: W={preset["world"]} x B={preset["batch"]} crops, features '
          f'{preset["hw"][0]}x{preset["hw"][1]}, C={args.channels}, {args.things_per_crop} '
          f'thing queries per crop, {args.predictions} IBS predictions, 12544 points, '
          f'OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS", "unset")}, best of '
          f'{args.rounds} rounds (memory: median); regular mask logits of the step '
          f'(B x Q x h x w fp32 x predictions): {regular:.0f} MiB')
    print(f'{"setting":<11} {"pairs/pred":>10} {"step s":>8} {"peak MiB":>9} {"x partner":>9}')
    base = None
    for setting, runs in results.items():
        time_s = min(r['time_s'] for r in runs)
        peak = sorted(r['peak_mib'] for r in runs)[len(runs) // 2]
        base = base if base is not None else peak
        print(f'{setting:<11} {runs[0]["pairs"]:>10} {time_s:8.2f} {peak:9.1f} '
              f'{peak / base:9.2f}')


if __name__ == '__main__':
    main(sys.argv[1:])
