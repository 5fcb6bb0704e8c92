"""The Intra-Batch Supervision loss: sigmoid focal loss of cross-crop mask logits towards zero."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.utils import reduce_mean
from mmengine.logging import MessageHub
from torch import Tensor


@MODELS.register_module()
class IBSLoss(nn.Module):
    """Sigmoid focal loss that pushes cross-crop mask logits of thing queries to background.

    For the logits ``x`` of ``N`` supervised masks at ``P`` points (or pixels) each, with
    ``p = sigmoid(x)`` and an all-zero target, the per-element focal loss is
    ``(1 - alpha) * p**gamma * BCE(x, 0)``. The loss is the mean over the points of each mask,
    summed over the masks and divided by a normaliser, times ``loss_weight``::

        loss = loss_weight / norm * sum_n mean_p (1 - alpha) * sigmoid(x_np)**gamma * softplus(x_np)

    Args:
        alpha: Focal-loss balance; negatives are weighted by ``1 - alpha``. The authors' value
            (hard-coded in their code) is 0.25.
        gamma: Focal-loss focusing exponent. The authors' value is 2.
        normalizer: ``'local'`` divides by the number of supervised masks on this process, as
            the authors' code does; ``'all_reduce'`` divides by that number averaged over all
            processes (as mmdet normalises the regular mask losses). Clamped to at least 1.
        loss_weight: Multiplier of the loss (the authors: 50 on Cityscapes, 100 on Vistas).
        warmup_iters: 0 (default, the authors): ``loss_weight`` from the first iteration. N > 0:
            the weight rises linearly, ``loss_weight * min(1, (iter + 1) / N)``, over the first N
            training iterations, ``iter`` being the runner's current iteration (mmengine's
            ``MessageHub`` info ``'iter'``, set by ``RuntimeInfoHook`` before every iteration
            and restored on resume; 0 outside a runner). A deviation from the authors, for
            from-scratch models whose thing masks are not formed yet (docs/ibs.md).
    """

    def __init__(self,
                 alpha: float = 0.25,
                 gamma: float = 2.0,
                 normalizer: str = 'local',
                 loss_weight: float = 1.0,
                 warmup_iters: int = 0) -> None:
        super().__init__()
        if normalizer not in ('local', 'all_reduce'):
            raise ValueError(f"normalizer must be 'local' or 'all_reduce', got {normalizer!r}")
        if not isinstance(warmup_iters, int) or warmup_iters < 0:
            raise ValueError(f'warmup_iters must be an integer >= 0, got {warmup_iters!r}')
        self.alpha = alpha
        self.gamma = gamma
        self.normalizer = normalizer
        self.loss_weight = loss_weight
        self.warmup_iters = warmup_iters

    def current_weight(self) -> float:
        """``loss_weight``, scaled by the linear warm-up at the runner's current iteration."""
        if self.warmup_iters == 0:
            return self.loss_weight
        step = int(MessageHub.get_current_instance().get_info('iter', 0))
        return self.loss_weight * min(1.0, (step + 1) / self.warmup_iters)

    def forward(self,
                cross_logits: Tensor,
                avg_factor: Optional[float] = None,
                weight: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            cross_logits: Cross-crop mask logits, shape (N, P): N supervised masks, P points or
                pixels each. N may be 0.
            avg_factor: Overrides the normaliser (number of masks) when given.
            weight: Optional per-mask weight, shape (N,), multiplying each mask's mean focal
                loss before the sum (Panoptic FCN: the normalised top-K centre scores, not
                detached). ``None``: weight 1.

        Returns:
            Scalar loss. With N == 0 it is a zero that stays connected to the graph of
            ``cross_logits``.
        """
        if avg_factor is None:
            avg_factor = float(cross_logits.shape[0])
            if self.normalizer == 'all_reduce':
                # Called on every process, also those without masks, so the reduction matches.
                avg_factor = reduce_mean(cross_logits.new_tensor(avg_factor)).item()
        if cross_logits.numel() == 0:
            return cross_logits.sum() * 0.0
        if cross_logits.dtype in (torch.float16, torch.bfloat16):
            cross_logits = cross_logits.float()  # AMP: the focal terms in fp32
        prob = cross_logits.sigmoid()
        bce = F.binary_cross_entropy_with_logits(
            cross_logits, torch.zeros_like(cross_logits), reduction='none')
        focal = (1.0 - self.alpha) * prob.pow(self.gamma) * bce
        per_mask = focal.mean(dim=1)
        if weight is not None:
            per_mask = per_mask * weight.to(per_mask.dtype)
        return self.current_weight() * per_mask.sum() / max(avg_factor, 1.0)
