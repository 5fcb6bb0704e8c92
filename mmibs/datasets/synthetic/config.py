"""Configuration of the synthetic streets generator: :class:`SyntheticStreetsConfig` and its
validation, the splits and the generator version."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import numpy as np

#: Version of the rendering code; stored in the JSON ``info`` field.
GENERATOR_VERSION = '2.0.0'
#: Major version a dataset's JSON must carry to be read as this generator's output (2: the
#: per-instance appearance variation, ``instance_diversity``; 1: every instance a class clone).
GENERATOR_MAJOR = int(GENERATOR_VERSION.split('.')[0])

#: The splits written by :func:`generate_synthetic_streets`, in split-index
#: order (the index is part of every image's RNG seed).
SPLITS: Tuple[str, ...] = ('train', 'val')

IntRange = Tuple[int, int]
Color = Tuple[float, float, float]


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
        instance_diversity: How much instances of a class differ, in
            [0, 1] (:mod:`.diversity`): 0 = clones of the class template
            (generator 1.x), 1 = real-street-like variation of body / clothes
            colour, skin tone, size, aspect ratio and parts, while silhouette
            and parts keep the class recognisable.  Default 0.5: half-way
            colours and shapes, the most the CPU budget of the reproduction
            learns (docs/reproduction.md: crop-baseline PQ^th 18 at 0.5 vs 5
            at 1.0 in the pilot).  The layout of a scene is the same at every
            value.
        color_jitter: Standard deviation (in 0-255 units) of the
            per-instance colour jitter on top of that variation (a shared
            brightness shift plus a third of it per channel).
        noise_std: Standard deviation of the additive per-pixel Gaussian
            image noise.
        outline_width: Width in pixels of the dark outline drawn around
            every thing instance; ``None`` means ``max(1, round(height /
            200))`` (3 px at 512x1024).
        min_instance_fraction: Thing instances (not crowds) whose *visible*
            area is smaller than this fraction of the image are relabelled as
            void (id 0): occluded slivers and far-away cars and persons (the
            default 4e-3 is 524 px at 256x512, 2097 px at 512x1024; generator
            1.x: 1e-4).  The paper's confusion concerns large instances; the
            small ones cannot be segmented by the small from-scratch models
            trained on this data.  0 keeps every visible pixel.
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
    instance_diversity: float = 0.5
    color_jitter: float = 8.0
    noise_std: float = 4.0
    outline_width: Optional[int] = None
    min_instance_fraction: float = 4e-3
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
        _check_int('height', self.height, minimum=64)
        _check_int('width', self.width, minimum=64)
        _check_int('num_train', self.num_train, minimum=1)
        _check_int('num_val', self.num_val, minimum=1)
        _check_int('seed', self.seed, minimum=0)
        _check_range('vehicle_rows', self.vehicle_rows, minimum=0)
        _check_range('vehicles_per_row', self.vehicles_per_row, minimum=1)
        _check_range('person_groups', self.person_groups, minimum=0)
        _check_range('persons_per_group', self.persons_per_group, minimum=1)
        _check_range('crowd_size', self.crowd_size, minimum=2)
        _check_range('void_blobs', self.void_blobs, minimum=0)
        for name in ('truck_prob', 'large_instance_prob', 'touching_prob',
                     'crossing_prob', 'crowd_prob', 'void_prob'):
            _check_float(name, getattr(self, name), 0.0, 1.0)
        _check_float('instance_diversity', self.instance_diversity, 0.0, 1.0)
        _check_float('color_jitter', self.color_jitter, 0.0, 64.0)
        _check_float('noise_std', self.noise_std, 0.0, 64.0)
        if self.outline_width is not None:
            _check_int('outline_width', self.outline_width, minimum=0)
        _check_float('min_instance_fraction', self.min_instance_fraction,
                     0.0, 0.01)
        _check_int('jpeg_quality', self.jpeg_quality, minimum=1, maximum=100)

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


_RANGE_FIELDS = ('vehicle_rows', 'vehicles_per_row', 'person_groups',
                 'persons_per_group', 'crowd_size', 'void_blobs')


def _is_int(value: Any) -> bool:
    """Return True for ints (including numpy ints) but not for bools."""
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_))


def _check_int(name: str, value: Any, minimum: int,
               maximum: Optional[int] = None) -> None:
    """Validate an integer field."""
    if not _is_int(value):
        raise ValueError(f'{name} must be an integer, got {value!r}')
    if value < minimum or (maximum is not None and value > maximum):
        bound = f'>= {minimum}' if maximum is None else \
            f'in [{minimum}, {maximum}]'
        raise ValueError(f'{name} must be {bound}, got {value!r}')


def _check_float(name: str, value: Any, minimum: float,
                 maximum: float) -> None:
    """Validate a real-valued field."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise ValueError(f'{name} must be a number, got {value!r}')
    if not (minimum <= float(value) <= maximum):
        raise ValueError(
            f'{name} must be in [{minimum}, {maximum}], got {value!r}')


def _check_range(name: str, value: Any, minimum: int) -> None:
    """Validate an inclusive ``(min, max)`` integer range field."""
    if not isinstance(value, (tuple, list)) or len(value) != 2 or \
            not all(_is_int(v) for v in value):
        raise ValueError(
            f'{name} must be a (min, max) pair of integers, got {value!r}')
    lo, hi = value
    if lo < minimum or hi < lo:
        raise ValueError(
            f'{name} must satisfy {minimum} <= min <= max, got {value!r}')
