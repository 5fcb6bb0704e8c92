"""Convert Cityscapes ``gtFine`` to COCO panoptic format with cityscapesscripts.

Example (from the repository root, after unpacking ``gtFine_trainvaltest.zip`` and
``leftImg8bit_trainvaltest.zip`` into ``data/cityscapes``)::

    python tools/dataset_converters/cityscapes.py --data-root data/cityscapes --splits train val

writes, per split, cityscapesscripts' own layout::

    data/cityscapes/gtFine/cityscapes_panoptic_{split}.json
    data/cityscapes/gtFine/cityscapes_panoptic_{split}/*_gtFine_panoptic.png

The conversion itself is cityscapesscripts' ``createPanopticImgs.convert2panoptic`` with
Cityscapes label ids (``useTrainId=False``), unchanged: it reads ``*_gtFine_instanceIds.png``
(``labelId * 1000 + k`` for thing instances, ``labelId`` for stuff and thing crowd regions),
drops ``ignoreInEval`` labels, and prints its own ``Progress: NN %`` line (it has no progress
hook, so this wrapper shows that line instead of a separate bar). Each split is converted into
a temporary folder next to the output and moved into place only when complete (PNG folder
first, then the JSON), so an interrupted run leaves no partial split behind. All requested
splits are checked before anything is converted; a missing ``gtFine/<split>`` or
``leftImg8bit/<split>`` folder, a split without ``*_instanceIds.png``, an image without
annotation or an annotation without image is an error naming the path.
"""
from __future__ import annotations

import argparse
import glob
import os
import os.path as osp
import shutil
import sys
import tempfile
from typing import List, Optional, Sequence


class CityscapesConversionError(RuntimeError):
    """Raised when the Cityscapes tree cannot be converted."""


def _files_of_split(data_root: str, folder: str, split: str, suffix: str, archive: str) -> set:
    """``<city>/<stem>`` of the ``<data-root>/<folder>/<split>/<city>/<stem><suffix>`` files;
    a missing split folder is a :class:`CityscapesConversionError` naming it and ``archive``."""
    split_dir = osp.join(data_root, folder, split)
    if not osp.isdir(split_dir):
        raise CityscapesConversionError(
            f'Cityscapes split folder {split_dir!r} does not exist; unpack {archive} into the '
            f'data root (expected <data-root>/{folder}/<split>/<city>/*{suffix})')
    return {osp.relpath(p, split_dir)[:-len(suffix)]
            for p in glob.glob(osp.join(split_dir, '*', '*' + suffix))}


def check_split(data_root: str, split: str) -> int:
    """Check ``split`` of the Cityscapes tree; return its number of ``*_instanceIds.png`` files.

    Raises :class:`CityscapesConversionError` naming the path for a missing ``gtFine/<split>``
    or ``leftImg8bit/<split>`` folder, a split without ``*_gtFine_instanceIds.png``, an image
    without annotation or an annotation without image.
    """
    split_dir = osp.join(data_root, 'gtFine', split)
    img_dir = osp.join(data_root, 'leftImg8bit', split)
    annotated = _files_of_split(data_root, 'gtFine', split, '_gtFine_instanceIds.png',
                                'gtFine_trainvaltest.zip')
    if not annotated:
        raise CityscapesConversionError(
            f'no *_gtFine_instanceIds.png files in {split_dir!r} (expected '
            f'{split_dir}/<city>/<city>_<seq>_<frame>_gtFine_instanceIds.png)')
    images = _files_of_split(data_root, 'leftImg8bit', split, '_leftImg8bit.png',
                             'leftImg8bit_trainvaltest.zip')
    image_file = (img_dir, '_leftImg8bit.png')
    annotation_file = (split_dir, '_gtFine_instanceIds.png')
    for unpaired, what, (has_dir, has), (lacks_dir, lacks) in (
            (images - annotated, 'image(s) without annotation', image_file, annotation_file),
            (annotated - images, 'annotation(s) without image', annotation_file, image_file)):
        if unpaired:
            first = sorted(unpaired)[0]
            raise CityscapesConversionError(
                f'{len(unpaired)} {what}, e.g. {osp.join(has_dir, first + has)!r} has no '
                f'{osp.join(lacks_dir, first + lacks)!r}')
    return len(annotated)


def _replace(src: str, dst: str) -> None:
    """Move ``src`` onto ``dst``, replacing an existing file or folder."""
    if osp.isdir(dst) and not osp.islink(dst):
        old = dst + '.old'
        if osp.exists(old):
            shutil.rmtree(old)
        os.rename(dst, old)
        os.rename(src, dst)
        shutil.rmtree(old)
    else:
        os.replace(src, dst)


def convert(data_root: str, splits: Sequence[str], out_dir: Optional[str] = None) -> List[str]:
    """Convert ``splits`` of ``<data_root>/gtFine``; return the written JSON paths.

    Args:
        data_root: The Cityscapes root holding ``gtFine/`` (and ``leftImg8bit/``).
        splits: Split names, e.g. ``('train', 'val')``.
        out_dir: Output folder; defaults to ``<data_root>/gtFine``.
    """
    from cityscapesscripts.preparation.createPanopticImgs import convert2panoptic

    gt_root = osp.join(data_root, 'gtFine')
    out_dir = out_dir or gt_root
    counts = {split: check_split(data_root, split) for split in splits}
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for split in splits:
        base = f'cityscapes_panoptic_{split}'
        print(f'[cityscapes] {split}: converting {counts[split]} images into {out_dir}/{base}',
              flush=True)
        tmp = tempfile.mkdtemp(prefix=f'.{base}.tmp', dir=out_dir)
        try:
            try:
                convert2panoptic(cityscapesPath=gt_root, outputFolder=tmp, useTrainId=False,
                                 setNames=[split])
            except SystemExit as e:  # cityscapesscripts' printError exits
                raise CityscapesConversionError(
                    f'cityscapesscripts failed on {osp.join(gt_root, split)!r}') from e
            _replace(osp.join(tmp, base), osp.join(out_dir, base))
            _replace(osp.join(tmp, base + '.json'), osp.join(out_dir, base + '.json'))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        written.append(osp.join(out_dir, base + '.json'))
    return written


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Convert Cityscapes gtFine to COCO panoptic format (cityscapesscripts).',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='example:\n'
        '  python tools/dataset_converters/cityscapes.py --data-root data/cityscapes')
    parser.add_argument('--data-root', default='data/cityscapes',
                        help='Cityscapes root with gtFine/ and leftImg8bit/ '
                        '(default: data/cityscapes)')
    parser.add_argument('--splits', nargs='+', default=['train', 'val'],
                        help='splits to convert (default: train val)')
    parser.add_argument('--out-dir', default=None,
                        help='output folder (default: <data-root>/gtFine)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point."""
    args = parse_args(argv)
    try:
        written = convert(args.data_root, args.splits, args.out_dir)
    except CityscapesConversionError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    for path in written:
        print(f'[cityscapes] wrote {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
