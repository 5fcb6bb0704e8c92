"""The run-based intersection table equals a pixel-by-pixel count, and image_stats takes runs."""
import numpy as np
import pytest
from panoptic_cases import random_case

from mmibs.evaluation import Segments, image_stats
from mmibs.evaluation.id_runs import IdRuns
from mmibs.evaluation.panoptic_stats import compact_ids, intersection_table


def pixel_table(gt: np.ndarray, gt_ids: list, pred: np.ndarray, pred_ids: list,
                pred_void: list) -> np.ndarray:
    """The table counted pixel by pixel: 0 = not listed, 1 = void, i + 2 = listed segment i."""

    def index(value: int, listed: list, void: list) -> int:
        if value in listed:
            return listed.index(value) + 2
        return 1 if value in void else 0

    table = np.zeros((len(gt_ids) + 2, len(pred_ids) + 2), np.int64)
    for g, p in zip(gt.ravel().tolist(), pred.ravel().tolist()):
        table[index(g, gt_ids, [0]), index(p, pred_ids, pred_void)] += 1
    return table


@pytest.mark.parametrize('seed', range(4))
def test_run_table_equals_the_pixel_count(seed):
    rng = np.random.default_rng(seed)
    gt, gt_segs, pred, pred_segs = random_case(rng, 24, 40, 3, 4, 12)
    gt_ids = [s['id'] for s in gt_segs][:-2]  # two GT ids present but unlisted
    pred_ids = [s['id'] for s in pred_segs]
    pred_void = [0, pred_ids.pop()]  # a listed-looking id declared void
    if seed == 1:
        pred = pred + (1 << 40) * (pred > 0)  # ids beyond 32 bits (mmdet panoptic values)
        pred_ids = [i + (1 << 40) for i in pred_ids]
        pred_void = [0, pred_void[1] + (1 << 40)]
    expected = pixel_table(gt, gt_ids, pred, pred_ids, pred_void)
    table = intersection_table(IdRuns.from_dense(gt), np.array(gt_ids, np.int64),
                               IdRuns.from_dense(pred), np.array(pred_ids, np.int64),
                               pred_void)
    np.testing.assert_array_equal(table, expected)


def test_runs_sharing_starts_and_single_pixels():
    gt = np.array([[5, 5, 6, 6], [6, 7, 7, 7]])
    pred = np.array([[1, 2, 2, 2], [1, 1, 1, 3]])
    table = intersection_table(IdRuns.from_dense(gt), np.array([5, 6, 7]),
                               IdRuns.from_dense(pred), np.array([1, 2, 3]))
    np.testing.assert_array_equal(table, pixel_table(gt, [5, 6, 7], pred, [1, 2, 3], [0]))


def test_empty_segment_lists():
    gt = np.zeros((3, 5), np.int64)
    pred = np.full((3, 5), 9)
    table = intersection_table(IdRuns.from_dense(gt), np.zeros(0, np.int64),
                               IdRuns.from_dense(pred), np.zeros(0, np.int64), ())
    np.testing.assert_array_equal(table, [[0, 0], [15, 0]])


def test_compact_ids_listed_shadows_void():
    out = compact_ids(np.array([0, 4, 9, 4, 11]), np.array([9, 4]), void_ids=(0, 4), scale=10)
    np.testing.assert_array_equal(out, [10, 30, 20, 30, 0])


def test_image_stats_takes_arrays_or_runs_alike():
    rng = np.random.default_rng(9)
    gt, gt_segs, pred, pred_segs = random_case(rng, 40, 64, 3, 4, 20)
    gs = Segments.from_lists([s['id'] for s in gt_segs], [s['label'] for s in gt_segs],
                             [s['iscrowd'] for s in gt_segs])
    ps = Segments.from_lists([s['id'] for s in pred_segs], [s['label'] for s in pred_segs])
    dense = image_stats(gt, gs, pred, ps, 7, 3, (50, ), semantic=True)
    runs = image_stats(IdRuns.from_dense(gt), gs, IdRuns.from_dense(pred), ps, 7, 3, (50, ),
                       semantic=True)
    for name, value in vars(dense).items():
        np.testing.assert_array_equal(value, getattr(runs, name), err_msg=name)
    with pytest.raises(ValueError, match=r'prediction shape \(40, 63\) differs'):
        image_stats(IdRuns.from_dense(gt), gs, pred[:, 1:], ps, 7, 3, (50, ))
