"""The things of a synthetic street, placed on a :class:`StreetRenderer`: rows of cars and
trucks (many touching), groups of persons (some annotated as one crowd segment), unlabelled void
objects and the ego-vehicle hood band."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Tuple

import numpy as np

from . import diversity as div
from .sprites import (
    CAR_BODY,
    K_CAR,
    K_PERSON,
    K_TRUCK,
    MIN_SPRITE_PX,
    PERSON_CLOTHES,
    PERSON_PANTS,
    PERSON_SKIN,
    TRUCK_CABIN,
    TRUCK_CARGO,
    WINDOW,
    Sprite,
    car_sprite,
    person_sprite,
    truck_sprite,
)

if TYPE_CHECKING:
    from .renderer import StreetRenderer


def add_vehicle_rows(street: StreetRenderer) -> None:
    """Rows of cars/trucks on the road, many touching bumper-to-bumper."""
    cfg, rng, H, W = street.cfg, street.rng, street.H, street.W
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
        lane_marking(street, street.road_y(0.55 * ta + 0.45 * tb))

    for t in ts:
        row_y = street.road_y(t)
        facing_left = bool(rng.random() < 0.5)
        n = int(rng.integers(cfg.vehicles_per_row[0],
                             cfg.vehicles_per_row[1] + 1))
        specs = []
        x = 0.0
        prev_len = 0.0
        for i in range(n):
            truck = bool(rng.random() < cfg.truck_prob)
            y = row_y + rng.uniform(-0.012, 0.012) * H
            k = K_TRUCK if truck else K_CAR
            d = cfg.instance_diversity
            vh = street._depth_height(y, k) * rng.uniform(0.93, 1.07) * div.factor(rng, 0.15, d)
            vl = vh * (rng.uniform(2.4, 2.9) if truck
                       else rng.uniform(2.2, 2.6)) * div.factor(rng, 0.12, d)
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
            queue_vehicle(street, truck, offset + xl, y, vl, vh,
                          facing_left)


def lane_marking(street: StreetRenderer, y: float) -> None:
    """Dashed white lane marking on the road at row ``y``."""
    rng, W = street.rng, street.W
    th = max(1, int(round(0.02 * street._depth_height(y, 1.0))))
    y0 = int(round(y))
    dash, gap = 0.07 * W, 0.05 * W
    x = -rng.uniform(0, dash + gap)
    road = street.segments_key('road')
    while x < W:
        xa, xb = int(max(0, x)), int(min(W, x + dash))
        if xa < xb:
            sl = (slice(y0, min(street.H, y0 + th)), slice(xa, xb))
            on_road = street.ids[sl] == road
            street.img[sl][on_road] = (205, 205, 200)
        x += dash + gap


def queue_vehicle(street: StreetRenderer, truck: bool, x_left: float, y_bottom: float,
                  length: float, height: float,
                  facing_left: bool) -> None:
    """Queue one car or truck; fully off-screen vehicles are skipped."""
    rng, d = street.rng, street.cfg.instance_diversity
    if truck:
        colors = (street._jitter(div.paint_color(rng, TRUCK_CABIN, d)),
                  street._jitter(div.paint_color(rng, TRUCK_CARGO, d)))
        cargo_length = div.truck_shape(rng, d)
    else:
        colors = (street._jitter(div.paint_color(rng, CAR_BODY, d)), street._jitter(WINDOW, 4))
        cabin = div.car_shape(rng, d)
    if height < MIN_SPRITE_PX or x_left + length < 0 or x_left > street.W:
        return
    seg_id = street._instance_id('truck' if truck else 'car')

    def draw() -> None:
        shadow(street, x_left + length / 2, y_bottom, length * 0.54,
               max(1.0, height * 0.07))
        if truck:
            sprite = truck_sprite(length, height, *colors, cargo_length=cargo_length)
        else:
            sprite = car_sprite(length, height, *colors, cabin=cabin)
        street._blit_instance(sprite, int(round(x_left)),
                              int(round(y_bottom - sprite.height + 1)),
                              seg_id, flip=facing_left)

    street._add_thing(y_bottom, draw)


def shadow(street: StreetRenderer, cx: float, cy: float, rx: float, ry: float) -> None:
    """Darken the road under a vehicle (image only, road pixels only)."""
    x0, x1 = int(max(0, cx - rx)), int(min(street.W, cx + rx + 1))
    y0, y1 = int(max(0, cy - ry)), int(min(street.H, cy + ry + 1))
    if x0 >= x1 or y0 >= y1:
        return
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    inside = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1.0
    inside &= street.ids[y0:y1, x0:x1] == street.segments_key('road')
    street.img[y0:y1, x0:x1][inside] *= 0.55


def queue_person(street: StreetRenderer, x_center: float, y_foot: float, size: float,
                 seg_id: Optional[int], name: str = 'person') -> None:
    """Queue one person; ``seg_id=None`` allocates a new instance id."""
    rng, d = street.rng, street.cfg.instance_diversity
    height = street._depth_height(y_foot, K_PERSON) * size * div.factor(rng, 0.15, d)
    width_factor = div.person_shape(rng, d)
    width = width_factor * height
    clothes = street._jitter(div.paint_color(rng, PERSON_CLOTHES, d))
    pants = street._jitter(div.paint_color(rng, PERSON_PANTS, d), street.cfg.color_jitter / 2)
    skin = street._jitter(div.skin_color(rng, PERSON_SKIN, d), 6)
    stride = float(rng.uniform(0.0, 1.0))
    if height < 2 * MIN_SPRITE_PX or x_center + width < 0 or \
            x_center - width > street.W:
        return
    sid = street._instance_id(name) if seg_id is None else seg_id

    def draw() -> None:
        sprite = person_sprite(height, clothes, pants, skin, stride, width=width_factor)
        street._blit_instance(sprite,
                              int(round(x_center - sprite.width / 2)),
                              int(round(y_foot - sprite.height + 1)), sid)

    street._add_thing(y_foot, draw)


def person_row(street: StreetRenderer, n: int, y_lo: float, y_hi: float,
               spacing: Tuple[float, float],
               crowd_id: Optional[int]) -> None:
    """Queue ``n`` persons standing side by side with feet in a band."""
    rng = street.rng
    y_base = rng.uniform(y_lo, y_hi)
    ref_w = 0.36 * street._depth_height(y_base, K_PERSON)
    gaps = [rng.uniform(*spacing) * ref_w for _ in range(n - 1)]
    span = float(sum(gaps))
    x = rng.uniform(-0.1 * street.W, max(0.0, street.W - span) + 0.05 * street.W)
    band = y_hi - y_lo
    for i in range(n):
        y = float(np.clip(y_base + rng.uniform(-0.2, 0.2) * band,
                          y_lo, y_hi))
        queue_person(street, x, y, rng.uniform(0.9, 1.1), crowd_id)
        if i < n - 1:
            x += gaps[i]


def add_persons(street: StreetRenderer) -> None:
    """Person groups on the sidewalk, crossings and crowds."""
    cfg, rng = street.cfg, street.rng
    sw_h = street.y_curb - street.y_sidewalk
    lo = street.y_sidewalk + 0.3 * sw_h
    hi = street.y_curb - 0.08 * sw_h
    for _ in range(int(rng.integers(cfg.person_groups[0],
                                    cfg.person_groups[1] + 1))):
        n = int(rng.integers(cfg.persons_per_group[0],
                             cfg.persons_per_group[1] + 1))
        person_row(street, n, lo, hi, (0.55, 1.2), None)
    if rng.random() < cfg.crossing_prob:
        t = rng.uniform(0.25, 0.8)
        y = street.road_y(t)
        n = int(rng.integers(2, 5))
        person_row(street, n, y - 0.02 * street.H, y + 0.02 * street.H,
                   (0.5, 1.3), None)
    if rng.random() < cfg.crowd_prob:
        n = int(rng.integers(cfg.crowd_size[0], cfg.crowd_size[1] + 1))
        person_row(street, n, lo, hi, (0.2, 0.5), street._crowd_id('person'))


def add_void_blobs(street: StreetRenderer) -> None:
    """Small unlabeled objects (poles with signs, blobs) - void."""
    rng, H, W = street.rng, street.H, street.W
    for _ in range(int(rng.integers(street.cfg.void_blobs[0],
                                    street.cfg.void_blobs[1] + 1))):
        if rng.random() < 0.5:
            # A pole with a sign, standing on the sidewalk.
            y_foot = rng.uniform(street.y_sidewalk, street.y_curb)
            ph = street._depth_height(y_foot, rng.uniform(0.9, 1.3))
            sign = ((200, 168, 40), (40, 90, 170), (190, 40, 40))[
                int(rng.integers(0, 3))]
            x_center = rng.uniform(0, W)
            pw = max(1.0, 0.025 * ph)
            sr = max(2.0, 0.09 * ph)
            sw_, sh_ = int(2 * sr) + 2, int(ph) + 1
            if sh_ < 2 * MIN_SPRITE_PX:
                continue
            sp = Sprite(sw_, sh_)
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
            sp = Sprite(int(2 * c) + 1, int(2 * c) + 1)
            sp.polygon(pts, rng.uniform(60, 200, 3))
            x0 = int(rng.uniform(0, W) - c)
            y_foot = rng.uniform(street.horizon, H)
            y0 = int(y_foot - c)

        def draw(sp: Sprite = sp, x0: int = x0, y0: int = y0) -> None:
            rgb, mask = sp.arrays()
            street._blit(rgb, mask, x0, y0, 0)

        street._add_thing(y_foot, draw)


def add_ego_vehicle(street: StreetRenderer) -> None:
    """With ``void_prob``, an ego-vehicle hood band (void) at the bottom."""
    rng, H, W = street.rng, street.H, street.W
    if not rng.random() < street.cfg.void_prob:
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
    street.img[mask] = hood[mask]
    street.ids[mask] = 0
