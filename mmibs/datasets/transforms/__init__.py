"""Data transforms of mmibs, registered in mmdet's TRANSFORMS."""
from .class_paired_crop import ClassPairedCrop, ClassPairedCropError
from .loading import LoadPanopticAnnotationsChecked
from .remove_segments_outside_crop import RemoveSegmentsOutsideCrop

__all__ = ['LoadPanopticAnnotationsChecked', 'ClassPairedCrop', 'ClassPairedCropError', 'RemoveSegmentsOutsideCrop']
