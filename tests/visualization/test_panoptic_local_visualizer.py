"""PanopticLocalVisualizer: mmdet's panoptic drawing, also for maps without any segment."""
import numpy as np
import pytest
from mmdet.visualization import DetLocalVisualizer
from mmengine.structures import PixelData

from mmibs.visualization import PanopticLocalVisualizer

CLASSES = ('person', 'car', 'road')
PALETTE = [(220, 20, 60), (0, 0, 142), (128, 64, 128)]


def panoptic(values: np.ndarray) -> PixelData:
    return PixelData(sem_seg=values[None])  # as DetLocalVisualizer passes predictions


def test_all_void_map_draws_the_plain_image_where_mmdet_fails():
    image = np.full((8, 8, 3), 77, dtype=np.uint8)
    void = panoptic(np.full((8, 8), len(CLASSES), dtype=np.int64))
    with pytest.raises(ValueError, match='need at least one array'):
        DetLocalVisualizer()._draw_panoptic_seg(image, void, CLASSES, PALETTE)
    out = PanopticLocalVisualizer(name='vis_void')._draw_panoptic_seg(image, void, CLASSES,
                                                                      PALETTE)
    assert np.array_equal(out, image)


def test_other_maps_are_drawn_as_mmdet_draws_them():
    image = np.full((16, 16, 3), 77, dtype=np.uint8)
    seg = np.full((16, 16), 2, dtype=np.int64)  # road
    seg[2:8, 2:8] = 1 + 1000  # car instance 1
    ours = PanopticLocalVisualizer(name='vis_ours')._draw_panoptic_seg(
        image, panoptic(seg), CLASSES, PALETTE)
    stock = DetLocalVisualizer(name='vis_stock')._draw_panoptic_seg(
        image, panoptic(seg), CLASSES, PALETTE)
    assert np.array_equal(ours, stock) and not np.array_equal(ours, image)
