"""Panoptic evaluation speed at 1024x2048 with ~100 segments per image, all measured in one run.

(a) in memory: ``PanopticPixelMetric`` per image (PQ + Acc/Prec + confusion + mIoU, GT PNG
    decoding included; and the statistics alone) vs panopticapi's per-image routine
    ``pq_compute_single_core`` (with and without its two PNG decodes).
(b) folder CLI: ``tools/analysis_tools/eval_panoptic.py`` (1 and 2 processes) vs panopticapi's
    ``pq_compute`` (one process per core) and single core, and hotcoco's ``pq_compute``.

Usage: ``python bench/bench_eval.py [--images 8] [--repeats 2]`` (hotcoco from
``requirements/bench.txt``). Prints images/s and ratios; the PQ of every tool is checked equal.
"""
import argparse
import contextlib
import importlib.util
import io
import json
import os.path as osp
import tempfile
import time
from typing import Callable, Dict

import numpy as np
import PIL.Image
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from panopticapi import evaluation as pa_eval

from mmibs.evaluation import PanopticPixelMetric, Segments, image_stats
from mmibs.evaluation.panoptic_cases import random_case, write_coco_panoptic

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
NUM_THINGS, NUM_STUFF = 8, 11  # Cityscapes


def best_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            fn()
        times.append(time.perf_counter() - start)
    return min(times)


