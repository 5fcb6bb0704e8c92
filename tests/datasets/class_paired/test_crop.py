"""ClassPairedCrop: scale rule and clamps, crop placement, equivalence with resize-then-crop,
and errors instead of dropped samples (also through the dataset's structured index)."""
import math

import mmcv
import numpy as np
import pytest
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks

from mmibs.datasets import PairedSample, PairedSampleError, SyntheticStreetsPanopticDataset
from mmibs.datasets.class_paired import ClassPairedCrop, ClassPairedCropError

LOAD = [dict(type='LoadImageFromFile'),
        dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True,
             with_seg=True)]


def dataset(root, pipeline):
    return SyntheticStreetsPanopticDataset(
        data_root=str(root), ann_file='annotations/panoptic_train.json',
        data_prefix=dict(img='images/train/', seg='annotations/panoptic_train/'),
        pipeline=pipeline)


@pytest.fixture(scope='module')
def loaded(synthetic_root):
    """Loaded (not yet cropped) results of every training image, from the real loaders."""
    ds = dataset(synthetic_root, LOAD)
    return ds, [ds[i] for i in range(len(ds))]


def synthetic_results(h=60, w=90, seed=0):
    """A random image with 3 instances and a semantic map, plus one sampled thing segment."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
    seg = rng.integers(0, 4, (h, w)).astype(np.uint8)
    masks = np.zeros((3, h, w), dtype=np.uint8)
    masks[0, 10:30, 5:25] = 1
    masks[1, 35:55, 50:85] = 1
    masks[2, 0:5, 0:5] = 1
    boxes = np.array([[5, 10, 25, 30], [50, 35, 85, 55], [0, 0, 5, 5]], dtype=np.float32)
    return dict(
        img=img, img_path='synthetic.png', img_shape=(h, w), ori_shape=(h, w),
        gt_seg_map=seg, gt_masks=BitmapMasks(masks, h, w), gt_bboxes=HorizontalBoxes(boxes),
        gt_bboxes_labels=np.array([0, 1, 0]), gt_ignore_flags=np.zeros(3, dtype=bool),
        segments_info=[dict(id=11, category=0, bbox=[5, 10, 25, 30], area=400),
                       dict(id=12, category=1, bbox=[50, 35, 85, 55], area=700),
                       dict(id=20, category=3, bbox=[0, 0, 90, 60], area=900)],
        ibs_sample=dict(segment_id=12, label=1, scale=40.0))


def test_thing_resize_hits_the_shared_scale_within_the_clamps():
    t = ClassPairedCrop(crop_size=(64, 32), min_short_side=30, max_short_side=300,
                        max_long_side=400)
    bbox = [0, 0, 20, 5]  # sqrt area 10
    assert t.thing_ratio(60, 90, bbox, 40.0) == pytest.approx(4.0)
    # clamped up to min_short_side / short and down to max_short_side / short ...
    assert t.thing_ratio(60, 90, bbox, 1.0) == pytest.approx(30 / 60)
    t2 = ClassPairedCrop(crop_size=(64, 32), min_short_side=30, max_short_side=120,
                         max_long_side=4000)
    assert t2.thing_ratio(60, 90, bbox, 400.0) == pytest.approx(120 / 60)
    # ... then the longest side is limited to max_long_side
    assert t.thing_ratio(60, 90, bbox, 100.0) == pytest.approx(400 / 90)


def test_stuff_uses_the_random_resize():
    t = ClassPairedCrop(crop_size=(64, 32), stuff_resize=dict(scale=(200, 100),
                                                              ratio_range=(0.5, 2.0)))
    np.random.seed(0)
    sizes = [t.stuff_size(50, 100) for _ in range(200)]
    # keep-ratio resize of 50x100 to (200 x 100) * [0.5, 2]: short side in [50, 200]
    shorts = [s[0] for s in sizes]
    assert min(shorts) >= 50 and max(shorts) <= 200 and max(shorts) - min(shorts) > 100
    assert all(abs(w - 2 * h) <= 1 for h, w in sizes)
    d2 = ClassPairedCrop(crop_size=(64, 32), stuff_resize=dict(short_side=[64, 96],
                                                               sample_style='choice',
                                                               max_long_side=150))
    assert {d2.stuff_size(50, 100) for _ in range(50)} == {(64, 128), (75, 150)}


def test_window_always_contains_the_centre_and_covers_every_position():
    np.random.seed(0)
    starts = [ClassPairedCrop.window_start(10.7, 50, 8) for _ in range(2000)]
    assert set(starts) == set(range(3, 11))  # every window of 8 that holds pixel 10
    np.random.seed(0)
    assert {ClassPairedCrop.window_start(1.2, 50, 8) for _ in range(500)} == set(range(0, 2))
    assert {ClassPairedCrop.window_start(49.9, 50, 8) for _ in range(500)} == {42}
    assert {ClassPairedCrop.window_start(60.0, 50, 8) for _ in range(50)} == {42}


def reference_resize_then_crop(results, new_hw, window):
    """mmcv resize of the whole image / masks / map to new_hw, then the crop window."""
    new_h, new_w = new_hw
    x0, y0, x1, y1 = window
    img = mmcv.imresize(results['img'], (new_w, new_h), interpolation='bilinear')
    seg = mmcv.imresize(results['gt_seg_map'], (new_w, new_h), interpolation='nearest')
    masks = results['gt_masks'].resize((new_h, new_w))
    return (img[y0:y1, x0:x1], seg[y0:y1, x0:x1], masks.masks[:, y0:y1, x0:x1])


@pytest.mark.parametrize('scale', [7.0, 20.0, 31.6, 90.0])
@pytest.mark.parametrize('dtype', [np.uint8, np.float32])
def test_crop_matches_resize_then_crop(scale, dtype):
    results = synthetic_results()
    results['img'] = results['img'].astype(dtype)
    original = {k: (v.copy() if hasattr(v, 'copy') else v) for k, v in results.items()}
    original['gt_masks'] = BitmapMasks(results['gt_masks'].masks.copy(), 60, 90)
    results['ibs_sample'] = dict(segment_id=12, label=1, scale=scale)
    t = ClassPairedCrop(crop_size=(48, 24), min_short_side=10, max_short_side=1000,
                        max_long_side=10000)
    np.random.seed(1)
    out = t(results)
    info = out['ibs_sample']
    img, seg, masks = reference_resize_then_crop(original, info['resized_shape'],
                                                 info['crop_window'])
    assert out['img'].shape == img.shape and out['img'].dtype == img.dtype
    diff = np.abs(out['img'].astype(np.float64) - img.astype(np.float64))
    # identical for float32; uint8 within one grey level of cv2's fixed-point weights
    assert diff.max() <= (1 if dtype == np.uint8 else 1e-3)
    np.testing.assert_array_equal(out['gt_seg_map'], seg)
    # instances whose resized box meets the crop are kept, masks equal the reference's
    nonempty = [m for m in out['gt_masks'].masks if m.any()]
    np.testing.assert_array_equal(np.array(nonempty).reshape(-1, *seg.shape),
                                  np.array([m for m in masks if m.any()]).reshape(-1, *seg.shape))
    assert len(out['gt_bboxes']) == len(out['gt_bboxes_labels']) == len(out['gt_masks'])


def test_real_crops_are_sized_contain_the_centre_and_have_the_scale(loaded):
    ds, samples = loaded
    t = ClassPairedCrop(crop_size=(128, 64), min_short_side=32, max_short_side=387,
                        max_long_side=774, stuff_resize=dict(scale=(256, 128),
                                                             ratio_range=(0.5, 2.0)))
    np.random.seed(0)
    checked = 0
    for results in samples:
        for seg in results['segments_info']:
            scale = 16.0 if seg['category'] < 3 else None
            r = dict(results, ibs_sample=dict(segment_id=seg['id'], label=seg['category'],
                                              scale=scale))
            r['gt_masks'] = BitmapMasks(results['gt_masks'].masks.copy(), 128, 256)
            r['gt_bboxes'] = results['gt_bboxes'].clone()
            out = t(r)
            info = out['ibs_sample']
            new_h, new_w = info['resized_shape']
            assert out['img'].shape[:2] == (min(64, new_h), min(128, new_w))
            assert out['gt_seg_map'].shape == out['img'].shape[:2]
            x0, y0, x1, y1 = info['crop_window']
            cx, cy = info['centre']
            assert x0 <= min(math.floor(cx), new_w - 1) < x1
            assert y0 <= min(math.floor(cy), new_h - 1) < y1
            if scale is not None:
                x_1, y_1, x_2, y_2 = seg['bbox']
                side = math.sqrt((x_2 - x_1) * (y_2 - y_1)) * info['ratio'][0]
                ratio = scale / math.sqrt((x_2 - x_1) * (y_2 - y_1))
                lo, hi = 32 / 128, min(387 / 128, 774 / 256)
                if lo < ratio < hi:  # not clamped: the box has the shared scale
                    assert side == pytest.approx(scale, rel=0.02)
                else:
                    assert info['ratio'][0] == pytest.approx(min(max(ratio, lo), hi), rel=0.01)
                checked += 1
    assert checked > 10


def test_errors_name_the_image():
    t = ClassPairedCrop(crop_size=(48, 24))
    results = synthetic_results()
    del results['ibs_sample']
    with pytest.raises(ClassPairedCropError, match='synthetic.png.*ClassPairedBatchSampler'):
        t(results)
    results = synthetic_results()
    results['ibs_sample']['segment_id'] = 99
    with pytest.raises(ClassPairedCropError, match='synthetic.png.*99'):
        t(results)
    results = synthetic_results()
    results['ibs_sample']['label'] = 0
    with pytest.raises(ClassPairedCropError, match='synthetic.png.*label'):
        t(results)
    results = synthetic_results()
    results['segments_info'][1]['bbox'] = [50, 35, 50, 55]
    with pytest.raises(ClassPairedCropError, match='synthetic.png.*empty bbox'):
        t(results)


def test_small_image_gives_smaller_crop_never_none():
    t = ClassPairedCrop(crop_size=(500, 400), min_short_side=10, max_short_side=60,
                        max_long_side=90)
    out = t(synthetic_results())
    assert out is not None and out['img'].shape[:2] == (60, 90)


def test_dataset_item_is_deterministic_and_never_replaced(synthetic_root):
    pipeline = LOAD + [dict(type='ClassPairedCrop', crop_size=(128, 64), min_short_side=32,
                            max_short_side=387, max_long_side=774,
                            stuff_resize=dict(scale=(256, 128), ratio_range=(0.5, 2.0))),
                       dict(type='RandomFlip', prob=0.5)]
    ds = dataset(synthetic_root, pipeline)
    index = ds.get_segment_index()
    seg = index.segment(0)
    label = next(s['category'] for s in ds.get_data_info(seg['image'])['segments_info']
                 if s['id'] == seg['segment_id'])
    sample = PairedSample(index=seg['image'], segment_id=seg['segment_id'], label=label,
                          scale=16.0, partner=1, seed=123)
    np.random.seed(5)
    before = np.random.get_state()[1].copy()
    a, b = ds[sample], ds[sample]
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # global RNG untouched
    np.testing.assert_array_equal(a['img'], b['img'])
    assert a['ibs_partner'] == 1 and a['ibs_sample']['seed'] == 123
    assert a['flip'] == b['flip']
    # a pipeline that drops the sample raises instead of fetching another image
    ds_none = dataset(synthetic_root, LOAD + [lambda results: None])
    with pytest.raises(PairedSampleError, match=r'synth_train_\d+\.jpg'):
        ds_none[sample]
    # a sample that does not fit its image raises, naming the image
    with pytest.raises(Exception, match=r'synth_train_\d+\.jpg'):
        ds[sample._replace(segment_id=-5)]
