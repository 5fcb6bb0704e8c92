"""Plot the confusion ratio against the threshold T for several runs (the paper's Figure 5).

Usage::

    python tools/analysis_tools/plot_confusion_curve.py \
        'full image=work_dirs/full_s0,work_dirs/full_s1' \
        'crop=work_dirs/crop_s0,work_dirs/crop_s1' --out confusion.png [--same-class]

Each argument is one setting, ``LABEL=PATH[,PATH...]``, as for ``results_table.py``: a path is a
work dir, an mmengine ``scalars.json`` or an ``eval_panoptic.py --out`` JSON. The ratio of
predicted thing segments that cover more than T % of at least two GT thing segments
(``confusion@T`` of ``PanopticPixelMetric``) is drawn for every T the runs logged: the mean over
a setting's runs as a line, their min-max range as a band. The plotted numbers are also written
next to the PNG (``--out`` with ``.json``): ``{label: {"thresholds": [...], "mean": [...],
"min": [...], "max": [...], "runs": n}}``.
"""
import argparse
import io
import json
import os.path as osp
import sys
from typing import Dict, Optional, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from run_metrics import RunMetricsError, Setting, confusion_curve, parse_setting  # noqa: E402 (this folder)

from mmibs.utils import atomic_open  # noqa: E402


def curves(settings: Sequence[Setting], same_class: bool = False) -> Dict[str, dict]:
    """Mean / min / max confusion (percent) per threshold of every setting.

    Raises:
        RunMetricsError: a run cannot be read or the runs of a setting logged different T.
    """
    out = {}
    for setting in settings:
        rows, thresholds = [], None
        for path, metrics in zip(setting.paths, setting.load()):
            if same_class:
                metrics = {k.replace('confusion_same@', 'confusion@'): v
                           for k, v in metrics.items() if k.startswith('confusion_same@')}
            try:
                t, ratio = confusion_curve(metrics)
            except RunMetricsError as e:
                raise RunMetricsError(f'{path}: {e}') from e
            if thresholds is not None and not np.array_equal(t, thresholds):
                raise RunMetricsError(f'{path}: thresholds {t.tolist()} differ from those of '
                                      f'the other runs of {setting.label!r}')
            thresholds = t
            rows.append(ratio)
        values = np.stack(rows)
        out[setting.label] = dict(thresholds=thresholds.tolist(), mean=values.mean(0).tolist(),
                                  min=values.min(0).tolist(), max=values.max(0).tolist(),
                                  runs=len(rows))
    return out


def plot(data: Dict[str, dict], title: str, size: Sequence[float], dpi: int) -> bytes:
    """The PNG bytes of the curves of :func:`curves`."""
    fig, ax = plt.subplots(figsize=tuple(size), dpi=dpi)
    for label, curve in data.items():
        runs = curve['runs']
        line, = ax.plot(curve['thresholds'], curve['mean'], marker='o',
                        label=label if runs == 1 else f'{label} (mean of {runs})')
        if runs > 1:
            ax.fill_between(curve['thresholds'], curve['min'], curve['max'],
                            color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel('threshold T (% of the GT segment covered)')
    ax.set_ylabel('confused predicted thing segments (%)')
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='example:\n'
        '  python tools/analysis_tools/plot_confusion_curve.py '
        'crop=runs/crop_seed0,runs/crop_seed1 ibs=runs/ibs_seed0,runs/ibs_seed1 --out curve.png')
    parser.add_argument('settings', nargs='+', type=parse_setting,
                        help='LABEL=PATH[,PATH...] (work dirs or metrics JSON files)')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--same-class', action='store_true',
                        help='plot confusion_same@T (GT segments of the predicted class only)')
    parser.add_argument('--title', default='Confusion of predicted thing segments')
    parser.add_argument('--size', type=float, nargs=2, default=(6.4, 4.8), metavar=('W', 'H'),
                        help='figure size in inches')
    parser.add_argument('--dpi', type=int, default=100)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, dict]:
    args = parse_args(argv)
    try:
        data = curves(args.settings, args.same_class)
    except RunMetricsError as e:
        sys.exit(f'error: {e}')
    png = plot(data, args.title, args.size, args.dpi)
    with atomic_open(args.out, 'wb') as f:
        f.write(png)
    with atomic_open(osp.splitext(args.out)[0] + '.json', 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=2)
    print(f'wrote {args.out}')
    return data


if __name__ == '__main__':
    main()
