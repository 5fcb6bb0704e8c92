"""SegmentIndex: contents against the JSON, crowd rules, draws, errors, on-disk cache, tool."""
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mmibs.datasets import SegmentIndex, SegmentIndexError, SyntheticStreetsPanopticDataset
from mmibs.datasets.class_paired import segment_index as si

THINGS_FIRST = ('person', 'car', 'truck', 'road', 'sidewalk', 'building', 'vegetation', 'sky')


def build(root, **kwargs):
    return SyntheticStreetsPanopticDataset(
        data_root=str(root), ann_file='annotations/panoptic_train.json',
        data_prefix=dict(img='images/train/', seg='annotations/panoptic_train/'), pipeline=[],
        **kwargs)


def tiny_json():
    """Two images; class b appears only as crowd in image 2; class c never."""
    seg = lambda i, c, crowd=0: dict(id=i, category_id=c, bbox=[i, i, 4, 2], area=8,  # noqa
                                     iscrowd=crowd)
    return dict(
        images=[dict(id=1, file_name='a.png'), dict(id=2, file_name='b.png')],
        annotations=[
            dict(image_id=1, segments_info=[seg(1, 10), seg(2, 10), seg(3, 10, 1), seg(4, 20)]),
            dict(image_id=2, segments_info=[seg(5, 10), seg(6, 20, 1)]),
        ],
        categories=[dict(id=10, name='a', isthing=1), dict(id=20, name='b', isthing=1),
                    dict(id=30, name='c', isthing=0)])


def test_index_matches_the_json(synthetic_root):
    ds = build(synthetic_root)
    index = ds.get_segment_index()
    assert ds.get_segment_index() is index  # built once, cached in memory
    raw = json.loads((synthetic_root / 'annotations/panoptic_train.json').read_text())
    name_of = {c['id']: c['name'] for c in raw['categories']}
    images, segments = Counter(), Counter()
    for ann in raw['annotations']:
        names = [name_of[s['category_id']] for s in ann['segments_info'] if not s['iscrowd']]
        segments.update(names)
        images.update(set(names))
    counts = {c['name']: c for c in index.counts()}
    assert index.class_names == THINGS_FIRST
    for name in THINGS_FIRST:
        assert counts[name]['images'] == images[name]
        assert counts[name]['segments'] == segments[name]
    # every indexed segment sits in its image's segments_info with that label and bbox
    for pos in range(len(index.seg_id)):
        seg = index.segment(pos)
        info = ds.get_data_info(seg['image'])
        match = [s for s in info['segments_info'] if s['id'] == seg['segment_id']]
        assert len(match) == 1
        np.testing.assert_allclose(match[0]['bbox'], seg['bbox'])
    label_of_pos = np.repeat(np.arange(index.num_classes), np.diff(
        index.group_ptr[index.class_ptr]))
    for pos in range(0, len(index.seg_id), 7):
        seg = index.segment(pos)
        info = ds.get_data_info(seg['image'])
        assert [s['category'] for s in info['segments_info']
                if s['id'] == seg['segment_id']] == [label_of_pos[pos]]


def test_crowd_rules_and_draw_modes():
    index = SegmentIndex.from_coco_panoptic(tiny_json())
    assert [c['images'] for c in index.counts()] == [2, 1, 0]
    assert [c['segments'] for c in index.counts()] == [3, 1, 0]
    assert [c['crowd'] for c in index.counts()] == [1, 0, 0]  # b's crowd-only image: no group
    assert [c['crowd_only_images'] for c in index.counts()] == [0, 1, 0]
    assert index.empty_classes() == [2]
    rng = np.random.default_rng(0)
    drawn = Counter(index.segment(index.draw(0, rng))['segment_id'] for _ in range(4000))
    # authors' rule: image uniform (1/2 each), then segment uniform within it, crowd included
    assert set(drawn) == {1, 2, 3, 5}
    assert drawn[5] == pytest.approx(2000, rel=0.1)
    assert drawn[1] == pytest.approx(667, rel=0.15)
    drawn = Counter(index.segment(index.draw(0, rng, mode='segment', include_crowd=False))
                    ['segment_id'] for _ in range(3000))
    assert set(drawn) == {1, 2, 5} and drawn[5] == pytest.approx(1000, rel=0.15)
    assert {index.segment(index.draw(0, rng, exclude_image=0))['image'] for _ in range(50)} == {1}
    with pytest.raises(SegmentIndexError, match="'c'.*no segments"):
        index.draw(2, rng)
    with pytest.raises(SegmentIndexError, match="'b'.*one image"):
        index.draw(1, rng, exclude_image=0)


