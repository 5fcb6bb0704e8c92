"""PanopticPixelMetric on mmdet-format predictions, mIoU via mmseg, errors, instance variant,
and 2-process (gloo) evaluation equal to 1-process evaluation."""
import contextlib
import io
import json
import os
import socket

import cv2
import numpy as np
import pycocotools.mask as mask_util
import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmseg.evaluation.metrics import IoUMetric
from panoptic_cases import random_case, write_coco_panoptic

from mmibs.evaluation import (
    CocoInstancePixelMetric,
    PanopticEvalError,
    PanopticPixelMetric,
    Segments,
    image_stats,
    resolve_overlaps,
)
from mmibs.evaluation.panoptic_pixel_metric import METRIC_GROUPS
from mmibs.evaluation.panoptic_png import id_to_rgb

NUM_THINGS, NUM_STUFF = 3, 4
NUM_CLASSES = NUM_THINGS + NUM_STUFF
META = dict(classes=tuple(f'c{i}' for i in range(NUM_CLASSES)),
            thing_classes=tuple(f'c{i}' for i in range(NUM_THINGS)),
            stuff_classes=tuple(f'c{i}' for i in range(NUM_THINGS, NUM_CLASSES)))


def to_mmdet(pred_ids: np.ndarray, pred_segs: list) -> np.ndarray:
    """The prediction as mmdet's map: label + k * INSTANCE_OFFSET for things, void = C."""
    pan = np.full(pred_ids.shape, NUM_CLASSES, np.int64)
    for k, seg in enumerate(pred_segs, start=1):
        is_thing = seg['label'] < NUM_THINGS
        pan[pred_ids == seg['id']] = seg['label'] + (k * INSTANCE_OFFSET if is_thing else 0)
    return pan


def make_samples(tmp_path, num: int, seed: int = 0, **case_kwargs) -> list:
    """``num`` mmdet-format samples of random cases (``case_kwargs`` go to ``random_case``)."""
    rng = np.random.default_rng(seed)
    samples = []
    for k in range(num):
        gt, gt_segs, pred, pred_segs = random_case(rng, 48, 80, NUM_THINGS, NUM_STUFF, 20,
                                                   **case_kwargs)
        # mmdet merges stuff of one class into one segment: keep one stuff segment per class.
        stuff_seen = {}
        for seg in pred_segs:
            if seg['label'] >= NUM_THINGS:
                first = stuff_seen.setdefault(seg['label'], seg['id'])
                pred[pred == seg['id']] = first
        pred_segs = [s for s in pred_segs if s['label'] < NUM_THINGS
                     or stuff_seen[s['label']] == s['id']]
        path = str(tmp_path / f'gt_{seed}_{k}.png')
        cv2.imwrite(path, id_to_rgb(gt)[..., ::-1])
        samples.append(dict(
            img_id=k, img_path=f'images/img_{seed}_{k}.jpg', seg_map_path=path,
            segments_info=[dict(id=s['id'], category=s['label'], iscrowd=s['iscrowd'])
                           for s in gt_segs],
            pred_panoptic_seg=dict(sem_seg=torch.from_numpy(to_mmdet(pred, pred_segs))[None]),
            _case=(gt, gt_segs, pred, pred_segs)))
    return samples


def evaluate(samples: list, **kwargs) -> dict:
    kwargs.setdefault('metric', METRIC_GROUPS)
    metric = PanopticPixelMetric(**kwargs)
    metric.dataset_meta = META
    metric.process({}, samples)
    return metric.evaluate(len(samples))


@pytest.mark.parametrize('rule', ['last_listed', 'all'])
def test_metric_cli_and_instance_variant_agree_on_crowd(tmp_path, tool, rule):
    """Images with 2-3 crowd segments per class: the in-memory metric and the CLI give the same
    PQ under either crowd rule; the instance variant, fed the thing segments as instances, the
    same Acc^th / Prec^th / confusion (crowd pixels are counted alike everywhere)."""
    samples = make_samples(tmp_path, 4, seed=5, crowd_prob=0.6, crowd_per_class=3)
    assert any(sum(s['iscrowd'] and s['label'] == c for s in gs) >= 2
               for _, gs, _, _ in (x['_case'] for x in samples) for c in range(NUM_THINGS))
    logged = evaluate(samples, pq_crowd_rule=rule)
    cases = [s['_case'] for s in samples]
    gt_json, pred_json = write_coco_panoptic(str(tmp_path / 'set'), cases, NUM_THINGS, NUM_STUFF)
    with contextlib.redirect_stdout(io.StringIO()):
        cli = tool('analysis_tools/eval_panoptic').main(
            [gt_json, pred_json, '--pq-crowd-rule', rule])
    for key, value in (('PQ', cli['All']['pq']), ('PQ_th', cli['Things']['pq']),
                       ('Acc_th', cli['acc_th']), ('Prec_th', cli['prec_th'])):
        assert logged[f'coco_panoptic/{key}'] == pytest.approx(100 * value, abs=1e-9), key

    instance = CocoInstancePixelMetric(metric='segm', thresholds=tuple(range(10, 100, 10)))
    instance.dataset_meta = META
    for k, s in enumerate(samples):
        _, gt_segs, pred, pred_segs = s['_case']
        things = [p for p in pred_segs if p['label'] < NUM_THINGS]
        gt_things = [g for g in gt_segs if g['label'] < NUM_THINGS and not g['iscrowd']]
        masks = torch.from_numpy(np.stack([pred == p['id'] for p in things]))
        sample = dict(
            img_id=k, ori_shape=pred.shape, seg_map_path=s['seg_map_path'],
            segments_info=s['segments_info'],
            instances=[dict(bbox=[0, 0, 1, 1], bbox_label=g['label'], ignore_flag=0,
                            mask=rle(s['_case'][0] == g['id'])) for g in gt_things],
            pred_instances=dict(bboxes=torch.zeros(len(things), 4), labels=torch.tensor(
                [p['label'] for p in things]), scores=torch.ones(len(things)), masks=masks))
        instance.process({}, [sample])
    inst = instance.evaluate(len(samples))
    for key in ('Acc_th', 'Prec_th', 'confusion@30', 'confusion_same@50'):
        assert inst[f'coco/{key}'] == pytest.approx(logged[f'coco_panoptic/{key}'], abs=1e-9)


