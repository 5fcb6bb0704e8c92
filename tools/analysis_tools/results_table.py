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

With ``--baseline`` and ``--ci``, the runs of every setting are paired with the baseline's by
position (list them in the same seed order) and the parentheses hold the mean paired
difference with its 95 % Student-t confidence interval, ``(+3.5 [+0.4, +6.6])``.
``--summary-json`` writes the means and those differences as
``{"n_seeds": N, "settings": {label: {metric: mean}}, "vs_<baseline>": {label: {metric:
{"diff": d, "ci95": [low, high]}}}}`` with lower-case metric names (``pq``, ``pq_th``,
``acc_th``, ``confusion@50``, ...)::

    python tools/analysis_tools/results_table.py crop=a0,a1,a2 ibs=b0,b1,b2 --baseline crop \
        --ci --summary-json summary.json
"""
import argparse
import json
import math
import sys
from typing import Dict, List, Optional, Sequence

from run_metrics import (  # this folder
    RunMetricsError,
    Setting,
    mean_std,
    paired_difference,
    parse_setting,
)

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


def cell(values: Sequence[float], baseline: Optional[Sequence[float]], digits: int,
         ci: bool = False) -> str:
    """``mean ± std (+delta)`` of one setting and metric; with ``ci`` the delta is the mean
    paired difference to ``baseline`` with its 95 % confidence interval."""
    mean, std = mean_std(values)
    text = f'{mean:.{digits}f}'
    if len(values) > 1:
        text += f' ± {std:.{digits}f}'
    if baseline is not None and ci:
        text += paired_text(values, baseline, digits)
    elif baseline is not None:
        text += f' ({mean - mean_std(baseline)[0]:+.{digits}f})'
    return text


def summary_key(metric: str) -> str:
    """The summary JSON's name of a metric: ``PQ_th`` -> ``pq_th``, ``confusion@50`` as is."""
    return metric.lower()


def paired_text(values: Sequence[float], baseline: Sequence[float], digits: int) -> str:
    """`` (+d [low, high])``: the mean paired difference and its 95 % CI (no interval with a
    single pair)."""
    diff, low, high = paired_difference(values, baseline)
    interval = '' if math.isnan(low) else f' [{low:+.{digits}f}, {high:+.{digits}f}]'
    return f' ({diff:+.{digits}f}{interval})'


def paired_entry(values: Sequence[float], baseline: Sequence[float]) -> dict:
    """``{"diff": d, "ci95": [low, high]}`` of the summary JSON (None for a missing bound: JSON
    has no nan)."""
    diff, low, high = paired_difference(values, baseline)
    return {'diff': diff, 'ci95': [None if math.isnan(b) else b for b in (low, high)]}


def load_values(settings: Sequence[Setting],
                metrics: Sequence[str]) -> Dict[str, Dict[str, List[float]]]:
    """``{label: {metric: [value per run]}}``.

    Raises:
        RunMetricsError: a run lacks a requested metric or cannot be read.
    """
    values: Dict[str, Dict[str, List[float]]] = {}
    for setting in settings:
        runs = setting.load()
        for path, run in zip(setting.paths, runs):
            missing = [m for m in metrics if m not in run]
            if missing:
                raise RunMetricsError(f'{path}: no metric(s) {missing}; it has {sorted(run)}')
        values[setting.label] = {m: [run[m] for run in runs] for m in metrics}
    return values


def _check(settings: Sequence[Setting], baseline: Optional[str], ci: bool) -> None:
    """Raise ValueError for an unknown baseline or unpaired runs."""
    labels = [s.label for s in settings]
    if baseline is not None and baseline not in labels:
        raise ValueError(f'--baseline {baseline!r} is not one of the settings {labels}')
    if ci:
        if baseline is None:
            raise ValueError('--ci needs --baseline')
        n_base = len(next(s for s in settings if s.label == baseline).paths)
        unpaired = [s.label for s in settings if len(s.paths) != n_base]
        if unpaired:
            raise ValueError(f'--ci pairs runs by seed: {unpaired} do not have the '
                             f'{n_base} runs of {baseline!r}')


