"""Dense heads of mmibs."""
from .mask2former_ibs_head import Mask2FormerIBSHead

__all__ = ['Mask2FormerIBSHead']
