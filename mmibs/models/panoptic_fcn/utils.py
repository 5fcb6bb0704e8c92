"""Pure functions of Panoptic FCN (Li et al., CVPR 2021) with the official code's conventions.

Reference (``DdeGeus/PanopticFCN-IBS``): ``panopticfcn/head.py`` (the coordinate channels),
``panopticfcn/gt_generate.py`` (``gaussian_radius``, ``draw_gaussian``),
``panopticfcn/panoptic_seg.py`` (``loss_single_level``: the guided top-K). Two mmdet look-alikes
differ from the official code and are deliberately not used: mmdet's ``gaussian_radius`` is the
corrected CornerNet formula (Panoptic FCN uses the un-normalised roots, ~2.8x larger) and
``gen_gaussian_target`` hard-codes sigma = d / 6 (Panoptic FCN: d / 3); mmdet's
``generate_coordinate`` returns the (column, row) channels in the opposite order.
"""
import math
from typing import Tuple

import torch
from mmdet.models.utils.gaussian_target import gaussian2D
from torch import Tensor


def coord_features(feat: Tensor) -> Tensor:
    """The two coordinate channels Panoptic FCN appends to its features.

    Args:
        feat: Feature map, shape (B, C, H, W); only its shape, dtype and device are used.

    Returns:
        Shape (B, 2, H, W): channel 0 is the row coordinate ``linspace(-1, 1, H)`` (varying
        along H), channel 1 the column coordinate ``linspace(-1, 1, W)`` (varying along W).
        Both span the full (padded) map. mmdet's ``generate_coordinate`` has them swapped.
    """
    batch, _, height, width = feat.shape
    rows = torch.linspace(-1, 1, height, dtype=feat.dtype, device=feat.device)
    cols = torch.linspace(-1, 1, width, dtype=feat.dtype, device=feat.device)
    grid_rows, grid_cols = torch.meshgrid(rows, cols, indexing='ij')
    return torch.stack((grid_rows, grid_cols)).expand(batch, 2, height, width)


def with_coord_features(feat: Tensor) -> Tensor:
    """``feat`` (B, C, H, W) with :func:`coord_features` appended: (B, C + 2, H, W)."""
    return torch.cat((feat, coord_features(feat)), dim=1)


def pfcn_gaussian_radius(height: float, width: float, min_overlap: float = 0.7) -> float:
    """Gaussian radius of Panoptic FCN: the minimum of the un-normalised CornerNet roots.

    ``r1 = (b1 + sqrt(b1^2 - 4 c1)) / 2`` with ``b1 = w + h``, ``c1 = wh (1 - o) / (1 + o)``;
    ``r2 = (b2 + sqrt(b2^2 - 16 c2)) / 2`` with ``b2 = 2 (w + h)``, ``c2 = (1 - o) wh``;
    ``r3 = (b3 + sqrt(b3^2 - 16 o c3)) / 2`` with ``b3 = -2 o (w + h)``, ``c3 = (o - 1) wh``.
    The official code does not divide r2 and r3 by their leading coefficients, so in practice
    r3 wins and is ``4 o`` times the correct root. E.g. (10, 10) -> 2.733, (32, 16) -> 5.885.

    Args:
        height: Box height at the feature level.
        width: Box width at the feature level.
        min_overlap: Minimum IoU ``o`` (``MIN_OVERLAP``, 0.7).

    Returns:
        The radius (not clamped, not truncated; the caller does ``int(max(r, 0))``).
    """
    b1 = height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + math.sqrt(b1**2 - 4 * c1)) / 2
    b2 = 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + math.sqrt(b2**2 - 16 * c2)) / 2
    b3 = -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + math.sqrt(b3**2 - 16 * min_overlap * c3)) / 2
    return min(r1, r2, r3)


def draw_gaussian(heatmap: Tensor, center: Tuple[int, int], radius: int,
                  sigma_divisor: float = 3.0) -> Tensor:
    """Draw a Gaussian peak into ``heatmap`` in place, merging by element-wise maximum.

    The kernel is mmdet's ``gaussian2D`` of diameter ``d = 2 radius + 1`` with
    ``sigma = d / sigma_divisor`` (Panoptic FCN: ``GAUSSIAN_SIGMA`` = 3); values below
    ``eps * max`` are zero. It is clipped at the borders of the map.

    Args:
        heatmap: Map of one class, shape (H, W), modified in place.
        center: Integer peak position (x, y); may lie on or beyond the border.
        radius: Integer radius >= 0.

    Returns:
        ``heatmap``.
    """
    diameter = 2 * radius + 1
    gaussian = gaussian2D(radius, sigma=diameter / sigma_divisor, dtype=heatmap.dtype,
                          device=heatmap.device)
    x, y = int(center[0]), int(center[1])
    height, width = heatmap.shape
    left, right = min(x, radius), min(width - x, radius + 1)
    top, bottom = min(y, radius), min(height - y, radius + 1)
    if not (0 <= x <= width and 0 <= y <= height) or left + right <= 0 or top + bottom <= 0:
        return heatmap
    region = heatmap[y - top:y + bottom, x - left:x + right]
    patch = gaussian[radius - top:radius + bottom, radius - left:radius + right]
    torch.maximum(region, patch, out=region)
    return heatmap


def guided_topk(guide_logits: Tensor, valid: Tensor, k: int) -> Tuple[Tensor, Tensor]:
    """The K positions of each instance with the highest centre score inside its mask.

    Args:
        guide_logits: Centre logits of each instance's ground-truth class, shape (N, P) over
            the P = H_l * W_l positions of a level.
        valid: Positions inside the instance's level mask (value > 0.1), bool, (N, P).
        k: Number of positions K (``POS_NUM``).

    Returns:
        weights: ``sigmoid(logit)`` at the chosen positions, 0 where fewer than K positions
            are valid (and for the padding when P < K), shape (N, K); **not detached**, so a
            loss weighted by them reaches the position head.
        indices: Flat position indices, int64, (N, K) (0 for the padding when P < K).
    """
    guidance = guide_logits.sigmoid() * valid.to(guide_logits.dtype)
    num = min(k, guidance.shape[1])
    weights, indices = guidance.topk(num, dim=1)
    if num < k:  # a level smaller than K positions (tiny inputs): pad with zero weights
        pad = k - num
        weights = torch.cat((weights, weights.new_zeros(weights.shape[0], pad)), dim=1)
        indices = torch.cat((indices, indices.new_zeros(indices.shape[0], pad)), dim=1)
    return weights, indices


def stuff_kernels_from_masks(masks: Tensor, kernel_map: Tensor) -> Tensor:
    """Stuff kernels: each mask times the kernel map, averaged over **all** positions.

    As the official code (``adaptive_avg_pool2d`` of mask x kernel map), the mean runs over
    the whole H x W map, not over the mask area: a class covering a quarter of the map gets
    0.25 x its mask-average kernel.

    Args:
        masks: Binary (or soft) masks of S classes, shape (S, H, W).
        kernel_map: Kernel-head output of the same image and level, shape (C_k, H, W).

    Returns:
        Kernels, shape (S, C_k).
    """
    height, width = masks.shape[-2:]
    return masks.flatten(1).to(kernel_map.dtype) @ kernel_map.flatten(1).t() / (height * width)
