"""The tables and summary JSON of the reproduction protocol (``tools/reproduce_synthetic.sh``):
every setting against its baseline, paired by seed over the seeds both have finished.

Usage::

    python tools/analysis_tools/protocol_report.py work_dirs/reproduce_synthetic/runs \
        --seeds 0 1 2 3 4 --settings crop ibs_class_paired ibs_random full_image \
        --ablation crop_d0 ibs_class_paired_d0 --out-dir work_dirs/reproduce_synthetic/report

A run is ``RUNS/<setting>_seed<s>`` with a ``done`` file. Writes ``table.md`` (mean ± std of each
setting over its finished seeds; in parentheses the mean paired difference to ``crop`` with
its 95 % Student-t CI, over the seeds both finished), ``table_ablation_d0.md`` (the same for the
``--ablation`` settings against the first of them) and ``summary.json``::

    {"n_seeds": <crop's finished seeds>,
     "settings": {name: {metric: mean}},
     "vs_crop": {name: {metric: {"diff": d, "ci95": [low, high]}, "n_pairs": n}},
     "vs_crop_d0": {...}}

(nested under ``--summary-key``, e.g. ``{"panoptic_fcn": {...}}``, when given) with lower-case
metric names (``pq``, ``pq_th``, ``pq_st``, ``acc_th``, ``prec_th``,
``confusion@30`` ...). A CI needs two pairs; with one it is ``[null, null]``.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, Optional, Sequence

from results_table import cell, header, paired_entry, paired_text, summary_key  # this folder
from run_metrics import RunMetricsError, load_run_metrics, mean_std

from mmibs.utils import atomic_open

METRICS = ('PQ', 'PQ_th', 'PQ_st', 'Acc_th', 'Prec_th', 'confusion@30', 'confusion@50',
           'confusion@70')


def finished_runs(runs_dir: str, setting: str, seeds: Sequence[int]) -> Dict[int, str]:
    """``{seed: work dir}`` of the finished runs of ``setting``."""
    paths = {s: osp.join(runs_dir, f'{setting}_seed{s}') for s in seeds}
    return {s: p for s, p in paths.items() if osp.isfile(osp.join(p, 'done'))}


def compare(runs_dir: str, settings: Sequence[str], baseline: str, seeds: Sequence[int],
            metrics: Sequence[str] = METRICS, digits: int = 1):
    """The Markdown table and the ``settings`` / ``vs_<baseline>`` parts of the summary.

    Raises:
        RunMetricsError: a finished run has no metrics.
        ValueError: the baseline has no finished run.
    """
    runs = {name: finished_runs(runs_dir, name, seeds) for name in settings}
    if not runs[baseline]:
        raise ValueError(f'{runs_dir}: no finished run of the baseline {baseline!r}')
    values = {name: {s: load_run_metrics(p) for s, p in r.items()} for name, r in runs.items()}
    for name, by_seed in values.items():
        for seed, run in by_seed.items():
            missing = [m for m in metrics if m not in run]
            if missing:
                raise RunMetricsError(f'{runs[name][seed]}: no metric(s) {missing}')
    lines = ['| setting | n | ' + ' | '.join(header(m) for m in metrics) + ' |',
             '|---|---|' + '---|' * len(metrics)]
    means: Dict[str, Dict[str, float]] = {}
    diffs: Dict[str, dict] = {}
    for name in settings:
        by_seed = values[name]
        if not by_seed:
            continue
        own = {m: [run[m] for run in by_seed.values()] for m in metrics}
        means[name] = {summary_key(m): mean_std(v)[0] for m, v in own.items()}
        if name == baseline:
            row = [cell(own[m], None, digits) for m in metrics]
        else:
            common = sorted(set(by_seed) & set(values[baseline]))
            pairs = {m: ([by_seed[s][m] for s in common], [values[baseline][s][m] for s in common])
                     for m in metrics}
            row = [cell(own[m], None, digits) + paired_text(*pairs[m], digits) for m in metrics]
            diffs[name] = {'n_pairs': len(common),
                           **{summary_key(m): paired_entry(*pairs[m]) for m in metrics}}
        lines.append(f'| {name} | {len(by_seed)} | ' + ' | '.join(row) + ' |')
    return '\n'.join(lines) + '\n', means, diffs


def main(argv: Optional[Sequence[str]] = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='example:\n  python tools/analysis_tools/protocol_report.py '
        'work_dirs/reproduce_synthetic/runs --seeds 0 1 2 --settings crop ibs_class_paired '
        '--out-dir report')
    parser.add_argument('runs_dir', help='folder of the <setting>_seed<s> work dirs')
    parser.add_argument('--seeds', type=int, nargs='+', required=True)
    parser.add_argument('--settings', nargs='+', required=True,
                        help='settings compared with crop (which must be among them)')
    parser.add_argument('--ablation', nargs='*', default=[],
                        help='settings compared with the first of them (e.g. crop_d0 ...)')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--summary-key',
                        help='nest summary.json under this key (e.g. panoptic_fcn)')
    args = parser.parse_args(argv)
    try:
        if 'crop' not in args.settings:
            raise ValueError('--settings must include crop, the baseline')
        table, means, diffs = compare(args.runs_dir, args.settings, 'crop', args.seeds)
        summary = {'n_seeds': len(finished_runs(args.runs_dir, 'crop', args.seeds)),
                   'settings': means, 'vs_crop': diffs}
        outputs = {'table.md': table}
        if args.ablation and finished_runs(args.runs_dir, args.ablation[0], args.seeds):
            base = args.ablation[0]
            table_d0, means_d0, diffs_d0 = compare(args.runs_dir, args.ablation, base,
                                                   args.seeds)
            summary['settings'].update(means_d0)
            summary[f'vs_{base}'] = diffs_d0
            outputs[f'table_ablation_{base.split("_")[-1]}.md'] = table_d0
    except (RunMetricsError, ValueError) as e:
        sys.exit(f'error: {e}')
    if args.summary_key:
        summary = {args.summary_key: summary}
    outputs['summary.json'] = json.dumps(summary, indent=2) + '\n'
    for name, text in outputs.items():
        with atomic_open(osp.join(args.out_dir, name), 'w', encoding='utf-8') as f:
            f.write(text)
    print(outputs['table.md'], end='')
    return summary


if __name__ == '__main__':
    main()
