"""Panoptic FCN pure functions against the official values."""
import math

import pytest
import torch
from mmdet.models.utils import generate_coordinate
from mmdet.models.utils.gaussian_target import gaussian_radius

from mmibs.models.panoptic_fcn import (
    coord_features,
    draw_gaussian,
    guided_topk,
    pfcn_gaussian_radius,
    stuff_kernels_from_masks,
)


def test_coord_channels_rows_then_columns_swapped_vs_mmdet():
    feat = torch.zeros(2, 5, 3, 4)
    coords = coord_features(feat)
    assert coords.shape == (2, 2, 3, 4)
    rows = torch.linspace(-1, 1, 3)[:, None].expand(3, 4)
    cols = torch.linspace(-1, 1, 4)[None, :].expand(3, 4)
    assert torch.equal(coords[1, 0], rows) and torch.equal(coords[1, 1], cols)
    mmdet = generate_coordinate(feat.shape, device='cpu')  # (B, 2, H, W): [x=cols, y=rows]
    assert torch.equal(mmdet[:, 0], coords[:, 1]) and torch.equal(mmdet[:, 1], coords[:, 0])
    assert not torch.equal(mmdet, coords)


@pytest.mark.parametrize('wh, radius, truncated', [((10, 10), 2.733, 2), ((32, 16), 5.885, 5),
                                                   ((4, 4), 1.093, 1), ((2, 2), 0.547, 0)])
def test_radius_official_values(wh, radius, truncated):
    width, height = wh
    value = pfcn_gaussian_radius(height, width, 0.7)
    assert value == pytest.approx(radius, abs=1e-3)
    assert int(max(value, 0)) == truncated


def test_radius_is_not_mmdets_corrected_formula():
    assert gaussian_radius((10, 10), 0.7) == pytest.approx(0.817, abs=1e-3)
    assert pfcn_gaussian_radius(10, 10) / gaussian_radius((10, 10), 0.7) > 3


def test_gaussian_sigma_d_over_3_values():
    heatmap = torch.zeros(9, 9)
    draw_gaussian(heatmap, (4, 4), 2)
    sigma = 5 / 3
    assert heatmap[4, 4] == 1
    assert heatmap[4, 5] == pytest.approx(0.8353, abs=1e-4)
    assert heatmap[5, 5] == pytest.approx(0.6977, abs=1e-4)
    assert heatmap[4, 6] == pytest.approx(0.4868, abs=1e-4)
    assert heatmap[4, 6] == pytest.approx(math.exp(-4 / (2 * sigma**2)), abs=1e-6)
    assert heatmap[4, 7] == 0 and heatmap[0, 0] == 0  # outside the radius


def test_gaussian_merge_by_max_and_border_clipping():
    heatmap = torch.zeros(6, 8)
    draw_gaussian(heatmap, (2, 2), 2)
    first = heatmap.clone()
    draw_gaussian(heatmap, (4, 2), 2)
    second = torch.zeros(6, 8)
    draw_gaussian(second, (4, 2), 2)
    assert torch.equal(heatmap, torch.maximum(first, second))
    corner = torch.zeros(4, 4)
    draw_gaussian(corner, (0, 0), 2)
    full = torch.zeros(9, 9)
    draw_gaussian(full, (4, 4), 2)
    assert torch.equal(corner[:3, :3], full[4:7, 4:7])  # the clipped part keeps its shape
    assert corner[0, 0] == 1 and corner.argmax() == 0


def test_guided_topk_in_mask_gt_class_and_gradient():
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.0, -1.0, 5.0]], requires_grad=True)
    valid = torch.tensor([[True, True, True, True, True, False]])  # 5.0 is outside the mask
    weights, index = guided_topk(logits, valid, 3)
    assert index.tolist() == [[1, 3, 2]]
    assert torch.allclose(weights, torch.sigmoid(torch.tensor([[3.0, 2.0, 1.0]])))
    (weights / weights.sum()).mul(torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert logits.grad[0, [1, 2, 3]].abs().min() > 0  # not detached: the weights carry grad
    assert logits.grad[0, 5] == 0


def test_guided_topk_fewer_valid_than_k_and_smaller_level():
    logits = torch.zeros(2, 4)
    valid = torch.tensor([[True, False, False, False], [False] * 4])
    weights, _ = guided_topk(logits, valid, 3)
    assert weights.tolist() == [[0.5, 0.0, 0.0], [0.0, 0.0, 0.0]]
    weights, index = guided_topk(torch.zeros(1, 2), torch.ones(1, 2, dtype=torch.bool), 4)
    assert weights.shape == index.shape == (1, 4)  # a level with fewer positions than K
    assert weights[0, 2:].tolist() == [0.0, 0.0]


def test_stuff_kernel_is_mean_over_all_positions():
    kernel_map = torch.randn(5, 4, 4)
    mask = torch.zeros(1, 4, 4)
    mask[0, :2, :2] = 1  # a quarter of the map
    kernel = stuff_kernels_from_masks(mask, kernel_map)
    mask_mean = kernel_map[:, :2, :2].mean(dim=(1, 2))
    assert torch.allclose(kernel[0], 0.25 * mask_mean, atol=1e-6)