def build_table(settings: Sequence[Setting], metrics: Sequence[str] = DEFAULT_METRICS,
                baseline: Optional[str] = None, digits: int = 1, ci: bool = False) -> str:
    """The Markdown table of ``settings`` (rows) and ``metrics`` (columns).

    Raises:
        RunMetricsError: a run lacks a requested metric or cannot be read.
        ValueError: ``baseline`` is not one of the labels, or ``ci`` without paired runs.
    """
    _check(settings, baseline, ci)
    values = load_values(settings, metrics)
    lines = ['| setting | n | ' + ' | '.join(header(m) for m in metrics) + ' |',
             '|---|---|' + '---|' * len(metrics)]
    for setting in settings:
        is_base = baseline is None or setting.label == baseline
        row = [cell(values[setting.label][m], None if is_base else values[baseline][m], digits,
                    ci) for m in metrics]
        lines.append(f'| {setting.label} | {len(setting.paths)} | ' + ' | '.join(row) + ' |')
    return '\n'.join(lines) + '\n'


def build_summary(settings: Sequence[Setting], metrics: Sequence[str], baseline: str) -> dict:
    """Means per setting and paired differences (95 % CI) to ``baseline``, for JSON.

    Raises:
        RunMetricsError, ValueError: as :func:`build_table` with ``ci``.
    """
    _check(settings, baseline, True)
    values = load_values(settings, metrics)
    summary: dict = {
        'n_seeds': len(values[baseline][metrics[0]]),
        'settings': {label: {summary_key(m): mean_std(v[m])[0] for m in metrics}
                     for label, v in values.items()},
        f'vs_{baseline}': {},
    }
    for label, v in values.items():
        if label == baseline:
            continue
        diffs = {summary_key(m): paired_entry(v[m], values[baseline][m]) for m in metrics}
        summary[f'vs_{baseline}'][label] = diffs
    return summary


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='examples:\n'
        '  python tools/analysis_tools/results_table.py crop=runs/c0,runs/c1 ibs=runs/i0,runs/i1 '
        '--baseline crop\n'
        '  python tools/analysis_tools/results_table.py crop=runs/c0,runs/c1 ibs=runs/i0,runs/i1 '
        '--baseline crop --ci --summary-json summary.json')
    parser.add_argument('settings', nargs='+', type=parse_setting,
                        help='LABEL=PATH[,PATH...] (work dirs or metrics JSON files)')
    parser.add_argument('--baseline', help='label of the setting the deltas refer to')
    parser.add_argument('--metrics', nargs='+', default=list(DEFAULT_METRICS),
                        help='metric keys (as logged, without the "coco_panoptic/" prefix)')
    parser.add_argument('--digits', type=int, default=1, help='decimals')
    parser.add_argument('--ci', action='store_true',
                        help='deltas as mean paired-by-seed differences with 95%% CIs (needs '
                        '--baseline and the same number of runs, in seed order, per setting)')
    parser.add_argument('--summary-json',
                        help='write means and paired differences (95%% CI) as JSON (needs '
                        '--baseline)')
    parser.add_argument('--out', help='also write the table to this Markdown file')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    try:
        table = build_table(args.settings, args.metrics, args.baseline, args.digits, args.ci)
        if args.summary_json and args.baseline is None:
            raise ValueError('--summary-json needs --baseline')
        summary = (build_summary(args.settings, args.metrics, args.baseline)
                   if args.summary_json else None)
    except (RunMetricsError, ValueError) as e:
        sys.exit(f'error: {e}')
    if args.out:
        with atomic_open(args.out, 'w', encoding='utf-8') as f:
            f.write(table)
    if summary is not None:
        with atomic_open(args.summary_json, 'w', encoding='utf-8') as f:
            json.dump(summary, f, indent=2)
            f.write('\n')
    print(table, end='')
    return table


if __name__ == '__main__':
    main()
