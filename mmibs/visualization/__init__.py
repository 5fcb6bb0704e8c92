"""Visualisation of panoptic predictions and of their confusion (paper Figure 6)."""
from .confusion import confused_segments, segment_boxes
from .confusion_visualizer import ConfusionVisualizer, thing_colors

__all__ = ['ConfusionVisualizer', 'confused_segments', 'segment_boxes', 'thing_colors']
