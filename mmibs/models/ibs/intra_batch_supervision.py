"""IntraBatchSupervision: the IBS loss of one head, from its supervised embeddings.

A head with IBS (paper §4.1) only has to say which of its segment embeddings are thing rows and
hand them over with their source crops and the batch's per-pixel features; this component pairs
the crops, forms the cross-crop logits, samples points if asked and applies :class:`IBSLoss`::

    self.ibs = MODELS.build(dict(type='IntraBatchSupervision', loss=..., pairing='partner'))
    loss_ibs = self.ibs(rows, src_crop, features, batch_img_metas)
    loss_ibs, stats = self.ibs.loss_and_stats(rows, src_crop, features, batch_img_metas)

It holds the loss, the pairing and its seeded generator, nothing about the head. Several
targets per source crop (``pairing='all'``, ``num_targets``) and the global batch of all
processes (``scope='global'``) are docs/ibs.md, "More targets and the global batch".
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmcv.ops import point_sample
from mmdet.registry import MODELS
from mmdet.utils import ConfigType
from mmengine.dist import get_world_size
from torch import Tensor

from .cross_crop_logits import logits_on_targets
from .global_batch import gather_crops, gather_pairs, gather_rows, global_scope_active, ibs_group
from .pairing import CrossCropPairing, crops_of_batch
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
            redrawn at every call (the authors' Mask2Former), or ``num_targets`` of them;
            ``'all'``: every other crop (:class:`CrossCropPairing`).
        seed: Seed of the generator of the random pairing and the points, offset by the process
            rank; ``None``: ``torch.initial_seed()`` at first use. Separate from torch's global
            generator, so IBS leaves every other random stream as it is.
        point_sampling: ``None``: the loss is taken at every pixel of the h x w features (the
            authors' Panoptic FCN); or ``dict(num_points, oversample_ratio,
            importance_sample_ratio)``: at points sampled on the cross-crop logits by
            uncertainty (the authors' Mask2Former, ``IBS_POINT_SAMPLING``), per (mask, target).
        num_targets: With ``'random'``: ``None`` (default, the authors) one target per crop; k:
            k distinct other crops per source crop, drawn at every call.
        exclude_same_image: With ``'all'`` / ``num_targets``: crops of the same source image
            (metainfo ``img_id``) are no targets, except the class-paired partner. Default True.
        scope: ``'local'`` (default, the authors): targets among this process's crops;
            ``'global'``: the supervised embeddings of all processes are gathered (with
            gradient) and multiplied with this process's crops (needs ``'all'`` or
            ``num_targets``; one process: the same as local).
        max_pairs: Cap on the (mask, target) pairs per call and process; more are subsampled
            uniformly with the generator. ``None`` (default): no cap.
    """

    def __init__(self,
                 loss: ConfigType = dict(type='IBSLoss'),
                 pairing: str = 'partner',
                 seed: Optional[int] = None,
                 point_sampling: Optional[dict] = None,
                 num_targets: Optional[int] = None,
                 exclude_same_image: bool = True,
                 scope: str = 'local',
                 max_pairs: Optional[int] = None) -> None:
        super().__init__()
        if point_sampling is not None:
            missing = {'num_points', 'oversample_ratio', 'importance_sample_ratio'} - set(
                point_sampling)
            if missing:
                raise ValueError(f'IntraBatchSupervision: point_sampling needs {sorted(missing)}'
                                 f' (a head fills them in from its train_cfg), got '
                                 f'{point_sampling!r}')
        self.loss = MODELS.build(loss)
        self.pairing = CrossCropPairing(pairing, seed, num_targets, exclude_same_image)
        if scope not in ('local', 'global'):
            raise ValueError(f"IntraBatchSupervision: scope must be 'local' or 'global', got "
                             f'{scope!r}')
        if scope == 'global' and not self.pairing.multi_target:
            raise ValueError("IntraBatchSupervision: scope='global' needs pairing='all' or "
                             f"num_targets (got pairing={pairing!r}, num_targets=None): a "
                             'partner or one random crop is a crop of the own process')
        if max_pairs is not None and (not isinstance(max_pairs, int) or max_pairs < 1):
            raise ValueError(f'IntraBatchSupervision: max_pairs must be None or an integer >= 1,'
                             f' got {max_pairs!r}')
        self.scope = scope
        self.max_pairs = max_pairs
        self.point_sampling = None if point_sampling is None else dict(point_sampling)

    def targets(self, batch_img_metas: List[dict], device: torch.device) -> Tensor:
        """Target crop t(b) of every crop of a one-target pairing, int64 (B,), negative for
        none (random pairing draws anew at every call)."""
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
            batch_img_metas: Metainfo of the B crops (``ibs_partner``, ``img_id`` are read).
            weight: Optional per-row weight, shape (N,) (Panoptic FCN: the normalised top-K
                centre scores, not detached).
            rows_per_mask: Consecutive rows that make one mask (Panoptic FCN: its K kernels of
                an (instance, level) pair); they share their targets.

        The loss is the mean over the supervised (mask, target) pairs: at one target per crop
        the authors' mean over masks. Locally, the number of pairs is counted by
        :class:`IBSLoss` (``rows_per_mask == 1``, also all-reduced with its
        ``normalizer='all_reduce'``) or given to it (the number of masks x targets). Globally,
        each process returns ``W * (its sum) / (pairs of all W processes)``, so that the mean
        over processes (what DDP's gradient averaging differentiates) is the loss of one
        process holding the whole batch.

        Returns:
            Scalar loss (weighted; a graph-connected zero when no row has a target crop) and
            ``{'confused': c}``: the fraction of the supervised cross-crop logits (the sampled
            points, or every pixel) of this process that are > 0, i.e. where the thing
            embedding of one crop predicts its mask on another crop; detached, 0 without
            supervised rows (docs/ibs.md, "Diagnostics").
        """
        device = features.device
        batch_size = features.shape[0]
        distributed = self.scope == 'global' and global_scope_active()
        if distributed:
            group = ibs_group()
            crops = gather_crops(batch_img_metas, group)
            local_pairs = self.pairing.pairs(batch_img_metas, crops, device)
            matrix = gather_pairs(local_pairs, crops, group, device)
            matrix = matrix[:, crops.offset:crops.offset + batch_size]  # (S, B)
            rows, src_crop, weight = gather_rows(rows, src_crop, weight, crops.offset, group)
        else:
            matrix = self.pairing.pairs(batch_img_metas, crops_of_batch(batch_img_metas), device)
        logits, weight, num_masks = self.pair_logits(rows, src_crop, matrix, features, weight,
                                                     rows_per_mask)
        if distributed:
            total = logits.new_tensor(float(num_masks))
            torch.distributed.all_reduce(total, group=group)
            scale = get_world_size() / max(total.item(), 1.0)
            loss = self.loss(logits, avg_factor=1.0, weight=weight) * scale
        else:
            avg_factor = None if rows_per_mask == 1 else float(max(num_masks, 1))
            loss = self.loss(logits, avg_factor=avg_factor, weight=weight)
        with torch.no_grad():
            confused = (logits > 0).float().mean() if logits.numel() else logits.new_zeros(())
        return loss, {'confused': confused}

    def pair_logits(self, rows: Tensor, src_crop: Tensor, matrix: Tensor, features: Tensor,
                    weight: Optional[Tensor] = None,
                    rows_per_mask: int = 1) -> Tuple[Tensor, Optional[Tensor], int]:
        """The supervised logits of the (mask, target) pairs of a pair matrix.

        Args:
            rows: Embeddings (N, C) (with the global scope: of all processes).
            src_crop: Their source crops, indices into the rows of ``matrix``, (N,).
            matrix: Boolean (S, B): source crop s is supervised against this process's crop t.
            features: This process's per-pixel features (B, C, h, w).
            weight: Optional per-row weights (N,).
            rows_per_mask: Consecutive rows of one mask.

        Returns:
            Logits (M * K, P) at the sampled points (or (M * K, h * w) without point
            sampling), the rows' weights (or ``None``) and the number of (mask, target) pairs M.
        """
        device = features.device
        row_index, row_targets = self._pair_rows(matrix.to(device), src_crop, rows_per_mask,
                                                 device)
        logits = logits_on_targets(rows[row_index], row_targets, features)  # (M * K, h, w)
        if weight is not None:
            weight = weight[row_index]
        if self.point_sampling is not None and logits.shape[0] > 0:
            logits = logits.unsqueeze(1)
            coords = uncertain_point_coords(logits, self.point_sampling['num_points'],
                                            self.point_sampling['oversample_ratio'],
                                            self.point_sampling['importance_sample_ratio'],
                                            self.pairing.generator(device))
            logits = point_sample(logits, coords).squeeze(1)  # (M * K, P)
        else:
            logits = logits.flatten(1)
        return logits, weight, row_index.shape[0] // rows_per_mask

    def _pair_rows(self, matrix: Tensor, src_crop: Tensor, rows_per_mask: int,
                   device: torch.device) -> Tuple[Tensor, Tensor]:
        """The (row, target) products to compute: every mask's rows once per target crop.

        Args:
            matrix: Boolean (S, B): source crop s is supervised against this process's crop t.
            src_crop: Source crop (index into S) of every row, (N,).
            rows_per_mask: Consecutive rows of one mask (they share the source crop).

        Returns:
            Row index (M * K,) and target crop (M * K,) of the products, mask by mask (its K
            rows consecutive), at most ``max_pairs`` masks x targets M.
        """
        mask_src = src_crop[::rows_per_mask]
        mask_index, targets = matrix[mask_src].nonzero(as_tuple=True)  # (M,), (M,)
        if self.max_pairs is not None and mask_index.shape[0] > self.max_pairs:
            keep = torch.randperm(mask_index.shape[0], generator=self.pairing.generator(device),
                                  device=device)[:self.max_pairs].sort().values
            mask_index, targets = mask_index[keep], targets[keep]
        offsets = torch.arange(rows_per_mask, device=device)
        row_index = (mask_index[:, None] * rows_per_mask + offsets).flatten()
        return row_index, targets.repeat_interleave(rows_per_mask)