def test_on_disk_cache_is_keyed_by_the_annotation_hash(synthetic_root, tmp_path):
    root = tmp_path / 'copy'
    root.mkdir()
    (root / 'annotations').mkdir()
    ann = root / 'annotations/panoptic_train.json'
    ann.write_bytes((synthetic_root / 'annotations/panoptic_train.json').read_bytes())
    os.symlink(synthetic_root / 'images', root / 'images')
    cache = tmp_path / 'cache'
    first = build(root, segment_index_cache=str(cache)).get_segment_index()
    files = list(cache.glob('segment_index_*.npz'))
    assert len(files) == 1 and not list(cache.glob('.segment_index_*'))  # atomic, no temp left
    again = build(root, segment_index_cache=str(cache)).get_segment_index()
    for name in SegmentIndex.ARRAYS:
        np.testing.assert_array_equal(getattr(again, name), getattr(first, name))
    assert again.class_names == first.class_names
    # another annotation file (same content but one segment less) -> another key
    raw = json.loads(ann.read_text())
    raw['annotations'][0]['segments_info'] = raw['annotations'][0]['segments_info'][:-1]
    ann.write_text(json.dumps(raw))
    changed = build(root, segment_index_cache=str(cache)).get_segment_index()
    assert len(list(cache.glob('segment_index_*.npz'))) == 2
    assert len(changed.seg_id) == len(first.seg_id) - 1
    # a corrupt cache file is rebuilt (back to the original annotation file)
    files[0].write_bytes(b'garbage')
    ann.write_bytes((synthetic_root / 'annotations/panoptic_train.json').read_bytes())
    rebuilt = build(root, segment_index_cache=str(cache)).get_segment_index()
    np.testing.assert_array_equal(rebuilt.seg_id, first.seg_id)
    assert si.SegmentIndex.load(str(files[0])).seg_id.shape == first.seg_id.shape


def test_build_class_index_tool(synthetic_root, tmp_path, repo_root):
    out = subprocess.run(
        [sys.executable, 'tools/dataset_converters/build_class_index.py',
         str(synthetic_root / 'annotations/panoptic_train.json'), '--cache-dir',
         str(tmp_path)], cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    index = SegmentIndex.from_coco_panoptic(
        json.loads((synthetic_root / 'annotations/panoptic_train.json').read_text()))
    for c in index.counts():
        line = next(row for row in out.stdout.splitlines() if row.split()[:1] == [c['name']])
        assert line.split()[2:4] == [str(c['images']), str(c['segments'])]
    assert len(list(Path(tmp_path).glob('segment_index_*.npz'))) == 1


def test_index_without_filter_covers_stuff_only_images(synthetic_root, tmp_path):
    """With filter_cfg=None (the configs' setting, the authors' index) an image without things
    still serves its stuff classes; mmdet's filter_empty_gt would drop it from the index."""
    root = tmp_path / 'synthetic'
    shutil.copytree(synthetic_root, root)
    path = root / 'annotations/panoptic_train.json'
    raw = json.loads(path.read_text())
    things = {c['id'] for c in raw['categories'] if c['isthing']}
    first = raw['annotations'][0]
    first['segments_info'] = [s for s in first['segments_info'] if s['category_id'] not in things]
    path.write_text(json.dumps(raw))
    everything = build(root, filter_cfg=None).get_segment_index()
    filtered = build(root, filter_cfg=dict(filter_empty_gt=True, min_size=32)).get_segment_index()
    stuff = [THINGS_FIRST.index(n) for n in ('road', 'sky')]
    for label in stuff:
        assert 0 in everything.group_image[everything.class_ptr[label]:
                                           everything.class_ptr[label + 1]]
        assert everything.num_images(label) == filtered.num_images(label) + 1
