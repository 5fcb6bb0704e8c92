"""Deterministic generator of the *synthetic streets* panoptic dataset.

Why this dataset exists
-----------------------
The paper "Intra-Batch Supervision for Panoptic Segmentation on
High-Resolution Images" (Mohan et al.) observes that panoptic networks which
are trained on *crops* of large images (e.g. 256x512 crops of 512x1024
images) but tested on the *full* image tend to confuse **large instances of
the same thing class**: two big adjacent cars get merged into one segment,
or one car gets split and partly assigned to its neighbour.  During training
a large object rarely fits into a crop together with a second large object
of the same class, so the network never learns to tell such pairs apart.

This module renders small street scenes that deliberately contain exactly
that situation, so the problem (and the intra-batch supervision remedy) can
be studied on a laptop, in unit tests and in demos, without downloading
Cityscapes:

* **many instances of the same thing class** per image - rows of parked and
  driving cars (occasionally trucks) on the road and groups of persons on
  the sidewalk (and sometimes crossing the road);
* **large instances** - a perspective model (objects standing lower in the
  image are larger) makes the nearest vehicle row huge: a foreground car at
  512x1024 covers ~8-12% of the image, i.e. more than a quarter of a
  256x512 training crop;
* **touching / overlapping instances** - vehicles are parked
  bumper-to-bumper (``touching_prob``) and persons stand shoulder to
  shoulder; nearer instances occlude farther ones (painter's algorithm) and
  the panoptic map only keeps the visible part of each instance;
* **shared appearance** - all instances of a class use the same appearance
  colour and shape template with only a small per-instance jitter
  (``color_jitter``), so class appearance alone cannot separate them;
* **local separability** - every instance gets a dark outline
  (``outline_width``, 2-3 px at 512x1024) and class-specific inner
  structure (car: cabin, windows, wheels, lights; truck: cargo box, cabin,
  three wheels; person: head, torso, arms, legs), so the task is solvable
  from local cues;
* **evaluator corner cases** - a dense group of persons is annotated as a
  single *crowd* segment (``iscrowd=1``), and *void* pixels (id 0) come from
  an "ego vehicle" hood band at the bottom of some images and from a few
  small unlabeled objects (poles with signs, random blobs).

Scene layout (top to bottom): sky (gradient, clouds), a skyline of
buildings with window grids, trees/hedges (vegetation), a sidewalk strip
with paving joints and curb, and the road with lane markings.

Determinism
-----------
Image ``i`` of split ``s`` (0 = train, 1 = val) is rendered from its own
generator ``np.random.default_rng([cfg.seed, s, i])``; it therefore does not
depend on ``num_train`` / ``num_val`` nor on the other images.  PNG, JPEG
and JSON files are written without timestamps or paths, so the same config
produces byte-identical files (for a given numpy/Pillow version).

Output format
-------------
COCO panoptic, laid out like mmdet's COCO panoptic data::

    out_dir/images/{train,val}/synth_{split}_00000.jpg
    out_dir/annotations/panoptic_{split}/synth_{split}_00000.png
    out_dir/annotations/panoptic_{split}.json

PNG pixels encode segment ids as ``id = R + 256 * G + 256 ** 2 * B``
(panopticapi's ``id2rgb``); 0 is void.  Segment ids are
``category_id * 1000 + k`` for thing instances (``k >= 1``) and
``category_id * 1000`` for stuff segments and for the (single, per class)
crowd segment.  The dataset is first written into a temporary sibling
directory and atomically renamed into place when complete.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import (Any, Callable, Dict, List, NamedTuple, Optional,
                    Sequence, Tuple, Union)

import numpy as np
from PIL import Image, ImageDraw

from .categories import (CATEGORY_IDS, SYNTHETIC_STREETS_CATEGORIES,
                         THING_CATEGORY_IDS)

try:  # tqdm is a soft dependency: without it there is simply no bar.
    from tqdm import tqdm as _tqdm
except ImportError:  # pragma: no cover - tqdm ships with mmdet's deps
    _tqdm = None

__all__ = [
    "GENERATOR_VERSION",
    "SPLITS",
    "SyntheticStreetsConfig",
    "SyntheticStreetSample",
    "render_synthetic_street",
    "generate_synthetic_streets",
]

#: Version of the rendering code; stored in the JSON ``info`` field.
GENERATOR_VERSION = "1.0.0"

#: The splits written by :func:`generate_synthetic_streets`, in split-index
#: order (the index is part of every image's RNG seed).
SPLITS: Tuple[str, ...] = ("train", "val")

IntRange = Tuple[int, int]
Color = Tuple[float, float, float]

# --------------------------------------------------------------------------
# Appearance constants.  Appearance colours are *not* the palette colours of
# the category table; they only need to be shared by all instances of a class.
# --------------------------------------------------------------------------
_CAR_BODY: Color = (38, 58, 168)
_TRUCK_CABIN: Color = (34, 44, 104)
_TRUCK_CARGO: Color = (128, 132, 146)
_PERSON_CLOTHES: Color = (186, 44, 64)
_PERSON_PANTS: Color = (42, 46, 72)
_PERSON_SKIN: Color = (222, 176, 142)
_PERSON_HAIR: Color = (60, 42, 30)
_WINDOW: Color = (158, 178, 198)
_TIRE: Color = (26, 26, 30)
_HUB: Color = (150, 150, 156)
_OUTLINE: Color = (14, 14, 18)
_VEGETATION: Color = (92, 128, 42)
_TRUNK: Color = (92, 66, 44)
_ROAD: Color = (84, 82, 90)
_SIDEWALK: Color = (158, 140, 150)
_CURB: Color = (190, 186, 186)

# Perspective: an object whose base stands at image row ``y`` is
# ``k * (y - horizon)`` pixels tall (a camera looking horizontally).
_K_PERSON = 0.62
_K_CAR = 0.50
_K_TRUCK = 0.78

# Smallest sprite (in pixels) that is still rendered.
_MIN_SPRITE_PX = 4


@dataclass
class SyntheticStreetsConfig:
    """All knobs of the synthetic streets generator.

    Ranges are inclusive ``(min, max)`` integer pairs; probabilities are in
    ``[0, 1]``.  The instance is validated on construction and again by
    :func:`generate_synthetic_streets`; invalid values raise ``ValueError``
    naming the offending field.

    Attributes:
        height: Image height in pixels (>= 64).  Default 512 (the
            "high-resolution" test size; train crops are typically 256x512).
        width: Image width in pixels (>= 64).  Default 1024.
        num_train: Number of training images (>= 1).
        num_val: Number of validation images (>= 1).
        seed: Non-negative base seed.  Image ``i`` of split ``s`` uses
            ``np.random.default_rng([seed, s, i])``.
        vehicle_rows: Number of vehicle rows (lanes / parking rows) on the
            road.
        vehicles_per_row: Number of vehicles placed in each row (vehicles
            that end up outside the image are dropped).
        truck_prob: Probability that a vehicle is a truck instead of a car.
        large_instance_prob: Probability that the image has a foreground
            vehicle row at the very bottom of the image, whose instances are
            the largest ones (> a quarter of a half-resolution crop).
        touching_prob: Probability that two consecutive vehicles of a row
            are parked bumper-to-bumper (touching or slightly overlapping)
            instead of leaving a gap.
        person_groups: Number of groups of persons on the sidewalk.
        persons_per_group: Number of persons per group (they stand close
            together, often touching).
        crossing_prob: Probability of an extra group of (larger) persons
            crossing the road.
        crowd_prob: Probability of a dense group of persons on the sidewalk
            that is annotated as a single crowd segment (``iscrowd=1``).
        crowd_size: Number of persons drawn inside a crowd group.
        void_prob: Probability of an "ego vehicle" hood band at the bottom
            of the image, annotated as void (id 0).
        void_blobs: Number of small unlabeled objects (poles with signs,
            blobs), annotated as void.
        color_jitter: Standard deviation (in 0-255 units) of the
            per-instance appearance colour jitter.  Kept small on purpose:
            instances of a class must look alike.
        noise_std: Standard deviation of the additive per-pixel Gaussian
            image noise.
        outline_width: Width in pixels of the dark outline drawn around
            every thing instance; ``None`` means ``max(1, round(height /
            200))`` (3 px at 512x1024).
        min_instance_fraction: Thing instances (not crowds) whose *visible*
            area is smaller than this fraction of the image (occluded
            slivers, e.g. < 52 px at 512x1024 with the default 1e-4) are
            relabelled as void (id 0) instead of being kept as unlearnable
            micro-segments.  0 keeps every visible pixel.
        jpeg_quality: Quality of the written JPEG images (1-100).
    """

    height: int = 512
    width: int = 1024
    num_train: int = 40
    num_val: int = 10
    seed: int = 0
    vehicle_rows: IntRange = (2, 3)
    vehicles_per_row: IntRange = (3, 6)
    truck_prob: float = 0.2
    large_instance_prob: float = 0.75
    touching_prob: float = 0.6
    person_groups: IntRange = (1, 3)
    persons_per_group: IntRange = (2, 5)
    crossing_prob: float = 0.35
    crowd_prob: float = 0.5
    crowd_size: IntRange = (7, 12)
    void_prob: float = 0.4
    void_blobs: IntRange = (0, 3)
    color_jitter: float = 8.0
    noise_std: float = 4.0
    outline_width: Optional[int] = None
    min_instance_fraction: float = 1e-4
    jpeg_quality: int = 92

    def __post_init__(self) -> None:
        """Normalise range fields to tuples and validate all values."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name in _RANGE_FIELDS and isinstance(value, list):
                setattr(self, field.name, tuple(value))
        self.validate()

    def validate(self) -> None:
        """Check every field.

        Raises:
            ValueError: If a field has an invalid value; the message starts
                with the field name.
        """
        _check_int("height", self.height, minimum=64)
        _check_int("width", self.width, minimum=64)
        _check_int("num_train", self.num_train, minimum=1)
        _check_int("num_val", self.num_val, minimum=1)
        _check_int("seed", self.seed, minimum=0)
        _check_range("vehicle_rows", self.vehicle_rows, minimum=0)
        _check_range("vehicles_per_row", self.vehicles_per_row, minimum=1)
        _check_range("person_groups", self.person_groups, minimum=0)
        _check_range("persons_per_group", self.persons_per_group, minimum=1)
        _check_range("crowd_size", self.crowd_size, minimum=2)
        _check_range("void_blobs", self.void_blobs, minimum=0)
        for name in ("truck_prob", "large_instance_prob", "touching_prob",
                     "crossing_prob", "crowd_prob", "void_prob"):
            _check_float(name, getattr(self, name), 0.0, 1.0)
        _check_float("color_jitter", self.color_jitter, 0.0, 64.0)
        _check_float("noise_std", self.noise_std, 0.0, 64.0)
        if self.outline_width is not None:
            _check_int("outline_width", self.outline_width, minimum=0)
        _check_float("min_instance_fraction", self.min_instance_fraction,
                     0.0, 0.01)
        _check_int("jpeg_quality", self.jpeg_quality, minimum=1, maximum=100)

    @property
    def effective_outline_width(self) -> int:
        """The outline width actually used (resolves ``None``)."""
        if self.outline_width is not None:
            return int(self.outline_width)
        return max(1, int(round(self.height / 200)))

    def to_dict(self) -> Dict[str, Any]:
        """Return the config as a JSON-serialisable dict (ranges as lists)."""
        out: Dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            out[field.name] = list(value) if isinstance(value, tuple) else value
        return out


