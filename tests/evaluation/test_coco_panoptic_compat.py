"""PanopticPixelMetric as a drop-in for mmdet's CocoPanopticMetric.

The scenario of mmdet's own ``TestCocoPanopticMetric`` (an 80 x 60 image: two persons, a dog
and a wall; predictions with one TP per class and one FP person), scored by both metrics built
with ``CocoPanopticMetric``'s arguments: without and with ``ann_file``, with and without
``outfile_prefix``, ``classwise``, and ``format_only``. mmdet's metric (panopticapi inside) is
the reference; its published values are checked too.
"""
import json
import os
from copy import deepcopy

import cv2
import numpy as np
import pytest
import torch
from mmdet.evaluation import INSTANCE_OFFSET, CocoPanopticMetric
from mmengine.evaluator import Evaluator

from mmibs.evaluation import PanopticEvalError, PanopticPixelMetric
from mmibs.evaluation.panoptic_pixel_metric import METRIC_GROUPS
from mmibs.evaluation.panoptic_png import id_to_rgb, read_panoptic_png

META = dict(classes=('person', 'dog', 'wall'), thing_classes=('person', 'dog'),
            stuff_classes=('wall', ))
#: mmdet's published values for this scenario (its test's target).
MMDET_TARGET = {
    'PQ': 67.86874803219071, 'SQ': 80.89770126158936, 'RQ': 83.33333333333334,
    'PQ_th': 60.45252075318891, 'SQ_th': 79.9959505972869, 'RQ_th': 75.0,
    'PQ_st': 82.70120259019427, 'SQ_st': 82.70120259019427, 'RQ_st': 100.0,
}
EXTRA_KEYS = ({'Acc_th', 'Prec_th', 'mIoU', 'mAcc', 'aAcc'}
              | {f'confusion{kind}@{t}' for kind in ('', '_same') for t in range(10, 100, 10)})


def boxes_map(shape, boxes, values, background) -> np.ndarray:
    id_map = np.full(shape, background, np.int64)
    for (x, y, w, h), value in zip(boxes, values):
        id_map[y:y + h, x:x + w] = value
    return id_map


@pytest.fixture
def scene(tmp_path):
    """GT JSON + PNG folder and one mmdet data sample, as in mmdet's test."""
    seg_dir = tmp_path / 'gt_seg'
    seg_dir.mkdir()
    gt = boxes_map((60, 80), [(10, 10, 10, 40), (30, 10, 10, 40), (50, 10, 10, 5)], [1, 2, 3], 4)
    cv2.imwrite(str(seg_dir / 'fake_name1.png'), id_to_rgb(gt)[..., ::-1])
    categories = [dict(id=i, name=n, supercategory=n, isthing=int(n != 'wall'))
                  for i, n in enumerate(('person', 'cat', 'dog', 'wall'))]
    segments = [dict(id=1, category_id=0, area=400, bbox=[10, 10, 10, 40], iscrowd=0),
                dict(id=2, category_id=0, area=400, bbox=[30, 10, 10, 40], iscrowd=0),
                dict(id=3, category_id=2, area=50, bbox=[50, 10, 10, 5], iscrowd=0),
                dict(id=4, category_id=3, area=3950, bbox=[0, 0, 80, 60], iscrowd=0)]
    ann_file = tmp_path / 'gt.json'
    ann_file.write_text(json.dumps(dict(
        images=[dict(id=0, width=80, height=60, file_name='fake_name1.jpg')],
        annotations=[dict(image_id=0, file_name='fake_name1.png', segments_info=segments)],
        categories=categories)))
    # Wall (label 2) everywhere, person TP (IoU 351/449), person FP, dog TP (IoU 45/55).
    pred = boxes_map((60, 80), [(11, 11, 10, 40), (38, 10, 10, 40), (51, 10, 10, 5)],
                     [1 * INSTANCE_OFFSET + 0, 2 * INSTANCE_OFFSET + 0, 3 * INSTANCE_OFFSET + 1],
                     2)
    sample = dict(
        img_id=0, ori_shape=(60, 80), img_path='xxx/fake_name1.jpg',
        segments_info=[dict(id=1, category=0, is_thing=1), dict(id=2, category=0, is_thing=1),
                       dict(id=3, category=1, is_thing=1), dict(id=4, category=2, is_thing=0)],
        seg_map_path=str(seg_dir / 'fake_name1.png'),
        pred_panoptic_seg=dict(sem_seg=torch.from_numpy(pred)[None]))
    return dict(ann_file=str(ann_file), seg_dir=str(seg_dir), sample=sample, pred=pred,
                tmp_path=tmp_path)