def test_metric_matches_core_on_segment_lists(tmp_path):
    """The mmdet decoding (INSTANCE_OFFSET, void label) gives the core's numbers."""
    from mmibs.evaluation import accumulate, summarize
    samples = make_samples(tmp_path, 4)
    logged = evaluate(samples)
    stats = []
    for s in samples:
        gt, gs, pred, ps = s['_case']
        stats.append(image_stats(
            gt, Segments.from_lists([x['id'] for x in gs], [x['label'] for x in gs],
                                    [x['iscrowd'] for x in gs]),
            pred, Segments.from_lists([x['id'] for x in ps], [x['label'] for x in ps]),
            NUM_CLASSES, NUM_THINGS, tuple(range(10, 100, 10))))
    expected = summarize(accumulate(stats, NUM_CLASSES, 9), NUM_THINGS, range(10, 100, 10))
    assert logged['coco_panoptic/PQ'] == pytest.approx(100 * expected['All']['pq'], abs=1e-9)
    assert logged['coco_panoptic/PQ_th'] == pytest.approx(100 * expected['Things']['pq'], abs=1e-9)
    assert logged['coco_panoptic/Acc_th'] == pytest.approx(100 * expected['acc_th'], abs=1e-9)
    assert logged['coco_panoptic/Prec_th'] == pytest.approx(100 * expected['prec_th'], abs=1e-9)
    assert logged['coco_panoptic/confusion@50'] == pytest.approx(100 * expected['confusion'][50])
    assert 0 < logged['coco_panoptic/PQ'] < 100


def test_miou_equals_mmseg_intersect_and_union(tmp_path):
    samples = make_samples(tmp_path, 3, seed=1)
    areas = np.zeros((4, NUM_CLASSES))
    for s in samples:
        gt, gs, pred, ps = s['_case']
        gt_sem = np.full(gt.shape, 255)
        for seg in gs:
            gt_sem[gt == seg['id']] = seg['label']
        pred_sem = s['pred_panoptic_seg']['sem_seg'][0] % INSTANCE_OFFSET
        areas += np.stack([a.numpy() for a in IoUMetric.intersect_and_union(
            pred_sem, torch.from_numpy(gt_sem), NUM_CLASSES, 255)])
    iou = areas[0] / areas[1]
    logged = evaluate(samples)
    assert logged['coco_panoptic/mIoU'] == pytest.approx(100 * np.nanmean(iou), abs=1e-9)
    assert logged['coco_panoptic/aAcc'] == pytest.approx(100 * areas[0].sum() / areas[3].sum())


def test_unknown_predicted_label_is_a_clear_error(tmp_path):
    sample = make_samples(tmp_path, 1)[0]
    sample['pred_panoptic_seg']['sem_seg'][0, 0, 0] = 5 * INSTANCE_OFFSET + NUM_CLASSES + 3
    with pytest.raises(PanopticEvalError, match=r'5010.*neither one of the 7 classes'):
        evaluate([sample])


def test_unknown_gt_category_is_a_clear_error(tmp_path):
    sample = make_samples(tmp_path, 1)[0]
    sample['segments_info'][0]['category'] = NUM_CLASSES
    with pytest.raises(PanopticEvalError, match=r'gt_0_0\.png.*unknown to the metainfo'):
        evaluate([sample])


def test_prediction_id_not_in_segment_list_is_a_clear_error():
    gt = np.array([[1, 1, 2, 2]])
    pred = np.array([[5, 5, 6, 7]])
    with pytest.raises(PanopticEvalError, match=r'img\.png: 1 predicted pixels.*\[5, 6\]'):
        image_stats(gt, Segments.from_lists([1, 2], [0, 1]), pred,
                    Segments.from_lists([5, 6], [0, 1]), 2, 2, (50, ), image_name='img.png')


