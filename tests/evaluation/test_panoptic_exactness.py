"""PQ/SQ/RQ of mmibs equal panopticapi's and cityscapesscripts' on generated cases (1e-9).

Includes images with several crowd segments of one class, in several listing orders: both
references use only the last listed crowd segment of a class to ignore unmatched predictions.
"""
import contextlib
import io
import json

import numpy as np
import pytest
from cityscapesscripts.evaluation import evalPanopticSemanticLabeling as cs_eval
from panoptic_cases import category_id_of, random_case, write_coco_panoptic
from panopticapi import evaluation as pa_eval

from mmibs.evaluation import Segments, accumulate, image_stats, summarize

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


def two_crowd_regions_case(crowd_order: tuple = (2, 3)) -> tuple:
    """One car matched exactly, two crowd car regions (ids 2, 3), one unmatched car prediction
    lying entirely on region 2, and one stuff segment matched exactly. ``crowd_order`` is the
    listing order of the crowd segments."""
    gt = np.array([[1, 1, 2, 2, 2, 3, 3, 3, 0, 4, 4]])
    pred = np.array([[11, 11, 12, 12, 0, 0, 0, 0, 0, 14, 14]])
    gt_segs = ([dict(id=1, label=0, iscrowd=0)]
               + [dict(id=i, label=0, iscrowd=1) for i in crowd_order]
               + [dict(id=4, label=NUM_THINGS, iscrowd=0)])
    pred_segs = [dict(id=11, label=0, iscrowd=0), dict(id=12, label=0, iscrowd=0),
                 dict(id=14, label=NUM_THINGS, iscrowd=0)]
    return gt, gt_segs, pred, pred_segs


def multi_crowd_cases() -> list:
    """Cases with 2-3 crowd segments per thing class, each also with its segments reversed and
    shuffled (the crowd segment listed last changes)."""
    rng = np.random.default_rng(13)
    cases = [two_crowd_regions_case((2, 3)), two_crowd_regions_case((3, 2))]
    for _ in range(4):
        gt, gt_segs, pred, pred_segs = random_case(rng, 80, 120, NUM_THINGS, NUM_STUFF, 24,
                                                   crowd_prob=0.6, crowd_per_class=3)
        order = rng.permutation(len(gt_segs))
        cases += [(gt, gt_segs, pred, pred_segs), (gt, gt_segs[::-1], pred, pred_segs),
                  (gt, [gt_segs[i] for i in order], pred, pred_segs)]
    return cases


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


def mmibs_results(cases: list, pq_crowd_rule: str = 'last_listed') -> dict:
    stats = [image_stats(gt, segments(gs), pred, segments(ps), NUM_CLASSES, NUM_THINGS, (50, ),
                         pq_crowd_rule=pq_crowd_rule)
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


REFERENCES = pytest.mark.parametrize('module', [pa_eval, cs_eval],
                                     ids=['panopticapi', 'cityscapesscripts'])


def assert_equal_results(actual: dict, expected: dict) -> None:
    for group in ('All', 'Things', 'Stuff'):
        assert actual[group]['n'] == expected[group]['n']
        for key in ('pq', 'sq', 'rq'):
            assert actual[group][key] == pytest.approx(expected[group][key], abs=1e-9), group
    for label in range(NUM_CLASSES):
        for key in ('pq', 'sq', 'rq'):
            assert actual['per_class'][label][key] == pytest.approx(
                expected['per_class'][category_id_of(label)][key], abs=1e-9), (label, key)


@REFERENCES
def test_pq_equals_reference(module, cases, tmp_path):
    assert_equal_results(mmibs_results(cases), reference_results(module, cases, tmp_path))


@REFERENCES
def test_pq_equals_reference_with_several_crowd_segments_per_class(module, tmp_path):
    cases = multi_crowd_cases()
    assert_equal_results(mmibs_results(cases), reference_results(module, cases, tmp_path))


@REFERENCES
@pytest.mark.parametrize('crowd_order, fp', [((2, 3), 1), ((3, 2), 0)])
def test_only_the_last_listed_crowd_segment_ignores_a_prediction(module, crowd_order, fp,
                                                                 tmp_path):
    """The prediction on crowd region 2 is a FP unless region 2 is listed last."""
    case = two_crowd_regions_case(crowd_order)
    stats = image_stats(*[np.asarray(x) if isinstance(x, np.ndarray) else segments(x)
                          for x in case], NUM_CLASSES, NUM_THINGS, (50, ))
    assert stats.tp[0] == 1 and stats.fp[0] == fp and stats.fn[0] == 0
    actual, expected = mmibs_results([case]), reference_results(module, [case], tmp_path)
    assert actual['Things']['pq'] == expected['Things']['pq'] == 1 / (1 + 0.5 * fp)
    # The 'all' rule ignores it whatever the order.
    assert mmibs_results([case], pq_crowd_rule='all')['Things']['pq'] == 1.0


def test_multi_crowd_cases_separate_the_two_rules():
    """On the generated multi-crowd cases the rules differ (the comparison above is not idle)."""
    cases = multi_crowd_cases()[2:]
    last = mmibs_results(cases)
    every = mmibs_results(cases, pq_crowd_rule='all')
    assert every['Things']['rq'] > last['Things']['rq']
    stats = [image_stats(gt, segments(gs), pred, segments(ps), NUM_CLASSES, NUM_THINGS, (50, ))
             for gt, gs, pred, ps in cases]
    assert all(max(np.bincount([s['label'] for s in gs if s['iscrowd']], minlength=1)) >= 2
               for gt, gs, _, _ in cases)
    assert sum(s.fp.sum() for s in stats) > 0


def test_prec_th_ignores_every_same_class_crowd_pixel():
    """Acc^th / Prec^th: pixels on any same-class crowd region leave the Prec^th denominator,
    whichever PQ crowd rule is used and whatever the listing order."""
    for order in ((2, 3), (3, 2)):
        for rule in ('last_listed', 'all'):
            case = two_crowd_regions_case(order)
            stats = image_stats(*[np.asarray(x) if isinstance(x, np.ndarray) else segments(x)
                                  for x in case], NUM_CLASSES, NUM_THINGS, (50, ),
                                pq_crowd_rule=rule)
            assert stats.tp_px[0] == 2 and stats.gt_px[0] == 2
            assert stats.pred_px[0] == 2  # prediction 12 lies on crowd region 2 only


def test_unknown_pq_crowd_rule_is_an_error():
    with pytest.raises(ValueError, match='pq_crowd_rule must be one of'):
        image_stats(*[np.asarray(x) if isinstance(x, np.ndarray) else segments(x)
                      for x in two_crowd_regions_case()], NUM_CLASSES, NUM_THINGS, (50, ),
                    pq_crowd_rule='first')


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
