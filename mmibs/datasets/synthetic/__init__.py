"""The *synthetic streets* panoptic dataset (generator + category table).

A small, deterministic, COCO-panoptic street-scene dataset whose images
contain many touching, look-alike and partly very large instances of the
same thing class - the situation in which crop-trained panoptic networks
confuse instances at full-resolution test time (see
:mod:`mmibs.datasets.synthetic.renderer` for the design).  This package only
depends on numpy, Pillow and (optionally) tqdm.

Modules: ``config`` (:class:`SyntheticStreetsConfig`, validation), ``sprites``
(colours, perspective, the sprite rasteriser and the thing sprites),
``background`` (stuff), ``things`` (vehicles, persons, void), ``renderer``
(one image and its annotation), ``writer`` (the dataset on disk), and
``categories``.

Typical use::

    from mmibs.datasets.synthetic import (SyntheticStreetsConfig,
                                          generate_synthetic_streets)
    summary = generate_synthetic_streets('data/synthetic',
                                         SyntheticStreetsConfig(seed=0))

or from the command line::

    python tools/dataset_converters/make_synthetic_panoptic.py \
        --out data/synthetic
"""

from .categories import (
    CATEGORY_IDS,
    STUFF_CATEGORY_IDS,
    STUFF_CLASSES,
    SYNTHETIC_STREETS_CATEGORIES,
    THING_CATEGORY_IDS,
    THING_CLASSES,
)
from .config import GENERATOR_MAJOR, GENERATOR_VERSION, SPLITS, SyntheticStreetsConfig
from .renderer import SyntheticStreetSample, render_synthetic_street
from .writer import generate_synthetic_streets

__all__ = [
    'SYNTHETIC_STREETS_CATEGORIES',
    'THING_CLASSES',
    'STUFF_CLASSES',
    'CATEGORY_IDS',
    'THING_CATEGORY_IDS',
    'STUFF_CATEGORY_IDS',
    'GENERATOR_MAJOR',
    'GENERATOR_VERSION',
    'SPLITS',
    'SyntheticStreetsConfig',
    'SyntheticStreetSample',
    'generate_synthetic_streets',
    'render_synthetic_street',
]
