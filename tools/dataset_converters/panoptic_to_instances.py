"""Write the COCO instance annotations (thing segments, RLE masks) of a COCO panoptic dataset.

Needed for the COCO AP of instance segmentation (paper Table 4, Mask2Former on Mapillary
Vistas; ``CocoMetric`` / ``CocoInstancePixelMetric`` read this file). Example, Mapillary
Vistas v1.2 validation::

    python tools/dataset_converters/panoptic_to_instances.py \\
        data/mapillary_vistas/validation/panoptic/panoptic_2018.json \\
        --seg-dir data/mapillary_vistas/validation/panoptic \\
        --out data/mapillary_vistas/validation/instances_2018.json --nproc 8

Image and category ids stay those of the panoptic JSON; see
:mod:`mmibs.datasets.panoptic_to_instances` for the exact rules and errors.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmibs.datasets.coco_format_panoptic import PanopticAnnotationError
from mmibs.datasets.panoptic_to_instances import panoptic_to_instances


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='COCO panoptic JSON + PNGs -> COCO instance JSON of the thing segments.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='example:\n  python tools/dataset_converters/panoptic_to_instances.py '
        'data/mapillary_vistas/validation/panoptic/panoptic_2018.json')
    parser.add_argument('ann_file', help='COCO panoptic JSON')
    parser.add_argument('--seg-dir', default=None,
                        help="folder of the panoptic PNGs (default: the JSON's folder)")
    parser.add_argument('--out', required=True, help='output COCO instance JSON')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes (default 1)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point."""
    args = parse_args(argv)
    seg_dir = args.seg_dir or osp.dirname(args.ann_file)
    try:
        out = panoptic_to_instances(args.ann_file, seg_dir, args.out, nproc=args.nproc)
    except (FileNotFoundError, PanopticAnnotationError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'wrote {args.out}: {len(out["images"])} images, {len(out["annotations"])} '
          f'instances, {len(out["categories"])} thing categories')
    return 0


if __name__ == '__main__':
    sys.exit(main())
