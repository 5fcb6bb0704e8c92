"""Datasets and data transforms of mmibs, registered in mmdet's registries."""
from .coco_format_panoptic import CocoFormatPanopticDataset, PanopticAnnotationError
from .synthetic_streets import SyntheticStreetsPanopticDataset
from .transforms import LoadPanopticAnnotationsChecked

__all__ = [
    'CocoFormatPanopticDataset', 'PanopticAnnotationError', 'SyntheticStreetsPanopticDataset',
    'LoadPanopticAnnotationsChecked'
]
