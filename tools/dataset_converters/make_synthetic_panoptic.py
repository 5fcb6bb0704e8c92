"""Generate the *synthetic streets* COCO panoptic dataset.

Example (from the repository root)::

    python tools/dataset_converters/make_synthetic_panoptic.py \
        --out data/synthetic

writes ``data/synthetic/images/{train,val}/*.jpg``,
``data/synthetic/annotations/panoptic_{train,val}/*.png`` and
``data/synthetic/annotations/panoptic_{train,val}.json`` and prints a
summary (images per split, segments per class).  Generation is
deterministic: the same arguments always produce byte-identical files.
See :mod:`mmibs.datasets.synthetic.renderer` for the design of the scenes.

Progress is shown with a tqdm bar; the output appears atomically when complete.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import List, Optional

from mmibs.datasets.synthetic import SyntheticStreetsConfig, generate_synthetic_streets


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Generate the deterministic synthetic streets panoptic '
        'dataset (COCO panoptic format).',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='examples:\n'
        '  python tools/dataset_converters/make_synthetic_panoptic.py --out data/synthetic\n'
        '  python tools/dataset_converters/make_synthetic_panoptic.py --out data/small '
        '--height 256 --width 512 --instance-diversity 0')
    parser.add_argument('--out', default='data/synthetic',
                        help='output directory (default: data/synthetic)')
    parser.add_argument('--height', type=int, default=512,
                        help='image height (default: 512)')
    parser.add_argument('--width', type=int, default=1024,
                        help='image width (default: 1024)')
    parser.add_argument('--num-train', type=int, default=40,
                        help='number of training images (default: 40)')
    parser.add_argument('--num-val', type=int, default=10,
                        help='number of validation images (default: 10)')
    parser.add_argument('--seed', type=int, default=0,
                        help='base random seed (default: 0)')
    parser.add_argument('--truck-prob', type=float, default=None,
                        help='probability that a vehicle is a truck')
    parser.add_argument('--large-instance-prob', type=float, default=None,
                        help='probability of a foreground row of very large '
                        'vehicles')
    parser.add_argument('--touching-prob', type=float, default=None,
                        help='probability that consecutive vehicles touch')
    parser.add_argument('--crowd-prob', type=float, default=None,
                        help='probability of a person crowd segment')
    parser.add_argument('--void-prob', type=float, default=None,
                        help='probability of an ego-vehicle void band')
    parser.add_argument('--noise-std', type=float, default=None,
                        help='std of the additive image noise')
    parser.add_argument('--instance-diversity', type=float, default=None,
                        help='how much instances of a class differ, 0 (clones) ... 1 '
                        '(real-street-like colour, size and shape variation); default 0.5')
    parser.add_argument('--color-jitter', type=float, default=None,
                        help='std of the per-instance colour jitter')
    parser.add_argument('--outline-width', type=int, default=None,
                        help='instance outline width in px (default: auto)')
    parser.add_argument('--min-instance-fraction', type=float, default=None,
                        help='thing instances with a smaller visible area fraction become void '
                        '(default 4e-3)')
    parser.add_argument('--jpeg-quality', type=int, default=None,
                        help='JPEG quality 1-100')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace a non-empty output directory (only '
                        'after the new dataset is complete)')
    parser.add_argument('--no-progress', action='store_true',
                        help='disable the progress bar')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    overrides = {
        'height': args.height,
        'width': args.width,
        'num_train': args.num_train,
        'num_val': args.num_val,
        'seed': args.seed,
    }
    for name in ('truck_prob', 'large_instance_prob', 'touching_prob',
                 'crowd_prob', 'void_prob', 'noise_std', 'instance_diversity', 'color_jitter',
                 'outline_width', 'min_instance_fraction', 'jpeg_quality'):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    try:
        cfg = SyntheticStreetsConfig(**overrides)
        start = time.perf_counter()
        summary = generate_synthetic_streets(
            args.out, cfg, progress=not args.no_progress,
            overwrite=args.overwrite)
    except (FileExistsError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start
    print(json.dumps(summary, indent=2))
    print(f'done in {elapsed:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
