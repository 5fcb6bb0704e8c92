"""Panoptic evaluation speed at 1024x2048 with ~100 segments per image, all measured in one run.

(a) in memory: ``PanopticPixelMetric`` per image (PQ + Acc/Prec + confusion + mIoU, GT PNG
    decoding included; and the statistics alone) vs panopticapi's per-image routine
    ``pq_compute_single_core`` (with and without its two PNG decodes).
(b) folder CLI: ``tools/analysis_tools/eval_panoptic.py`` (1 and 2 processes) vs hotcoco's
    ``pq_compute``, on four folder sets: box- or polygon-shaped segments, PNGs written by OpenCV
    (as mmcv writes predictions) or by Pillow (as panopticapi / cityscapesscripts write GT);
    panopticapi's ``pq_compute`` (one process per core) and single core on the first set; and
    the time to decode one GT PNG with OpenCV vs ``decode_id_runs``.

Usage: ``python bench/bench_eval.py [--images 16] [--repeats 2]`` (hotcoco from
``requirements/bench.txt``). Prints images/s and ratios; the PQ of every tool is checked equal.
"""
import argparse
import contextlib
import glob
import importlib.util
import io
import json
import os.path as osp
import sys
import tempfile
import time
from typing import Callable, Dict

import cv2
import numpy as np
import PIL.Image
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from panopticapi import evaluation as pa_eval

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(REPO, 'tests', 'helpers'))  # the random cases the tests use too

from panoptic_cases import random_case, write_coco_panoptic  # noqa: E402

from mmibs.evaluation import METRIC_GROUPS, PanopticPixelMetric, Segments, image_stats  # noqa: E402
from mmibs.evaluation.panoptic_png import decode_id_runs, rgb_to_id  # noqa: E402

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
    metric = PanopticPixelMetric(metric=METRIC_GROUPS)
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
    try:
        from hotcoco.panoptic import pq_compute as hc_pq_compute
    except ImportError:
        hc_pq_compute = None
    sets = {('boxes', 'opencv'): (gt_json, pred_json)}
    for shapes in ('boxes', 'polygons'):
        set_cases = cases if shapes == 'boxes' else [
            random_case(rng, 1024, 2048, NUM_THINGS, NUM_STUFF, 100, shapes='polygons')
            for _ in range(n)]
        for writer in ('opencv', 'pillow'):
            if (shapes, writer) not in sets:
                sets[shapes, writer] = write_coco_panoptic(
                    osp.join(tmp, f'{shapes}_{writer}'), set_cases, NUM_THINGS, NUM_STUFF,
                    writer=writer)
    results = {}
    for (shapes, writer), (gt_set, pred_set) in sets.items():
        key = f'{shapes}/{writer}'
        pngs = [open(path, 'rb').read() for path in sorted(glob.glob(f'{gt_set[:-5]}/*.png'))]
        t[f'opencv {key}'] = best_time(lambda: [rgb_to_id(cv2.imdecode(
            np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)) for data in pngs], args.repeats)
        t[f'runs {key}'] = best_time(lambda: [decode_id_runs(data) for data in pngs],
                                     args.repeats)
        t[f'cli1 {key}'] = best_time(
            lambda: results.update(mmibs=cli.main([gt_set, pred_set, '--nproc', '1'])),
            args.repeats)
        t[f'cli2 {key}'] = best_time(
            lambda: results.update(mmibs=cli.main([gt_set, pred_set, '--nproc', '2'])),
            args.repeats)
        if hc_pq_compute is not None:
            t[f'hotcoco {key}'] = best_time(
                lambda: results.update(hc=hc_pq_compute(gt_set, pred_set)), args.repeats)
        if key == 'boxes/opencv':
            t['pa_multi'] = best_time(
                lambda: results.update(pa=pa_eval.pq_compute(gt_set, pred_set)), args.repeats)
            t['pa_single'] = best_time(lambda: pa_eval.pq_compute_single_core(
                0, pairs, gt_set[:-5], pred_set[:-5], categories), args.repeats)
        for name in ('pa', 'hc'):
            if name in results:
                diff = max(abs(results['mmibs'][g][k] - results[name][g][k])
                           for g in ('All', 'Things', 'Stuff') for k in ('pq', 'sq', 'rq'))
                print(f'{key}: max |PQ/SQ/RQ difference| mmibs vs {name}: {diff:.1e}')
                del results[name]

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
    print(f'  panopticapi pq_compute (1 process/core), boxes/opencv  {ips("pa_multi")}')
    print(f'  panopticapi single core, boxes/opencv                  {ips("pa_single")}')
    for key in (f'{shapes}/{writer}' for shapes, writer in sets):
        print(f'  {key}:')
        print(f'    decoding one GT PNG: OpenCV + rgb_to_id {1e3 * t[f"opencv {key}"] / n:.2f} ms, '
              f'decode_id_runs {1e3 * t[f"runs {key}"] / n:.2f} ms')
        for cli_key in ('cli1', 'cli2'):
            line = (f'    eval_panoptic.py --nproc {cli_key[-1]}  {ips(f"{cli_key} {key}")}: '
                    f'{t["pa_single"] / t[f"{cli_key} {key}"]:.1f}x panopticapi single core')
            if f'hotcoco {key}' in t:
                line += (f', {t[f"hotcoco {key}"] / t[f"{cli_key} {key}"]:.2f}x hotcoco '
                         '(>= 0.5 meets the target)')
            print(line)
        if f'hotcoco {key}' in t:
            print(f'    hotcoco pq_compute          {ips(f"hotcoco {key}")}')


if __name__ == '__main__':
    main()
