"""Uncertainty-based point sampling with an explicit random generator."""
import torch
from mmcv.ops import point_sample
from torch import Tensor


@torch.no_grad()
def uncertain_point_coords(mask_logits: Tensor, num_points: int, oversample_ratio: float,
                           importance_sample_ratio: float,
                           generator: torch.Generator) -> Tensor:
    """Sample points by uncertainty (``-|logit|``) plus uniform points, like PointRend.

    Same algorithm as mmdet's ``get_uncertain_point_coords_with_randomness`` (class-agnostic),
    but every random draw comes from ``generator``, so it leaves the global random state, and
    with it the regular Mask2Former losses, untouched.

    Args:
        mask_logits: Mask logits, shape (N, 1, h, w).
        num_points: Number of points P per mask.
        oversample_ratio: ``int(P * oversample_ratio)`` uniform candidates are scored.
        importance_sample_ratio: ``int(P * importance_sample_ratio)`` points are the most
            uncertain candidates, the rest are fresh uniform points.
        generator: Random generator on the device of ``mask_logits``.

    Returns:
        Point coordinates in [0, 1] x [0, 1], shape (N, P, 2).
    """
    num_masks = mask_logits.shape[0]
    device = mask_logits.device
    num_sampled = int(num_points * oversample_ratio)
    candidates = torch.rand(num_masks, num_sampled, 2, generator=generator, device=device)
    uncertainty = -point_sample(mask_logits, candidates).abs()  # (N, 1, num_sampled)
    num_uncertain = int(importance_sample_ratio * num_points)
    idx = torch.topk(uncertainty[:, 0, :], k=num_uncertain, dim=1)[1]
    coords = torch.gather(candidates, 1, idx.unsqueeze(-1).expand(-1, -1, 2))
    num_random = num_points - num_uncertain
    if num_random > 0:
        uniform = torch.rand(num_masks, num_random, 2, generator=generator, device=device)
        coords = torch.cat((coords, uniform), dim=1)
    return coords
