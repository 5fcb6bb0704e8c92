"""Intra-Batch Supervision (paper §4.1): the loss, the crop pairing, the cross-crop logits, the
point sampling, the component a head calls (:class:`IntraBatchSupervision`) and the Mask2Former
head with IBS."""
from .cross_crop_logits import cross_crop_logits
from .ibs_loss import IBSLoss
from .intra_batch_supervision import IntraBatchSupervision
from .mask2former_ibs_head import Mask2FormerIBSHead
from .maskformer_ibs import MaskFormerIBSMixin
from .matching import matched_labels
from .pairing import NO_TARGET, CrossCropPairing, partner_targets, random_targets
from .point_sampling import uncertain_point_coords

__all__ = [
    'CrossCropPairing', 'IBSLoss', 'IntraBatchSupervision', 'Mask2FormerIBSHead',
    'MaskFormerIBSMixin', 'NO_TARGET',
    'cross_crop_logits', 'matched_labels', 'partner_targets', 'random_targets',
    'uncertain_point_coords'
]
