"""Which query a MaskFormer-family head matches to which ground truth, for IBS.

IBS supervises the queries that the Hungarian matching of *each prediction* assigns to a thing
ground truth. mmdet's heads (``MaskFormerHead``, ``Mask2FormerHead``) run that matching inside
``_loss_by_feat_single`` and do not return it, and it draws random points from torch's global
generator. :func:`matched_labels` runs the same ``get_targets`` under a fork of the global
random state: it sees the state the head's own call will see, so both matchings are the same and
the head's losses stay exactly as without IBS (the state is restored afterwards).
"""
from typing import List

import torch
from mmengine.structures import InstanceData
from torch import Tensor


def matched_labels(head, cls_scores: Tensor, mask_preds: Tensor,
                   batch_gt_instances: List[InstanceData], batch_img_metas: List[dict]) -> Tensor:
    """The class of the ground truth each query of one prediction is matched to.

    Call it right before the head's ``_loss_by_feat_single`` on the same prediction.

    Args:
        head: A head with mmdet's ``get_targets(cls_scores_list, mask_preds_list,
            batch_gt_instances, batch_img_metas)`` (``MaskFormerHead`` and subclasses).
        cls_scores: Class scores of the prediction, (B, Q, num_classes + 1).
        mask_preds: Mask logits of the prediction, (B, Q, h, w).
        batch_gt_instances: The preprocessed ground truth per crop.
        batch_img_metas: Metainfo per crop.

    Returns:
        (B, Q) int64 labels, ``num_classes`` for unmatched queries.
    """
    devices = [mask_preds.device] if mask_preds.is_cuda else []
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        labels = head.get_targets(list(cls_scores), list(mask_preds), batch_gt_instances,
                                  batch_img_metas)[0]
    return torch.stack(labels)
