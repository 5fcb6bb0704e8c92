"""Crops/s of the class-paired crop pipeline vs mmdet's RandomResize + RandomCrop pipeline.

    .venv/bin/python bench/bench_pipeline.py [--num-images 8] [--crops 96] [--data-root DIR]

Both pipelines run in this process, on the same high-resolution images (Cityscapes size,
1024x2048, synthetic streets generated into a temporary folder unless ``--data-root`` names a
synthetic-streets-style COCO panoptic dataset), with the authors' Cityscapes settings:

* standard: LoadImageFromFile(to_float32) -> LoadPanopticAnnotationsChecked -> RandomFlip ->
  RandomResize((2048, 1024), ratio 0.5-2.0) -> RandomCrop(1024x512) -> PackDetInputs;
* class-paired: the same loading -> ClassPairedCrop(1024x512, S_min 512, S_max 3096,
  L_max 6192, stuff: the same random resize) -> RandomFlip -> PackDetInputs, fed with
  ClassPairedBatchSampler indices (uniform classes, scales 32..512).

Timings alternate between the pipelines in rounds (fair on a shared machine) with one OpenCV
thread and one OpenMP thread, like a dataloader worker. It prints crops/s of the whole pipelines
and of the resize+crop stage alone (on already loaded samples), and the ratios
class-paired / standard (target >= 1.0).
"""
import argparse
import copy
import os
import os.path as osp
import sys
import tempfile
import time

os.environ.setdefault('OMP_NUM_THREADS', '1')

import cv2  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmcv.transforms import Compose  # noqa: E402
from mmdet.utils import register_all_modules  # noqa: E402
from mmengine.dataset import InfiniteSampler  # noqa: E402

import mmibs  # noqa: E402,F401
from mmibs.datasets import ClassPairedBatchSampler, SyntheticStreetsPanopticDataset  # noqa: E402
from mmibs.datasets.synthetic import SyntheticStreetsConfig, generate_synthetic_streets  # noqa: E402

CROP_WH = (1024, 512)
FULL_WH = (2048, 1024)
LOAD = [dict(type='LoadImageFromFile', to_float32=True),
        dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True,
             with_seg=True)]
STANDARD_CROP = [dict(type='RandomFlip', prob=0.5),
                 dict(type='RandomResize', scale=FULL_WH, ratio_range=(0.5, 2.0),
                      keep_ratio=True),
                 dict(type='RandomCrop', crop_size=CROP_WH, crop_type='absolute',
                      recompute_bbox=True, allow_negative_crop=True)]
PAIRED_CROP = [dict(type='ClassPairedCrop', crop_size=CROP_WH, min_short_side=512,
                    max_short_side=3096, max_long_side=6192,
                    stuff_resize=dict(scale=FULL_WH, ratio_range=(0.5, 2.0))),
               dict(type='RandomFlip', prob=0.5)]
PACK = [dict(type='PackDetInputs')]


def parse_args():
    parser = argparse.ArgumentParser(description='class-paired vs standard crop pipeline')
    parser.add_argument('--num-images', type=int, default=8)
    parser.add_argument('--crops', type=int, default=96, help='crops per pipeline')
    parser.add_argument('--rounds', type=int, default=4)
    parser.add_argument('--data-root', default=None)
    return parser.parse_args()


def build(root, pipeline):
    return SyntheticStreetsPanopticDataset(
        data_root=root, ann_file='annotations/panoptic_train.json',
        data_prefix=dict(img='images/train/', seg='annotations/panoptic_train/'),
        pipeline=pipeline, filter_cfg=None)


def time_rounds(jobs, rounds):
    """Run each job's chunk in turn for ``rounds`` rounds; return total seconds per job."""
    totals = {name: 0.0 for name in jobs}
    for _ in range(rounds):
        for name, job in jobs.items():
            start = time.perf_counter()
            job()
            totals[name] += time.perf_counter() - start
    return totals


