"""PQ/SQ/RQ of mmibs equal panopticapi's and cityscapesscripts' on generated cases (1e-9)."""
import contextlib
import io
import json

import numpy as np
import pytest
from cityscapesscripts.evaluation import evalPanopticSemanticLabeling as cs_eval
from panopticapi import evaluation as pa_eval

from mmibs.evaluation import Segments, accumulate, image_stats, summarize
from mmibs.evaluation.panoptic_cases import category_id_of, random_case, write_coco_panoptic

NUM_THINGS, NUM_STUFF = 3, 4
NUM_CLASSES = NUM_THINGS + NUM_STUFF


def iou_half_case() -> tuple:
    """Hand-made image: one pair at IoU exactly 0.5 (no match), one just above (match)."""
    gt = np.array([[300, 300, 300, 300, 301, 301, 301, 0]])
    pred = np.array([[900, 900, 0, 0, 901, 901, 901, 901]])
    # 900 vs 300: inter 2, union 2 + 4 - 2 = 4 -> IoU 0.5, unmatched (FP + FN).
    # 901 vs 301: inter 3, union 4 + 3 - 3 - 1 (void) = 3 -> IoU 1.0, matched.
    gt_segs = [dict(id=300, label=0, iscrowd=0), dict(id=301, label=1, iscrowd=0)]
    pred_segs = [dict(id=900, label=0, iscrowd=0), dict(id=901, label=1, iscrowd=0)]
    return gt, gt_segs, pred, pred_segs


def generated_cases() -> list:
    rng = np.random.default_rng(2023)
    cases = [iou_half_case()]
    # Many segments, ids > 255, void, crowd, wrong classes, extra (unmatched) predictions.
    cases += [random_case(rng, 96, 160, NUM_THINGS, NUM_STUFF, 60) for _ in range(6)]
    # Large segments with small ids (< 256): many matches, IoUs around 0.5.
    cases += [random_case(rng, 80, 120, NUM_THINGS, NUM_STUFF, 8, max_id=256, crowd_prob=0.5)
              for _ in range(6)]
    # Polygon segments (slanted edges: runs change from row to row).
    cases += [random_case(rng, 90, 150, NUM_THINGS, NUM_STUFF, 40, shapes='polygons')
              for _ in range(3)]
    # Empty images: all-void GT with a prediction, and a GT with an all-void prediction.
    gt, gt_segs, pred, pred_segs = random_case(rng, 32, 48, NUM_THINGS, NUM_STUFF, 10)
    cases.append((np.zeros_like(gt), [], pred, pred_segs))
    cases.append((gt, gt_segs, np.zeros_like(pred), []))
    return cases


def segments(segs: list) -> Segments:
    return Segments.from_lists([s['id'] for s in segs], [s['label'] for s in segs],
                               [s['iscrowd'] for s in segs])


def mmibs_results(cases: list) -> dict:
    stats = [image_stats(gt, segments(gs), pred, segments(ps), NUM_CLASSES, NUM_THINGS, (50, ))
             for gt, gs, pred, ps in cases]
    return summarize(accumulate(stats, NUM_CLASSES, 1), NUM_THINGS, (50, ))


def reference_results(module, cases: list, tmp_path) -> dict:
    """PQ of panopticapi / cityscapesscripts, per image through their single-core routine."""
    gt_json, pred_json = write_coco_panoptic(str(tmp_path / 'case'), cases, NUM_THINGS,
                                             NUM_STUFF)
    with open(gt_json) as f:
        gt = json.load(f)
    with open(pred_json) as f:
        pred = json.load(f)
    categories = {c['id']: c for c in gt['categories']}
    with contextlib.redirect_stdout(io.StringIO()):
        pq_stat = module.pq_compute_single_core(
            0, list(zip(gt['annotations'], pred['annotations'])), gt_json[:-5], pred_json[:-5],
            categories)
    results = {}
    for name, isthing in (('All', None), ('Things', True), ('Stuff', False)):
        results[name], per_class = pq_stat.pq_average(categories, isthing=isthing)
        if name == 'All':
            results['per_class'] = per_class
    return results


@pytest.fixture(scope='module')
def cases():
    return generated_cases()


@pytest.mark.parametrize('module', [pa_eval, cs_eval], ids=['panopticapi', 'cityscapesscripts'])
def test_pq_equals_reference(module, cases, tmp_path):
    expected = reference_results(module, cases, tmp_path)
    actual = mmibs_results(cases)
    for group in ('All', 'Things', 'Stuff'):
        assert actual[group]['n'] == expected[group]['n']
        for key in ('pq', 'sq', 'rq'):
            assert actual[group][key] == pytest.approx(expected[group][key], abs=1e-9), group
    for label in range(NUM_CLASSES):
        for key in ('pq', 'sq', 'rq'):
            assert actual['per_class'][label][key] == pytest.approx(
                expected['per_class'][category_id_of(label)][key], abs=1e-9), (label, key)


def test_cases_exercise_every_rule(cases):
    """The generated cases are not degenerate: they contain what the comparison must cover."""
    stats = [image_stats(gt, segments(gs), pred, segments(ps), NUM_CLASSES, NUM_THINGS, (50, ))
             for gt, gs, pred, ps in cases]
    tp = sum(s.tp.sum() for s in stats)
    assert tp > 50 and sum(s.fp.sum() for s in stats) > 50 and sum(s.fn.sum() for s in stats) > 50
    assert any(s['iscrowd'] for _, gs, _, _ in cases for s in gs)
    assert all((gt == 0).any() for gt, _, _, _ in cases[1:])
    assert max(s['id'] for _, gs, _, _ in cases for s in gs) > 255
    ious = np.concatenate([s.match_inter / s.match_union for s in stats])
    assert ious.min() < 0.6  # matches close to the 0.5 boundary


def test_iou_exactly_half_is_not_a_match():
    stats = image_stats(*[np.asarray(x) if isinstance(x, np.ndarray) else segments(x)
                          for x in iou_half_case()], NUM_CLASSES, NUM_THINGS, (50, ))
    assert stats.tp[:2].tolist() == [0, 1]
    assert stats.fp[:2].tolist() == [1, 0] and stats.fn[:2].tolist() == [1, 0]
    assert stats.match_inter.tolist() == [3] and stats.match_union.tolist() == [3]


def test_result_does_not_depend_on_image_order(cases):
    stats = [image_stats(gt, segments(gs), pred, segments(ps), NUM_CLASSES, NUM_THINGS, (50, ))
             for gt, gs, pred, ps in cases]
    forward = summarize(accumulate(stats, NUM_CLASSES, 1), NUM_THINGS, (50, ))
    backward = summarize(accumulate(stats[::-1], NUM_CLASSES, 1), NUM_THINGS, (50, ))
    assert json.dumps(forward, sort_keys=True) == json.dumps(backward, sort_keys=True)
