"""Cityscapes: tools/dataset_converters/cityscapes.py on a tiny fake gtFine tree, then the
dataset."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cityscapesscripts.helpers.labels import id2label, name2label
from mmdet.datasets import CocoPanopticDataset
from PIL import Image

from mmibs.datasets import CityscapesPanopticDataset, LoadPanopticAnnotationsChecked

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = REPO_ROOT / 'tools' / 'dataset_converters' / 'cityscapes.py'
THINGS = ('person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle')
STUFF = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
         'traffic sign', 'vegetation', 'terrain', 'sky')
SPLITS = ('train', 'val')


@pytest.fixture(scope='module')
def cityscapes_root(fake_cityscapes_root):
    """The session's fake Cityscapes tree (conftest), converted by the CLI."""
    return fake_cityscapes_root


def stems_of(root, split):
    """``<city>_<seq>_<frame>`` of the images of ``split``, from the leftImg8bit folder."""
    return sorted(p.name[:-len('_leftImg8bit.png')]
                  for p in (root / 'leftImg8bit' / split).glob('*/*_leftImg8bit.png'))


def build(root, split, cls=CityscapesPanopticDataset, **kwargs):
    return cls(
        data_root=str(root), ann_file=f'gtFine/cityscapes_panoptic_{split}.json',
        data_prefix=dict(img=f'leftImg8bit/{split}/', seg=f'gtFine/cityscapes_panoptic_{split}/'),
        pipeline=[], test_mode=True, **kwargs)


