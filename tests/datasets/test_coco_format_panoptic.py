"""CocoFormatPanopticDataset / SyntheticStreetsPanopticDataset and the checked PNG loader."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from mmdet.datasets import CocoPanopticDataset
from mmdet.registry import TRANSFORMS
from panopticapi.utils import id2rgb, rgb2id
from PIL import Image
from torch.utils.data import DataLoader

from mmibs.datasets import (
    CocoFormatPanopticDataset,
    LoadPanopticAnnotationsChecked,
    PanopticAnnotationError,
    SampleLoadError,
    SyntheticStreetsPanopticDataset,
)

THINGS_FIRST = ('person', 'car', 'truck', 'road', 'sidewalk', 'building', 'vegetation', 'sky')


def build(root, split='val', cls=SyntheticStreetsPanopticDataset, **kwargs):
    """The dataset of ``split`` under ``root`` with the checked loader as its only transform."""
    return cls(
        data_root=str(root),
        ann_file=f'annotations/panoptic_{split}.json',
        data_prefix=dict(img=f'images/{split}/', seg=f'annotations/panoptic_{split}/'),
        pipeline=[dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True,
                       with_seg=True)],
        test_mode=True,
        **kwargs)


def load_sample(dataset, index):
    """Run the checked loader on one data info (``ori_shape`` as LoadImageFromFile sets it)."""
    info = dataset.get_data_info(index)
    info['ori_shape'] = (info['height'], info['width'])
    return LoadPanopticAnnotationsChecked(with_bbox=True, with_mask=True, with_seg=True)(info)


def expected_label_map(root, split, index):
    """Label map computed straight from the JSON and PNG, without any mmibs code."""
    raw = json.loads((root / f'annotations/panoptic_{split}.json').read_text())
    name_of = {c['id']: c['name'] for c in raw['categories']}
    ann = raw['annotations'][index]
    ids = rgb2id(np.array(Image.open(root / f'annotations/panoptic_{split}' / ann['file_name'])))
    labels = np.full(ids.shape, 255, dtype=np.int64)
    for seg in ann['segments_info']:
        labels[ids == seg['id']] = THINGS_FIRST.index(name_of[seg['category_id']])
    return labels


def test_json_is_stuff_first_but_labels_are_things_first(synthetic_root):
    raw = json.loads((synthetic_root / 'annotations/panoptic_val.json').read_text())
    assert [c['isthing'] for c in raw['categories']] == [0] * 5 + [1] * 3
    dataset = build(synthetic_root)
    assert dataset.metainfo['classes'] == THINGS_FIRST
    assert len(dataset.metainfo['palette']) == len(THINGS_FIRST)
    for index in range(len(dataset)):
        results = load_sample(dataset, index)
        np.testing.assert_array_equal(results['gt_seg_map'],
                                      expected_label_map(synthetic_root, 'val', index))


def test_mmdet_coco_panoptic_dataset_mislabels_stuff_first_json(synthetic_root):
    """The reason this dataset class exists: mmdet maps labels in JSON order."""
    ours = build(synthetic_root)
    mmdet_dataset = build(synthetic_root, cls=CocoPanopticDataset,
                          metainfo=dict(SyntheticStreetsPanopticDataset.METAINFO))
    ours_labels = {s['id']: s['category'] for s in ours.get_data_info(0)['segments_info']}
    mmdet_labels = {s['id']: s['category'] for s in mmdet_dataset.get_data_info(0)['segments_info']}
    assert ours_labels != mmdet_labels


def test_paths_crowd_and_instances(synthetic_root):
    raw = json.loads((synthetic_root / 'annotations/panoptic_train.json').read_text())
    dataset = build(synthetic_root, split='train')
    assert len(dataset) == len(raw['images'])
    num_crowd = 0
    for index, (img, ann) in enumerate(zip(raw['images'], raw['annotations'])):
        info = dataset.get_data_info(index)
        assert info['img_path'] == str(synthetic_root / 'images/train' / img['file_name'])
        assert info['seg_map_path'] == str(
            synthetic_root / 'annotations/panoptic_train' / ann['file_name'])
        assert (info['height'], info['width']) == (img['height'], img['width'])
        by_id = {s['id']: s for s in ann['segments_info']}
        assert {s['id'] for s in info['segments_info']} == set(by_id)
        for seg in info['segments_info']:
            raw_seg = by_id[seg['id']]
            x, y, w, h = raw_seg['bbox']
            assert seg['bbox'] == [x, y, x + w, y + h] and seg['area'] == raw_seg['area']
            assert seg['iscrowd'] == raw_seg['iscrowd']
            assert seg['is_thing'] == (seg['category'] < 3 and not raw_seg['iscrowd'])
            num_crowd += raw_seg['iscrowd']
        things = [s for s in info['segments_info'] if s['is_thing']]
        assert [inst['bbox'] for inst in info['instances']] == [s['bbox'] for s in things]
        assert [inst['bbox_label'] for inst in info['instances']] == [
            s['category'] for s in things]
        results = load_sample(dataset, index)
        assert len(results['gt_masks']) == len(things) == len(results['gt_bboxes'])
    assert num_crowd > 0


@pytest.fixture
def copied_root(synthetic_root, tmp_path):
    """A writable copy of the tiny dataset."""
    root = tmp_path / 'copy'
    shutil.copytree(synthetic_root, root)
    return root


def test_missing_annotation_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='panoptic_val.json'):
        build(tmp_path / 'nowhere')


def test_malformed_json_names_file_and_line(copied_root):
    path = copied_root / 'annotations/panoptic_val.json'
    path.write_text('{"images": [\n  {"id": 1,,}\n]}')
    with pytest.raises(PanopticAnnotationError,
                       match=r'panoptic_val.json: malformed JSON at line 2'):
        build(copied_root)


def test_unknown_category_is_an_error(copied_root):
    path = copied_root / 'annotations/panoptic_val.json'
    raw = json.loads(path.read_text())
    raw['annotations'][0]['segments_info'][0]['category_id'] = 99
    path.write_text(json.dumps(raw))
    with pytest.raises(PanopticAnnotationError, match='category_id 99'):
        build(copied_root)


def test_metainfo_must_be_things_first(synthetic_root):
    meta = SyntheticStreetsPanopticDataset.METAINFO
    with pytest.raises(ValueError, match='things first'):
        build(synthetic_root, cls=CocoFormatPanopticDataset,
              metainfo=dict(meta, classes=meta['stuff_classes'] + meta['thing_classes']))


def test_isthing_mismatch_is_an_error(synthetic_root):
    meta = SyntheticStreetsPanopticDataset.METAINFO
    swapped = dict(thing_classes=('person', 'car', 'road'),
                   stuff_classes=('truck', 'sidewalk', 'building', 'vegetation', 'sky'))
    swapped['classes'] = swapped['thing_classes'] + swapped['stuff_classes']
    with pytest.raises(PanopticAnnotationError, match="'road'.*isthing=0"):
        build(synthetic_root, cls=CocoFormatPanopticDataset, metainfo=dict(meta, **swapped))


def test_png_with_unlisted_id_names_the_png(copied_root):
    dataset = build(copied_root)
    png_path = dataset.get_data_info(0)['seg_map_path']
    ids = rgb2id(np.array(Image.open(png_path)))
    ids[:3, :3] = 123456  # an id that segments_info does not list
    Image.fromarray(id2rgb(ids)).save(png_path)
    with pytest.raises(PanopticAnnotationError, match=r'panoptic_val/.*\.png.*\[123456\]'):
        load_sample(dataset, 0)


def test_png_missing_a_listed_segment_names_the_png(copied_root):
    dataset = build(copied_root)
    info = dataset.get_data_info(0)
    ids = rgb2id(np.array(Image.open(info['seg_map_path'])))
    victim = info['segments_info'][0]['id']
    ids[ids == victim] = 0
    Image.fromarray(id2rgb(ids)).save(info['seg_map_path'])
    with pytest.raises(PanopticAnnotationError, match=f'absent from the PNG \\[{victim}\\]'):
        load_sample(dataset, 0)


@pytest.mark.parametrize('damage', ['garbage', 'truncated', 'empty'])
def test_undecodable_png_names_the_png_and_image(copied_root, damage):
    dataset = build(copied_root)
    info = dataset.get_data_info(0)
    path = Path(info['seg_map_path'])
    data = path.read_bytes()
    path.write_bytes({'garbage': bytes(range(256)) * 8, 'truncated': data[:len(data) // 3],
                      'empty': b''}[damage])
    with pytest.raises(PanopticAnnotationError,
                       match=rf'{path.name} \(image id {info["img_id"]!r}\): cannot be decoded'):
        load_sample(dataset, 0)


def test_missing_png_names_the_png_and_image(copied_root):
    dataset = build(copied_root)
    info = dataset.get_data_info(0)
    Path(info['seg_map_path']).unlink()
    with pytest.raises(PanopticAnnotationError,
                       match=rf'\(image id {info["img_id"]!r}\): cannot read the panoptic PNG'):
        load_sample(dataset, 0)


@pytest.mark.parametrize('damage', ['missing', 'garbage', 'empty'])
def test_unreadable_image_file_names_the_image_in_a_dataloader_worker(copied_root, damage):
    """mmcv's LoadImageFromFile fails on the image with a bare traceback in the worker; the
    dataset re-raises it naming the image file, its id and its PNG."""
    dataset = build(copied_root)
    dataset.pipeline.transforms.insert(0, TRANSFORMS.build(dict(type='LoadImageFromFile')))
    info = dataset.get_data_info(1)
    path = Path(info['img_path'])
    if damage == 'missing':
        path.unlink()
    else:
        path.write_bytes(bytes(range(256)) * 8 if damage == 'garbage' else b'')
    assert dataset[0]['img'].ndim == 3  # the other images load
    loader = DataLoader(dataset, batch_size=1, num_workers=1, collate_fn=lambda batch: batch)
    with pytest.raises(SampleLoadError) as error:
        list(loader)
    message = str(error.value)
    assert f'image {path}' in message and f'image id {info["img_id"]!r}' in message
    assert Path(info['seg_map_path']).name in message
