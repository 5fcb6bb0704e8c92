"""Panoptic FCN's dice loss: squared-denominator dice per mask, weighted and normalised."""
from typing import Optional

import torch.nn as nn
from mmdet.registry import MODELS
from torch import Tensor


def weighted_dice_loss(logits: Tensor,
                       target: Tensor,
                       weight: Optional[Tensor] = None,
                       avg_factor: float = 1.0,
                       eps: float = 1e-8) -> Tensor:
    """Sum over masks of ``weight * (1 - 2 sum(p t) / max(sum(p^2) + sum(t^2), eps))`` / norm.

    ``p = sigmoid(logits)``; ``t`` are soft targets. This is the official Panoptic FCN
    ``weighted_dice_loss``; it equals mmdet's ``dice_loss(naive_dice=False)`` up to where eps
    enters (mmdet adds it to both sums instead of clamping).

    Args:
        logits: Mask logits, shape (..., P) over P pixels.
        target: Soft targets in [0, 1], broadcastable to ``logits``.
        weight: Per-mask weight, broadcastable to ``logits.shape[:-1]``; ``None``: 1.
        avg_factor: Normaliser (Panoptic FCN: the number of ground-truth masks, >= 1).
        eps: Lower clamp of the denominator.

    Returns:
        Scalar loss; a zero connected to the graph of ``logits`` when there are no masks.
    """
    prob = logits.sigmoid()
    target = target.to(prob.dtype)
    numerator = 2 * (prob * target).sum(-1)
    denominator = (prob * prob).sum(-1) + (target * target).sum(-1)
    loss = 1 - numerator / denominator.clamp(min=eps)
    if weight is not None:
        loss = loss * weight
    return loss.sum() / max(float(avg_factor), 1.0)


@MODELS.register_module()
class WeightedDiceLoss(nn.Module):
    """Registered :func:`weighted_dice_loss` with a loss weight (Panoptic FCN's ``SEGMENT``).

    Args:
        eps: Lower clamp of the dice denominator (official: 1e-8).
        loss_weight: Multiplier (official ``LOSS_WEIGHT.SEGMENT``: 4 Cityscapes, 3 Vistas).
    """

    def __init__(self, eps: float = 1e-8, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.eps = eps
        self.loss_weight = loss_weight

    def forward(self,
                logits: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: float = 1.0) -> Tensor:
        """See :func:`weighted_dice_loss`; the result is multiplied by ``loss_weight``."""
        return self.loss_weight * weighted_dice_loss(logits, target, weight, avg_factor,
                                                     self.eps)
