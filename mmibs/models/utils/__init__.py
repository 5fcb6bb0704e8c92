"""Building blocks of Intra-Batch Supervision: crop pairing, cross-crop logits, point sampling."""
from .cross_crop_logits import (dense_cross_crop_logits, kernel_cross_crop_logits,
                                lean_cross_crop_logits)
from .cross_crop_pairing import NO_TARGET, PARTNER_KEY, partner_targets, random_targets
from .panoptic_fcn import (coord_features, draw_gaussian, guided_topk, pfcn_gaussian_radius,
                           stuff_kernels_from_masks, with_coord_features)
from .panoptic_fcn_inference import (fuse_stuff_kernels, fuse_thing_kernels,
                                     predict_kernels_single)
from .point_sampling import uncertain_point_coords

__all__ = [
    'dense_cross_crop_logits', 'lean_cross_crop_logits', 'kernel_cross_crop_logits',
    'NO_TARGET', 'PARTNER_KEY', 'partner_targets', 'random_targets', 'uncertain_point_coords',
    'coord_features', 'with_coord_features', 'pfcn_gaussian_radius', 'draw_gaussian',
    'guided_topk', 'stuff_kernels_from_masks', 'predict_kernels_single', 'fuse_thing_kernels',
    'fuse_stuff_kernels'
]
