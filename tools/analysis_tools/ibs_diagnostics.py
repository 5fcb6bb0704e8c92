"""Tabulate the IBS diagnostics of training runs: how ``ibs_confused`` (the fraction of
supervised cross-crop points with a logit > 0, docs/ibs.md) and the IBS and dice losses of the
last prediction evolve over training.

Usage::

    python tools/analysis_tools/ibs_diagnostics.py work_dirs/ibs_s0 work_dirs/ibs_s1 \
        [--out diagnostics.md]

Each run is a work dir (its ``<timestamp>/vis_data/scalars.json`` training records, all
timestamps in order, so a resumed run is read whole) or such a file. The table shows, per run,
the values of the first, middle and last logged training window.
"""
import argparse
import glob
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from run_metrics import RunMetricsError, json_lines  # this folder

from mmibs.utils import atomic_open

#: Column names, and the keys each network logs them under (Mask2Former, Panoptic FCN).
COLUMNS = ('ibs_confused', 'loss_ibs', 'loss_dice')
KEY_SETS = (('ibs_confused', 'loss_ibs', 'loss_dice'),
            ('ibs_confused_th', 'loss_ibs_th', 'loss_seg_th'))


def training_records(path: str) -> Tuple[Sequence[str], List[dict]]:
    """The key set a run logs (one of :data:`KEY_SETS`) and its training records that have the
    IBS diagnostics, in iteration order, the last record of an iteration winning (a resumed run
    logs some iterations twice).

    Raises:
        RunMetricsError: no such path, or no training record with ``ibs_confused`` (or
            Panoptic FCN's ``ibs_confused_th``).
    """
    if osp.isdir(path):
        files = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    elif osp.isfile(path):
        files = [path]
    else:
        raise RunMetricsError(f'{path}: no such work dir or scalars.json')
    by_iter: Dict[int, dict] = {}
    for file in files:
        for record in json_lines(file):
            if 'loss' in record and 'iter' in record:
                by_iter[int(record['iter'])] = record
    records = [by_iter[i] for i in sorted(by_iter)]
    for keys in KEY_SETS:
        logged = [r for r in records if keys[0] in r]
        if logged:
            return keys, logged
    raise RunMetricsError(f'{path}: no training record with ibs_confused (not an IBS run, '
                          'or logged before mmibs logged the IBS diagnostics)')


def build_table(paths: Sequence[str]) -> str:
    """The Markdown table: per run, ``first → middle → last`` of every key, with iterations."""
    lines = ['| run | iterations | ' + ' | '.join(COLUMNS) + ' |',
             '|---|---|' + '---|' * len(COLUMNS)]
    for path in paths:
        keys, records = training_records(path)
        picks = [records[0], records[len(records) // 2], records[-1]]
        cells = [' → '.join(f'{r.get(key, float("nan")):.3f}' for r in picks) for key in keys]
        iters = ' / '.join(str(r['iter']) for r in picks)
        lines.append(f'| {path} | {iters} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def main(argv: Optional[Sequence[str]] = None) -> str:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        epilog='example:\n  python tools/analysis_tools/ibs_diagnostics.py '
        'work_dirs/demo/runs/ibs_class_paired_seed0',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('runs', nargs='+', help='work dirs or scalars.json files')
    parser.add_argument('--out', help='also write the table to this Markdown file')
    args = parser.parse_args(argv)
    try:
        table = build_table(args.runs)
    except RunMetricsError as e:
        sys.exit(f'error: {e}')
    if args.out:
        with atomic_open(args.out, 'w', encoding='utf-8') as f:
            f.write(table)
    print(table, end='')
    return table


if __name__ == '__main__':
    main()
