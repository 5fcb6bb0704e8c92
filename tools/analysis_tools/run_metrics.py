"""Reading the panoptic metrics of finished runs, for tables and plots over several runs.

A *run* is one of:

* an mmengine work dir: the last record with ``coco_panoptic/PQ`` (``panoptic/PQ`` in logs
  written before mmibs took mmdet's prefix) in its
  ``<timestamp>/vis_data/scalars.json`` (validation during training) or
  ``<timestamp>/<timestamp>.json`` (``tools/test.py``) files, latest timestamp last;
* one of those JSON-lines files itself;
* the JSON written by ``tools/analysis_tools/eval_panoptic.py --out`` (fractions, converted).

Metrics are returned as :class:`PanopticPixelMetric` logs them, in percent and without the
prefix: ``PQ``, ``PQ_th``, ``PQ_st``, ``Acc_th``, ``Prec_th``, ``confusion@50``, ...

A *setting* groups runs that differ only by seed: ``LABEL=PATH[,PATH...]`` on command lines.
"""
import glob
import json
import math
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

#: Metric prefixes, newest first: mmdet's ``CocoPanopticMetric`` prefix, then the one mmibs
#: logged under before it took mmdet's.
PREFIXES = ('coco_panoptic/', 'panoptic/')
PREFIX = PREFIXES[0]
CONFUSION = 'confusion@'


class RunMetricsError(ValueError):
    """A run has no readable panoptic metrics; the message names the path."""


def json_lines(path: str) -> List[dict]:
    """The JSON objects of a JSON-lines file (mmengine's ``scalars.json``)."""
    records = []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise RunMetricsError(f'{path}:{number}: malformed JSON line ({e})') from e
    return records


def _from_eval_json(data: dict) -> Dict[str, float]:
    """Percent metrics from ``eval_panoptic.py --out`` results (fractions, ``null`` = nan)."""

    def pct(value) -> float:
        return math.nan if value is None else 100.0 * value

    metrics = {}
    for group, suffix in (('All', ''), ('Things', '_th'), ('Stuff', '_st')):
        for key in ('pq', 'sq', 'rq'):
            if group in data:
                metrics[key.upper() + suffix] = pct(data[group][key])
    metrics['Acc_th'] = pct(data['acc_th'])
    metrics['Prec_th'] = pct(data['prec_th'])
    for name, key in (('confusion', CONFUSION), ('confusion_same_class', 'confusion_same@')):
        for t, value in data.get(name, {}).items():
            metrics[f'{key}{float(t):g}'] = pct(value)
    return metrics


def _from_records(records: Sequence[dict]) -> Dict[str, float]:
    """The last record with ``<prefix>PQ``, prefix stripped; empty if there is none."""
    for record in reversed(records):
        for prefix in PREFIXES:
            if prefix + 'PQ' in record:
                return {k[len(prefix):]: float(v) for k, v in record.items()
                        if k.startswith(prefix)}
    return {}


def load_run_metrics(path: str) -> Dict[str, float]:
    """The final panoptic metrics of one run (work dir, log JSON or eval JSON), in percent.

    Raises:
        RunMetricsError: ``path`` does not exist or holds no panoptic metrics.
    """
    if osp.isdir(path):
        files = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json'))
                       + glob.glob(osp.join(path, '*', '*.json')),
                       key=lambda p: (osp.relpath(p, path).split(osp.sep)[0], p))
        metrics = {}
        for file in files:
            metrics = _from_records(json_lines(file)) or metrics
        if not metrics:
            raise RunMetricsError(
                f'{path}: no panoptic metrics (no "{PREFIX}PQ" record in '
                '<timestamp>/vis_data/scalars.json or <timestamp>/<timestamp>.json); did the '
                'run validate or test?')
        return metrics
    if not osp.isfile(path):
        raise RunMetricsError(f'{path}: no such work dir or metrics file')
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except json.JSONDecodeError:
        data = None  # JSON lines
    if isinstance(data, dict) and 'All' in data and 'acc_th' in data:
        return _from_eval_json(data)
    metrics = _from_records(json_lines(path))
    if not metrics:
        raise RunMetricsError(f'{path}: no "{PREFIX}PQ" record and not an eval_panoptic.py '
                              'results file')
    return metrics


def confusion_curve(metrics: Dict[str, float]) -> Tuple[np.ndarray, np.ndarray]:
    """(thresholds T in percent, confusion ratios in percent), sorted by T.

    Raises:
        RunMetricsError: there are no ``confusion@T`` values.
    """
    pairs = sorted((float(k[len(CONFUSION):]), v) for k, v in metrics.items()
                   if k.startswith(CONFUSION))
    if not pairs:
        raise RunMetricsError('no confusion@T metrics (PanopticPixelMetric logs them)')
    return np.array([t for t, _ in pairs]), np.array([v for _, v in pairs])


@dataclass
class Setting:
    """One training setting and the paths of its runs (seeds)."""
    label: str
    paths: List[str]

    def load(self) -> List[Dict[str, float]]:
        """The metrics of every run."""
        return [load_run_metrics(p) for p in self.paths]


def parse_setting(spec: str) -> Setting:
    """Parse ``LABEL=PATH[,PATH...]``; a spec without ``=`` is one path labelled by its name.

    Raises:
        ValueError: the label or a path is empty.
    """
    label, sep, paths = spec.partition('=')
    if not sep:
        label, paths = osp.basename(osp.normpath(spec)), spec
    parts = paths.split(',')
    if not label or not all(parts):
        raise ValueError(f'run spec {spec!r}: expected LABEL=PATH[,PATH...]')
    return Setting(label, parts)


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (ddof 1; nan for a single value)."""
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else math.nan


def paired_difference(values: Sequence[float], baseline: Sequence[float],
                      confidence: float = 0.95) -> Tuple[float, float, float]:
    """Mean of the paired differences ``values[i] - baseline[i]`` (run i of both settings has
    the same seed) and its two-sided Student-t confidence interval.

    Returns:
        ``(mean, low, high)``; ``low`` and ``high`` are nan with fewer than 2 pairs.

    Raises:
        ValueError: the two settings have different numbers of runs.
    """
    if len(values) != len(baseline):
        raise ValueError(f'paired differences need as many runs as the baseline: '
                         f'{len(values)} vs {len(baseline)}')
    diff = np.asarray(values, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)
    mean = float(diff.mean())
    if len(diff) < 2:
        return mean, math.nan, math.nan
    from scipy.stats import t  # scipy comes with mmdet
    half = float(t.ppf(0.5 + confidence / 2, len(diff) - 1) * diff.std(ddof=1) /
                 math.sqrt(len(diff)))
    return mean, mean - half, mean + half
