"""Deterministic generator of the *synthetic streets* panoptic dataset.

Why this dataset exists
-----------------------
The paper "Intra-Batch Supervision for Panoptic Segmentation on
High-Resolution Images" (de Geus & Dubbelman, WACV 2023) observes that panoptic networks which
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
* **instances that differ, classes that stay recognisable** - every
  instance varies the class template's colour, size, proportions and parts
  by ``instance_diversity`` (:mod:`.diversity`; 0 = clones of the template
  with a small ``color_jitter``, as generator 1.x), as cars, trucks and
  persons differ in real streets, while silhouette and parts keep the class;
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

from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from .background import paint_background
from .categories import CATEGORY_IDS, THING_CATEGORY_IDS
from .config import Color, SyntheticStreetsConfig
from .sprites import OUTLINE, Sprite, erode, smooth_noise
from .things import add_ego_vehicle, add_persons, add_vehicle_rows, add_void_blobs


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


class StreetRenderer:
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
            raise RuntimeError(f'too many {name} instances in one image')
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
        """Per-instance colour jitter on top of the diversity (:mod:`.diversity`)."""
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

    def _blit_instance(self, sprite: Sprite, x0: int, y0: int, seg_id: int,
                       flip: bool = False, shade: bool = True) -> None:
        """Shade, outline and paint a thing sprite with label ``seg_id``."""
        rgb, mask = sprite.arrays()
        if flip:
            rgb, mask = rgb[:, ::-1], mask[:, ::-1]
        if shade:
            ramp = np.linspace(1.10, 0.88, rgb.shape[0], dtype=np.float32)
            rgb *= ramp[:, None, None]
        if self.outline > 0:
            edge = mask & ~erode(mask, self.outline)
            rgb[edge] = OUTLINE
        self._blit(rgb, mask, x0, y0, seg_id)

    def _add_thing(self, depth: float, draw: Callable[[], None]) -> None:
        """Queue a drawing callable; things are painted far-to-near."""
        self._things.append((depth, len(self._things), draw))

    # ------------------------------------------------------------ things
    def road_y(self, t: float) -> float:
        """Image row at relative road depth ``t`` (0 = curb, 1 = bottom)."""
        return self.y_curb + t * (self.H - self.y_curb)

    def segments_key(self, name: str) -> int:
        """Stuff segment id of ``name`` (no registration)."""
        return CATEGORY_IDS[name] * 1000

    def draw_things(self) -> None:
        """Paint all queued objects far-to-near (painter's algorithm)."""
        for _, _, draw in sorted(self._things, key=lambda t: (t[0], t[1])):
            draw()

    def finish(self) -> SyntheticStreetSample:
        """Add illumination/noise, then compute ``segments_info``."""
        H, W = self.H, self.W
        light = smooth_noise(self.tex, H, W, max(8, H // 4))
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
                'id': int(seg_id),
                'category_id': int(category_id),
                'iscrowd': int(iscrowd),
                'bbox': [int(cols[0]), int(rows[0]),
                         int(cols[-1] - cols[0] + 1),
                         int(rows[-1] - rows[0] + 1)],
                'area': int(area),
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
    renderer = StreetRenderer(cfg, rng)
    paint_background(renderer)
    add_vehicle_rows(renderer)
    add_persons(renderer)
    add_void_blobs(renderer)
    renderer.draw_things()
    add_ego_vehicle(renderer)
    return renderer.finish()
