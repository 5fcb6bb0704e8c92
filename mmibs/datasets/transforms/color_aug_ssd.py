"""ColorAugSSD: the SSD colour augmentation of the authors' Mask2Former training.

The authors' Mask2Former dataset mappers (``DdeGeus/Mask2Former-IBS``,
``mask2former/data/dataset_mappers/*_dataset_mapper*.py``, ``INPUT.COLOR_AUG_SSD: True``) apply
detectron2's ``ColorAugSSDTransform`` (``projects/PointRend/point_rend/color_augmentation.py``)
after the crop and before the flip. This is that transform, written from its documented
behaviour:

1. brightness, with probability 1/2: add b ~ U(-32, 32);
2. with probability 1/2 the order *contrast, saturation, hue*, else *saturation, hue, contrast*;
   * contrast, p = 1/2: multiply by a ~ U(0.5, 1.5);
   * saturation, p = 1/2: in OpenCV's 8-bit HSV, multiply S by s ~ U(0.5, 1.5);
   * hue, p = 1/2: in OpenCV's 8-bit HSV (H in 0..179, 2 degrees per step), add an integer
     h ~ U{-18, ..., 18} to H modulo 180, i.e. up to +-36 degrees.

The image is 8-bit throughout: every step computes in float32, clips to [0, 255] and truncates
to uint8 before the next. Channels are never permuted.

mmdet's ``PhotoMetricDistortion`` differs: hue is shifted by up to +-18 degrees (its hue scale is
0..360), values are not clipped between steps, and with probability 1/2 it permutes the colour
channels at random.
"""
from typing import NamedTuple, Optional, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmdet.registry import TRANSFORMS


class ColorAugParams(NamedTuple):
    """The random draws of one :class:`ColorAugSSD` call (None: the step is skipped).

    Attributes:
        brightness: added value b.
        contrast_first: True for the order contrast, saturation, hue.
        contrast: factor a.
        saturation: factor s of the HSV saturation.
        hue: integer shift h of the 8-bit HSV hue.
    """
    brightness: Optional[float]
    contrast_first: bool
    contrast: Optional[float]
    saturation: Optional[float]
    hue: Optional[int]


def _scale_shift(values: np.ndarray, alpha: float = 1.0, beta: float = 0.0) -> np.ndarray:
    """``values * alpha + beta`` in float32, clipped to [0, 255], truncated to uint8."""
    return np.clip(values.astype(np.float32) * alpha + beta, 0, 255).astype(np.uint8)


def _saturation(bgr: np.ndarray, factor: float) -> np.ndarray:
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    hsv[..., 1] = _scale_shift(hsv[..., 1], alpha=factor)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def _hue(bgr: np.ndarray, shift: int) -> np.ndarray:
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    hsv[..., 0] = (hsv[..., 0].astype(np.int64) + shift) % 180
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def color_aug_ssd(bgr: np.ndarray, params: ColorAugParams) -> np.ndarray:
    """Apply the drawn steps to an (H, W, 3) uint8 BGR image; returns a new uint8 image."""
    img = bgr
    if params.brightness is not None:
        img = _scale_shift(img, beta=params.brightness)

    def contrast(x: np.ndarray) -> np.ndarray:
        return x if params.contrast is None else _scale_shift(x, alpha=params.contrast)

    def saturation_hue(x: np.ndarray) -> np.ndarray:
        if params.saturation is not None:
            x = _saturation(x, params.saturation)
        return x if params.hue is None else _hue(x, params.hue)

    img = saturation_hue(contrast(img)) if params.contrast_first else contrast(saturation_hue(img))
    return img.copy() if img is bgr else img


@TRANSFORMS.register_module()
class ColorAugSSD(BaseTransform):
    """Colour augmentation of SSD as the authors' Mask2Former uses it (see the module docstring).

    Required keys: ``img``. Modified keys: ``img`` (same dtype as given). A float image (e.g.
    ``LoadImageFromFile(to_float32=True)`` followed by a resize) is rounded to the nearest
    integer in [0, 255] first: the authors' image is 8-bit at this point.

    Random draws use numpy's global RNG, like mmdet's transforms (mmengine seeds it per worker;
    class-paired crops seed it per crop).

    Args:
        brightness_delta: b is drawn from U(-brightness_delta, brightness_delta). Default 32.
        contrast_range: range of the contrast factor. Default (0.5, 1.5).
        saturation_range: range of the saturation factor. Default (0.5, 1.5).
        hue_delta: h is an integer in [-hue_delta, hue_delta], in OpenCV's 8-bit hue units of 2
            degrees. Default 18 (+-36 degrees).
        channel_order: ``'bgr'`` (mmdet's ``LoadImageFromFile`` default) or ``'rgb'``.
    """

    def __init__(self,
                 brightness_delta: float = 32,
                 contrast_range: Tuple[float, float] = (0.5, 1.5),
                 saturation_range: Tuple[float, float] = (0.5, 1.5),
                 hue_delta: int = 18,
                 channel_order: str = 'bgr') -> None:
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(f"ColorAugSSD: channel_order must be 'bgr' or 'rgb', got "
                             f'{channel_order!r}')
        if int(hue_delta) != hue_delta or not 0 <= hue_delta < 180:
            raise ValueError(f'ColorAugSSD: hue_delta must be an integer in [0, 180), got '
                             f'{hue_delta!r}')
        self.brightness_delta = float(brightness_delta)
        self.contrast_range = tuple(float(v) for v in contrast_range)
        self.saturation_range = tuple(float(v) for v in saturation_range)
        self.hue_delta = int(hue_delta)
        self.channel_order = channel_order

    @cache_randomness
    def sample_params(self) -> ColorAugParams:
        """Draw the steps and their values (numpy's global RNG), in the authors' order."""
        rand = np.random
        brightness = (rand.uniform(-self.brightness_delta, self.brightness_delta)
                      if rand.randint(2) else None)
        contrast_first = bool(rand.randint(2))
        draws = {}
        for step in (('contrast', 'saturation', 'hue') if contrast_first else
                     ('saturation', 'hue', 'contrast')):
            if not rand.randint(2):
                continue
            if step == 'hue':
                draws[step] = int(rand.randint(-self.hue_delta, self.hue_delta + 1))
            else:
                draws[step] = rand.uniform(*getattr(self, f'{step}_range'))
        return ColorAugParams(brightness, contrast_first, draws.get('contrast'),
                              draws.get('saturation'), draws.get('hue'))

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f'ColorAugSSD: expected an (H, W, 3) colour image, got shape '
                             f'{img.shape} ({results.get("img_path")})')
        as_uint8 = img if img.dtype == np.uint8 else np.clip(np.rint(img), 0, 255).astype(
            np.uint8)
        bgr = as_uint8 if self.channel_order == 'bgr' else as_uint8[..., ::-1]
        out = color_aug_ssd(np.ascontiguousarray(bgr), self.sample_params())
        if self.channel_order == 'rgb':
            out = out[..., ::-1]
        results['img'] = np.ascontiguousarray(out).astype(img.dtype, copy=False)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(brightness_delta={self.brightness_delta}, '
                f'contrast_range={self.contrast_range}, '
                f'saturation_range={self.saturation_range}, hue_delta={self.hue_delta}, '
                f"channel_order='{self.channel_order}')")
