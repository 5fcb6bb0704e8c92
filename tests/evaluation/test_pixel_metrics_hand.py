"""Acc^th, Prec^th and the confusion ratio on two hand-computed images.

Classes: A = 0, B = 1 (things), S = 2 (stuff). Each image is one row of pixels.

Image 1 (pixel index: GT / prediction)::

    GT    g1 = A   0-4    (5 px)         Pred  p1 = A   0-6   (7 px: 5 on g1, 2 on g2)
          g2 = A   5-9    (5 px)               p2 = A   7-9, 16 (4 px: 3 on g2, 1 void)
          g3 = B  10-13   (4 px)               p3 = B  10-11  (2 px on g3: IoU exactly 0.5)
          crowd A 14-15   (2 px)               void    13
          void    16-17                        p4 = A  12, 14-15, 17 (1 on g3, 2 crowd, 1 void)
          s1 = S  18-19                        p5 = S  18-19

    p1-g1 IoU 5/7, p2-g2 IoU 3/(4+5-3-1) = 3/5: matched (spill of p1 onto g2: 2 px).
    p3-g3 IoU 2/4 = 0.5: unmatched (FP), g3 FN.
    p4 (wrong class on g3): unmatched; (1 void + 2 same-class crowd) / 4 > 0.5 -> ignored in PQ.

Image 2::

    GT    h1 = A   0-3          Pred  q1 = A   0-5  (covers h1 fully and half of h2)
          h2 = B   4-7                q2 = B   6-7  (IoU 2/4 = 0.5: unmatched)
          s2 = S   8-9                q3 = S   8-9

TP pixels: 5 + 3 + 4 = 12. GT thing pixels (no crowd): 5 + 5 + 4 + 4 + 4 = 22.
Predicted thing pixels without void / same-class crowd: 7 + 3 + 2 + 1 + 6 + 2 = 21
(23 when crowd pixels count as FP: p4 has 3 non-void pixels).
"""
import numpy as np
import pytest

from mmibs.evaluation import Segments, accumulate, image_stats, summarize

A, B, S = 0, 1, 2
THRESHOLDS = (10, 30, 40, 50, 90)


def image1():
    gt = np.zeros((1, 20), np.int64)
    gt[0, 0:5], gt[0, 5:10], gt[0, 10:14], gt[0, 14:16], gt[0, 18:20] = 301, 302, 303, 304, 305
    pred = np.zeros((1, 20), np.int64)
    pred[0, 0:7], pred[0, [7, 8, 9, 16]], pred[0, 10:12] = 1001, 1002, 1003
    pred[0, [12, 14, 15, 17]], pred[0, 18:20] = 1004, 1005
    gt_segs = Segments.from_lists([301, 302, 303, 304, 305], [A, A, B, A, S], [0, 0, 0, 1, 0])
    pred_segs = Segments.from_lists([1001, 1002, 1003, 1004, 1005], [A, A, B, A, S])
    return gt, gt_segs, pred, pred_segs


def image2():
    gt = np.zeros((1, 10), np.int64)
    gt[0, 0:4], gt[0, 4:8], gt[0, 8:10] = 7, 8, 9
    pred = np.zeros((1, 10), np.int64)
    pred[0, 0:6], pred[0, 6:8], pred[0, 8:10] = 40, 41, 42
    return (gt, Segments.from_lists([7, 8, 9], [A, B, S]), pred,
            Segments.from_lists([40, 41, 42], [A, B, S]))


def results(crowd_ignored: bool = True) -> dict:
    stats = [image_stats(*image, 3, 2, THRESHOLDS, crowd_ignored_in_prec=crowd_ignored)
             for image in (image1(), image2())]
    return summarize(accumulate(stats, 3, len(THRESHOLDS)), 2, THRESHOLDS)


def test_acc_and_prec_micro():
    res = results()
    assert res['acc_th'] == pytest.approx(12 / 22)
    assert res['prec_th'] == pytest.approx(12 / 21)


def test_crowd_pixels_counted_as_fp_when_asked():
    res = results(crowd_ignored=False)
    assert res['acc_th'] == pytest.approx(12 / 22)
    assert res['prec_th'] == pytest.approx(12 / 23)


def test_per_class_acc_and_prec():
    per_class = results()['per_class']
    assert per_class[A]['acc'] == pytest.approx(12 / 14)  # TP 5+3+4 of GT 5+5+4
    assert per_class[A]['prec'] == pytest.approx(12 / 17)  # pred 7+3+1+6
    assert per_class[B]['acc'] == 0 and per_class[B]['prec'] == 0  # GT 8, pred 2+2
    assert 'acc' not in per_class[S]


def test_confusion_any_class_and_same_class():
    res = results()
    # 6 predicted thing segments. p1 covers g1 (100 %) and g2 (40 %), both class A;
    # q1 covers h1 (100 %, A) and h2 (50 %, B); p4 covers g3 (25 %) and the crowd (excluded).
    assert res['confusion'] == pytest.approx({10: 2 / 6, 30: 2 / 6, 40: 1 / 6, 50: 0, 90: 0})
    assert res['confusion_same_class'] == pytest.approx(
        {10: 1 / 6, 30: 1 / 6, 40: 0, 50: 0, 90: 0})


def test_pq_of_the_hand_example():
    res = results()
    assert res['per_class'][A]['pq'] == pytest.approx((5 / 7 + 3 / 5 + 4 / 6) / 3)
    assert res['per_class'][B]['pq'] == 0 and res['per_class'][B]['rq'] == 0
    assert res['per_class'][S]['pq'] == 1
    assert res['Things']['n'] == 2 and res['Stuff']['n'] == 1
