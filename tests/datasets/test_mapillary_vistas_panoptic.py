"""MapillaryVistasPanopticDataset on a tiny fake v1.2 tree (panoptic_2018.json + PNGs + JPGs)."""
import json

import numpy as np
import pytest
from panopticapi.utils import id2rgb
from PIL import Image

from mmibs.datasets import (LoadPanopticAnnotationsChecked, MapillaryVistasPanopticDataset,
                            PanopticAnnotationError)
from mmibs.datasets.mapillary_vistas_panoptic import VISTAS_V12_CATEGORIES

H, W = 20, 32
V12_THINGS = tuple(n for n, thing, _ in VISTAS_V12_CATEGORIES if thing)
V12_STUFF = tuple(n for n, thing, _ in VISTAS_V12_CATEGORIES if not thing)


def test_builtin_table_is_65_classes_37_things():
    assert len(VISTAS_V12_CATEGORIES) == 65
    assert len({n for n, _, _ in VISTAS_V12_CATEGORIES}) == 65
    assert (len(V12_THINGS), len(V12_STUFF)) == (37, 28)
    meta = MapillaryVistasPanopticDataset.METAINFO
    assert meta['classes'] == V12_THINGS + V12_STUFF
    assert len(meta['palette']) == 65


def write_fake_vistas(root, split='training', categories=None, extra_segment=None):
    """Two images with a JSON in v1.2 layout; categories in config.json order, ids 1-based."""
    if categories is None:
        categories = [dict(id=i + 1, name=n, supercategory='x', isthing=int(t), color=list(c))
                      for i, (n, t, c) in enumerate(VISTAS_V12_CATEGORIES)]
    cat_id = {c['name']: c['id'] for c in categories}
    (root / split / 'images').mkdir(parents=True, exist_ok=True)
    (root / split / 'panoptic').mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for k, key in enumerate(['aaaaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbbbb']):
        ids = np.zeros((H, W), np.int64)   # 0: void
        segments = []
        layout = [('Sky', (0, 6, 0, W), 0), ('Road', (12, H, 0, W), 0),
                  ('Building', (6, 12, 0, 16), 0), ('Car', (8, 16, 2 + k, 10 + k), 0),
                  ('Person', (6, 14, 20, 24), 0), ('Person', (6, 14, 25, 28), 1),
                  ('Traffic Sign (Front)', (1, 4, 28, 31), 0)]
        if extra_segment:
            layout.append(extra_segment)
        for n, (name, (y0, y1, x0, x1), crowd) in enumerate(layout):
            seg_id = 1000 * (n + 1) + k
            ids[y0:y1, x0:x1] = seg_id
        for n, (name, (y0, y1, x0, x1), crowd) in enumerate(layout):
            seg_id = 1000 * (n + 1) + k
            ys, xs = np.nonzero(ids == seg_id)
            segments.append(dict(
                id=seg_id, category_id=cat_id.get(name, 999), iscrowd=crowd, area=int(len(ys)),
                bbox=[int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                      int(ys.max() - ys.min() + 1)]))
        Image.fromarray(np.full((H, W, 3), 100 + k, np.uint8)).save(
            root / split / 'images' / f'{key}.jpg')
        Image.fromarray(id2rgb(ids)).save(root / split / 'panoptic' / f'{key}.png')
        images.append(dict(id=key, file_name=f'{key}.jpg', height=H, width=W))
        annotations.append(dict(image_id=key, file_name=f'{key}.png', segments_info=segments))
    (root / split / 'panoptic' / 'panoptic_2018.json').write_text(json.dumps(
        dict(images=images, annotations=annotations, categories=categories)))
    return root


def build(root, split='training', **kwargs):
    return MapillaryVistasPanopticDataset(
        data_root=str(root), ann_file=f'{split}/panoptic/panoptic_2018.json',
        data_prefix=dict(img=f'{split}/images/', seg=f'{split}/panoptic/'),
        pipeline=[], test_mode=True, **kwargs)


def expected_labels(root, split, index, classes):
    """Label map from the JSON and PNG alone, things first by name."""
    raw = json.loads((root / split / 'panoptic/panoptic_2018.json').read_text())
    name_of = {c['id']: c['name'] for c in raw['categories']}
    ann = raw['annotations'][index]
    rgb = np.array(Image.open(root / split / 'panoptic' / ann['file_name'])).astype(np.int64)
    ids = rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]
    out = np.full(ids.shape, 255, np.int64)
    for seg in ann['segments_info']:
        out[ids == seg['id']] = classes.index(name_of[seg['category_id']])
    return out


@pytest.mark.parametrize('classes_from', ['json', 'metainfo'])
def test_labels_paths_and_crowd(tmp_path, classes_from):
    root = write_fake_vistas(tmp_path)
    dataset = build(root, classes_from=classes_from)
    classes = V12_THINGS + V12_STUFF
    assert dataset.metainfo['classes'] == classes
    assert dataset.metainfo['thing_classes'] == V12_THINGS
    assert len(dataset) == 2
    loader = LoadPanopticAnnotationsChecked(with_bbox=True, with_mask=True, with_seg=True)
    for index, key in enumerate(['a' * 22, 'b' * 22]):
        info = dataset.get_data_info(index)
        assert info['img_path'] == str(root / 'training/images' / f'{key}.jpg')
        assert info['seg_map_path'] == str(root / 'training/panoptic' / f'{key}.png')
        crowd = {s['category']: s['iscrowd'] for s in info['segments_info'] if s['iscrowd']}
        assert crowd == {classes.index('Person'): 1}
        assert sorted(i['bbox_label'] for i in info['instances']) == sorted(
            classes.index(n) for n in ('Car', 'Person', 'Traffic Sign (Front)'))
        info['ori_shape'] = (H, W)
        results = loader(info)
        np.testing.assert_array_equal(results['gt_seg_map'],
                                      expected_labels(root, 'training', index, classes))
        assert results['gt_seg_map'].max() == 255  # void kept
        assert len(results['gt_masks']) == 3


def test_classes_from_json_follows_isthing(tmp_path):
    """With a non-v1.2 JSON the classes come from its categories, things first."""
    cats = [dict(id=7, name='Road', isthing=0), dict(id=3, name='Car', isthing=1),
            dict(id=5, name='Sky', isthing=0), dict(id=9, name='Building', isthing=0),
            dict(id=1, name='Person', isthing=1),
            dict(id=2, name='Traffic Sign (Front)', isthing=1)]
    root = write_fake_vistas(tmp_path, categories=cats)
    dataset = build(root)
    classes = ('Car', 'Person', 'Traffic Sign (Front)', 'Road', 'Sky', 'Building')
    assert dataset.metainfo['classes'] == classes
    assert dataset.metainfo['thing_classes'] == classes[:3]
    info = dataset.get_data_info(0)
    info['ori_shape'] = (H, W)
    np.testing.assert_array_equal(LoadPanopticAnnotationsChecked(with_seg=True)(info)['gt_seg_map'],
                                  expected_labels(root, 'training', 0, classes))
    # the built-in table needs all 65 classes
    with pytest.raises(PanopticAnnotationError, match="'Bird'"):
        build(root, classes_from='metainfo')


def test_unknown_label_is_a_clear_error(tmp_path):
    root = write_fake_vistas(tmp_path, extra_segment=('Flying Saucer', (16, 18, 0, 4), 0))
    with pytest.raises(PanopticAnnotationError, match='category_id 999'):
        build(root)


def test_bad_classes_from(tmp_path):
    with pytest.raises(ValueError, match='classes_from'):
        build(tmp_path, classes_from='table')
