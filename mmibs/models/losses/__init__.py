"""Losses of mmibs."""
from .ibs_loss import IBSLoss
from .weighted_dice_loss import WeightedDiceLoss, weighted_dice_loss

__all__ = ['IBSLoss', 'WeightedDiceLoss', 'weighted_dice_loss']
