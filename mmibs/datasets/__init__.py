"""Datasets and data transforms of mmibs, registered in mmdet's registries."""
from .cityscapes_panoptic import CityscapesPanopticDataset
from .coco_format_panoptic import (CocoFormatPanopticDataset, PairedSampleError,
                                   PanopticAnnotationError)
from .mapillary_vistas_panoptic import MapillaryVistasPanopticDataset
from .samplers import ClassPairedBatchSampler, ClassPairedSamplerHook
from .segment_index import PairedSample, SegmentIndex, SegmentIndexError
from .synthetic_streets import SyntheticStreetsPanopticDataset
from .transforms import (ClassPairedCrop, ColorAugSSD, LoadPanopticAnnotationsChecked,
                         RemoveSegmentsOutsideCrop)

__all__ = [
    'CocoFormatPanopticDataset', 'PanopticAnnotationError', 'SyntheticStreetsPanopticDataset',
    'LoadPanopticAnnotationsChecked', 'RemoveSegmentsOutsideCrop', 'ColorAugSSD',
    'ClassPairedBatchSampler', 'ClassPairedSamplerHook', 'ClassPairedCrop', 'PairedSample',
    'PairedSampleError', 'SegmentIndex', 'SegmentIndexError', 'CityscapesPanopticDataset',
    'MapillaryVistasPanopticDataset'
]
