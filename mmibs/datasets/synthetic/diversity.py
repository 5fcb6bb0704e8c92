"""Per-instance appearance variation of the synthetic things (``instance_diversity``).

Real cars, trucks and persons of one class differ in colour, size, proportions and details
while their silhouette and parts keep the class recognisable. ``instance_diversity`` d in
[0, 1] scales every variation drawn here: d = 0 gives clones of the class template (only the
small ``color_jitter`` remains, generator 1.x), d = 1 paint colours from the whole colour
space, clothes of any colour, a range of skin tones, ±15 % size, ±12 % aspect ratio and shifted
cabins / cargo boxes / body widths; values between move the template's colours and shapes that
far towards the random ones (the default 0.5: half-way).

Every function takes the same number of draws from ``rng`` for every d, so a scene has the same
layout (rows, counts, which class where) at every diversity: the diversity ablation compares
the same streets with more or less varied instances.
"""

from __future__ import annotations

import colorsys
from typing import Tuple

import numpy as np

from .config import Color

# Skin tones between which a person's skin is drawn at d = 1 (light ... dark).
_SKIN_LIGHT: Color = (240, 204, 176)
_SKIN_DARK: Color = (96, 64, 46)


def blend(template: Color, target: Color, diversity: float) -> Color:
    """``template + diversity * (target - template)``, channel-wise."""
    return tuple(float(a + diversity * (b - a)) for a, b in zip(template, target))  # type: ignore


def paint_color(rng: np.random.Generator, template: Color, diversity: float) -> Color:
    """A body / clothes colour: the class template moved towards a random colour.

    The random colour has a uniform hue, saturation in [0.05, 0.85] and value in [0.18, 0.92]
    (greys, whites, dark and vivid paints). Always three draws.
    """
    hue, sat, val = rng.uniform(0.0, 1.0), rng.uniform(0.05, 0.85), rng.uniform(0.18, 0.92)
    target = tuple(255.0 * c for c in colorsys.hsv_to_rgb(hue, sat, val))
    return blend(template, target, diversity)  # type: ignore[arg-type]


def skin_color(rng: np.random.Generator, template: Color, diversity: float) -> Color:
    """A skin tone: the template moved towards a random tone of the light ... dark range."""
    tone = blend(_SKIN_LIGHT, _SKIN_DARK, float(rng.uniform(0.0, 1.0)))
    return blend(template, tone, diversity)


def factor(rng: np.random.Generator, spread: float, diversity: float) -> float:
    """A multiplicative shape factor ``1 + diversity * U(-spread, spread)`` (one draw)."""
    return 1.0 + diversity * float(rng.uniform(-spread, spread))


def offset(rng: np.random.Generator, spread: float, diversity: float) -> float:
    """An additive shape offset ``diversity * U(-spread, spread)`` (one draw)."""
    return diversity * float(rng.uniform(-spread, spread))


def car_shape(rng: np.random.Generator, diversity: float) -> Tuple[float, float, float]:
    """``(cabin_front, cabin_back, roof)`` of a car sprite, as fractions of its length / height.

    The template is (0.29, 0.63, 0.03): a saloon; variations give hatchbacks (cabin moved back,
    longer), coupés (lower roof) and vans (higher, longer cabin).
    """
    front = 0.29 + offset(rng, 0.07, diversity)
    back = 0.63 + offset(rng, 0.12, diversity)
    roof = 0.03 + max(0.0, offset(rng, 0.14, diversity))
    return front, back, roof


def truck_shape(rng: np.random.Generator, diversity: float) -> float:
    """Length fraction of the cargo box of a truck (template 0.70)."""
    return 0.70 + offset(rng, 0.06, diversity)


def person_shape(rng: np.random.Generator, diversity: float) -> float:
    """Width of a person sprite relative to its height (template 0.36)."""
    return 0.36 * factor(rng, 0.2, diversity)
