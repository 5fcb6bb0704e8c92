"""IBS for mmdet's MaskFormer-family heads, through their own template.

mmdet's ``MaskFormerHead.loss_by_feat`` computes every prediction's losses with
``_loss_by_feat_single`` (Hungarian matching inside) and names them ``loss_*`` (last
prediction) and ``d{k}.loss_*``. :class:`MaskFormerIBSMixin` keeps exactly that, calling the
parent's ``_loss_by_feat_single`` prediction by prediction in the parent's order, and adds
``loss_ibs`` / ``d{k}.loss_ibs`` for the predictions in ``ibs_predictions``: the queries that
the prediction's matching assigns to a thing are the IBS rows. ``ibs_confused`` /
``d{k}.ibs_confused`` (logged, not part of the loss: no ``loss`` in the name) are the fraction of
that prediction's supervised cross-crop points with a logit > 0. A head with this mixin provides
``self.ibs`` (an :class:`IntraBatchSupervision` or None), ``self.ibs_predictions`` and
:meth:`MaskFormerIBSMixin.ibs_inputs`.
"""
from typing import Dict, List, Sequence, Tuple

from mmdet.utils import InstanceList
from torch import Tensor

from .matching import matched_labels

LOSS_NAMES = ('loss_cls', 'loss_mask', 'loss_dice')


class MaskFormerIBSMixin:
    """``loss_by_feat`` of a MaskFormer-family head plus IBS (put it before the mmdet head class
    in the bases)."""

    def ibs_inputs(self, all_mask_preds: Sequence[Tensor], k: int) -> Tuple[Tensor, Tensor]:
        """The mask embeddings (B, Q, C) of prediction ``k`` and the mask features
        (B, C, h, w) they are multiplied with; the head defines where they come from."""
        raise NotImplementedError

    def loss_by_feat(self, all_cls_scores: Sequence[Tensor], all_mask_preds: Sequence[Tensor],
                     batch_gt_instances: InstanceList,
                     batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """The parent's losses (same keys, order and values) followed by the IBS losses.

        Args:
            all_cls_scores: Class scores per prediction, each (B, Q, num_classes + 1).
            all_mask_preds: Mask logits per prediction, each (B, Q, h, w).
            batch_gt_instances: Preprocessed ground truth (``labels``, ``masks``) per crop.
            batch_img_metas: Metainfo per crop.

        Returns:
            ``loss_cls``, ``loss_mask``, ``loss_dice``, ``d{k}.loss_*``, then ``d{k}.loss_ibs``
            and ``loss_ibs`` for the IBS predictions, then their ``d{k}.ibs_confused`` and
            ``ibs_confused``.
        """
        if self.ibs is None:
            return super().loss_by_feat(all_cls_scores, all_mask_preds, batch_gt_instances,
                                        batch_img_metas)
        regular, ibs_losses, ibs_stats = [], {}, {}
        last = len(all_mask_preds) - 1
        for k, (cls_scores, mask_preds) in enumerate(zip(all_cls_scores, all_mask_preds)):
            # The matching before the parent's own (same random state, same result).
            labels = (matched_labels(self, cls_scores, mask_preds, batch_gt_instances,
                                     batch_img_metas) if k in self.ibs_predictions else None)
            regular.append(self._loss_by_feat_single(cls_scores, mask_preds,
                                                     batch_gt_instances, batch_img_metas))
            if labels is not None:
                prefix = '' if k == last else f'd{k}.'
                ibs_losses[f'{prefix}loss_ibs'], stats = self._loss_ibs_single(
                    *self.ibs_inputs(all_mask_preds, k), labels, batch_img_metas)
                ibs_stats[f'{prefix}ibs_confused'] = stats['confused']
        loss_dict = dict(zip(LOSS_NAMES, regular[-1]))
        for k, losses in enumerate(regular[:-1]):
            loss_dict.update({f'd{k}.{name}': value for name, value in zip(LOSS_NAMES, losses)})
        loss_dict.update(ibs_losses)
        loss_dict.update(ibs_stats)
        return loss_dict

    def _loss_ibs_single(self, embed: Tensor, feature: Tensor, labels: Tensor,
                         batch_img_metas: List[dict]) -> Tuple[Tensor, Dict[str, Tensor]]:
        """IBS loss of one prediction: its thing-matched queries are the rows.

        Args:
            embed: The prediction's mask embeddings, (B, Q, C).
            feature: The mask features, (B, C, h, w).
            labels: Matched ground-truth class per query, ``num_classes`` if unmatched, (B, Q);
                things are the labels below ``num_things_classes`` (class 0 included).
            batch_img_metas: Metainfo per crop.

        Returns:
            Scalar loss (weighted; a graph-connected zero without supervised queries) and the
            statistics of :meth:`IntraBatchSupervision.loss_and_stats`.
        """
        src_crop, src_query = (labels < self.num_things_classes).nonzero(as_tuple=True)
        return self.ibs.loss_and_stats(embed[src_crop, src_query], src_crop, feature,
                                       batch_img_metas)