def run(metric_type, samples, **kwargs) -> dict:
    metric = metric_type(**kwargs)
    metric.dataset_meta = META
    metric.process({}, deepcopy(samples))
    return metric.evaluate(size=len(samples))


@pytest.mark.parametrize('with_json', [False, True], ids=['no-ann_file', 'ann_file'])
@pytest.mark.parametrize('with_prefix', [False, True], ids=['no-outfile', 'outfile'])
@pytest.mark.parametrize('classwise', [False, True])
def test_same_results_as_coco_panoptic_metric(scene, with_json, with_prefix, classwise):
    """Built with CocoPanopticMetric's arguments only, the returned dict equals mmdet's (keys
    and floats, compared with ==); with all metric groups, the extra keys come on top."""
    kwargs = dict(ann_file=scene['ann_file'] if with_json else None, seg_prefix=scene['seg_dir'],
                  classwise=classwise, nproc=1)
    ours = run(PanopticPixelMetric, [scene['sample']], **kwargs,
               outfile_prefix=str(scene['tmp_path'] / 'ours') if with_prefix else None)
    reference = run(CocoPanopticMetric, [scene['sample']], **kwargs,
                    outfile_prefix=str(scene['tmp_path'] / 'ref') if with_prefix else None)
    assert reference == {f'coco_panoptic/{k}': v for k, v in MMDET_TARGET.items()}
    assert ours == reference
    everything = run(PanopticPixelMetric, [scene['sample']], **kwargs, metric=METRIC_GROUPS)
    assert {k: everything[k] for k in reference} == reference
    assert set(everything) - set(reference) == {f'coco_panoptic/{k}' for k in EXTRA_KEYS}
    if with_prefix:
        assert os.path.isdir(scene['tmp_path'] / 'ours.panoptic')
        assert os.path.isfile(scene['tmp_path'] / 'ours.panoptic.json')


def test_format_only_needs_outfile_prefix(scene):
    # A ValueError, and the AssertionError mmdet's metric raises there.
    for error in (ValueError, AssertionError):
        with pytest.raises(error, match='format_only=True needs outfile_prefix'):
            PanopticPixelMetric(ann_file=scene['ann_file'], format_only=True)
    with pytest.raises(ValueError, match='metric must be PQ or a non-empty subset'):
        PanopticPixelMetric(metric=('PQ', 'AP'))


def test_format_only_writes_coco_panoptic_without_gt(scene):
    """A test-server run: no GT in the samples, nothing scored, PNG + JSON written."""
    sample = {k: v for k, v in scene['sample'].items()
              if k not in ('segments_info', 'seg_map_path')}
    prefix = scene['tmp_path'] / 'test'
    assert run(PanopticPixelMetric, [sample], ann_file=scene['ann_file'], format_only=True,
               outfile_prefix=str(prefix)) == {}
    written = json.loads((scene['tmp_path'] / 'test.panoptic.json').read_text())
    assert not os.path.exists(f'{prefix}.panoptic.partial')
    ann, = written['annotations']
    assert ann['image_id'] == 0 and ann['file_name'] == 'fake_name1.png'
    # Category ids are ann_file's (dog is category 2 there, label 1 here).
    assert sorted((s['id'], s['category_id'], s['area'], s['isthing'])
                  for s in ann['segments_info']) == [
        (2, 3, 4800 - 400 - 400 - 50, 0), (1000, 0, 400, 1), (2000, 0, 400, 1),
        (3001, 2, 50, 1)]
    assert {c['id']: c['name'] for c in written['categories']} == {0: 'person', 2: 'dog',
                                                                   3: 'wall'}
    ids = read_panoptic_png(str(prefix) + '.panoptic/fake_name1.png')
    np.testing.assert_array_equal(ids, scene['pred'])


