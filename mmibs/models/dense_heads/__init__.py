"""Dense heads of mmibs."""
from .mask2former_ibs_head import Mask2FormerIBSHead
from .panoptic_fcn_head import PanopticFCNHead
from .panoptic_fcn_modules import KernelHead, PanopticFCNEncoder, PositionHead

__all__ = [
    'Mask2FormerIBSHead', 'PanopticFCNHead', 'PositionHead', 'KernelHead', 'PanopticFCNEncoder'
]
