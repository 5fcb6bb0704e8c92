"""Mask2Former head with Intra-Batch Supervision (de Geus & Dubbelman, WACV 2023, §4.1)."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.dense_heads import Mask2FormerHead
from mmdet.registry import MODELS
from mmdet.utils import OptConfigType
from torch import Tensor

from .maskformer_ibs import MaskFormerIBSMixin


@MODELS.register_module()
class Mask2FormerIBSHead(MaskFormerIBSMixin, Mask2FormerHead):
    """``Mask2FormerHead`` plus the Intra-Batch Supervision (IBS) loss during training.

    For every supervised prediction (the query-only one and one per decoder layer), the mask
    embeddings E_b (B, Q, C) of crop b are multiplied with the mask features F_t(b) (C, h, w)
    of another crop t(b) of the per-process batch. The queries that the Hungarian matching of
    *that* prediction assigned to a thing ground truth (``label < num_things_classes``, class 0
    included) should predict nothing there (:class:`IntraBatchSupervision`). Losses
    ``loss_ibs`` (last prediction) and ``d{k}.loss_ibs`` (prediction k) join mmdet's
    ``loss_cls``/``loss_mask``/``loss_dice``. Inference is the parent's.

    Through mmdet's template: ``_forward_head`` (called once per prediction) also hands its mask
    embeddings and the mask features on with its mask logits (``ibs_embedding`` and
    ``ibs_feature`` on the logits tensor, in training); ``loss_by_feat``
    (:class:`MaskFormerIBSMixin`) calls the parent's ``_loss_by_feat_single`` for every
    prediction, in the parent's order, and adds IBS with the labels of that prediction's
    matching. The regular losses and their gradients are the parent's: IBS draws its random
    numbers from its own generator.

    Args:
        ibs: Config of :class:`IntraBatchSupervision`; ``None`` disables IBS (the head is then
            exactly ``Mask2FormerHead``). ``point_sampling=True`` takes ``train_cfg``'s
            ``num_points``, ``oversample_ratio`` and ``importance_sample_ratio`` (the authors'
            released configs), ``False`` uses every pixel of the h x w features.
        ibs_predictions: Indices of the predictions that get IBS: 0 is the query-only
            prediction before the first decoder layer, k the one after decoder layer k.
            ``None``: all but 0, as the authors.
        **kwargs: Arguments of :class:`mmdet.models.dense_heads.Mask2FormerHead`.
    """

    def __init__(self,
                 *args,
                 ibs: OptConfigType = dict(type='IntraBatchSupervision', point_sampling=True),
                 ibs_predictions: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        num_predictions = self.num_transformer_decoder_layers + 1
        if ibs_predictions is None:
            ibs_predictions = range(1, num_predictions)
        ibs_predictions = sorted(set(int(k) for k in ibs_predictions))
        if any(not 0 <= k < num_predictions for k in ibs_predictions):
            raise ValueError(f'ibs_predictions {ibs_predictions} must lie in '
                             f'[0, {num_predictions - 1}]')
        self.ibs_predictions = ibs_predictions
        self.ibs = None if ibs is None else MODELS.build(self._point_sampling_from_train_cfg(ibs))

    def _point_sampling_from_train_cfg(self, ibs: dict) -> dict:
        """``ibs`` with ``point_sampling=True`` / ``False`` resolved to the component's value."""
        ibs = dict(ibs)
        if ibs.get('point_sampling') is True:
            ibs['point_sampling'] = dict(num_points=self.num_points,
                                         oversample_ratio=self.oversample_ratio,
                                         importance_sample_ratio=self.importance_sample_ratio)
        elif ibs.get('point_sampling') is False:
            ibs['point_sampling'] = None
        return ibs

    def _forward_head(self, decoder_out: Tensor, mask_feature: Tensor,
                      attn_mask_target_size: Tuple[int, int]) -> Tuple[Tensor, Tensor, Tensor]:
        """The parent's head step (mmdet 3.3 ``Mask2FormerHead._forward_head``, same operations
        in the same order), keeping the mask embeddings for IBS.

        Args:
            decoder_out: Query features, (B, Q, C).
            mask_feature: Per-pixel mask features, (B, C, h, w).
            attn_mask_target_size: Size of the next attention mask.

        Returns:
            Class scores (B, Q, num_classes + 1), mask logits (B, Q, h, w) and the attention
            mask (B * num_heads, Q, h', w'), as the parent. In training with IBS the mask logits
            carry ``ibs_embedding`` (B, Q, C) and ``ibs_feature`` (the mask features).
        """
        decoder_out = self.transformer_decoder.post_norm(decoder_out)
        cls_pred = self.cls_embed(decoder_out)
        mask_embed = self.mask_embed(decoder_out)
        mask_pred = torch.einsum('bqc,bchw->bqhw', mask_embed, mask_feature)
        attn_mask = F.interpolate(mask_pred, attn_mask_target_size, mode='bilinear',
                                  align_corners=False)
        attn_mask = attn_mask.flatten(2).unsqueeze(1).repeat((1, self.num_heads, 1, 1)).flatten(
            0, 1)
        attn_mask = (attn_mask.sigmoid() < 0.5).detach()
        if self.training and self.ibs is not None:
            mask_pred.ibs_embedding = mask_embed
            mask_pred.ibs_feature = mask_feature
        return cls_pred, mask_pred, attn_mask

    def ibs_inputs(self, all_mask_preds: List[Tensor], k: int) -> Tuple[Tensor, Tensor]:
        """The mask embeddings (B, Q, C) of prediction ``k`` and the mask features, as
        :meth:`_forward_head` attached them to the prediction's mask logits."""
        mask_preds = all_mask_preds[k]
        if not hasattr(mask_preds, 'ibs_embedding'):
            raise RuntimeError('Mask2FormerIBSHead: mask logits without ibs_embedding; the IBS '
                               "loss needs the outputs of this head's forward in training mode")
        return mask_preds.ibs_embedding, mask_preds.ibs_feature
