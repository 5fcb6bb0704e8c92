"""Building blocks of Intra-Batch Supervision: crop pairing, cross-crop logits, point sampling."""
from .cross_crop_logits import dense_cross_crop_logits, lean_cross_crop_logits
from .cross_crop_pairing import NO_TARGET, PARTNER_KEY, partner_targets, random_targets
from .point_sampling import uncertain_point_coords

__all__ = [
    'dense_cross_crop_logits', 'lean_cross_crop_logits', 'NO_TARGET', 'PARTNER_KEY',
    'partner_targets', 'random_targets', 'uncertain_point_coords'
]
