"""Mapillary Vistas panoptic -> COCO instance JSON (paper Table 4), and its use by the metric."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pycocotools.mask as mask_util
import pytest
import torch
from mmengine.structures import InstanceData
from panopticapi.utils import rgb2id
from PIL import Image

from mmibs.datasets import MapillaryVistasPanopticDataset, PanopticAnnotationError
from mmibs.datasets.panoptic_to_instances import panoptic_to_instances
from mmibs.evaluation import CocoInstancePixelMetric

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = REPO_ROOT / 'tools' / 'dataset_converters' / 'panoptic_to_instances.py'


@pytest.fixture(scope='module')
def converted(tmp_path_factory, fake_vistas_writer):
    root = fake_vistas_writer(tmp_path_factory.mktemp('vistas'), 'validation')
    out = root / 'validation' / 'instances_2018.json'
    proc = subprocess.run(
        [sys.executable, str(CLI), str(root / 'validation/panoptic/panoptic_2018.json'),
         '--out', str(out)], capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, json.loads(out.read_text())


def test_categories_images_and_masks(converted):
    root, inst = converted
    pan = json.loads((root / 'validation/panoptic/panoptic_2018.json').read_text())
    assert inst['images'] == pan['images']
    things = [c for c in pan['categories'] if c['isthing']]
    assert [(c['id'], c['name']) for c in inst['categories']] == [
        (c['id'], c['name']) for c in things]
    assert len(inst['categories']) == 37
    thing_ids = {c['id'] for c in things}
    assert [a['id'] for a in inst['annotations']] == list(range(1, len(inst['annotations']) + 1))
    for ann in pan['annotations']:
        ids = rgb2id(np.array(Image.open(root / 'validation/panoptic' / ann['file_name'])))
        expected = [s for s in ann['segments_info'] if s['category_id'] in thing_ids]
        got = [a for a in inst['annotations'] if a['image_id'] == ann['image_id']]
        assert len(got) == len(expected) == 4  # car, person, crowd of persons, traffic sign
        for seg, out in zip(expected, got):
            mask = ids == seg['id']
            np.testing.assert_array_equal(mask_util.decode(out['segmentation']), mask)
            assert out['category_id'] == seg['category_id']
            assert out['iscrowd'] == seg['iscrowd']
            assert out['area'] == seg['area'] == mask.sum()
            assert out['bbox'] == [float(v) for v in seg['bbox']]  # [x, y, w, h]
    assert sum(a['iscrowd'] for a in inst['annotations']) == 2


def test_metric_scores_perfect_predictions(converted):
    """GT instances as predictions: AP 100 (COCO) and Acc^th = Prec^th = 100 (pixels)."""
    root, inst = converted
    dataset = MapillaryVistasPanopticDataset(
        data_root=str(root), ann_file='validation/panoptic/panoptic_2018.json',
        data_prefix=dict(img='validation/images/', seg='validation/panoptic/'),
        pipeline=[], test_mode=True)
    metric = CocoInstancePixelMetric(
        ann_file=str(root / 'validation/instances_2018.json'), metric='segm',
        seg_prefix=str(root / 'validation/panoptic') + '/')
    metric.dataset_meta = dataset.metainfo
    classes = dataset.metainfo['classes']
    name_of = {c['id']: c['name'] for c in inst['categories']}
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        anns = [a for a in inst['annotations']
                if a['image_id'] == info['img_id'] and not a['iscrowd']]
        masks = np.stack([mask_util.decode(a['segmentation']) for a in anns]).astype(bool)
        pred = InstanceData(
            masks=torch.from_numpy(masks),
            labels=torch.tensor([classes.index(name_of[a['category_id']]) for a in anns]),
            scores=torch.ones(len(anns)),
            bboxes=torch.tensor([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                                  a['bbox'][1] + a['bbox'][3]] for a in anns]))
        sample = dict(img_id=info['img_id'], ori_shape=(info['height'], info['width']),
                      seg_map_path=info['seg_map_path'], segments_info=info['segments_info'],
                      pred_instances=pred.to_dict())
        metric.process({}, [sample])
    scores = metric.evaluate(len(dataset))
    assert scores['coco/segm_mAP'] == pytest.approx(1.0)
    assert scores['coco/Acc_th'] == pytest.approx(100.0)
    assert scores['coco/Prec_th'] == pytest.approx(100.0)


@pytest.mark.parametrize('case', ['unknown_category', 'absent_segment', 'missing_png'])
def test_bad_input_is_a_clear_error(tmp_path, fake_vistas_writer, case):
    extra = ('Flying Saucer', (16, 18, 0, 4), 0) if case == 'unknown_category' else None
    root = fake_vistas_writer(tmp_path, 'validation', extra_segment=extra)
    ann_file = root / 'validation/panoptic/panoptic_2018.json'
    png = root / 'validation/panoptic' / 'aaaaaaaaaaaaaaaaaaaaaa.png'
    if case == 'absent_segment':
        raw = json.loads(ann_file.read_text())
        raw['annotations'][0]['segments_info'].append(
            dict(id=77777, category_id=raw['annotations'][0]['segments_info'][3]['category_id'],
                 iscrowd=0, area=5, bbox=[0, 0, 1, 5]))
        ann_file.write_text(json.dumps(raw))
        error, match = PanopticAnnotationError, 'segment 77777'
    elif case == 'missing_png':
        png.unlink()
        error, match = FileNotFoundError, str(png)
    else:
        error, match = PanopticAnnotationError, 'category_id 999'
    with pytest.raises(error, match=match) as info:
        panoptic_to_instances(str(ann_file), str(root / 'validation/panoptic'),
                              str(tmp_path / 'out.json'), progress=False)
    assert case == 'missing_png' or str(png) in str(info.value)
    assert not (tmp_path / 'out.json').exists()


def test_segment_mask_does_not_trust_a_wrong_bbox():
    from mmibs.datasets.panoptic_to_instances import segment_mask
    ids = np.zeros((6, 8), np.int64)
    ids[1:3, 2:5] = 7
    ids[5, 7] = 7  # a pixel outside the listed box
    expected = ids == 7
    for bbox in ([2, 1, 3, 2], [0, 0, 1, 1], [2, 1, 6, 5], [0, 0, 8, 6]):  # area right: 7
        np.testing.assert_array_equal(segment_mask(ids, dict(id=7, bbox=bbox, area=7)),
                                      expected)
