"""ColorAugSSD against the definition of the authors' colour augmentation (detectron2's
ColorAugSSDTransform): draw ranges and frequencies, each step on hand-computed pixels (HSV
expectations from Python's colorsys), clipping after every step, both step orders, the hue
wrap-around, no channel permutation (unlike mmdet's PhotoMetricDistortion), dtypes."""
import colorsys

import cv2
import numpy as np
import pytest
from mmcv.transforms.utils import cache_random_params
from mmdet.datasets.transforms import PhotoMetricDistortion

from mmibs.datasets.transforms import ColorAugParams, ColorAugSSD
from mmibs.datasets.transforms.color_aug_ssd import color_aug_ssd

NONE = ColorAugParams(None, True, None, None, None)


def pixel(b: int, g: int, r: int) -> np.ndarray:
    return np.array([[[b, g, r]]], np.uint8)


def bgr_of_hsv(degrees: float, s: float, v: float) -> np.ndarray:
    """The 8-bit BGR pixel of a colour given in degrees and [0, 1] (colorsys, not OpenCV)."""
    r, g, b = colorsys.hsv_to_rgb(degrees / 360, s, v)
    return np.array([b, g, r]) * 255


def apply(params: ColorAugParams, img: np.ndarray) -> np.ndarray:
    return color_aug_ssd(img, params).astype(int)


def test_draws_cover_the_authors_ranges_with_probability_one_half():
    t = ColorAugSSD()
    np.random.seed(0)
    draws = [t.sample_params() for _ in range(4000)]
    for name, low, high in (('brightness', -32, 32), ('contrast', 0.5, 1.5),
                            ('saturation', 0.5, 1.5), ('hue', -18, 18)):
        values = np.array([getattr(p, name) for p in draws if getattr(p, name) is not None])
        assert 0.46 < len(values) / len(draws) < 0.54, name
        assert low <= values.min() and values.max() <= high, name
        assert values.min() < low + 0.05 * (high - low) and values.max() > high - 0.05 * (
            high - low), name
    hues = [p.hue for p in draws if p.hue is not None]
    assert all(isinstance(h, int) for h in hues) and {-18, 18} <= set(hues)
    assert 0.46 < np.mean([p.contrast_first for p in draws]) < 0.54


def test_brightness_and_contrast_clip_and_truncate():
    img = pixel(10, 230, 128)
    assert apply(NONE._replace(brightness=40.0), img).tolist() == [[[50, 255, 168]]]
    assert apply(NONE._replace(brightness=-40.0), img).tolist() == [[[0, 190, 88]]]
    # 101 * 0.7 = 70.7 -> 70 (truncated, not rounded); 230 * 1.5 -> 255
    assert apply(NONE._replace(contrast=0.7), pixel(101, 230, 0)).tolist() == [[[70, 161, 0]]]
    assert apply(NONE._replace(contrast=1.5), pixel(100, 230, 50)).tolist() == [[[150, 255, 75]]]


def test_values_are_clipped_after_every_step():
    """200 + 100 is clipped to 255 before the contrast halves it: 127, not (200 + 100) / 2."""
    params = NONE._replace(brightness=100.0, contrast=0.5)
    assert apply(params, pixel(200, 200, 200)).tolist() == [[[127, 127, 127]]]


def test_hue_shifts_in_opencv_units_of_two_degrees_and_wraps():
    red = pixel(0, 0, 255)  # OpenCV H = 0
    np.testing.assert_allclose(apply(NONE._replace(hue=18), red)[0, 0], bgr_of_hsv(36, 1, 1),
                               atol=1)
    np.testing.assert_allclose(apply(NONE._replace(hue=-18), red)[0, 0], bgr_of_hsv(324, 1, 1),
                               atol=1)
    magenta_red = np.round(bgr_of_hsv(340, 1, 1)).astype(np.uint8)[None, None]  # H = 170
    np.testing.assert_allclose(apply(NONE._replace(hue=18), magenta_red)[0, 0],
                               bgr_of_hsv(16, 1, 1), atol=1)  # 170 + 18 = 188 -> 8