def test_written_predictions_score_the_same_with_the_cli(scene, tool):
    """Round trip: the files written with outfile_prefix, scored by tools' eval CLI against the
    GT JSON, give the metric's numbers."""
    eval_cli = tool('analysis_tools/eval_panoptic').main
    prefix = scene['tmp_path'] / 'val'
    logged = run(PanopticPixelMetric, [scene['sample']], ann_file=scene['ann_file'],
                 seg_prefix=scene['seg_dir'], outfile_prefix=str(prefix), metric=METRIC_GROUPS)
    cli = eval_cli([scene['ann_file'], f'{prefix}.panoptic.json', '--gt-folder', scene['seg_dir'],
                    '--pred-folder', f'{prefix}.panoptic'])
    assert cli['All']['pq'] * 100 == pytest.approx(logged['coco_panoptic/PQ'], abs=1e-9)
    assert cli['acc_th'] * 100 == pytest.approx(logged['coco_panoptic/Acc_th'], abs=1e-9)


def test_ann_file_supplies_gt_when_samples_lack_it(scene):
    sample = {k: v for k, v in scene['sample'].items()
              if k not in ('segments_info', 'seg_map_path')}
    with_gt = run(PanopticPixelMetric, [scene['sample']], seg_prefix=scene['seg_dir'],
                  metric=METRIC_GROUPS)
    from_json = run(PanopticPixelMetric, [sample], ann_file=scene['ann_file'],
                    seg_prefix=scene['seg_dir'], metric=METRIC_GROUPS)
    assert from_json == with_gt
    with pytest.raises(PanopticEvalError, match=r"fake_name1\.jpg.*no \['seg_map_path', "
                                                r"'segments_info'\].*ann_file"):
        run(PanopticPixelMetric, [sample], seg_prefix=scene['seg_dir'])
    sample['img_id'] = 7
    with pytest.raises(PanopticEvalError, match=r'gt\.json: no annotation for image id 7'):
        run(PanopticPixelMetric, [sample], ann_file=scene['ann_file'],
            seg_prefix=scene['seg_dir'])


def test_previous_outputs_survive_a_failed_run(scene):
    """A run that fails half-way leaves the earlier outputs as they were; the next complete run
    replaces them and drops PNGs of images it does not list."""
    prefix = str(scene['tmp_path'] / 'out')
    run(PanopticPixelMetric, [scene['sample']], seg_prefix=scene['seg_dir'], outfile_prefix=prefix)
    before = open(f'{prefix}.panoptic.json').read()
    broken = deepcopy(scene['sample'])
    broken['img_path'] = 'xxx/second.jpg'
    broken['pred_panoptic_seg']['sem_seg'][0, 0, 0] = 7  # label 7: unknown class
    metric = PanopticPixelMetric(seg_prefix=scene['seg_dir'], outfile_prefix=prefix)
    metric.dataset_meta = META
    with pytest.raises(PanopticEvalError, match='neither one of the 3 classes'):
        metric.process({}, [deepcopy(scene['sample']), broken])
    assert open(f'{prefix}.panoptic.json').read() == before
    assert os.listdir(f'{prefix}.panoptic') == ['fake_name1.png']
    # A stale PNG in the partial folder (from the interrupted run) is not carried over.
    open(f'{prefix}.panoptic.partial/stale.png', 'wb').close()
    other = deepcopy(scene['sample'])
    other['img_path'] = 'xxx/other.jpg'
    run(PanopticPixelMetric, [other], seg_prefix=scene['seg_dir'], outfile_prefix=prefix)
    assert os.listdir(f'{prefix}.panoptic') == ['other.png']
    assert [a['file_name'] for a in json.load(open(f'{prefix}.panoptic.json'))['annotations']] \
        == ['other.png']


def test_builds_from_a_coco_panoptic_metric_config(scene):
    """An mmdet evaluator config with only the type changed, and mmdet's save_best key."""
    cfg = dict(type='PanopticPixelMetric', ann_file=scene['ann_file'],
               seg_prefix=scene['seg_dir'], backend_args=None)
    evaluator = Evaluator(cfg)
    evaluator.dataset_meta = META
    evaluator.process(deepcopy([scene['sample']]))
    assert evaluator.evaluate(1)['coco_panoptic/PQ'] == MMDET_TARGET['PQ']


def test_metainfo_must_list_things_first(scene):
    metric = PanopticPixelMetric(seg_prefix=scene['seg_dir'])
    metric.dataset_meta = dict(classes=('wall', 'person', 'dog'),
                               thing_classes=('person', 'dog'), stuff_classes=('wall', ))
    with pytest.raises(PanopticEvalError, match='thing classes first'):
        metric.process({}, [deepcopy(scene['sample'])])
