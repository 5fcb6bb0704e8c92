"""Losses of mmibs."""
from .ibs_loss import IBSLoss

__all__ = ['IBSLoss']