def test_saturation_scales_s_and_clips():
    np.testing.assert_allclose(apply(NONE._replace(saturation=0.5), pixel(0, 0, 200))[0, 0],
                               bgr_of_hsv(0, 127 / 255, 200 / 255), atol=1)
    # S = 199 * 1.5 = 298 -> 255: fully saturated, not wrapped around.
    np.testing.assert_allclose(apply(NONE._replace(saturation=1.5), pixel(56, 56, 255))[0, 0],
                               [0, 0, 255], atol=1)
    assert apply(NONE._replace(saturation=1.5), pixel(90, 90, 90)).tolist() == [[[90, 90, 90]]]


def test_both_orders_of_the_steps():
    """Contrast first: (0, 0, 200) -> (0, 0, 255) -> S halved at V 255. Contrast last: S halved
    at V 200 -> (100, 100, 200) -> x 1.5 -> (150, 150, 255)."""
    params = ColorAugParams(None, True, 1.5, 0.5, None)
    np.testing.assert_allclose(apply(params, pixel(0, 0, 200))[0, 0],
                               bgr_of_hsv(0, 127 / 255, 1), atol=1)
    np.testing.assert_allclose(apply(params._replace(contrast_first=False),
                                     pixel(0, 0, 200))[0, 0], [150, 150, 255], atol=1.5)


def test_transform_applies_the_steps_it_drew():
    """Over many draws, the transform's output is the explicit chain of the drawn steps."""
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)
    t = ColorAugSSD()
    np.random.seed(3)
    for _ in range(200):
        with cache_random_params(t):
            out = t(dict(img=img.copy()))['img']
            p = t.sample_params()
        expected = img.astype(np.float32)
        steps = ['contrast', 'saturation', 'hue'] if p.contrast_first else [
            'saturation', 'hue', 'contrast']
        if p.brightness is not None:
            expected = np.clip(expected + p.brightness, 0, 255).astype(np.uint8)
        expected = expected.astype(np.uint8)
        for step in steps:
            value = getattr(p, step)
            if value is None:
                continue
            if step == 'contrast':
                expected = np.clip(expected * np.float32(value), 0, 255).astype(np.uint8)
                continue
            hsv = cv2.cvtColor(expected, cv2.COLOR_BGR2HSV).astype(np.float32)
            if step == 'saturation':
                hsv[..., 1] = np.clip(hsv[..., 1] * np.float32(value), 0, 255).astype(np.uint8)
            else:
                hsv[..., 0] = (hsv[..., 0] + value) % 180
            expected = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR)
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out, expected)


def test_channels_are_never_permuted():
    """Without saturation and hue changes every step is the same increasing map per channel, so
    B <= G <= R stays true; mmdet's PhotoMetricDistortion permutes channels in some draws."""
    img = np.broadcast_to(np.array([20, 120, 220], np.uint8), (4, 4, 3)).copy()
    ours = ColorAugSSD(saturation_range=(1, 1), hue_delta=0)
    theirs = PhotoMetricDistortion(saturation_range=(1, 1), hue_delta=0)
    np.random.seed(0)
    kept, swapped = 0, 0
    for _ in range(100):
        out = ours(dict(img=img.copy()))['img'].astype(int)
        kept += bool((out[..., 0] <= out[..., 1]).all() and (out[..., 1] <= out[..., 2]).all())
        ref = theirs(dict(img=img.copy()))['img']
        swapped += bool((ref[..., 0] > ref[..., 2]).any())
    assert kept == 100 and swapped > 10


def test_rgb_order_and_float_images():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    bgr, rgb = ColorAugSSD(), ColorAugSSD(channel_order='rgb')
    for seed in range(20):
        np.random.seed(seed)
        out_bgr = bgr(dict(img=img.copy()))['img']
        np.random.seed(seed)
        out_rgb = rgb(dict(img=img[..., ::-1].copy()))['img']
        np.testing.assert_array_equal(out_rgb, out_bgr[..., ::-1])
        # A float32 image (to_float32 + a resize) is rounded to 8 bits first; dtype is kept.
        np.random.seed(seed)
        out_float = bgr(dict(img=img.astype(np.float32) + 0.4))['img']
        assert out_float.dtype == np.float32
        np.testing.assert_array_equal(out_float, out_bgr.astype(np.float32))


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match='channel_order'):
        ColorAugSSD(channel_order='hsv')
    with pytest.raises(ValueError, match='hue_delta'):
        ColorAugSSD(hue_delta=2.5)
    with pytest.raises(ValueError, match=r'\(H, W, 3\).*a\.png'):
        ColorAugSSD()(dict(img=np.zeros((4, 4), np.uint8), img_path='a.png'))