def load_cli():
    spec = importlib.util.spec_from_file_location(
        'eval_panoptic', osp.join(REPO, 'tools/analysis_tools/eval_panoptic.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=16)
    parser.add_argument('--repeats', type=int, default=2)
    args = parser.parse_args()
    n = args.images
    rng = np.random.default_rng(0)
    cases = [random_case(rng, 1024, 2048, NUM_THINGS, NUM_STUFF, 100) for _ in range(n)]
    tmp = tempfile.mkdtemp(prefix='bench_eval_')
    gt_json, pred_json = write_coco_panoptic(osp.join(tmp, 'set'), cases, NUM_THINGS, NUM_STUFF)
    with open(gt_json) as f:
        gt = json.load(f)
    with open(pred_json) as f:
        pred = json.load(f)
    categories = {c['id']: c for c in gt['categories']}
    segs = np.mean([len(c[1]) for c in cases]), np.mean([len(c[3]) for c in cases])
    print(f'{n} images 1024x2048, {segs[0]:.0f} GT / {segs[1]:.0f} predicted segments per image')

    # (a) in memory.
    metric = PanopticPixelMetric()
    metric.dataset_meta = dict(classes=tuple(map(str, range(NUM_THINGS + NUM_STUFF))),
                               thing_classes=tuple(map(str, range(NUM_THINGS))))
    samples = []
    for k, (_, gt_segs, pred_ids, pred_segs) in enumerate(cases):
        pan = np.full(pred_ids.shape, NUM_THINGS + NUM_STUFF, np.int64)
        for j, s in enumerate(pred_segs, start=1):
            pan[pred_ids == s['id']] = s['label'] + j * INSTANCE_OFFSET
        samples.append(dict(
            seg_map_path=osp.join(gt_json[:-5], f'img_{k}.png'),
            segments_info=[dict(id=s['id'], category=s['label'], iscrowd=s['iscrowd'])
                           for s in gt_segs],
            pred_panoptic_seg=dict(sem_seg=torch.from_numpy(pan)[None])))
    arrays = [(g, Segments.from_lists([s['id'] for s in gs], [s['label'] for s in gs],
                                      [s['iscrowd'] for s in gs]),
               p, Segments.from_lists([s['id'] for s in ps], [s['label'] for s in ps]))
              for g, gs, p, ps in cases]
    pairs = list(zip(gt['annotations'], pred['annotations']))

    def panopticapi_per_image():
        for pair in pairs:
            pa_eval.pq_compute_single_core(0, [pair], gt_json[:-5], pred_json[:-5], categories)

    decoded: Dict[str, np.ndarray] = {}
    real_open = pa_eval.Image.open

    class CachedImage:
        """Stand-in for PIL.Image in panopticapi: returns pre-decoded PNGs."""

        @staticmethod
        def open(path):
            if path not in decoded:
                decoded[path] = np.array(real_open(path))
            return decoded[path]

    t = {}
    t['metric'] = best_time(lambda: [metric.sample_stats(s) for s in samples], args.repeats)
    t['stats'] = best_time(lambda: [image_stats(*a, NUM_THINGS + NUM_STUFF, NUM_THINGS,
                                                metric.thresholds, semantic=True)
                                    for a in arrays], args.repeats)
    t['pa_img'] = best_time(panopticapi_per_image, args.repeats)
    pa_eval.Image = CachedImage
    panopticapi_per_image()  # fill the cache
    t['pa_img_nodecode'] = best_time(panopticapi_per_image, args.repeats)
    pa_eval.Image = PIL.Image

    # (b) folders.
    cli = load_cli()
    results = {}

    def run_cli(nproc: int):
        results['mmibs'] = cli.main([gt_json, pred_json, '--nproc', str(nproc)])

    t['cli1'] = best_time(lambda: run_cli(1), args.repeats)
    t['cli2'] = best_time(lambda: run_cli(2), args.repeats)
    t['pa_multi'] = best_time(lambda: results.update(pa=pa_eval.pq_compute(gt_json, pred_json)),
                              args.repeats)
    t['pa_single'] = best_time(lambda: pa_eval.pq_compute_single_core(
        0, pairs, gt_json[:-5], pred_json[:-5], categories), args.repeats)
    try:
        from hotcoco.panoptic import pq_compute as hc_pq_compute
    except ImportError:
        hc_pq_compute = None
    if hc_pq_compute is not None:
        t['hotcoco'] = best_time(
            lambda: results.update(hc=hc_pq_compute(gt_json, pred_json)), args.repeats)
    for name in ('pa', 'hc'):
        if name in results:
            diff = max(abs(results['mmibs'][g][k] - results[name][g][k])
                       for g in ('All', 'Things', 'Stuff') for k in ('pq', 'sq', 'rq'))
            print(f'max |PQ/SQ/RQ difference| mmibs vs {name}: {diff:.1e}')

    def ips(key: str) -> str:
        return f'{n / t[key]:8.2f} img/s'

    print('\n(a) in memory, per image (single process)')
    print(f'  PanopticPixelMetric.process (GT PNG decode + all metrics) {ips("metric")}')
    print(f'  statistics alone (arrays in memory)                       {ips("stats")}')
    print(f'  panopticapi pq_compute_single_core (2 PNG decodes)        {ips("pa_img")}')
    print(f'  panopticapi pq_compute_single_core (PNGs pre-decoded)     {ips("pa_img_nodecode")}')
    print(f'  ratio metric / panopticapi (both with decoding):     '
          f'{t["pa_img"] / t["metric"]:6.1f}x')
    print(f'  ratio stats / panopticapi (both without decoding):   '
          f'{t["pa_img_nodecode"] / t["stats"]:6.1f}x')
    print('\n(b) folder evaluation (PNG decoding included)')
    print(f'  eval_panoptic.py --nproc 1                 {ips("cli1")}')
    print(f'  eval_panoptic.py --nproc 2                 {ips("cli2")}')
    print(f'  panopticapi pq_compute (1 process/core)   {ips("pa_multi")}')
    print(f'  panopticapi single core                    {ips("pa_single")}')
    if 'hotcoco' in t:
        print(f'  hotcoco pq_compute                         {ips("hotcoco")}')
    for cli_key in ('cli1', 'cli2'):
        line = (f'  {cli_key}: {t["pa_single"] / t[cli_key]:.1f}x panopticapi single core, '
                f'{t["pa_multi"] / t[cli_key]:.1f}x panopticapi multi-core')
        if 'hotcoco' in t:
            line += f', {t["hotcoco"] / t[cli_key]:.2f}x hotcoco (>= 0.5 meets the target)'
        print(line)


if __name__ == '__main__':
    main()
