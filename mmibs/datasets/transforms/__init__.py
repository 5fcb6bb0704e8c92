"""Data transforms of mmibs, registered in mmdet's TRANSFORMS."""
from .class_paired_crop import ClassPairedCrop, ClassPairedCropError
from .color_aug_ssd import ColorAugParams, ColorAugSSD
from .loading import LoadPanopticAnnotationsChecked
from .remove_segments_outside_crop import RemoveSegmentsOutsideCrop

__all__ = [
    'ClassPairedCrop', 'ClassPairedCropError', 'ColorAugParams', 'ColorAugSSD',
    'LoadPanopticAnnotationsChecked', 'RemoveSegmentsOutsideCrop'
]