_RANGE_FIELDS = ("vehicle_rows", "vehicles_per_row", "person_groups",
                 "persons_per_group", "crowd_size", "void_blobs")


def _is_int(value: Any) -> bool:
    """Return True for ints (including numpy ints) but not for bools."""
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_))


def _check_int(name: str, value: Any, minimum: int,
               maximum: Optional[int] = None) -> None:
    """Validate an integer field."""
    if not _is_int(value):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else \
            f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be {bound}, got {value!r}")


def _check_float(name: str, value: Any, minimum: float,
                 maximum: float) -> None:
    """Validate a real-valued field."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not (minimum <= float(value) <= maximum):
        raise ValueError(
            f"{name} must be in [{minimum}, {maximum}], got {value!r}")


def _check_range(name: str, value: Any, minimum: int) -> None:
    """Validate an inclusive ``(min, max)`` integer range field."""
    if not isinstance(value, (tuple, list)) or len(value) != 2 or \
            not all(_is_int(v) for v in value):
        raise ValueError(
            f"{name} must be a (min, max) pair of integers, got {value!r}")
    lo, hi = value
    if lo < minimum or hi < lo:
        raise ValueError(
            f"{name} must satisfy {minimum} <= min <= max, got {value!r}")


# --------------------------------------------------------------------------
# Rendering helpers
# --------------------------------------------------------------------------
def _to_rgb8(color: Sequence[float]) -> Tuple[int, int, int]:
    """Clip and round a float colour to an 8-bit RGB tuple (for PIL)."""
    r, g, b = (int(np.clip(round(float(c)), 0, 255)) for c in color)
    return r, g, b


def _scale(color: Sequence[float], factor: float) -> Color:
    """Multiply a colour by ``factor``."""
    return (color[0] * factor, color[1] * factor, color[2] * factor)


class _Sprite:
    """A small local canvas (colour + silhouette mask) for one object.

    Parts drawn with ``silhouette=True`` extend the object mask; detail
    parts (windows, hubs, lights, ...) only change the colour and must lie
    inside the silhouette.  Coordinates are local pixel coordinates.
    """

    def __init__(self, width: int, height: int) -> None:
        """Create an empty sprite of ``width`` x ``height`` pixels."""
        self.width = int(width)
        self.height = int(height)
        self._rgb = Image.new("RGB", (self.width, self.height))
        self._mask = Image.new("L", (self.width, self.height))
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
            (self._draw_rgb, _to_rgb8(color))]
        if silhouette:
            targets.append((self._draw_mask, 255))
        return targets

    def arrays(self) -> Tuple[np.ndarray, np.ndarray]:
        """Return ``(rgb float32 HxWx3, mask bool HxW)``."""
        rgb = np.asarray(self._rgb, dtype=np.float32).copy()
        mask = np.asarray(self._mask) > 0
        return rgb, mask


def _erode(mask: np.ndarray, iterations: int) -> np.ndarray:
    """4-neighbour binary erosion; pixels outside the array count as False."""
    out = mask.copy()
    for _ in range(iterations):
        p = np.pad(out, 1, mode="constant", constant_values=False)
        out = (out & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2]
               & p[1:-1, 2:])
    return out


def _blocky_noise(rng: np.random.Generator, height: int, width: int,
                  block: int) -> np.ndarray:
    """Piecewise-constant N(0, 1) noise with ``block``-sized cells."""
    block = max(1, block)
    small = rng.standard_normal(
        (height // block + 1, width // block + 1)).astype(np.float32)
    return np.repeat(np.repeat(small, block, 0), block, 1)[:height, :width]


def _smooth_noise(rng: np.random.Generator, height: int, width: int,
                  cell: int) -> np.ndarray:
    """Bilinearly upsampled N(0, 1) noise (a smooth illumination field)."""
    gh = max(2, height // cell + 1)
    gw = max(2, width // cell + 1)
    small = rng.standard_normal((gh, gw)).astype(np.float32)
    field = Image.fromarray(small, mode="F").resize((width, height),
                                                      Image.BILINEAR)
    return np.asarray(field, dtype=np.float32)


class SyntheticStreetSample(NamedTuple):
    """One rendered image with its panoptic annotation.

    Attributes:
        image: ``uint8`` array of shape ``(H, W, 3)`` (RGB).
        id_map: ``int32`` array of shape ``(H, W)`` with segment ids
            (0 = void).
        segments_info: COCO panoptic ``segments_info`` list, sorted by id;
            exactly the non-zero ids of ``id_map``.
    """

    image: np.ndarray
    id_map: np.ndarray
    segments_info: List[Dict[str, Any]]


class _StreetRenderer:
    """Renders one street scene (see the module docstring for the design)."""

    def __init__(self, cfg: SyntheticStreetsConfig,
                 rng: np.random.Generator) -> None:
        """Set up the canvas and sample the global scene geometry.

        ``rng`` drives the *layout* (what goes where); the number of draws
        taken from it never depends on the resolution, so the same seed
        gives the same scene at every image size.  Pixel-level textures
        (noise, blotches, lit windows) use a separate stream ``self.tex``
        seeded from ``rng``.
        """
        self.cfg = cfg
        self.rng = rng
        self.tex = np.random.default_rng(int(rng.integers(0, 2**63 - 1)))
        self.H = int(cfg.height)
        self.W = int(cfg.width)
        self.outline = cfg.effective_outline_width
        self.img = np.zeros((self.H, self.W, 3), dtype=np.float32)
        self.ids = np.zeros((self.H, self.W), dtype=np.int32)
        # segment id -> (category_id, iscrowd)
        self.segments: Dict[int, Tuple[int, int]] = {}
        self._next_instance: Dict[int, int] = {}
        # (depth, creation order, draw callable)
        self._things: List[Tuple[float, int, Callable[[], None]]] = []

        H = self.H
        self.horizon = H * rng.uniform(0.28, 0.33)
        self.y_sidewalk = H * rng.uniform(0.44, 0.49)
        self.y_curb = self.y_sidewalk + H * rng.uniform(0.08, 0.11)

    # ---------------------------------------------------------------- ids
    def _stuff_id(self, name: str) -> int:
        """Segment id of the stuff segment ``name`` (registers it)."""
        cat = CATEGORY_IDS[name]
        self.segments[cat * 1000] = (cat, 0)
        return cat * 1000

    def _instance_id(self, name: str) -> int:
        """Allocate a new thing instance id of class ``name``."""
        cat = CATEGORY_IDS[name]
        k = self._next_instance.get(cat, 0) + 1
        if k > 999:
            raise RuntimeError(f"too many {name} instances in one image")
        self._next_instance[cat] = k
        seg_id = cat * 1000 + k
        self.segments[seg_id] = (cat, 0)
        return seg_id

    def _crowd_id(self, name: str) -> int:
        """The (single) crowd segment id of thing class ``name``."""
        cat = CATEGORY_IDS[name]
        self.segments[cat * 1000] = (cat, 1)
        return cat * 1000

    # ------------------------------------------------------------ helpers
    def _jitter(self, color: Color, amount: Optional[float] = None) -> Color:
        """Per-instance colour jitter (small, so instances look alike)."""
        sigma = self.cfg.color_jitter if amount is None else amount
        if sigma <= 0:
            return color
        # Mostly a shared brightness shift, plus a little per-channel jitter,
        # so that the hue of the class stays recognisably the same.
        d = self.rng.normal(0.0, sigma) + self.rng.normal(0.0, sigma / 3, 3)
        return (color[0] + d[0], color[1] + d[1], color[2] + d[2])

    def _depth_height(self, y: float, k: float) -> float:
        """Pixel height of an object of class factor ``k`` standing at y."""
        return k * max(y - self.horizon, 0.0)

    def _blit(self, rgb: np.ndarray, mask: np.ndarray, x0: int, y0: int,
              seg_id: Optional[int]) -> None:
        """Paint a sprite at ``(x0, y0)``; ``seg_id=None`` keeps labels."""
        h, w = mask.shape
        gx0, gy0 = max(0, x0), max(0, y0)
        gx1, gy1 = min(self.W, x0 + w), min(self.H, y0 + h)
        if gx0 >= gx1 or gy0 >= gy1:
            return
        ls = (slice(gy0 - y0, gy1 - y0), slice(gx0 - x0, gx1 - x0))
        gs = (slice(gy0, gy1), slice(gx0, gx1))
        m = mask[ls]
        self.img[gs][m] = rgb[ls][m]
        if seg_id is not None:
            self.ids[gs][m] = seg_id

    def _blit_instance(self, sprite: _Sprite, x0: int, y0: int, seg_id: int,
                       flip: bool = False, shade: bool = True) -> None:
        """Shade, outline and paint a thing sprite with label ``seg_id``."""
        rgb, mask = sprite.arrays()
        if flip:
            rgb, mask = rgb[:, ::-1], mask[:, ::-1]
        if shade:
            ramp = np.linspace(1.10, 0.88, rgb.shape[0], dtype=np.float32)
            rgb *= ramp[:, None, None]
        if self.outline > 0:
            edge = mask & ~_erode(mask, self.outline)
            rgb[edge] = _OUTLINE
        self._blit(rgb, mask, x0, y0, seg_id)

    def _add_thing(self, depth: float, draw: Callable[[], None]) -> None:
        """Queue a drawing callable; things are painted far-to-near."""
        self._things.append((depth, len(self._things), draw))

    # --------------------------------------------------------- background
    def paint_background(self) -> None:
        """Sky, buildings, vegetation, sidewalk and road (stuff)."""
        rng, H, W = self.rng, self.H, self.W
        ys = np.arange(H, dtype=np.float32)[:, None]
        xs = np.arange(W, dtype=np.float32)[None, :]

        # Sky: vertical gradient and a few soft clouds.
        sky_id = self._stuff_id("sky")
        t = np.clip(ys / max(self.y_sidewalk, 1.0), 0, 1)[..., None]
        top = np.array((62, 112, 178), np.float32)
        bottom = np.array((178, 202, 226), np.float32)
        self.img[:] = top * (1 - t) + bottom * t
        self.ids[:] = sky_id
        for _ in range(int(rng.integers(0, 4))):
            cx, cy = rng.uniform(0, W), rng.uniform(0, self.horizon)
            rx, ry = rng.uniform(0.05, 0.15) * W, rng.uniform(0.02, 0.05) * H
            d = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2
            alpha = (np.clip(1.0 - d, 0, 1) * 0.6)[..., None]
            self.img[:] = self.img * (1 - alpha) + 235.0 * alpha

        # Buildings: an uninterrupted skyline with window grids.
        building_id = self._stuff_id("building")
        yb = int(round(self.y_sidewalk))
        x_rel = -rng.uniform(0.0, 0.1)
        while x_rel < 1.0:
            bw_rel = rng.uniform(0.10, 0.28)
            top_rel = rng.uniform(0.03, 0.27)
            grey = rng.uniform(80, 150)
            wall = np.array([grey + rng.uniform(-12, 12),
                             grey + rng.uniform(-12, 8),
                             grey + rng.uniform(-14, 6)], np.float32)
            cell = max(4, int(rng.uniform(0.045, 0.07) * H))
            cw = max(4, int(cell * rng.uniform(0.8, 1.3)))
            x = int(round(x_rel * W))
            bw = int(round(bw_rel * W))
            x1, xa = min(W, x + bw), max(0, x)
            y_top = int(round(top_rel * H))
            x_rel += bw_rel
            if xa >= x1 or y_top >= yb:
                continue
            block = self.img[y_top:yb, xa:x1]
            block[:] = wall
            ly = np.arange(y_top, yb)[:, None] - y_top
            lx = np.arange(xa, x1)[None, :] - x
            win = (((ly % cell) > 0.35 * cell) & ((lx % cw) > 0.3 * cw)
                   & (ly > 0.4 * cell) & (ly < (yb - y_top) - cell)
                   & (lx > 0.3 * cw) & (lx < bw - 0.3 * cw))
            lit = _blocky_noise(self.tex, yb - y_top, x1 - xa, cell) > 1.3
            block[win] = (48, 58, 74)
            block[win & lit] = (205, 198, 150)
            self.img[y_top:min(yb, y_top + max(1, H // 128)), xa:x1] *= 0.7
            self.ids[y_top:yb, xa:x1] = building_id

        # Sidewalk: paving joints and a bright curb.
        sidewalk_id = self._stuff_id("sidewalk")
        yc = int(round(self.y_curb))
        sw = self.img[yb:yc]
        sw[:] = _SIDEWALK
        joint_h = max(3, (yc - yb) // 3)
        joint_w = max(6, int(0.06 * W))
        ly = np.arange(yc - yb)[:, None]
        lx = np.arange(W)[None, :] + (ly // joint_h) * (joint_w // 2)
        joints = ((ly % joint_h) == 0) | ((lx % joint_w) == 0)
        sw[joints] *= 0.82
        curb_h = max(1, int(round(0.012 * H)))
        sw[-curb_h:] = _CURB
        self.ids[yb:yc] = sidewalk_id

        # Road with a gutter line; lane markings are added by the rows.
        road_id = self._stuff_id("road")
        self.img[yc:] = _ROAD
        self.img[yc:yc + max(1, curb_h // 2)] *= 0.6
        self.ids[yc:] = road_id

        # Vegetation: hedges along the facades and trees on the sidewalk.
        veg_id: Optional[int] = None
        if rng.random() < 0.5:
            veg_id = self._stuff_id("vegetation")
            hx = rng.uniform(0, 0.6) * W
            hw = rng.uniform(0.15, 0.5) * W
            hh = rng.uniform(0.02, 0.045) * H
            sp = _Sprite(int(hw) + 1, int(hh) + 1)
            sp.rect((0, 0, hw, hh), _VEGETATION, radius=hh / 2)
            self._paint_vegetation(sp, int(hx), int(yb - hh), veg_id)
        for _ in range(int(rng.integers(0, 5))):
            if veg_id is None:
                veg_id = self._stuff_id("vegetation")
            base_y = self.y_sidewalk + rng.uniform(0.05, 0.35) * (
                self.y_curb - self.y_sidewalk)
            th = self._depth_height(base_y, rng.uniform(1.0, 1.7))
            cr = rng.uniform(0.25, 0.33) * th
            crowns = [(rng.uniform(-0.35, 0.35) * cr,
                       rng.uniform(-0.2, 0.25) * cr,
                       rng.uniform(0.7, 0.95) * cr,
                       self._jitter(_VEGETATION, 6)) for _ in range(3)]
            x_center = rng.uniform(-0.05, 1.0) * W
            if th < 3 * _MIN_SPRITE_PX:
                continue
            tw, thh = int(2.4 * cr) + 1, int(th) + 1
            sp = _Sprite(tw, thh)
            cx = tw / 2
            trunk_w = max(1.0, 0.06 * th)
            sp.rect((cx - trunk_w / 2, 1.2 * cr, cx + trunk_w / 2, thh - 1),
                    _TRUNK)
            for ox, oy, r, color in crowns:
                sp.ellipse((cx + ox - r, cr + oy - r, cx + ox + r,
                            cr + oy + r), color)
            self._paint_vegetation(sp, int(x_center - cx),
                                   int(round(base_y - thh)), veg_id)

    def _paint_vegetation(self, sprite: _Sprite, x0: int, y0: int,
                          seg_id: int) -> None:
        """Paint a vegetation sprite with a leafy (blotchy) texture."""
        rgb, mask = sprite.arrays()
        h, w = mask.shape
        blotch = _blocky_noise(self.tex, h, w, max(2, self.H // 100))
        leafy = (rgb[..., 1] > rgb[..., 0] + 10)[..., None]
        rgb = np.where(leafy, rgb * (1 + 0.12 * blotch[..., None]), rgb)
        self._blit(rgb, mask, x0, y0, seg_id)

    # ------------------------------------------------------------ things
    def road_y(self, t: float) -> float:
        """Image row at relative road depth ``t`` (0 = curb, 1 = bottom)."""
        return self.y_curb + t * (self.H - self.y_curb)

    def add_vehicle_rows(self) -> None:
        """Rows of cars/trucks on the road, many touching bumper-to-bumper."""
        cfg, rng, H, W = self.cfg, self.rng, self.H, self.W
        n_rows = int(rng.integers(cfg.vehicle_rows[0],
                                  cfg.vehicle_rows[1] + 1))
        if n_rows == 0:
            return
        near = bool(rng.random() < cfg.large_instance_prob)
        ts: List[float] = []
        if near:
            ts.append(rng.uniform(0.86, 1.02))
        n_far = n_rows - len(ts)
        edges = np.linspace(0.04, 0.66, n_far + 1)
        for a, b in zip(edges[:-1], edges[1:]):
            ts.append(rng.uniform(a, a + 0.7 * (b - a)))
        ts.sort()
        # Dashed lane markings between consecutive rows.
        for ta, tb in zip(ts[:-1], ts[1:]):
            self._lane_marking(self.road_y(0.55 * ta + 0.45 * tb))

        for t in ts:
            row_y = self.road_y(t)
            facing_left = bool(rng.random() < 0.5)
            n = int(rng.integers(cfg.vehicles_per_row[0],
                                 cfg.vehicles_per_row[1] + 1))
            specs = []
            x = 0.0
            prev_len = 0.0
            for i in range(n):
                truck = bool(rng.random() < cfg.truck_prob)
                y = row_y + rng.uniform(-0.012, 0.012) * H
                k = _K_TRUCK if truck else _K_CAR
                vh = self._depth_height(y, k) * rng.uniform(0.93, 1.07)
                vl = vh * (rng.uniform(2.4, 2.9) if truck
                           else rng.uniform(2.2, 2.6))
                if i > 0:
                    if rng.random() < cfg.touching_prob:
                        x += rng.uniform(-0.10, 0.0) * prev_len
                    else:
                        x += rng.uniform(0.08, 0.6) * prev_len
                specs.append((truck, x, y, vl, vh))
                x += vl
                prev_len = vl
            span = x
            if span <= W:
                offset = rng.uniform(0, W - span)
            else:
                offset = rng.uniform(W - span, 0)
            for truck, xl, y, vl, vh in specs:
                self._queue_vehicle(truck, offset + xl, y, vl, vh,
                                    facing_left)

    def _lane_marking(self, y: float) -> None:
        """Dashed white lane marking on the road at row ``y``."""
        rng, W = self.rng, self.W
        th = max(1, int(round(0.02 * self._depth_height(y, 1.0))))
        y0 = int(round(y))
        dash, gap = 0.07 * W, 0.05 * W
        x = -rng.uniform(0, dash + gap)
        road = self.segments_key("road")
        while x < W:
            xa, xb = int(max(0, x)), int(min(W, x + dash))
            if xa < xb:
                sl = (slice(y0, min(self.H, y0 + th)), slice(xa, xb))
                on_road = self.ids[sl] == road
                self.img[sl][on_road] = (205, 205, 200)
            x += dash + gap

    def segments_key(self, name: str) -> int:
        """Stuff segment id of ``name`` (no registration)."""
        return CATEGORY_IDS[name] * 1000

    def _queue_vehicle(self, truck: bool, x_left: float, y_bottom: float,
                       length: float, height: float,
                       facing_left: bool) -> None:
        """Queue one car or truck; fully off-screen vehicles are skipped."""
        if truck:
            colors = (self._jitter(_TRUCK_CABIN), self._jitter(_TRUCK_CARGO))
        else:
            colors = (self._jitter(_CAR_BODY), self._jitter(_WINDOW, 4))
        if height < _MIN_SPRITE_PX or x_left + length < 0 or x_left > self.W:
            return
        seg_id = self._instance_id("truck" if truck else "car")

        def draw() -> None:
            self._shadow(x_left + length / 2, y_bottom, length * 0.54,
                         max(1.0, height * 0.07))
            if truck:
                sprite = self._truck_sprite(length, height, *colors)
            else:
                sprite = self._car_sprite(length, height, *colors)
            self._blit_instance(sprite, int(round(x_left)),
                                int(round(y_bottom - sprite.height + 1)),
                                seg_id, flip=facing_left)

        self._add_thing(y_bottom, draw)

    def _shadow(self, cx: float, cy: float, rx: float, ry: float) -> None:
        """Darken the road under a vehicle (image only, road pixels only)."""
        x0, x1 = int(max(0, cx - rx)), int(min(self.W, cx + rx + 1))
        y0, y1 = int(max(0, cy - ry)), int(min(self.H, cy + ry + 1))
        if x0 >= x1 or y0 >= y1:
            return
        ys = np.arange(y0, y1, dtype=np.float32)[:, None]
        xs = np.arange(x0, x1, dtype=np.float32)[None, :]
        inside = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1.0
        inside &= self.ids[y0:y1, x0:x1] == self.segments_key("road")
        self.img[y0:y1, x0:x1][inside] *= 0.55

    @staticmethod
    def _car_sprite(length: float, height: float, body: Color,
                    window: Color) -> _Sprite:
        """Side view of a car facing right: body, cabin, windows, wheels."""
        w, h = max(2, int(round(length))), max(2, int(round(height)))
        s = _Sprite(w, h)
        s.rect((0, 0.36 * h, w - 1, 0.84 * h), body, radius=0.14 * h)
        s.polygon([(0.15 * w, 0.42 * h), (0.29 * w, 0.03 * h),
                   (0.63 * w, 0.03 * h), (0.80 * w, 0.42 * h)], body)
        s.polygon([(0.21 * w, 0.39 * h), (0.31 * w, 0.10 * h),
                   (0.465 * w, 0.10 * h), (0.465 * w, 0.39 * h)], window,
                  silhouette=False)
        s.polygon([(0.505 * w, 0.39 * h), (0.505 * w, 0.10 * h),
                   (0.615 * w, 0.10 * h), (0.74 * w, 0.39 * h)], window,
                  silhouette=False)
        dark = _scale(body, 0.6)
        s.rect((0.48 * w, 0.42 * h, 0.49 * w, 0.76 * h), dark,
               silhouette=False)
        s.rect((0.16 * w, 0.50 * h, 0.84 * w, 0.53 * h), dark,
               silhouette=False)
        s.rect((0.955 * w, 0.46 * h, w - 1, 0.56 * h), (232, 222, 150),
               silhouette=False)
        s.rect((0, 0.46 * h, 0.035 * w, 0.58 * h), (200, 34, 34),
               silhouette=False)
        r = 0.19 * h
        for cx in (0.20 * w, 0.80 * w):
            s.ellipse((cx - r, h - 1 - 2 * r, cx + r, h - 1), _TIRE)
            rh = 0.45 * r
            s.ellipse((cx - rh, h - 1 - r - rh, cx + rh, h - 1 - r + rh),
                      _HUB, silhouette=False)
        return s

    @staticmethod
    def _truck_sprite(length: float, height: float, cabin: Color,
                      cargo: Color) -> _Sprite:
        """Side view of a truck facing right: cargo box, cabin, 3 wheels."""
        w, h = max(2, int(round(length))), max(2, int(round(height)))
        s = _Sprite(w, h)
        s.rect((0.02 * w, 0.74 * h, w - 1, 0.88 * h), (52, 52, 58))
        s.rect((0, 0, 0.70 * w, 0.80 * h), cargo, radius=0.02 * h)
        rib = _scale(cargo, 0.82)
        for fx in np.linspace(0.08, 0.62, 6):
            s.rect((fx * w, 0.04 * h, fx * w + max(1.0, 0.006 * w),
                    0.76 * h), rib, silhouette=False)
        s.polygon([(0.72 * w, 0.24 * h), (0.90 * w, 0.24 * h),
                   (w - 1, 0.46 * h), (w - 1, 0.84 * h),
                   (0.72 * w, 0.84 * h)], cabin)
        s.polygon([(0.80 * w, 0.29 * h), (0.89 * w, 0.29 * h),
                   (0.965 * w, 0.46 * h), (0.80 * w, 0.46 * h)], _WINDOW,
                  silhouette=False)
        s.rect((0.975 * w, 0.64 * h, w - 1, 0.72 * h), (232, 222, 150),
               silhouette=False)
        r = 0.12 * h
        for cx in (0.14 * w, 0.30 * w, 0.86 * w):
            s.ellipse((cx - r, h - 1 - 2 * r, cx + r, h - 1), _TIRE)
            rh = 0.45 * r
            s.ellipse((cx - rh, h - 1 - r - rh, cx + rh, h - 1 - r + rh),
                      _HUB, silhouette=False)
        return s

    @staticmethod
    def _person_sprite(height: float, clothes: Color, pants: Color,
                       skin: Color, stride: float) -> _Sprite:
        """Front view of a standing person: head, torso, arms, legs."""
        h = max(_MIN_SPRITE_PX, int(round(height)))
        w = max(3, int(round(0.36 * height)))
        s = _Sprite(w, h)
        # legs (``stride`` spreads them a little)
        lx = 0.23 + 0.04 * stride
        s.rect((lx * w, 0.52 * h, 0.47 * w, h - 1), pants)
        s.rect((0.53 * w, 0.52 * h, (1 - lx) * w, h - 1), pants)
        s.rect((lx * w, 0.95 * h, 0.47 * w, h - 1), _TIRE, silhouette=False)
        s.rect((0.53 * w, 0.95 * h, (1 - lx) * w, h - 1), _TIRE,
               silhouette=False)
        # arms and torso
        sleeve = _scale(clothes, 0.85)
        s.rect((0.02 * w, 0.19 * h, 0.20 * w, 0.52 * h), sleeve,
               radius=0.05 * w)
        s.rect((0.80 * w, 0.19 * h, 0.98 * w, 0.52 * h), sleeve,
               radius=0.05 * w)
        s.rect((0.16 * w, 0.17 * h, 0.84 * w, 0.56 * h), clothes,
               radius=0.12 * w)
        # neck and head with hair
        s.rect((0.42 * w, 0.13 * h, 0.58 * w, 0.19 * h), skin)
        s.ellipse((0.27 * w, 0.0, 0.73 * w, 0.155 * h), skin)
        s.ellipse((0.27 * w, 0.0, 0.73 * w, 0.07 * h), _PERSON_HAIR,
                  silhouette=False)
        return s

    def _queue_person(self, x_center: float, y_foot: float, size: float,
                      seg_id: Optional[int], name: str = "person") -> None:
        """Queue one person; ``seg_id=None`` allocates a new instance id."""
        height = self._depth_height(y_foot, _K_PERSON) * size
        width = 0.36 * height
        clothes = self._jitter(_PERSON_CLOTHES)
        pants = self._jitter(_PERSON_PANTS, self.cfg.color_jitter / 2)
        skin = self._jitter(_PERSON_SKIN, 6)
        stride = float(self.rng.uniform(0.0, 1.0))
        if height < 2 * _MIN_SPRITE_PX or x_center + width < 0 or \
                x_center - width > self.W:
            return
        sid = self._instance_id(name) if seg_id is None else seg_id

        def draw() -> None:
            sprite = self._person_sprite(height, clothes, pants, skin, stride)
            self._blit_instance(sprite,
                                int(round(x_center - sprite.width / 2)),
                                int(round(y_foot - sprite.height + 1)), sid)

        self._add_thing(y_foot, draw)

    def _person_row(self, n: int, y_lo: float, y_hi: float,
                    spacing: Tuple[float, float],
                    crowd_id: Optional[int]) -> None:
        """Queue ``n`` persons standing side by side with feet in a band."""
        rng = self.rng
        y_base = rng.uniform(y_lo, y_hi)
        ref_w = 0.36 * self._depth_height(y_base, _K_PERSON)
        gaps = [rng.uniform(*spacing) * ref_w for _ in range(n - 1)]
        span = float(sum(gaps))
        x = rng.uniform(-0.1 * self.W, max(0.0, self.W - span) + 0.05 * self.W)
        band = y_hi - y_lo
        for i in range(n):
            y = float(np.clip(y_base + rng.uniform(-0.2, 0.2) * band,
                              y_lo, y_hi))
            self._queue_person(x, y, rng.uniform(0.9, 1.1), crowd_id)
            if i < n - 1:
                x += gaps[i]

    def add_persons(self) -> None:
        """Person groups on the sidewalk, crossings and crowds."""
        cfg, rng = self.cfg, self.rng
        sw_h = self.y_curb - self.y_sidewalk
        lo = self.y_sidewalk + 0.3 * sw_h
        hi = self.y_curb - 0.08 * sw_h
        for _ in range(int(rng.integers(cfg.person_groups[0],
                                        cfg.person_groups[1] + 1))):
            n = int(rng.integers(cfg.persons_per_group[0],
                                 cfg.persons_per_group[1] + 1))
            self._person_row(n, lo, hi, (0.55, 1.2), None)
        if rng.random() < cfg.crossing_prob:
            t = rng.uniform(0.25, 0.8)
            y = self.road_y(t)
            n = int(rng.integers(2, 5))
            self._person_row(n, y - 0.02 * self.H, y + 0.02 * self.H,
                             (0.5, 1.3), None)
        if rng.random() < cfg.crowd_prob:
            n = int(rng.integers(cfg.crowd_size[0], cfg.crowd_size[1] + 1))
            self._person_row(n, lo, hi, (0.2, 0.5), self._crowd_id("person"))

    def add_void_blobs(self) -> None:
        """Small unlabeled objects (poles with signs, blobs) - void."""
        rng, H, W = self.rng, self.H, self.W
        for _ in range(int(rng.integers(self.cfg.void_blobs[0],
                                        self.cfg.void_blobs[1] + 1))):
            if rng.random() < 0.5:
                # A pole with a sign, standing on the sidewalk.
                y_foot = rng.uniform(self.y_sidewalk, self.y_curb)
                ph = self._depth_height(y_foot, rng.uniform(0.9, 1.3))
                sign = ((200, 168, 40), (40, 90, 170), (190, 40, 40))[
                    int(rng.integers(0, 3))]
                x_center = rng.uniform(0, W)
                pw = max(1.0, 0.025 * ph)
                sr = max(2.0, 0.09 * ph)
                sw_, sh_ = int(2 * sr) + 2, int(ph) + 1
                if sh_ < 2 * _MIN_SPRITE_PX:
                    continue
                sp = _Sprite(sw_, sh_)
                cx = sw_ / 2
                sp.rect((cx - pw / 2, sr, cx + pw / 2, sh_ - 1),
                        (112, 112, 116))
                sp.ellipse((cx - sr, 0, cx + sr, 2 * sr), sign)
                x0 = int(x_center - cx)
                y0 = int(round(y_foot - sh_ + 1))
            else:
                # An irregular blob anywhere below the horizon.
                size = rng.uniform(0.02, 0.05) * H
                n_pts = int(rng.integers(6, 11))
                ang = np.sort(rng.uniform(0, 2 * np.pi, n_pts))
                rad = size * rng.uniform(0.5, 1.0, n_pts)
                c = size + 1
                pts = [(c + r * np.cos(a), c + r * np.sin(a))
                       for a, r in zip(ang, rad)]
                sp = _Sprite(int(2 * c) + 1, int(2 * c) + 1)
                sp.polygon(pts, rng.uniform(60, 200, 3))
                x0 = int(rng.uniform(0, W) - c)
                y_foot = rng.uniform(self.horizon, H)
                y0 = int(y_foot - c)

            def draw(sp: _Sprite = sp, x0: int = x0, y0: int = y0) -> None:
                rgb, mask = sp.arrays()
                self._blit(rgb, mask, x0, y0, 0)

            self._add_thing(y_foot, draw)

    def draw_things(self) -> None:
        """Paint all queued objects far-to-near (painter's algorithm)."""
        for _, _, draw in sorted(self._things, key=lambda t: (t[0], t[1])):
            draw()

    def add_ego_vehicle(self) -> None:
        """With ``void_prob``, an ego-vehicle hood band (void) at the bottom."""
        rng, H, W = self.rng, self.H, self.W
        if not rng.random() < self.cfg.void_prob:
            return
        hb = rng.uniform(0.07, 0.12) * H
        cx = W / 2 + rng.uniform(-0.05, 0.05) * W
        xs = np.arange(W, dtype=np.float32)
        top = H - hb * (1.0 - 0.45 * ((xs - cx) / (W / 2)) ** 2)
        ys = np.arange(H, dtype=np.float32)[:, None]
        mask = ys >= top[None, :]
        below = np.clip((ys - top[None, :]) / max(hb, 1.0), 0, 1)
        shade = (70 - 40 * np.sqrt(below))[..., None]
        hood = np.concatenate([shade, shade * 1.05, shade * 1.2], axis=-1)
        self.img[mask] = hood[mask]
        self.ids[mask] = 0

    def finish(self) -> SyntheticStreetSample:
        """Add illumination/noise, then compute ``segments_info``."""
        H, W = self.H, self.W
        light = _smooth_noise(self.tex, H, W, max(8, H // 4))
        self.img *= (1.0 + 0.05 * light)[..., None]
        if self.cfg.noise_std > 0:
            self.img += self.tex.standard_normal(
                (H, W, 3), dtype=np.float32) * np.float32(self.cfg.noise_std)
        image = np.clip(np.rint(self.img), 0, 255).astype(np.uint8)

        # Occluded slivers of thing instances become void.
        min_area = self.cfg.min_instance_fraction * H * W
        uniq, counts = np.unique(self.ids, return_counts=True)
        for seg_id, area in zip(uniq.tolist(), counts.tolist()):
            if seg_id == 0 or area >= min_area:
                continue
            category_id, iscrowd = self.segments[seg_id]
            if category_id in THING_CATEGORY_IDS and not iscrowd:
                self.ids[self.ids == seg_id] = 0

        segments_info: List[Dict[str, Any]] = []
        uniq, inverse, counts = np.unique(self.ids, return_inverse=True,
                                          return_counts=True)
        inverse = inverse.reshape(H, W)
        for k, (seg_id, area) in enumerate(zip(uniq.tolist(),
                                               counts.tolist())):
            if seg_id == 0:
                continue
            m = inverse == k
            rows = np.flatnonzero(m.any(axis=1))
            cols = np.flatnonzero(m.any(axis=0))
            category_id, iscrowd = self.segments[seg_id]
            segments_info.append({
                "id": int(seg_id),
                "category_id": int(category_id),
                "iscrowd": int(iscrowd),
                "bbox": [int(cols[0]), int(rows[0]),
                         int(cols[-1] - cols[0] + 1),
                         int(rows[-1] - rows[0] + 1)],
                "area": int(area),
            })
        return SyntheticStreetSample(image, self.ids, segments_info)


def render_synthetic_street(cfg: SyntheticStreetsConfig, split_index: int,
                            image_index: int) -> SyntheticStreetSample:
    """Render image ``image_index`` of split ``split_index`` in memory.

    The result only depends on ``cfg.seed``, the image geometry/appearance
    knobs of ``cfg``, ``split_index`` and ``image_index`` (not on
    ``num_train`` / ``num_val``).

    Args:
        cfg: Generator config.
        split_index: 0 for train, 1 for val (any non-negative int works).
        image_index: Index of the image inside its split.

    Returns:
        The rendered :class:`SyntheticStreetSample`.
    """
    rng = np.random.default_rng([int(cfg.seed), int(split_index),
                                 int(image_index)])
    renderer = _StreetRenderer(cfg, rng)
    renderer.paint_background()
    renderer.add_vehicle_rows()
    renderer.add_persons()
    renderer.add_void_blobs()
    renderer.draw_things()
    renderer.add_ego_vehicle()
    return renderer.finish()


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------
def _id_map_to_rgb(id_map: np.ndarray) -> np.ndarray:
    """panopticapi ``id2rgb``: ``id = R + 256 * G + 256 ** 2 * B``."""
    ids = id_map.astype(np.int64)
    return np.stack([ids % 256, (ids // 256) % 256, (ids // 65536) % 256],
                    axis=-1).astype(np.uint8)


def _write_sample(sample: SyntheticStreetSample, image_path: Path,
                  png_path: Path, jpeg_quality: int) -> None:
    """Write the JPEG image and the RGB-encoded panoptic PNG."""
    Image.fromarray(sample.image, mode="RGB").save(
        image_path, format="JPEG", quality=int(jpeg_quality))
    Image.fromarray(_id_map_to_rgb(sample.id_map), mode="RGB").save(
        png_path, format="PNG")


def _write_json(path: Path, data: Dict[str, Any]) -> None:
    """Write JSON deterministically (fixed key order, no timestamps)."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")


def _dir_is_nonempty(path: Path) -> bool:
    """True if ``path`` is a directory with at least one entry."""
    with os.scandir(path) as it:
        return any(True for _ in it)


def _check_out_dir(out_dir: Path, overwrite: bool) -> None:
    """Raise ``FileExistsError`` if ``out_dir`` may not be (re)written."""
    if out_dir.exists() or out_dir.is_symlink():
        if not out_dir.is_dir():
            raise FileExistsError(
                f"Output path {out_dir} exists and is not a directory")
        if not overwrite and _dir_is_nonempty(out_dir):
            raise FileExistsError(
                f"Output directory {out_dir} already exists and is not "
                f"empty; pass overwrite=True (--overwrite) to replace it")


def _commit(tmp_dir: Path, out_dir: Path, overwrite: bool) -> None:
    """Atomically move the finished ``tmp_dir`` to ``out_dir``."""
    _check_out_dir(out_dir, overwrite)
    if not out_dir.exists():
        os.replace(tmp_dir, out_dir)
        return
    if not _dir_is_nonempty(out_dir):
        out_dir.rmdir()
        os.replace(tmp_dir, out_dir)
        return
    old_dir = out_dir.with_name(f"{out_dir.name}.old-{secrets.token_hex(4)}")
    os.replace(out_dir, old_dir)
    try:
        os.replace(tmp_dir, out_dir)
    except BaseException:
        os.replace(old_dir, out_dir)
        raise
    shutil.rmtree(old_dir, ignore_errors=True)


def generate_synthetic_streets(
        out_dir: Union[str, os.PathLike],
        cfg: Optional[SyntheticStreetsConfig] = None,
        progress: bool = True,
        overwrite: bool = False) -> Dict[str, Any]:
    """Generate the synthetic streets panoptic dataset under ``out_dir``.

    Everything is written into a temporary sibling directory
    ``<out_dir>.tmp-<random>`` which is renamed to ``out_dir`` only once the
    dataset is complete; on any error the temporary directory is removed
    and ``out_dir`` is left untouched.

    Args:
        out_dir: Destination directory (created; its parent too).
        cfg: Generator config; ``None`` uses the defaults (512x1024,
            40 train + 10 val images, seed 0).
        progress: Show a tqdm progress bar over the images.
        overwrite: Replace an existing non-empty ``out_dir``.  The old
            directory is only removed after the new dataset is complete.

    Returns:
        A summary dict with ``out_dir``, ``images`` (images per split),
        ``segments_per_class`` (non-crowd segments per split and class
        name), ``crowd_segments`` and ``images_with_void`` (per split).

    Raises:
        FileExistsError: If ``out_dir`` exists, is non-empty and
            ``overwrite`` is False (or is not a directory).
        ValueError: If a config value is invalid (names the field).
    """
    cfg = SyntheticStreetsConfig() if cfg is None else cfg
    if not isinstance(cfg, SyntheticStreetsConfig):
        raise TypeError(
            f"cfg must be a SyntheticStreetsConfig, got {type(cfg).__name__}")
    cfg.validate()
    cfg = copy.deepcopy(cfg)
    out_dir = Path(out_dir).expanduser().absolute()
    _check_out_dir(out_dir, overwrite)
    out_dir.parent.mkdir(parents=True, exist_ok=True)

    counts = {"train": cfg.num_train, "val": cfg.num_val}
    names = {c["id"]: str(c["name"]) for c in SYNTHETIC_STREETS_CATEGORIES}
    summary: Dict[str, Any] = {
        "out_dir": str(out_dir),
        "images": dict(counts),
        "segments_per_class": {},
        "crowd_segments": {},
        "images_with_void": {},
    }

    tmp_dir = Path(tempfile.mkdtemp(prefix=f"{out_dir.name}.tmp-",
                                    dir=str(out_dir.parent)))
    bar = None
    try:
        if progress and _tqdm is not None:
            bar = _tqdm(total=sum(counts.values()), desc="synthetic streets",
                        unit="img")
        for split_index, split in enumerate(SPLITS):
            img_dir = tmp_dir / "images" / split
            pan_dir = tmp_dir / "annotations" / f"panoptic_{split}"
            img_dir.mkdir(parents=True)
            pan_dir.mkdir(parents=True)
            images: List[Dict[str, Any]] = []
            annotations: List[Dict[str, Any]] = []
            per_class = {str(c["name"]): 0
                         for c in SYNTHETIC_STREETS_CATEGORIES}
            n_crowd = 0
            n_void = 0
            for i in range(counts[split]):
                sample = render_synthetic_street(cfg, split_index, i)
                stem = f"synth_{split}_{i:05d}"
                _write_sample(sample, img_dir / f"{stem}.jpg",
                              pan_dir / f"{stem}.png", cfg.jpeg_quality)
                images.append({"id": i + 1, "file_name": f"{stem}.jpg",
                               "height": cfg.height, "width": cfg.width})
                annotations.append({"image_id": i + 1,
                                    "file_name": f"{stem}.png",
                                    "segments_info": sample.segments_info})
                for seg in sample.segments_info:
                    if seg["iscrowd"]:
                        n_crowd += 1
                    else:
                        per_class[names[seg["category_id"]]] += 1
                n_void += int(bool((sample.id_map == 0).any()))
                if bar is not None:
                    bar.update(1)
            _write_json(tmp_dir / "annotations" / f"panoptic_{split}.json", {
                "info": {
                    "description": "mmibs synthetic streets panoptic dataset",
                    "version": GENERATOR_VERSION,
                    "split": split,
                    "generator_config": cfg.to_dict(),
                },
                "licenses": [],
                "images": images,
                "annotations": annotations,
                "categories": copy.deepcopy(SYNTHETIC_STREETS_CATEGORIES),
            })
            summary["segments_per_class"][split] = per_class
            summary["crowd_segments"][split] = n_crowd
            summary["images_with_void"][split] = n_void
        if bar is not None:
            bar.close()
            bar = None
        _commit(tmp_dir, out_dir, overwrite)
    except BaseException:
        if bar is not None:
            bar.close()
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return summary
