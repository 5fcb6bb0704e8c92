"""Warnings for predictions that cannot be what the user meant to score.

A prediction JSON written with the wrong category ids (e.g. mmdet's ``CocoPanopticMetric``
export, which numbers the labels in JSON order although the labels are things first: the
stuff-first problem of ``docs/datasets.md``) is still a valid file and scores PQ 0 or close to
it without any error. :func:`agreement_warnings` reads the dataset's GT-class x predicted-class
pixel table (``PanopticTotals.class_overlap``) and says so when

* no predicted segment matches a GT segment at all although both have segments, or
* the classes look permuted: GT classes whose pixels mostly (> 50 %) carry one *other*
  predicted class, each such predicted class standing for a single GT class (a one-to-one
  relabelling, not a model that paints everything as road), cover more than half of the GT
  pixels.
"""
from typing import Dict, List

import numpy as np

from .panoptic_summary import PanopticTotals

#: Share of a GT class's pixels that one other predicted class must take to count as relabelled.
MIN_CLASS_SHARE = 0.5
#: Share of all GT pixels that relabelled classes must cover for the permutation warning.
MIN_PERMUTED_SHARE = 0.5


def relabelled_classes(overlap: np.ndarray) -> Dict[int, int]:
    """``{gt_label: predicted_label}`` of the GT classes that are one-to-one relabelled.

    Args:
        overlap: (C, C) GT-class (rows) x predicted-class (columns) pixels.
    """
    rows = overlap.sum(1)
    dominant = overlap.argmax(1)
    share = np.divide(overlap[np.arange(len(rows)), dominant], rows,
                      out=np.zeros(len(rows)), where=rows > 0)
    candidates = [g for g in range(len(rows))
                  if rows[g] > 0 and dominant[g] != g and share[g] > MIN_CLASS_SHARE]
    targets = [int(dominant[g]) for g in candidates]
    return {g: int(dominant[g]) for g in candidates if targets.count(int(dominant[g])) == 1}


def agreement_warnings(totals: PanopticTotals, num_things: int, names: List[str]) -> List[str]:
    """What is wrong with the predictions as a whole (empty when nothing is); the callers add
    what to check in their setting.

    Args:
        totals: the dataset totals (:func:`~mmibs.evaluation.panoptic_summary.accumulate`).
        num_things: the first ``num_things`` labels are thing classes.
        names: ``C`` class names (with ids where the caller has them), by label.
    """
    warnings = []
    overlap = totals.class_overlap
    num_gt = int((totals.tp + totals.fn).sum())
    num_pred = int((totals.tp + totals.fp).sum())
    if int(totals.tp.sum()) == 0 and num_gt and num_pred:
        warnings.append(
            f'no predicted segment matches a GT segment ({num_pred} predicted, {num_gt} GT '
            f'segments over {totals.num_images} images): PQ is 0')
    total = int(overlap.sum())
    relabelled = relabelled_classes(overlap)
    moved = sum(int(overlap[g, p]) for g, p in relabelled.items())
    if total and moved > MIN_PERMUTED_SHARE * total:
        pairs = sorted(relabelled.items(), key=lambda gp: -overlap[gp[0], gp[1]])
        listed = ', '.join(
            f'GT {names[g]} -> predicted {names[p]} '
            f'({100 * overlap[g, p] / overlap[g].sum():.0f} %)' for g, p in pairs[:5])
        thing_px = int(overlap[:num_things].sum())
        thing_as_stuff = int(overlap[:num_things, num_things:].sum())
        stuff_note = (f'; {100 * thing_as_stuff / thing_px:.0f} % of the GT thing pixels are '
                      'predicted as stuff' if thing_px else '')
        warnings.append(
            f'the classes look permuted: {100 * moved / total:.0f} % of the labelled pixels '
            f'carry another class that stands for a single GT class ({listed}){stuff_note}')
    return warnings
