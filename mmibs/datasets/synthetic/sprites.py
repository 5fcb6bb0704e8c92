"""Appearance of the synthetic streets: colours, the perspective model, a small sprite
rasteriser (:class:`Sprite`), texture noise and the car / truck / person sprites."""

from __future__ import annotations

from typing import Any, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

from .config import Color

# --------------------------------------------------------------------------
# Appearance constants.  Appearance colours are *not* the palette colours of
# the category table; they only need to be shared by all instances of a class.
# --------------------------------------------------------------------------
CAR_BODY: Color = (38, 58, 168)
TRUCK_CABIN: Color = (34, 44, 104)
TRUCK_CARGO: Color = (128, 132, 146)
PERSON_CLOTHES: Color = (186, 44, 64)
PERSON_PANTS: Color = (42, 46, 72)
PERSON_SKIN: Color = (222, 176, 142)
PERSON_HAIR: Color = (60, 42, 30)
WINDOW: Color = (158, 178, 198)
TIRE: Color = (26, 26, 30)
HUB: Color = (150, 150, 156)
OUTLINE: Color = (14, 14, 18)
VEGETATION: Color = (92, 128, 42)
TRUNK: Color = (92, 66, 44)
ROAD: Color = (84, 82, 90)
SIDEWALK: Color = (158, 140, 150)
CURB: Color = (190, 186, 186)

# Perspective: an object whose base stands at image row ``y`` is
# ``k * (y - horizon)`` pixels tall (a camera looking horizontally).
K_PERSON = 0.62
K_CAR = 0.50
K_TRUCK = 0.78

# Smallest sprite (in pixels) that is still rendered.
MIN_SPRITE_PX = 4


# --------------------------------------------------------------------------
# Rendering helpers
# --------------------------------------------------------------------------
def to_rgb8(color: Sequence[float]) -> Tuple[int, int, int]:
    """Clip and round a float colour to an 8-bit RGB tuple (for PIL)."""
    r, g, b = (int(np.clip(round(float(c)), 0, 255)) for c in color)
    return r, g, b


def scale_color(color: Sequence[float], factor: float) -> Color:
    """Multiply a colour by ``factor``."""
    return (color[0] * factor, color[1] * factor, color[2] * factor)


class Sprite:
    """A small local canvas (colour + silhouette mask) for one object.

    Parts drawn with ``silhouette=True`` extend the object mask; detail
    parts (windows, hubs, lights, ...) only change the colour and must lie
    inside the silhouette.  Coordinates are local pixel coordinates.
    """

    def __init__(self, width: int, height: int) -> None:
        """Create an empty sprite of ``width`` x ``height`` pixels."""
        self.width = int(width)
        self.height = int(height)
        self._rgb = Image.new('RGB', (self.width, self.height))
        self._mask = Image.new('L', (self.width, self.height))
        self._draw_rgb = ImageDraw.Draw(self._rgb)
        self._draw_mask = ImageDraw.Draw(self._mask)

    @staticmethod
    def _box(box: Sequence[float]) -> List[int]:
        """Round a box and make sure ``x1 >= x0`` and ``y1 >= y0``."""
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        return [x0, y0, max(x0, x1), max(y0, y1)]

    def rect(self, box: Sequence[float], color: Sequence[float],
             silhouette: bool = True, radius: float = 0.0) -> None:
        """Draw a filled (optionally rounded) rectangle ``[x0, y0, x1, y1]``."""
        b = self._box(box)
        r = int(round(min(radius, (b[2] - b[0]) / 2, (b[3] - b[1]) / 2)))
        for draw, fill in self._targets(color, silhouette):
            if r > 0:
                draw.rounded_rectangle(b, radius=r, fill=fill)
            else:
                draw.rectangle(b, fill=fill)

    def ellipse(self, box: Sequence[float], color: Sequence[float],
                silhouette: bool = True) -> None:
        """Draw a filled ellipse inscribed in ``[x0, y0, x1, y1]``."""
        b = self._box(box)
        for draw, fill in self._targets(color, silhouette):
            draw.ellipse(b, fill=fill)

    def polygon(self, points: Sequence[Tuple[float, float]],
                color: Sequence[float], silhouette: bool = True) -> None:
        """Draw a filled polygon."""
        pts = [(int(round(x)), int(round(y))) for x, y in points]
        for draw, fill in self._targets(color, silhouette):
            draw.polygon(pts, fill=fill)

    def _targets(self, color: Sequence[float], silhouette: bool
                 ) -> List[Tuple[ImageDraw.ImageDraw, Any]]:
        """Return the (draw, fill) pairs a part is drawn with."""
        targets: List[Tuple[ImageDraw.ImageDraw, Any]] = [
            (self._draw_rgb, to_rgb8(color))]
        if silhouette:
            targets.append((self._draw_mask, 255))
        return targets

    def arrays(self) -> Tuple[np.ndarray, np.ndarray]:
        """Return ``(rgb float32 HxWx3, mask bool HxW)``."""
        rgb = np.asarray(self._rgb, dtype=np.float32).copy()
        mask = np.asarray(self._mask) > 0
        return rgb, mask


