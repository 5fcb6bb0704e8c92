"""Tests of the synthetic streets' instance appearance diversity (``instance_diversity``) and of
the dataset versioning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

from mmibs.datasets import SyntheticStreetsPanopticDataset
from mmibs.datasets.coco_format_panoptic import PanopticAnnotationError
from mmibs.datasets.synthetic import (
    GENERATOR_VERSION,
    SyntheticStreetsConfig,
    generate_synthetic_streets,
    render_synthetic_street,
)

SIZE = dict(height=256, width=512, seed=0)
CAR = 26


def car_statistics(diversity: float, images: int = 4) -> Dict[str, List[float]]:
    """Per car instance (>= 400 visible px): mean colour of its most frequent colour bin (the
    body paint) and bounding-box aspect ratio, over the first train images."""
    cfg = SyntheticStreetsConfig(instance_diversity=diversity, **SIZE)
    colours: List[np.ndarray] = []
    aspects: List[float] = []
    for i in range(images):
        sample = render_synthetic_street(cfg, 0, i)
        for seg in sample.segments_info:
            if seg['category_id'] != CAR or seg['iscrowd'] or seg['area'] < 400:
                continue
            pixels = sample.image[sample.id_map == seg['id']].astype(np.int64)
            bins = pixels // 32
            keys = bins[:, 0] * 64 + bins[:, 1] * 8 + bins[:, 2]
            body = pixels[keys == np.bincount(keys).argmax()]
            colours.append(body.mean(axis=0))
            w, h = seg['bbox'][2:]
            aspects.append(w / h)
    return dict(colours=colours, aspects=aspects)


def test_diversity_is_deterministic() -> None:
    cfg = SyntheticStreetsConfig(instance_diversity=0.7, **SIZE)
    a, b = render_synthetic_street(cfg, 1, 3), render_synthetic_street(cfg, 1, 3)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.id_map, b.id_map)
    assert a.segments_info == b.segments_info


def test_cars_differ_in_colour_at_the_default_and_not_at_zero() -> None:
    default = SyntheticStreetsConfig().instance_diversity
    assert default == 0.5
    spread = {}
    for d in (0.0, default, 1.0):
        colours = np.stack(car_statistics(d)['colours'])
        assert len(colours) >= 10
        # Mean per-channel median absolute deviation of the instances' body colours (0-255;
        # robust to the few small cars whose most frequent colour is the outline or a window).
        spread[d] = float(np.median(np.abs(colours - np.median(colours, axis=0)), axis=0).mean())
    # Clones differ only by the jitter (sigma 8) and shading (measured 4.2); the default and
    # full diversity by the paint (measured 21.5 and 44.5).
    assert spread[0.0] < 10.0
    assert spread[default] > 15.0
    assert spread[1.0] > 1.5 * spread[default]


def test_cars_differ_in_shape_at_the_default() -> None:
    # Occlusion and the image border change visible aspect ratios at any diversity; only
    # fully visible cars (aspect ratio > 1.8, i.e. not cut) are compared.
    spread = {}
    for d in (0.0, 1.0):
        aspects = np.array([a for a in car_statistics(d, images=6)['aspects'] if a > 1.8])
        spread[d] = float(aspects.std())
    assert spread[1.0] > 1.3 * spread[0.0]  # measured 0.49 vs 0.32


def test_layout_is_the_same_at_every_diversity() -> None:
    # Same rows and groups: the sky / building / road geometry is identical, and the number of
    # queued instances per class is the same (only sizes and visibility may change a little).
    a = render_synthetic_street(SyntheticStreetsConfig(instance_diversity=0.0, **SIZE), 0, 2)
    b = render_synthetic_street(SyntheticStreetsConfig(instance_diversity=1.0, **SIZE), 0, 2)
    sky = 23000  # the sky segment id (category 23 * 1000)
    assert np.mean((a.id_map == sky) == (b.id_map == sky)) > 0.97


@pytest.mark.parametrize('value', [-0.1, 1.5, 'high'])
def test_invalid_diversity_raises(value: object) -> None:
    with pytest.raises(ValueError, match='instance_diversity'):
        SyntheticStreetsConfig(instance_diversity=value)  # type: ignore[arg-type]


def test_json_records_the_version_and_knob(tmp_path: Path) -> None:
    out = tmp_path / 'synthetic'
    generate_synthetic_streets(out, SyntheticStreetsConfig(
        height=128, width=256, num_train=1, num_val=1, instance_diversity=0.5), progress=False)
    info = json.loads((out / 'annotations' / 'panoptic_val.json').read_text())['info']
    assert info['version'] == GENERATOR_VERSION and GENERATOR_VERSION.startswith('2.')
    assert info['generator_config']['instance_diversity'] == 0.5


def test_dataset_refuses_data_of_another_generator_major(tmp_path: Path) -> None:
    out = tmp_path / 'synthetic'
    generate_synthetic_streets(out, SyntheticStreetsConfig(
        height=128, width=256, num_train=1, num_val=1), progress=False)
    ann = out / 'annotations' / 'panoptic_val.json'
    kwargs = dict(data_root=str(out), ann_file='annotations/panoptic_val.json',
                  data_prefix=dict(img='images/val/', seg='annotations/panoptic_val/'),
                  pipeline=[], test_mode=True)
    assert len(SyntheticStreetsPanopticDataset(**kwargs)) == 1
    raw = json.loads(ann.read_text())
    raw['info']['version'] = '1.0.0'
    ann.write_text(json.dumps(raw))
    with pytest.raises(PanopticAnnotationError,
                       match=r'panoptic_val.json: written by synthetic streets generator 1.0.0.*'
                       r'make_synthetic_panoptic.py --out .* --overwrite'):
        SyntheticStreetsPanopticDataset(**kwargs)
