"""Datasets and data transforms of mmibs, registered in mmdet's registries."""
from .cityscapes_panoptic import CityscapesPanopticDataset
from .class_paired import (
    ClassPairedBatchSampler,
    ClassPairedCrop,
    PairedSample,
    SegmentIndex,
    SegmentIndexError,
)
from .coco_format_panoptic import (
    CocoFormatPanopticDataset,
    PairedSampleError,
    PanopticAnnotationError,
    SampleLoadError,
)
from .mapillary_vistas_panoptic import MapillaryVistasPanopticDataset
from .synthetic_streets import SyntheticStreetsPanopticDataset
from .transforms import ColorAugSSD, LoadPanopticAnnotationsChecked, RemoveSegmentsOutsideCrop

__all__ = [
    'CityscapesPanopticDataset', 'ClassPairedBatchSampler', 'ClassPairedCrop',
    'CocoFormatPanopticDataset', 'ColorAugSSD', 'LoadPanopticAnnotationsChecked',
    'MapillaryVistasPanopticDataset', 'PairedSample', 'PairedSampleError',
    'PanopticAnnotationError', 'RemoveSegmentsOutsideCrop', 'SampleLoadError', 'SegmentIndex',
    'SegmentIndexError', 'SyntheticStreetsPanopticDataset'
]
