"""Models of mmibs (IBS heads and losses, Panoptic FCN), registered in mmdet's MODELS."""
from .dense_heads import Mask2FormerIBSHead, PanopticFCNHead
from .detectors import PanopticFCN
from .losses import IBSLoss, WeightedDiceLoss
from .seg_heads import PanopticFCNFusionHead
from .task_modules import PanopticFCNTargetGenerator
from .utils import (dense_cross_crop_logits, kernel_cross_crop_logits, lean_cross_crop_logits,
                    partner_targets, random_targets, uncertain_point_coords)

__all__ = [
    'Mask2FormerIBSHead', 'PanopticFCN', 'PanopticFCNHead', 'PanopticFCNFusionHead',
    'PanopticFCNTargetGenerator', 'IBSLoss', 'WeightedDiceLoss', 'dense_cross_crop_logits',
    'kernel_cross_crop_logits', 'lean_cross_crop_logits', 'partner_targets', 'random_targets',
    'uncertain_point_coords'
]
