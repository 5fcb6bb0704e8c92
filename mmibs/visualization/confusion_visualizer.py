"""mmdet's panoptic drawing with one colour per segment and red boxes on confused segments."""
import colorsys
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmdet.registry import VISUALIZERS
from mmdet.visualization import DetLocalVisualizer
from mmengine.structures import PixelData

from mmibs.evaluation import Segments

Color = Tuple[int, int, int]


def thing_colors(count: int) -> List[Color]:
    """``count`` distinct bright RGB colours (golden-ratio hue steps)."""
    colors = []
    for k in range(count):
        r, g, b = colorsys.hsv_to_rgb((0.13 + 0.618034 * k) % 1.0, 0.75, 0.95)
        colors.append((int(255 * r), int(255 * g), int(255 * b)))
    return colors


@VISUALIZERS.register_module()
class ConfusionVisualizer(DetLocalVisualizer):
    """Draws panoptic maps like the paper's Figure 6 on top of :class:`DetLocalVisualizer`.

    Every segment gets its own colour (stuff: its class palette colour; things: distinct bright
    colours) and its class name, through mmdet's ``_draw_panoptic_seg``; confused predicted
    thing segments get red boxes (``draw_bboxes``).

    Args:
        name: instance name (mmengine's ``ManagerMixin``).
        box_color: colour of the confusion boxes.
        box_width: their line width in pixels.
        alpha: opacity of the segment colours.
        **kwargs: other :class:`DetLocalVisualizer` arguments.
    """

    def __init__(self, name: str = 'confusion_visualizer', box_color: Color = (255, 0, 0),
                 box_width: float = 3, alpha: float = 0.6, **kwargs) -> None:
        super().__init__(name=name, alpha=alpha, **kwargs)
        self.box_color = box_color
        self.box_width = box_width

    def draw_segments(self, image: np.ndarray, ids: np.ndarray, segments: Segments,
                      classes: Sequence[str], num_things: int,
                      palette: Optional[Sequence[Color]] = None) -> np.ndarray:
        """Overlay the listed segments of an id map on an image, one colour each.

        Args:
            image: (H, W, 3) uint8 RGB image.
            ids: (H, W) segment ids; ids that are not listed are left undrawn (void).
            segments: the listed segments (labels index ``classes``, things first).
            classes: class names.
            num_things: labels below it are things.
            palette: RGB colour of every class (stuff colours); grey when not given.

        Returns:
            (H, W, 3) uint8 RGB drawing.
        """
        count = len(segments.ids)
        index = np.full(ids.shape, count, np.int64)  # mmdet's void label is len(classes)
        for k, seg_id in enumerate(segments.ids):
            index[ids == seg_id] = k
        things = iter(thing_colors(int((segments.labels < num_things).sum())))
        colors = [next(things) if label < num_things
                  else tuple(palette[label]) if palette is not None else (128, 128, 128)
                  for label in segments.labels]
        names = [classes[label] for label in segments.labels]
        if count == 0:
            self.set_image(image)
            return self.get_image()
        return self._draw_panoptic_seg(image, PixelData(sem_seg=index[None]), names, colors)

    def draw_confusion_boxes(self, boxes: np.ndarray) -> np.ndarray:
        """Draw (N, 4) ``x1, y1, x2, y2`` boxes on the current image and return it."""
        if len(boxes):
            self.draw_bboxes(np.asarray(boxes, np.float32), edge_colors=[self.box_color],
                             line_widths=self.box_width, alpha=1.0)
        return self.get_image()

    def draw_title(self, text: str) -> np.ndarray:
        """Write ``text`` in the top-left corner of the current image and return it."""
        self.draw_texts(text, np.array([4, 4]), colors=[(255, 255, 255)], font_sizes=12,
                        vertical_alignments='top',
                        bboxes=[dict(facecolor='black', alpha=0.7, pad=2, edgecolor='none')])
        return self.get_image()
