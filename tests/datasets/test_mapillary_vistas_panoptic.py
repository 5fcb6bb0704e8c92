"""MapillaryVistasPanopticDataset on a tiny fake v1.2 tree (panoptic_2018.json + PNGs + JPGs)."""
import json

import numpy as np
import pytest
from PIL import Image

from mmibs.datasets import (
    LoadPanopticAnnotationsChecked,
    MapillaryVistasPanopticDataset,
    PanopticAnnotationError,
)
from mmibs.datasets.mapillary_vistas_panoptic import VISTAS_V12_CATEGORIES

V12_THINGS = tuple(n for n, thing, _ in VISTAS_V12_CATEGORIES if thing)
V12_STUFF = tuple(n for n, thing, _ in VISTAS_V12_CATEGORIES if not thing)


def test_builtin_table_is_65_classes_37_things():
    assert len(VISTAS_V12_CATEGORIES) == 65
    assert len({n for n, _, _ in VISTAS_V12_CATEGORIES}) == 65
    assert (len(V12_THINGS), len(V12_STUFF)) == (37, 28)
    meta = MapillaryVistasPanopticDataset.METAINFO
    assert meta['classes'] == V12_THINGS + V12_STUFF
    assert len(meta['palette']) == 65


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
def test_labels_paths_and_crowd(tmp_path, fake_vistas_writer, classes_from):
    root = fake_vistas_writer(tmp_path)
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
        info['ori_shape'] = (info['height'], info['width'])
        results = loader(info)
        np.testing.assert_array_equal(results['gt_seg_map'],
                                      expected_labels(root, 'training', index, classes))
        assert results['gt_seg_map'].max() == 255  # void kept
        assert len(results['gt_masks']) == 3


def test_classes_from_json_follows_isthing(tmp_path, fake_vistas_writer):
    """With a non-v1.2 JSON the classes come from its categories, things first."""
    cats = [dict(id=7, name='Road', isthing=0), dict(id=3, name='Car', isthing=1),
            dict(id=5, name='Sky', isthing=0), dict(id=9, name='Building', isthing=0),
            dict(id=1, name='Person', isthing=1),
            dict(id=2, name='Traffic Sign (Front)', isthing=1)]
    root = fake_vistas_writer(tmp_path, categories=cats)
    dataset = build(root)
    classes = ('Car', 'Person', 'Traffic Sign (Front)', 'Road', 'Sky', 'Building')
    assert dataset.metainfo['classes'] == classes
    assert dataset.metainfo['thing_classes'] == classes[:3]
    info = dataset.get_data_info(0)
    info['ori_shape'] = (info['height'], info['width'])
    np.testing.assert_array_equal(LoadPanopticAnnotationsChecked(with_seg=True)(info)['gt_seg_map'],
                                  expected_labels(root, 'training', 0, classes))
    # the built-in table needs all 65 classes
    with pytest.raises(PanopticAnnotationError, match="'Bird'"):
        build(root, classes_from='metainfo')


def test_unknown_label_is_a_clear_error(tmp_path, fake_vistas_writer):
    root = fake_vistas_writer(tmp_path, extra_segment=('Flying Saucer', (16, 18, 0, 4), 0))
    with pytest.raises(PanopticAnnotationError, match='category_id 999'):
        build(root)


def test_bad_classes_from(tmp_path):
    with pytest.raises(ValueError, match='classes_from'):
        build(tmp_path, classes_from='table')
