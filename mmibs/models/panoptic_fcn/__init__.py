"""Panoptic FCN (Li et al., CVPR 2021) ported to mmdet 3.x, with Intra-Batch Supervision in its
head: detector, head and its modules, target generator, weighted dice loss, inference and the
panoptic fusion head (docs/panoptic_fcn.md)."""
from .fusion_head import PanopticFCNFusionHead
from .inference import fuse_stuff_kernels, fuse_thing_kernels, predict_kernels_single
from .modules import KernelHead, PanopticFCNEncoder, PositionHead
from .panoptic_fcn import PanopticFCN
from .panoptic_fcn_head import PanopticFCNHead
from .target_generator import (
    PanopticFCNTargetGenerator,
    PanopticFCNTargets,
    downsample_to_stride,
    stuff_channel_lut,
)
from .utils import (
    coord_features,
    draw_gaussian,
    guided_topk,
    pfcn_gaussian_radius,
    stuff_kernels_from_masks,
    with_coord_features,
)
from .weighted_dice_loss import WeightedDiceLoss, weighted_dice_loss

__all__ = [
    'KernelHead', 'PanopticFCN', 'PanopticFCNEncoder', 'PanopticFCNFusionHead', 'PanopticFCNHead',
    'PanopticFCNTargetGenerator', 'PanopticFCNTargets', 'PositionHead', 'WeightedDiceLoss',
    'coord_features', 'downsample_to_stride', 'draw_gaussian', 'fuse_stuff_kernels',
    'fuse_thing_kernels', 'guided_topk', 'pfcn_gaussian_radius', 'predict_kernels_single',
    'stuff_channel_lut', 'stuff_kernels_from_masks', 'weighted_dice_loss', 'with_coord_features'
]
