"""Collect the panoptic metrics of several runs into a Markdown table like the paper's Table 2/3.

Usage::

    python tools/analysis_tools/results_table.py \
        'crop=work_dirs/crop_s0,work_dirs/crop_s1' 'crop + IBS=work_dirs/ibs_s0,work_dirs/ibs_s1' \
        [--baseline crop] [--metrics PQ PQ_th PQ_st Acc_th Prec_th confusion@50] [--out table.md]

Each argument is one setting, ``LABEL=PATH[,PATH...]``; a path is a work dir (its last
validation / test record), an mmengine ``scalars.json`` or an ``eval_panoptic.py --out`` JSON
(see ``tools/analysis_tools/run_metrics.py``). A setting with several runs (seeds) shows
``mean ± sample std``; the ``n`` column counts its runs. With ``--baseline``, every other row
shows the difference of its mean to the baseline's mean in parentheses. Values are percentages.
"""
import argparse
import sys
from typing import Dict, List, Optional, Sequence

from run_metrics import RunMetricsError, Setting, mean_std, parse_setting  # this folder

from mmibs.utils import atomic_open

DEFAULT_METRICS = ('PQ', 'PQ_th', 'PQ_st', 'Acc_th', 'Prec_th', 'confusion@50')
#: Column headers of the known metrics (the paper's notation); others use their key.
HEADERS = {'PQ': 'PQ', 'PQ_th': 'PQ^th', 'PQ_st': 'PQ^st', 'SQ': 'SQ', 'RQ': 'RQ',
           'Acc_th': 'Acc^th', 'Prec_th': 'Prec^th', 'mIoU': 'mIoU'}
#: Metrics where lower is better (marked with ↓ in the header).
LOWER_IS_BETTER = ('confusion@', 'confusion_same@')


def header(metric: str) -> str:
    """The column header of ``metric``, e.g. ``Acc^th`` or ``confusion@50 ↓``."""
    if metric.startswith(LOWER_IS_BETTER):
        return f'{metric} ↓'
    return HEADERS.get(metric, metric)


def cell(values: Sequence[float], baseline: Optional[float], digits: int) -> str:
    """``mean ± std (+delta)`` of one setting and metric."""
    mean, std = mean_std(values)
    text = f'{mean:.{digits}f}'
    if len(values) > 1:
        text += f' ± {std:.{digits}f}'
    if baseline is not None:
        text += f' ({mean - baseline:+.{digits}f})'
    return text


def build_table(settings: Sequence[Setting], metrics: Sequence[str] = DEFAULT_METRICS,
                baseline: Optional[str] = None, digits: int = 1) -> str:
    """The Markdown table of ``settings`` (rows) and ``metrics`` (columns).

    Raises:
        RunMetricsError: a run lacks a requested metric or cannot be read.
        ValueError: ``baseline`` is not one of the labels.
    """
    labels = [s.label for s in settings]
    if baseline is not None and baseline not in labels:
        raise ValueError(f'--baseline {baseline!r} is not one of the settings {labels}')
    values: Dict[str, Dict[str, List[float]]] = {}
    for setting in settings:
        runs = setting.load()
        for path, run in zip(setting.paths, runs):
            missing = [m for m in metrics if m not in run]
            if missing:
                raise RunMetricsError(f'{path}: no metric(s) {missing}; it has {sorted(run)}')
        values[setting.label] = {m: [run[m] for run in runs] for m in metrics}
    base = ({m: mean_std(values[baseline][m])[0] for m in metrics}
            if baseline is not None else None)
    lines = ['| setting | n | ' + ' | '.join(header(m) for m in metrics) + ' |',
             '|---|---|' + '---|' * len(metrics)]
    for setting in settings:
        is_base = baseline is None or setting.label == baseline
        row = [cell(values[setting.label][m], None if is_base else base[m], digits)
               for m in metrics]
        lines.append(f'| {setting.label} | {len(setting.paths)} | ' + ' | '.join(row) + ' |')
    return '\n'.join(lines) + '\n'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('settings', nargs='+', type=parse_setting,
                        help='LABEL=PATH[,PATH...] (work dirs or metrics JSON files)')
    parser.add_argument('--baseline', help='label of the setting the deltas refer to')
    parser.add_argument('--metrics', nargs='+', default=list(DEFAULT_METRICS),
                        help='metric keys (as logged, without the "coco_panoptic/" prefix)')
    parser.add_argument('--digits', type=int, default=1, help='decimals')
    parser.add_argument('--out', help='also write the table to this Markdown file')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    try:
        table = build_table(args.settings, args.metrics, args.baseline, args.digits)
    except (RunMetricsError, ValueError) as e:
        sys.exit(f'error: {e}')
    if args.out:
        with atomic_open(args.out, 'w', encoding='utf-8') as f:
            f.write(table)
    print(table, end='')
    return table


if __name__ == '__main__':
    main()
