"""Models of mmibs, registered in mmdet's MODELS: one wing per algorithm.

* :mod:`mmibs.models.ibs`: Intra-Batch Supervision (loss, pairing, cross-crop logits, the
  :class:`IntraBatchSupervision` component a head calls) and the Mask2Former head with IBS;
* :mod:`mmibs.models.panoptic_fcn`: the Panoptic FCN port, whose head calls the same component.
"""
from .ibs import IBSLoss, IntraBatchSupervision, Mask2FormerIBSHead
from .panoptic_fcn import (
    PanopticFCN,
    PanopticFCNFusionHead,
    PanopticFCNHead,
    PanopticFCNTargetGenerator,
    WeightedDiceLoss,
)

__all__ = [
    'IBSLoss', 'IntraBatchSupervision', 'Mask2FormerIBSHead', 'PanopticFCN',
    'PanopticFCNFusionHead', 'PanopticFCNHead', 'PanopticFCNTargetGenerator', 'WeightedDiceLoss'
]
