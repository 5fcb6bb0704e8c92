"""Build the per-class segment index of a COCO panoptic JSON and print per-class counts.

    python tools/dataset_converters/build_class_index.py ANN_JSON [--cache-dir DIR]

Works for any COCO panoptic file (classes in the JSON's category order). Per class it prints
whether it is a thing, the number of images with a non-crowd segment of the class (what the
class-paired sampler draws from), of non-crowd segments, of crowd segments in those images and
of images where the class is crowd only. With ``--cache-dir`` the index is stored there as
``segment_index_<key>.npz`` (key: SHA-256 of the JSON's bytes), written atomically, and loaded
from there next time. The dataset classes build their own index (things-first labels, after
filtering) with the same code; see docs/crop_sampling.md.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmibs.datasets.class_paired import SegmentIndex  # noqa: E402
from mmibs.datasets.class_paired.index_cache import cache_key, load_or_build  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='example:\n'
        '  python tools/dataset_converters/build_class_index.py '
        'data/cityscapes/gtFine/cityscapes_panoptic_train.json --cache-dir data/cityscapes/cache')
    parser.add_argument('ann_file', help='COCO panoptic JSON')
    parser.add_argument('--cache-dir', default=None,
                        help='folder of the on-disk index cache (default: no cache)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)

    def build() -> SegmentIndex:
        with open(args.ann_file, encoding='utf-8') as f:
            return SegmentIndex.from_coco_panoptic(json.load(f))

    key = cache_key(args.ann_file, 'coco_panoptic_json_order') if args.cache_dir else None
    index = load_or_build(args.cache_dir, key, build)
    rows = index.counts()
    width = max([len(r['name']) for r in rows] + [5])
    print(f'{"class":<{width}}  kind   images  segments  crowd  crowd_only_images')
    for r in rows:
        kind = 'thing' if r['thing'] else 'stuff'
        print(f'{r["name"]:<{width}}  {kind}  {r["images"]:>6}  {r["segments"]:>8}  '
              f'{r["crowd"]:>5}  {r["crowd_only_images"]:>17}')
    empty = [r['name'] for r in rows if r['images'] == 0]
    print(f'{len(rows)} classes, {sum(r["segments"] for r in rows)} non-crowd segments; '
          f'classes without segments: {empty or "none"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
