"""Target generators of mmibs."""
from .panoptic_fcn_target import (PanopticFCNTargetGenerator, PanopticFCNTargets,
                                  downsample_to_stride, stuff_channel_lut)

__all__ = [
    'PanopticFCNTargetGenerator', 'PanopticFCNTargets', 'downsample_to_stride',
    'stuff_channel_lut'
]
