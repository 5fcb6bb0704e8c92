"""The stuff of a synthetic street: sky, buildings, vegetation, sidewalk and road, painted onto
a :class:`~mmibs.datasets.synthetic.renderer.StreetRenderer`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import numpy as np

from .sprites import CURB, MIN_SPRITE_PX, ROAD, SIDEWALK, TRUNK, VEGETATION, Sprite, blocky_noise

if TYPE_CHECKING:
    from .renderer import StreetRenderer


def paint_background(street: StreetRenderer) -> None:
    """Sky, buildings, vegetation, sidewalk and road (stuff)."""
    rng, H, W = street.rng, street.H, street.W
    ys = np.arange(H, dtype=np.float32)[:, None]
    xs = np.arange(W, dtype=np.float32)[None, :]

    # Sky: vertical gradient and a few soft clouds.
    sky_id = street._stuff_id('sky')
    t = np.clip(ys / max(street.y_sidewalk, 1.0), 0, 1)[..., None]
    top = np.array((62, 112, 178), np.float32)
    bottom = np.array((178, 202, 226), np.float32)
    street.img[:] = top * (1 - t) + bottom * t
    street.ids[:] = sky_id
    for _ in range(int(rng.integers(0, 4))):
        cx, cy = rng.uniform(0, W), rng.uniform(0, street.horizon)
        rx, ry = rng.uniform(0.05, 0.15) * W, rng.uniform(0.02, 0.05) * H
        d = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2
        alpha = (np.clip(1.0 - d, 0, 1) * 0.6)[..., None]
        street.img[:] = street.img * (1 - alpha) + 235.0 * alpha

    # Buildings: an uninterrupted skyline with window grids.
    building_id = street._stuff_id('building')
    yb = int(round(street.y_sidewalk))
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
        block = street.img[y_top:yb, xa:x1]
        block[:] = wall
        ly = np.arange(y_top, yb)[:, None] - y_top
        lx = np.arange(xa, x1)[None, :] - x
        win = (((ly % cell) > 0.35 * cell) & ((lx % cw) > 0.3 * cw)
               & (ly > 0.4 * cell) & (ly < (yb - y_top) - cell)
               & (lx > 0.3 * cw) & (lx < bw - 0.3 * cw))
        lit = blocky_noise(street.tex, yb - y_top, x1 - xa, cell) > 1.3
        block[win] = (48, 58, 74)
        block[win & lit] = (205, 198, 150)
        street.img[y_top:min(yb, y_top + max(1, H // 128)), xa:x1] *= 0.7
        street.ids[y_top:yb, xa:x1] = building_id

    # Sidewalk: paving joints and a bright curb.
    sidewalk_id = street._stuff_id('sidewalk')
    yc = int(round(street.y_curb))
    sw = street.img[yb:yc]
    sw[:] = SIDEWALK
    joint_h = max(3, (yc - yb) // 3)
    joint_w = max(6, int(0.06 * W))
    ly = np.arange(yc - yb)[:, None]
    lx = np.arange(W)[None, :] + (ly // joint_h) * (joint_w // 2)
    joints = ((ly % joint_h) == 0) | ((lx % joint_w) == 0)
    sw[joints] *= 0.82
    curb_h = max(1, int(round(0.012 * H)))
    sw[-curb_h:] = CURB
    street.ids[yb:yc] = sidewalk_id

    # Road with a gutter line; lane markings are added by the rows.
    road_id = street._stuff_id('road')
    street.img[yc:] = ROAD
    street.img[yc:yc + max(1, curb_h // 2)] *= 0.6
    street.ids[yc:] = road_id

    # Vegetation: hedges along the facades and trees on the sidewalk.
    veg_id: Optional[int] = None
    if rng.random() < 0.5:
        veg_id = street._stuff_id('vegetation')
        hx = rng.uniform(0, 0.6) * W
        hw = rng.uniform(0.15, 0.5) * W
        hh = rng.uniform(0.02, 0.045) * H
        sp = Sprite(int(hw) + 1, int(hh) + 1)
        sp.rect((0, 0, hw, hh), VEGETATION, radius=hh / 2)
        paint_vegetation(street, sp, int(hx), int(yb - hh), veg_id)
    for _ in range(int(rng.integers(0, 5))):
        if veg_id is None:
            veg_id = street._stuff_id('vegetation')
        base_y = street.y_sidewalk + rng.uniform(0.05, 0.35) * (
            street.y_curb - street.y_sidewalk)
        th = street._depth_height(base_y, rng.uniform(1.0, 1.7))
        cr = rng.uniform(0.25, 0.33) * th
        crowns = [(rng.uniform(-0.35, 0.35) * cr,
                   rng.uniform(-0.2, 0.25) * cr,
                   rng.uniform(0.7, 0.95) * cr,
                   street._jitter(VEGETATION, 6)) for _ in range(3)]
        x_center = rng.uniform(-0.05, 1.0) * W
        if th < 3 * MIN_SPRITE_PX:
            continue
        tw, thh = int(2.4 * cr) + 1, int(th) + 1
        sp = Sprite(tw, thh)
        cx = tw / 2
        trunk_w = max(1.0, 0.06 * th)
        sp.rect((cx - trunk_w / 2, 1.2 * cr, cx + trunk_w / 2, thh - 1),
                TRUNK)
        for ox, oy, r, color in crowns:
            sp.ellipse((cx + ox - r, cr + oy - r, cx + ox + r,
                        cr + oy + r), color)
        paint_vegetation(street, sp, int(x_center - cx),
                         int(round(base_y - thh)), veg_id)


def paint_vegetation(street: StreetRenderer, sprite: Sprite, x0: int, y0: int,
                     seg_id: int) -> None:
    """Paint a vegetation sprite with a leafy (blotchy) texture."""
    rgb, mask = sprite.arrays()
    h, w = mask.shape
    blotch = blocky_noise(street.tex, h, w, max(2, street.H // 100))
    leafy = (rgb[..., 1] > rgb[..., 0] + 10)[..., None]
    rgb = np.where(leafy, rgb * (1 + 0.12 * blotch[..., None]), rgb)
    street._blit(rgb, mask, x0, y0, seg_id)