def _dist_worker(rank: int, world_size: int, port: int, samples: list, out: dict,
                 outfile_prefix: str) -> None:
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch_dist.init_process_group('gloo', rank=rank, world_size=world_size)
    try:
        metric = PanopticPixelMetric(metric=METRIC_GROUPS, outfile_prefix=outfile_prefix)
        metric.dataset_meta = META
        # DefaultSampler's split: rank r gets samples r, r + world_size, ...
        metric.process({}, samples[rank::world_size])
        result = metric.evaluate(len(samples))
        if rank == 0:
            out.update(result)
    finally:
        torch_dist.destroy_process_group()


def test_two_processes_equal_one_process(tmp_path):
    """Same metrics, and the same prediction files (each rank writes its images' PNGs)."""
    samples = make_samples(tmp_path, 5, seed=3)
    for s in samples:
        del s['_case']
    single = evaluate(samples, outfile_prefix=str(tmp_path / 'one'))
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    with mp.Manager() as manager:
        out = manager.dict()
        # fork: the workers need not re-import this test module (pytest's importlib mode).
        mp.start_processes(_dist_worker, args=(2, port, samples, out, str(tmp_path / 'two')),
                           nprocs=2, join=True, start_method='fork')
        double = dict(out)
    assert set(double) == set(single)
    for key, value in single.items():
        assert double[key] == value or (np.isnan(value) and np.isnan(double[key])), key
    written = {}
    for run in ('one', 'two'):
        data = json.loads((tmp_path / f'{run}.panoptic.json').read_text())
        pngs = {p.name: p.read_bytes() for p in (tmp_path / f'{run}.panoptic').iterdir()}
        written[run] = (sorted(data['annotations'], key=lambda a: a['image_id']), pngs)
    assert len(written['one'][1]) == 5 and written['one'] == written['two']


def test_resolve_overlaps_score_order_and_overlap_rule():
    masks = np.zeros((4, 1, 10), bool)
    masks[0, 0, 0:6] = True   # score 0.9: painted first
    masks[1, 0, 4:8] = True   # 0.8: 2 of 4 px taken (50 %, not > 50 %) -> keeps 6-7
    masks[2, 0, 0:4] = True   # 0.7: fully hidden -> dropped
    masks[3, 0, 8:10] = True  # 0.3: below score_thr -> dropped
    id_map, segs = resolve_overlaps(masks, np.array([0, 1, 0, 1]), np.array([.9, .8, .7, .3]),
                                    score_thr=0.5, overlap_thr=0.5)
    assert id_map.tolist() == [[1, 1, 1, 1, 1, 1, 2, 2, 0, 0]]
    assert segs.ids.tolist() == [1, 2] and segs.labels.tolist() == [0, 1]


def rle(mask: np.ndarray) -> dict:
    return mask_util.encode(np.asfortranarray(mask.astype(np.uint8)))


def test_instance_variant_pixel_metrics(tmp_path):
    """CocoInstancePixelMetric: AP from CocoMetric, Acc^th / Prec^th of the resolved masks."""
    gt = np.zeros((8, 10), np.int64)
    gt[:, 0:5], gt[:, 5:10] = 301, 302
    path = str(tmp_path / 'inst_gt.png')
    cv2.imwrite(path, id_to_rgb(gt)[..., ::-1])
    masks = torch.zeros((2, 8, 10), dtype=torch.bool)
    masks[0, :, 0:6] = True  # 40 px on 301, 8 px spill
    masks[1, :, 0:2] = True  # lower score, fully hidden: dropped
    sample = dict(
        img_id=0, ori_shape=(8, 10), seg_map_path=path,
        segments_info=[dict(id=301, category=0, iscrowd=0), dict(id=302, category=0, iscrowd=0)],
        instances=[dict(bbox=[0, 0, 5, 8], bbox_label=0, ignore_flag=0, mask=rle(gt == 301)),
                   dict(bbox=[5, 0, 10, 8], bbox_label=0, ignore_flag=0, mask=rle(gt == 302))],
        pred_instances=dict(bboxes=torch.tensor([[0., 0, 6, 8], [0, 0, 2, 8]]),
                            scores=torch.tensor([0.9, 0.6]), labels=torch.tensor([0, 0]),
                            masks=masks))
    metric = CocoInstancePixelMetric(metric='segm', thresholds=(10, 50))
    metric.dataset_meta = META
    metric.process({}, [sample])
    res = metric.evaluate(1)
    assert res['coco/Acc_th'] == pytest.approx(100 * 40 / 80)
    assert res['coco/Prec_th'] == pytest.approx(100 * 40 / 48)
    assert res['coco/confusion@10'] == pytest.approx(100.0)  # 8/40 = 20 % of 302 > 10 %
    assert res['coco/confusion@50'] == 0
    assert 'coco/segm_mAP' in res
