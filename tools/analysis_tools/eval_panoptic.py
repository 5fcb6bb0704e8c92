"""Score COCO-panoptic-format predictions: PQ/SQ/RQ, Acc^th, Prec^th and the confusion ratio.

Usage::

    python tools/analysis_tools/eval_panoptic.py GT_JSON PRED_JSON \
        [--gt-folder DIR] [--pred-folder DIR] [--out FILE.json] [--nproc N]

Folders default to the JSON path without ``.json`` (panopticapi's convention). Categories come
from the GT JSON; labels are assigned things first. The JSON written with ``--out`` holds
fractions in [0, 1] (as panopticapi returns them): ``All``/``Things``/``Stuff`` -> ``pq``,
``sq``, ``rq``, ``n``; ``per_class`` (keyed by category id); ``acc_th``; ``prec_th``;
``confusion`` and ``confusion_same_class`` (threshold in percent -> ratio); ``warnings``: what
looks wrong with the predictions as a whole (no segment matched, category ids permuted; also
printed to stderr, see :mod:`mmibs.evaluation.agreement_check`). Undefined values are ``null``.
"""
import argparse
import json
import math
import os.path as osp
import sys
from multiprocessing import Pool
from typing import Dict, List, Optional, Sequence, Tuple

from tqdm import tqdm

from mmibs.evaluation.agreement_check import agreement_warnings
from mmibs.evaluation.coco_panoptic_json import load_panoptic_json, segments_of
from mmibs.evaluation.panoptic_pixel_metric import CROWD_MODES, DEFAULT_THRESHOLDS
from mmibs.evaluation.panoptic_stats import PQ_CROWD_RULES, PanopticEvalError
from mmibs.evaluation.panoptic_summary import accumulate, summarize
from mmibs.evaluation.panoptic_tables import summary_table
from mmibs.evaluation.png_pair_scorer import ImageScorer, Job
from mmibs.utils import atomic_open

#: What to check when :func:`agreement_warnings` finds something.
CATEGORY_ADVICE = (
    "Predictions must use the GT JSON's category ids and image ids: tools/test.py CONFIG CKPT "
    '--out-dir DIR writes them; an export that numbers the categories in JSON order (mmdet '
    "CocoPanopticMetric's format_only) does not")


def percent(text: str) -> float:
    """A threshold in percent; integral values stay ``int`` (JSON keys ``"10"``, not ``"10.0"``)."""
    value = float(text)
    return int(value) if value.is_integer() else value


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='example:\n'
        '  python tools/analysis_tools/eval_panoptic.py data/cityscapes/gtFine/'
        'cityscapes_panoptic_val.json preds/panoptic.json --pred-folder preds/panoptic '
        '--out scores.json')
    parser.add_argument('gt_json', help='GT COCO panoptic JSON')
    parser.add_argument('pred_json', help='predicted COCO panoptic JSON')
    parser.add_argument('--gt-folder', help='GT PNG folder (default: GT_JSON without .json)')
    parser.add_argument('--pred-folder',
                        help='predicted PNG folder (default: PRED_JSON without .json)')
    parser.add_argument('--out', help='write the results to this JSON file')
    parser.add_argument('--thresholds', type=percent, nargs='+', default=list(DEFAULT_THRESHOLDS),
                        help='confusion thresholds T in percent')
    parser.add_argument('--crowd-mode', choices=CROWD_MODES, default=CROWD_MODES[0],
                        help='predicted pixels on same-class crowd regions in Prec^th')
    parser.add_argument('--pq-crowd-rule', choices=PQ_CROWD_RULES, default=PQ_CROWD_RULES[0],
                        help='crowd segments that make PQ ignore an unmatched prediction: the '
                        'last listed one of its class (panopticapi) or all of them')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    return parser.parse_args(argv)


def label_map(categories: List[dict]) -> Tuple[Dict[int, int], int]:
    """``{category_id: label}`` with things first (JSON order within each), and ``num_things``."""
    things = [c['id'] for c in categories if c.get('isthing')]
    stuff = [c['id'] for c in categories if not c.get('isthing')]
    return {cat_id: label for label, cat_id in enumerate(things + stuff)}, len(things)


def build_jobs(args: argparse.Namespace, gt: dict, pred: dict,
               labels: Dict[int, int]) -> List[Job]:
    """Pair GT and predicted annotations by image id (every GT image needs a prediction)."""
    gt_folder = args.gt_folder or args.gt_json[:-len('.json')]
    pred_folder = args.pred_folder or args.pred_json[:-len('.json')]
    preds = {ann['image_id']: ann for ann in pred['annotations']}
    jobs = []
    for ann in gt['annotations']:
        pred_ann = preds.get(ann['image_id'])
        if pred_ann is None:
            raise PanopticEvalError(
                f'{args.pred_json}: no prediction for image id {ann["image_id"]!r}')
        jobs.append((ann['image_id'], osp.join(gt_folder, ann['file_name']),
                     segments_of(ann, labels, args.gt_json),
                     osp.join(pred_folder, pred_ann['file_name']),
                     segments_of(pred_ann, labels, args.pred_json)))
    return jobs


def to_json(results: dict, label_to_cat: Dict[int, int], names: Dict[int, str]) -> dict:
    """Re-key per-class results by category id, add names and turn nan into None."""

    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return None if isinstance(value, float) and math.isnan(value) else value

    out = {k: v for k, v in results.items() if k != 'per_class'}
    out['per_class'] = {label_to_cat[label]: dict(values, name=names[label_to_cat[label]])
                        for label, values in results['per_class'].items()}
    return clean(out)


def write_json_atomic(path: str, data: dict) -> None:
    """Write ``data`` as JSON to ``path`` atomically."""
    with atomic_open(path, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=2, sort_keys=True)


def evaluate(args: argparse.Namespace) -> dict:
    """Score the predictions and return the JSON-ready results."""
    gt = load_panoptic_json(args.gt_json, 'GT file')
    pred = load_panoptic_json(args.pred_json, 'prediction file')
    labels, num_things = label_map(gt['categories'])
    jobs = build_jobs(args, gt, pred, labels)
    scorer = ImageScorer(len(labels), num_things, args.thresholds,
                         args.crowd_mode == 'ignore_same_class', args.pq_crowd_rule)
    progress = dict(total=len(jobs), desc='eval_panoptic', unit='img', file=sys.stderr)
    if args.nproc > 1:
        with Pool(args.nproc) as pool:
            stats = list(tqdm(pool.imap(scorer, jobs, chunksize=4), **progress))
    else:
        stats = [scorer(job) for job in tqdm(jobs, **progress)]
    totals = accumulate(stats, len(labels), len(args.thresholds))
    results = summarize(totals, num_things, args.thresholds)
    print(summary_table(results))
    label_to_cat = {label: cat_id for cat_id, label in labels.items()}
    names = {c['id']: c['name'] for c in gt['categories']}
    named = [f'{names[label_to_cat[label]]!r} (id {label_to_cat[label]})'
             for label in range(len(labels))]
    warnings = agreement_warnings(totals, num_things, named)
    for warning in warnings:
        print(f'eval_panoptic: WARNING: {warning}. {CATEGORY_ADVICE}', file=sys.stderr)
    return dict(to_json(results, label_to_cat, names), warnings=warnings)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    results = evaluate(args)
    if args.out:
        write_json_atomic(args.out, results)
    return results


if __name__ == '__main__':
    main()
