"""Models of mmibs (Intra-Batch Supervision heads and losses), registered in mmdet's MODELS."""
from .dense_heads import Mask2FormerIBSHead
from .losses import IBSLoss
from .utils import (dense_cross_crop_logits, lean_cross_crop_logits, partner_targets,
                    random_targets, uncertain_point_coords)

__all__ = [
    'Mask2FormerIBSHead', 'IBSLoss', 'dense_cross_crop_logits', 'lean_cross_crop_logits',
    'partner_targets', 'random_targets', 'uncertain_point_coords'
]
