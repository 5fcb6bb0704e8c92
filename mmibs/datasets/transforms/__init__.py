"""Data transforms of mmibs, registered in mmdet's TRANSFORMS (the class-paired crop is in
:mod:`mmibs.datasets.class_paired`)."""
from .color_aug_ssd import ColorAugParams, ColorAugSSD
from .loading import LoadPanopticAnnotationsChecked
from .remove_segments_outside_crop import RemoveSegmentsOutsideCrop

__all__ = [
    'ColorAugParams', 'ColorAugSSD', 'LoadPanopticAnnotationsChecked', 'RemoveSegmentsOutsideCrop'
]
