"""Data transforms of mmibs, registered in mmdet's TRANSFORMS."""
from .loading import LoadPanopticAnnotationsChecked

__all__ = ['LoadPanopticAnnotationsChecked']
