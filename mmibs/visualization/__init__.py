"""Visualisation of panoptic predictions and of their confusion (paper Figure 6)."""
from .confusion import confused_segments, segment_boxes
from .confusion_visualizer import ConfusionVisualizer, thing_colors
from .panoptic_local_visualizer import PanopticLocalVisualizer

__all__ = [
    'ConfusionVisualizer', 'PanopticLocalVisualizer', 'confused_segments', 'segment_boxes',
    'thing_colors'
]