def main():
    args = parse_args()
    cv2.setNumThreads(1)
    register_all_modules(init_default_scope=True)
    tmp = None
    root = args.data_root
    if root is None:
        tmp = tempfile.TemporaryDirectory(prefix='bench_pipeline_')
        root = osp.join(tmp.name, 'synthetic')
        start = time.perf_counter()
        generate_synthetic_streets(root, SyntheticStreetsConfig(
            height=FULL_WH[1], width=FULL_WH[0], num_train=args.num_images, num_val=1, seed=0),
            progress=False)
        print(f'generated {args.num_images} images of {FULL_WH[1]}x{FULL_WH[0]} in '
              f'{time.perf_counter() - start:.1f} s')
    root = root.rstrip('/') + '/'
    standard = build(root, LOAD + STANDARD_CROP + PACK)
    paired = build(root, LOAD + PAIRED_CROP + PACK)
    per_round = max(1, args.crops // args.rounds)
    sampler = ClassPairedBatchSampler(InfiniteSampler(paired, seed=0), 2, seed=0,
                                      skip_empty_classes=True)
    paired_indices = iter(s for batch in sampler for s in batch)
    rng = np.random.default_rng(0)
    np.random.seed(0)

    def run_standard():
        for _ in range(per_round):
            standard[int(rng.integers(len(standard)))]

    def run_paired():
        for _ in range(per_round):
            paired[next(paired_indices)]

    run_standard(), run_paired()  # warm-up (file cache, lazy imports)
    totals = time_rounds(dict(standard=run_standard, paired=run_paired), args.rounds)
    crops = per_round * args.rounds
    full = {name: crops / seconds for name, seconds in totals.items()}

    # The resize + crop stage alone, on loaded samples (no decoding).
    loader = build(root, LOAD)
    loaded = [loader[i] for i in range(len(loader))]
    std_stage, paired_stage = Compose(STANDARD_CROP), Compose(PAIRED_CROP)

    def stage_seconds(pick, stage_pipeline):
        """Seconds of ``per_round`` stage calls; the input copies are made outside the timer."""
        seconds = 0.0
        for _ in range(per_round):
            results = pick()
            start = time.perf_counter()
            stage_pipeline(results)
            seconds += time.perf_counter() - start
        return seconds

    def pick_standard():
        return copy.deepcopy(loaded[int(rng.integers(len(loaded)))])

    def pick_paired():
        sample = next(paired_indices)
        results = copy.deepcopy(loaded[sample.index])
        results['ibs_sample'] = sample._asdict()
        return results

    stage_totals = dict(standard=0.0, paired=0.0)
    for _ in range(args.rounds):
        stage_totals['standard'] += stage_seconds(pick_standard, std_stage)
        stage_totals['paired'] += stage_seconds(pick_paired, paired_stage)
    stage = {name: crops / seconds for name, seconds in stage_totals.items()}

    print(f'{len(standard)} images of {FULL_WH[1]}x{FULL_WH[0]}, crops of {CROP_WH[1]}x'
          f'{CROP_WH[0]}, {crops} crops per pipeline, {args.rounds} alternating rounds, '
          f'1 OpenCV / OpenMP thread')
    print(f'{"":28}{"standard":>12}{"class-paired":>14}{"ratio":>8}')
    print(f'{"full pipeline, crops/s":28}{full["standard"]:>12.2f}{full["paired"]:>14.2f}'
          f'{full["paired"] / full["standard"]:>8.2f}')
    print(f'{"resize+crop stage, crops/s":28}{stage["standard"]:>12.2f}{stage["paired"]:>14.2f}'
          f'{stage["paired"] / stage["standard"]:>8.2f}')
    print(f'ratio (class-paired / standard, full pipeline): '
          f'{full["paired"] / full["standard"]:.2f}x (target >= 1.0x)')
    if tmp is not None:
        tmp.cleanup()


if __name__ == '__main__':
    main()
