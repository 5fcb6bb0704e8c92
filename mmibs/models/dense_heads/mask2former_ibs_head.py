"""Mask2Former head with Intra-Batch Supervision (de Geus & Dubbelman, WACV 2023, §4.1)."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmcv.ops import point_sample
from mmdet.models.dense_heads import Mask2FormerHead
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, InstanceList, OptConfigType
from torch import Tensor

from ..utils.cross_crop_logits import dense_cross_crop_logits, lean_cross_crop_logits
from ..utils.cross_crop_pairing import CrossCropPairing
from ..utils.point_sampling import uncertain_point_coords


@MODELS.register_module()
class Mask2FormerIBSHead(Mask2FormerHead):
    """``Mask2FormerHead`` plus the Intra-Batch Supervision (IBS) loss during training.

    For every supervised prediction (the query-only one and one per decoder layer), the mask
    embeddings E_b (B, Q, C) of crop b are multiplied with the mask features F_t(b) (C, h, w)
    of another crop t(b) of the per-process batch. The queries that the Hungarian matching of
    *that* prediction assigned to a thing ground truth (``label < num_things_classes``, class 0
    included) should predict nothing there: :class:`~mmibs.models.losses.IBSLoss` pushes
    those cross-crop logits to zero. Losses ``loss_ibs`` (last prediction) and
    ``d{k}.loss_ibs`` (prediction k) join mmdet's ``loss_cls``/``loss_mask``/``loss_dice``.
    Inference is the parent's, untouched. The regular losses are bit-identical to the parent's:
    IBS draws its random numbers from its own generator.

    Args:
        loss_ibs: Config of the IBS loss; ``None`` disables IBS (the head is then exactly
            ``Mask2FormerHead``).
        ibs_pairing: ``'partner'``: crop 2k <-> 2k+1, the class-paired crops of the crop
            sampler, or the batch index in the metainfo key ``ibs_partner``; ``'random'``: a
            uniformly drawn other crop, redrawn for every prediction (authors' Mask2Former).
        ibs_predictions: Indices of the predictions that get IBS: 0 is the query-only
            prediction before the first decoder layer, k the one after decoder layer k.
            ``None``: all but 0, as the authors.
        ibs_point_sampling: ``True``: the loss is taken at ``train_cfg.num_points`` points per
            mask, sampled on the cross-crop logits by uncertainty with
            ``train_cfg.oversample_ratio`` and ``train_cfg.importance_sample_ratio`` (the
            authors' released configs); ``False``: at every pixel of the h x w feature map.
        ibs_compute: ``'lean'``: compute the cross-crop logits of the supervised queries only
            (N, h, w); ``'dense'``: of all queries, (B, Q, h, w), as the authors. Same values.
        ibs_seed: Seed of IBS's random generator (pairing, points), offset by the process
            rank. ``None``: ``torch.initial_seed()`` at the first training step.
        **kwargs: Arguments of :class:`mmdet.models.dense_heads.Mask2FormerHead`.
    """

    def __init__(self,
                 *args,
                 loss_ibs: OptConfigType = dict(type='IBSLoss', loss_weight=50.0),
                 ibs_pairing: str = 'partner',
                 ibs_predictions: Optional[Sequence[int]] = None,
                 ibs_point_sampling: bool = True,
                 ibs_compute: str = 'lean',
                 ibs_seed: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if ibs_compute not in ('lean', 'dense'):
            raise ValueError(f"ibs_compute must be 'lean' or 'dense', got {ibs_compute!r}")
        num_predictions = self.num_transformer_decoder_layers + 1
        if ibs_predictions is None:
            ibs_predictions = range(1, num_predictions)
        ibs_predictions = sorted(set(int(k) for k in ibs_predictions))
        if any(not 0 <= k < num_predictions for k in ibs_predictions):
            raise ValueError(f'ibs_predictions {ibs_predictions} must lie in '
                             f'[0, {num_predictions - 1}]')
        self.loss_ibs = None if loss_ibs is None else MODELS.build(loss_ibs)
        self.ibs_pairing = ibs_pairing
        self.ibs_predictions = ibs_predictions
        self.ibs_point_sampling = ibs_point_sampling
        self.ibs_compute = ibs_compute
        self.ibs_seed = ibs_seed
        self.ibs_pairer = CrossCropPairing(ibs_pairing, ibs_seed)
        self._matched_labels: Optional[List[Tensor]] = None

    def loss(self, x: Tuple[Tensor], batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Forward and losses, with IBS when enabled.

        Args:
            x: Multi-level features of the backbone/neck, each (B, C_l, H_l, W_l).
            batch_data_samples: The B data samples, with ``gt_instances``, ``gt_sem_seg`` and
                metainfo (``ibs_partner`` optional).

        Returns:
            The parent's losses plus ``loss_ibs`` and ``d{k}.loss_ibs``.
        """
        if self.loss_ibs is None:
            return super().loss(x, batch_data_samples)
        batch_img_metas = [sample.metainfo for sample in batch_data_samples]
        batch_gt_instances = [sample.gt_instances for sample in batch_data_samples]
        batch_gt_semantic_segs = [sample.gt_sem_seg if 'gt_sem_seg' in sample else None
                                  for sample in batch_data_samples]
        all_cls_scores, all_mask_preds, all_mask_embeds, mask_feature = \
            self._forward_with_embeddings(x, batch_data_samples)
        batch_gt_instances = self.preprocess_gt(batch_gt_instances, batch_gt_semantic_segs)
        return self.loss_by_feat(all_cls_scores, all_mask_preds, batch_gt_instances,
                                 batch_img_metas, all_mask_embeds, mask_feature)

    def _forward_with_embeddings(
            self, x: Tuple[Tensor], batch_data_samples: SampleList
    ) -> Tuple[List[Tensor], List[Tensor], List[Tensor], Tensor]:
        """The parent's forward, also returning the mask embeddings and features it used.

        Forward hooks on ``mask_embed`` and ``pixel_decoder`` record the tensors the parent
        multiplies into its mask logits, so the parent's forward runs unchanged.

        Returns:
            Class scores and mask logits per prediction (as the parent), the mask embeddings
            per prediction, each (B, Q, C), and the mask features (B, C, h, w).
        """
        mask_embeds: List[Tensor] = []
        mask_features: List[Tensor] = []
        hooks = [
            self.mask_embed.register_forward_hook(
                lambda module, args, output: mask_embeds.append(output)),
            self.pixel_decoder.register_forward_hook(
                lambda module, args, output: mask_features.append(output[0])),
        ]
        try:
            all_cls_scores, all_mask_preds = self(x, batch_data_samples)
        finally:
            for hook in hooks:
                hook.remove()
        assert len(mask_embeds) == len(all_mask_preds) and len(mask_features) == 1
        return all_cls_scores, all_mask_preds, mask_embeds, mask_features[0]

    def get_targets(self, *args, **kwargs) -> tuple:
        """The parent's targets; records the matched labels (B, Q) while IBS needs them."""
        targets = super().get_targets(*args, **kwargs)
        if self._matched_labels is not None:
            self._matched_labels.append(torch.stack(targets[0]))
        return targets

    def loss_by_feat(self,
                     all_cls_scores: List[Tensor],
                     all_mask_preds: List[Tensor],
                     batch_gt_instances: InstanceList,
                     batch_img_metas: List[dict],
                     all_mask_embeds: Optional[List[Tensor]] = None,
                     mask_feature: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """The parent's losses plus IBS (when embeddings and features are given).

        Args:
            all_cls_scores: Class scores per prediction, each (B, Q, num_classes + 1).
            all_mask_preds: Mask logits per prediction, each (B, Q, h, w).
            batch_gt_instances: Preprocessed ground truth (``labels``, ``masks``) per crop.
            batch_img_metas: Metainfo per crop.
            all_mask_embeds: Mask embeddings per prediction, each (B, Q, C).
            mask_feature: Mask features of the batch, (B, C, h, w).

        Returns:
            Loss dict with ``loss_ibs`` / ``d{k}.loss_ibs`` for the IBS predictions.
        """
        if all_mask_embeds is None or self.loss_ibs is None:
            return super().loss_by_feat(all_cls_scores, all_mask_preds, batch_gt_instances,
                                        batch_img_metas)
        # The parent matches every prediction once; IBS reuses that matching.
        self._matched_labels = []
        try:
            loss_dict = super().loss_by_feat(all_cls_scores, all_mask_preds,
                                             batch_gt_instances, batch_img_metas)
            matched_labels = self._matched_labels
        finally:
            self._matched_labels = None
        last = len(all_mask_preds) - 1
        for k in self.ibs_predictions:
            targets = self._ibs_targets(batch_img_metas, mask_feature.device)
            key = 'loss_ibs' if k == last else f'd{k}.loss_ibs'
            loss_dict[key] = self._loss_ibs_single(all_mask_embeds[k], mask_feature,
                                                   matched_labels[k], targets)
        return loss_dict

    def _loss_ibs_single(self, mask_embed: Tensor, mask_feature: Tensor, matched_labels: Tensor,
                         targets: Tensor) -> Tensor:
        """IBS loss of one prediction.

        Args:
            mask_embed: Mask embeddings E of this prediction, (B, Q, C).
            mask_feature: Mask features F, (B, C, h, w).
            matched_labels: Class of the ground truth each query is matched to by this
                prediction's Hungarian matching, ``num_classes`` if unmatched, (B, Q).
            targets: Target crop t(b) per crop, negative for none, (B,).

        Returns:
            Scalar loss (weighted); a graph-connected zero without supervised queries.
        """
        is_thing = (matched_labels < self.num_things_classes) & (targets >= 0)[:, None]
        src_crop, src_query = is_thing.nonzero(as_tuple=True)
        if self.ibs_compute == 'lean':
            logits = lean_cross_crop_logits(mask_embed, mask_feature, src_crop, src_query,
                                            targets)
        else:
            logits = dense_cross_crop_logits(mask_embed, mask_feature, targets)[src_crop,
                                                                                 src_query]
        # (N, h, w) -> (N, P)
        if self.ibs_point_sampling and logits.shape[0] > 0:
            logits = logits.unsqueeze(1)
            coords = uncertain_point_coords(logits, self.num_points, self.oversample_ratio,
                                            self.importance_sample_ratio,
                                            self.ibs_pairer.generator(logits.device))
            point_logits = point_sample(logits, coords).squeeze(1)
        else:
            point_logits = logits.flatten(1)
        return self.loss_ibs(point_logits)

    def _ibs_targets(self, batch_img_metas: List[dict], device: torch.device) -> Tensor:
        """Target crop t(b) of every crop, int64 (B,), -1 for none (:class:`CrossCropPairing`)."""
        return self.ibs_pairer.targets(batch_img_metas, device)

