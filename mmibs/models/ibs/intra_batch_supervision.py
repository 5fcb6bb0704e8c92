"""IntraBatchSupervision: the IBS loss of one head, from its supervised embeddings.

A head with IBS (paper §4.1) only has to say which of its segment embeddings are thing rows and
hand them over with their source crops and the batch's per-pixel features; this component pairs
the crops, forms the cross-crop logits, samples points if asked and applies :class:`IBSLoss`::

    self.ibs = MODELS.build(dict(type='IntraBatchSupervision', loss=..., pairing='partner'))
    loss_ibs = self.ibs(rows, src_crop, features, batch_img_metas)
    loss_ibs, stats = self.ibs.loss_and_stats(rows, src_crop, features, batch_img_metas)

It holds the loss, the pairing and its seeded generator, nothing about the head.
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmcv.ops import point_sample
from mmdet.registry import MODELS
from mmdet.utils import ConfigType
from torch import Tensor

from .cross_crop_logits import cross_crop_logits
from .pairing import CrossCropPairing
from .point_sampling import uncertain_point_coords


@MODELS.register_module()
class IntraBatchSupervision(nn.Module):
    """Pairing + cross-crop logits + (optional) point sampling + :class:`IBSLoss`.

    Args:
        loss: Config of the loss (:class:`IBSLoss`); its ``loss_weight`` is the IBS weight
            (default 1; the authors: Mask2Former 50 on Cityscapes and 100 on Vistas, Panoptic
            FCN SEGMENT x IBS_WEIGHT = 4 and 15).
        pairing: ``'partner'``: crop 2k <-> 2k+1 (the class-paired crops) or the batch index in
            the metainfo key ``ibs_partner``; ``'random'``: a uniformly drawn other crop,
            redrawn at every call (the authors' Mask2Former).
        seed: Seed of the generator of the random pairing and the points, offset by the process
            rank; ``None``: ``torch.initial_seed()`` at first use. Separate from torch's global
            generator, so IBS leaves every other random stream as it is.
        point_sampling: ``None``: the loss is taken at every pixel of the h x w features (the
            authors' Panoptic FCN); or ``dict(num_points, oversample_ratio,
            importance_sample_ratio)``: at points sampled on the cross-crop logits by
            uncertainty (the authors' Mask2Former, ``IBS_POINT_SAMPLING``).
    """

    def __init__(self,
                 loss: ConfigType = dict(type='IBSLoss'),
                 pairing: str = 'partner',
                 seed: Optional[int] = None,
                 point_sampling: Optional[dict] = None) -> None:
        super().__init__()
        if point_sampling is not None:
            missing = {'num_points', 'oversample_ratio', 'importance_sample_ratio'} - set(
                point_sampling)
            if missing:
                raise ValueError(f'IntraBatchSupervision: point_sampling needs {sorted(missing)}'
                                 f' (a head fills them in from its train_cfg), got '
                                 f'{point_sampling!r}')
        self.loss = MODELS.build(loss)
        self.pairing = CrossCropPairing(pairing, seed)
        self.point_sampling = None if point_sampling is None else dict(point_sampling)

    def targets(self, batch_img_metas: List[dict], device: torch.device) -> Tensor:
        """Target crop t(b) of every crop, int64 (B,), negative for none (random pairing draws
        anew at every call)."""
        return self.pairing.targets(batch_img_metas, device)

    def forward(self,
                rows: Tensor,
                src_crop: Tensor,
                features: Tensor,
                batch_img_metas: List[dict],
                weight: Optional[Tensor] = None,
                rows_per_mask: int = 1) -> Tensor:
        """IBS loss of the given thing rows (:meth:`loss_and_stats` without the statistics)."""
        return self.loss_and_stats(rows, src_crop, features, batch_img_metas, weight,
                                   rows_per_mask)[0]

    def loss_and_stats(self,
                       rows: Tensor,
                       src_crop: Tensor,
                       features: Tensor,
                       batch_img_metas: List[dict],
                       weight: Optional[Tensor] = None,
                       rows_per_mask: int = 1) -> Tuple[Tensor, Dict[str, Tensor]]:
        """IBS loss of the given thing rows and what it had to learn from.

        Args:
            rows: Embeddings of the supervised (thing) segments, shape (N, C).
            src_crop: Crop of each row in the per-process batch, int64, shape (N,).
            features: Per-pixel features of the batch, shape (B, C, h, w).
            batch_img_metas: Metainfo of the B crops (``ibs_partner`` is read).
            weight: Optional per-row weight, shape (N,) (Panoptic FCN: the normalised top-K
                centre scores, not detached).
            rows_per_mask: Consecutive rows that make one mask (Panoptic FCN: its K kernels of
                an (instance, level) pair); the loss is normalised by the number of masks, which
                :class:`IBSLoss` then takes as is. With 1 (Mask2Former) the loss counts the rows
                itself (and all-reduces them with ``normalizer='all_reduce'``).

        Returns:
            Scalar loss (weighted; a graph-connected zero when no row has a target crop) and
            ``{'confused': c}``: the fraction of the supervised cross-crop logits (the sampled
            points, or every pixel) that are > 0, i.e. where the thing embedding of one crop
            predicts its mask on the other crop; detached, 0 without supervised rows
            (docs/ibs.md, "Diagnostics").
        """
        targets = self.targets(batch_img_metas, features.device)
        keep = targets[src_crop] >= 0
        rows, src_crop = rows[keep], src_crop[keep]
        if weight is not None:
            weight = weight[keep]
        logits = cross_crop_logits(rows, src_crop, features, targets)  # (N, h, w)
        if self.point_sampling is not None and logits.shape[0] > 0:
            logits = logits.unsqueeze(1)
            coords = uncertain_point_coords(logits, self.point_sampling['num_points'],
                                            self.point_sampling['oversample_ratio'],
                                            self.point_sampling['importance_sample_ratio'],
                                            self.pairing.generator(logits.device))
            logits = point_sample(logits, coords).squeeze(1)  # (N, P)
        else:
            logits = logits.flatten(1)
        avg_factor = None if rows_per_mask == 1 else float(max(rows.shape[0] // rows_per_mask, 1))
        loss = self.loss(logits, avg_factor=avg_factor, weight=weight)
        with torch.no_grad():
            confused = (logits > 0).float().mean() if logits.numel() else logits.new_zeros(())
        return loss, {'confused': confused}
