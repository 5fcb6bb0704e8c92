"""Class mix per iteration of ClassPairedBatchSampler: distinct classes and repeats, per order.

For each ``class_order`` the real sampler is run for every simulated rank over an index of
``--classes`` classes; the pairs of one iteration (all ranks) are counted.
"""
import argparse
import sys
from typing import List, Optional, Sequence

import numpy as np

from mmibs.datasets import ClassPairedBatchSampler, SegmentIndex
from mmibs.datasets.class_paired import CLASS_ORDERS

EXAMPLES = """examples:
  # the authors' Mask2Former Cityscapes setting: 19 classes, 4 GPUs x 2 pairs
  python tools/analysis_tools/class_mix.py --classes 19 --gpus 4 --pairs-per-gpu 2
  # Panoptic FCN on Mapillary Vistas: 65 classes, 8 GPUs x 2 pairs
  python tools/analysis_tools/class_mix.py --classes 65 --gpus 8 --pairs-per-gpu 2
"""


class _IndexOnly:
    """A dataset stand-in: each class has one segment in each of two images."""

    def __init__(self, num_classes: int) -> None:
        seg = dict(bbox=[0, 0, 8, 8], area=64, iscrowd=0)
        raw = dict(
            images=[dict(id=i, file_name=f'{i}.png') for i in range(2)],
            annotations=[dict(image_id=i, segments_info=[
                dict(seg, id=c + 1, category_id=c) for c in range(num_classes)])
                for i in range(2)],
            categories=[dict(id=c, name=f'class{c}', isthing=1) for c in range(num_classes)])
        self.index = SegmentIndex.from_coco_panoptic(raw)

    def get_segment_index(self) -> SegmentIndex:
        return self.index

    def __len__(self) -> int:
        return 2


def iteration_labels(num_classes: int, gpus: int, pairs_per_gpu: int, iters: int,
                     class_order: str, seed: int) -> np.ndarray:
    """(iters, gpus * pairs_per_gpu) classes of the pairs of each iteration."""
    dataset = _IndexOnly(num_classes)

    class Base:
        pass

    base = Base()
    base.dataset, base.seed = dataset, seed
    per_rank = []
    for rank in range(gpus):
        sampler = ClassPairedBatchSampler(base, 2 * pairs_per_gpu, class_order=class_order)
        sampler.rank, sampler.world_size = rank, gpus  # simulated ranks
        per_rank.append([[s.label for s in sampler.draw_batch(0, b)[::2]] for b in range(iters)])
    return np.concatenate([np.asarray(r) for r in per_rank], axis=1)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0], epilog=EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--classes', type=int, required=True, help='classes in the draw')
    parser.add_argument('--gpus', type=int, default=1)
    parser.add_argument('--pairs-per-gpu', type=int, default=2)
    parser.add_argument('--iters', type=int, default=5000)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    args = parse_args(argv)
    rows = []
    for order in CLASS_ORDERS:
        labels = iteration_labels(args.classes, args.gpus, args.pairs_per_gpu, args.iters,
                                  order, args.seed)
        distinct = np.array([len(set(row)) for row in labels])
        rows.append(dict(class_order=order, distinct=float(distinct.mean()),
                         repeat=float((distinct < labels.shape[1]).mean())))
        print(f'{order:>12}: {labels.shape[1]} pairs per iteration, {distinct.mean():.2f} '
              f'distinct classes on average, an iteration repeats a class in '
              f'{100 * rows[-1]["repeat"]:.1f} % of {args.iters} iterations', file=sys.stdout)
    return rows


if __name__ == '__main__':
    main()