def erode(mask: np.ndarray, iterations: int) -> np.ndarray:
    """4-neighbour binary erosion; pixels outside the array count as False."""
    out = mask.copy()
    for _ in range(iterations):
        p = np.pad(out, 1, mode='constant', constant_values=False)
        out = (out & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2]
               & p[1:-1, 2:])
    return out


def blocky_noise(rng: np.random.Generator, height: int, width: int,
                 block: int) -> np.ndarray:
    """Piecewise-constant N(0, 1) noise with ``block``-sized cells."""
    block = max(1, block)
    small = rng.standard_normal(
        (height // block + 1, width // block + 1)).astype(np.float32)
    return np.repeat(np.repeat(small, block, 0), block, 1)[:height, :width]


def smooth_noise(rng: np.random.Generator, height: int, width: int,
                 cell: int) -> np.ndarray:
    """Bilinearly upsampled N(0, 1) noise (a smooth illumination field)."""
    gh = max(2, height // cell + 1)
    gw = max(2, width // cell + 1)
    small = rng.standard_normal((gh, gw)).astype(np.float32)
    field = Image.fromarray(small, mode='F').resize((width, height),
                                                    Image.BILINEAR)
    return np.asarray(field, dtype=np.float32)


def draw_wheels(s: Sprite, centres_x: Sequence[float], r: float) -> None:
    """Wheels of radius ``r`` standing on the sprite's bottom row at ``centres_x``: a tyre
    (silhouette) with a hub of 0.45 r (detail)."""
    h = s.height
    for cx in centres_x:
        s.ellipse((cx - r, h - 1 - 2 * r, cx + r, h - 1), TIRE)
        rh = 0.45 * r
        s.ellipse((cx - rh, h - 1 - r - rh, cx + rh, h - 1 - r + rh), HUB, silhouette=False)


def car_sprite(length: float, height: float, body: Color, window: Color,
               cabin: Tuple[float, float, float] = (0.29, 0.63, 0.03)) -> Sprite:
    """Side view of a car facing right: body, cabin, windows, wheels.

    ``cabin`` = (front, back, roof): x of the cabin's top front / back corners as fractions of
    the length, y of its roof as a fraction of the height (:func:`diversity.car_shape`).
    """
    w, h = max(2, int(round(length))), max(2, int(round(height)))
    front, back, roof = cabin
    s = Sprite(w, h)
    s.rect((0, 0.36 * h, w - 1, 0.84 * h), body, radius=0.14 * h)
    s.polygon([(0.15 * w, 0.42 * h), (front * w, roof * h),
               (back * w, roof * h), (min(0.92, back + 0.17) * w, 0.42 * h)], body)
    mid = 0.5 * (front + back)
    s.polygon([(0.21 * w, 0.39 * h), ((front + 0.02) * w, (roof + 0.07) * h),
               ((mid - 0.02) * w, (roof + 0.07) * h), ((mid - 0.02) * w, 0.39 * h)], window,
              silhouette=False)
    s.polygon([((mid + 0.02) * w, 0.39 * h), ((mid + 0.02) * w, (roof + 0.07) * h),
               ((back - 0.015) * w, (roof + 0.07) * h),
               ((min(0.92, back + 0.17) - 0.06) * w, 0.39 * h)], window,
              silhouette=False)
    dark = scale_color(body, 0.6)
    s.rect(((mid - 0.005) * w, 0.42 * h, (mid + 0.005) * w, 0.76 * h), dark,
           silhouette=False)
    s.rect((0.16 * w, 0.50 * h, 0.84 * w, 0.53 * h), dark,
           silhouette=False)
    s.rect((0.955 * w, 0.46 * h, w - 1, 0.56 * h), (232, 222, 150),
           silhouette=False)
    s.rect((0, 0.46 * h, 0.035 * w, 0.58 * h), (200, 34, 34),
           silhouette=False)
    draw_wheels(s, (0.20 * w, 0.80 * w), 0.19 * h)
    return s


def truck_sprite(length: float, height: float, cabin: Color, cargo: Color,
                 cargo_length: float = 0.70) -> Sprite:
    """Side view of a truck facing right: cargo box (``cargo_length`` of the length), cabin,
    3 wheels."""
    w, h = max(2, int(round(length))), max(2, int(round(height)))
    s = Sprite(w, h)
    s.rect((0.02 * w, 0.74 * h, w - 1, 0.88 * h), (52, 52, 58))
    s.rect((0, 0, cargo_length * w, 0.80 * h), cargo, radius=0.02 * h)
    rib = scale_color(cargo, 0.82)
    for fx in np.linspace(0.08, cargo_length - 0.08, 6):
        s.rect((fx * w, 0.04 * h, fx * w + max(1.0, 0.006 * w),
                0.76 * h), rib, silhouette=False)
    s.polygon([((cargo_length + 0.02) * w, 0.24 * h), (0.90 * w, 0.24 * h),
               (w - 1, 0.46 * h), (w - 1, 0.84 * h),
               ((cargo_length + 0.02) * w, 0.84 * h)], cabin)
    s.polygon([(0.80 * w, 0.29 * h), (0.89 * w, 0.29 * h),
               (0.965 * w, 0.46 * h), (0.80 * w, 0.46 * h)], WINDOW,
              silhouette=False)
    s.rect((0.975 * w, 0.64 * h, w - 1, 0.72 * h), (232, 222, 150),
           silhouette=False)
    draw_wheels(s, (0.14 * w, 0.30 * w, 0.86 * w), 0.12 * h)
    return s


def person_sprite(height: float, clothes: Color, pants: Color, skin: Color, stride: float,
                  width: float = 0.36) -> Sprite:
    """Front view of a standing person (``width`` x height wide): head, torso, arms, legs."""
    h = max(MIN_SPRITE_PX, int(round(height)))
    w = max(3, int(round(width * height)))
    s = Sprite(w, h)
    # legs (``stride`` spreads them a little)
    lx = 0.23 + 0.04 * stride
    s.rect((lx * w, 0.52 * h, 0.47 * w, h - 1), pants)
    s.rect((0.53 * w, 0.52 * h, (1 - lx) * w, h - 1), pants)
    s.rect((lx * w, 0.95 * h, 0.47 * w, h - 1), TIRE, silhouette=False)
    s.rect((0.53 * w, 0.95 * h, (1 - lx) * w, h - 1), TIRE,
           silhouette=False)
    # arms and torso
    sleeve = scale_color(clothes, 0.85)
    s.rect((0.02 * w, 0.19 * h, 0.20 * w, 0.52 * h), sleeve,
           radius=0.05 * w)
    s.rect((0.80 * w, 0.19 * h, 0.98 * w, 0.52 * h), sleeve,
           radius=0.05 * w)
    s.rect((0.16 * w, 0.17 * h, 0.84 * w, 0.56 * h), clothes,
           radius=0.12 * w)
    # neck and head with hair
    s.rect((0.42 * w, 0.13 * h, 0.58 * w, 0.19 * h), skin)
    s.ellipse((0.27 * w, 0.0, 0.73 * w, 0.155 * h), skin)
    s.ellipse((0.27 * w, 0.0, 0.73 * w, 0.07 * h), PERSON_HAIR,
              silhouette=False)
    return s