def expected_labels(instance_ids):
    """Things-first label map straight from instanceIds and cityscapesscripts' labels."""
    out = np.full(instance_ids.shape, 255, dtype=np.int64)
    for value in np.unique(instance_ids):
        label = id2label[int(value) // 1000 if value >= 1000 else int(value)]
        if not label.ignoreInEval:
            out[instance_ids == value] = (THINGS + STUFF).index(label.name)
    return out


def test_converter_layout_is_cityscapesscripts_own(cityscapes_root):
    gt = cityscapes_root / 'gtFine'
    for split in SPLITS:
        raw = json.loads((gt / f'cityscapes_panoptic_{split}.json').read_text())
        assert len(raw['images']) == len(stems_of(cityscapes_root, split)) > 0
        # cityscapesscripts keeps "_gtFine" in the image name; the dataset drops it
        assert all(img['file_name'].endswith('_gtFine_leftImg8bit.png') for img in raw['images'])
        for ann in raw['annotations']:
            assert (gt / f'cityscapes_panoptic_{split}' / ann['file_name']).is_file()
    # no temporary folders left behind
    assert sorted(p.name for p in gt.iterdir()) == [
        'cityscapes_panoptic_train', 'cityscapes_panoptic_train.json',
        'cityscapes_panoptic_val', 'cityscapes_panoptic_val.json', 'train', 'val']


def test_categories_things_first_and_palette(cityscapes_root):
    dataset = build(cityscapes_root, 'val')
    meta = dataset.metainfo
    assert meta['classes'] == THINGS + STUFF
    assert meta['thing_classes'] == THINGS and meta['stuff_classes'] == STUFF
    assert [tuple(c) for c in meta['palette']] == [name2label[n].color for n in THINGS + STUFF]
    raw = json.loads((cityscapes_root / 'gtFine/cityscapes_panoptic_val.json').read_text())
    assert {c['name'] for c in raw['categories']} == set(THINGS + STUFF)
    assert [c['isthing'] for c in raw['categories']][0] == 0  # the JSON is stuff first
    assert {c['name'] for c in raw['categories'] if c['isthing']} == set(THINGS)


@pytest.mark.parametrize('split', ['train', 'val'])
def test_labels_paths_and_crowd(cityscapes_root, split):
    dataset = build(cityscapes_root, split)
    stems = stems_of(cityscapes_root, split)
    assert len(dataset) == len(stems)
    loader = LoadPanopticAnnotationsChecked(with_bbox=True, with_mask=True, with_seg=True)
    for index, stem in enumerate(stems):
        city = stem.split('_')[0]
        info = dataset.get_data_info(index)
        assert info['img_path'] == str(
            cityscapes_root / 'leftImg8bit' / split / city / f'{stem}_leftImg8bit.png')
        assert Path(info['img_path']).is_file()
        assert info['seg_map_path'] == str(
            cityscapes_root / 'gtFine' / f'cityscapes_panoptic_{split}' /
            f'{stem}_gtFine_panoptic.png')
        instance_ids = np.array(Image.open(
            cityscapes_root / 'gtFine' / split / city / f'{stem}_gtFine_instanceIds.png'))
        # crowd flags: thing label ids stored without instance number
        crowd = {s['id']: s['iscrowd'] for s in info['segments_info']}
        expected_crowd = {
            int(v): int(v < 1000 and id2label[int(v)].hasInstances)
            for v in np.unique(instance_ids)
            if not id2label[int(v) // 1000 if v >= 1000 else int(v)].ignoreInEval}
        assert crowd == expected_crowd
        assert 1 in crowd.values()
        for seg in info['segments_info']:
            ys, xs = np.nonzero(instance_ids == seg['id'])
            assert seg['area'] == len(ys)
            assert seg['bbox'] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        num_instances = sum(1 for v in np.unique(instance_ids) if v >= 1000)
        assert len(info['instances']) == num_instances
        info['ori_shape'] = (info['height'], info['width'])
        results = loader(info)
        np.testing.assert_array_equal(results['gt_seg_map'], expected_labels(instance_ids))
        assert len(results['gt_masks']) == num_instances


def test_mmdet_coco_panoptic_dataset_mislabels_cityscapes(cityscapes_root):
    ours = build(cityscapes_root, 'val')
    theirs = build(cityscapes_root, 'val', cls=CocoPanopticDataset,
                   metainfo=dict(CityscapesPanopticDataset.METAINFO))
    ours_labels = {s['id']: s['category'] for s in ours.get_data_info(0)['segments_info']}
    theirs_labels = {s['id']: s['category'] for s in theirs.get_data_info(0)['segments_info']}
    assert ours_labels != theirs_labels
    assert ours_labels[name2label['car'].id * 1000] == THINGS.index('car')


def test_missing_split_is_a_clear_error(tmp_path):
    (tmp_path / 'gtFine' / 'train').mkdir(parents=True)
    proc = subprocess.run(
        [sys.executable, str(CLI), '--data-root', str(tmp_path), '--splits', 'val'],
        capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode == 1
    assert str(tmp_path / 'gtFine' / 'val') in proc.stderr
    proc = subprocess.run(
        [sys.executable, str(CLI), '--data-root', str(tmp_path), '--splits', 'train'],
        capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode == 1
    assert 'instanceIds' in proc.stderr and str(tmp_path / 'gtFine' / 'train') in proc.stderr
    assert not (tmp_path / 'gtFine' / 'cityscapes_panoptic_train.json').exists()


@pytest.mark.parametrize('case', ['image_without_annotation', 'annotation_without_image',
                                  'no_images'])
def test_unpaired_images_are_a_clear_error(tmp_path, cityscapes_root, case):
    import shutil
    for sub in ('leftImg8bit/val', 'gtFine/val'):
        shutil.copytree(cityscapes_root / sub, tmp_path / sub)
    stem = stems_of(tmp_path, 'val')[0]
    city = stem.split('_')[0]
    image = tmp_path / 'leftImg8bit/val' / city / f'{stem}_leftImg8bit.png'
    annotation = tmp_path / 'gtFine/val' / city / f'{stem}_gtFine_instanceIds.png'
    if case == 'image_without_annotation':
        annotation.unlink()
        named = image
    elif case == 'annotation_without_image':
        image.unlink()
        named = annotation
    else:
        shutil.rmtree(tmp_path / 'leftImg8bit')
        named = tmp_path / 'leftImg8bit' / 'val'
    proc = subprocess.run(
        [sys.executable, str(CLI), '--data-root', str(tmp_path), '--splits', 'val'],
        capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode == 1
    assert str(named) in proc.stderr
    assert not (tmp_path / 'gtFine' / 'cityscapes_panoptic_val.json').exists()
