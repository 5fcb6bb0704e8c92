"""mmdet's panoptic drawing with one colour per segment and red boxes on confused segments."""
import colorsys
from typing import List, Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.registry import VISUALIZERS
from mmdet.visualization import DetLocalVisualizer
from mmengine.structures import PixelData

from mmibs.evaluation import Segments
from mmibs.evaluation.mmdet_predictions import decode_mmdet_panoptic
from mmibs.evaluation.panoptic_gt import gt_segments_from_info
from mmibs.evaluation.panoptic_png import read_panoptic_png

from .confusion import confused_segments, segment_boxes

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

    As the ``visualizer`` of mmdet's ``DetVisualizationHook`` (``tools/test.py --show-dir DIR
    --show-confusion``), :meth:`add_datasample` draws each test image that way: GT | prediction,
    the prediction's confused segments boxed at ``threshold``.

    Args:
        name: instance name (mmengine's ``ManagerMixin``).
        box_color: colour of the confusion boxes.
        box_width: their line width in pixels.
        alpha: opacity of the segment colours.
        threshold: confusion threshold T in percent of :meth:`add_datasample`.
        **kwargs: other :class:`DetLocalVisualizer` arguments.
    """

    def __init__(self, name: str = 'confusion_visualizer', box_color: Color = (255, 0, 0),
                 box_width: float = 3, alpha: float = 0.6, threshold: float = 50.0,
                 **kwargs) -> None:
        super().__init__(name=name, alpha=alpha, **kwargs)
        self.box_color = box_color
        self.box_width = box_width
        self.threshold = threshold

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

    def add_datasample(self, name: str, image: np.ndarray, data_sample=None,
                       draw_gt: bool = True, draw_pred: bool = True, show: bool = False,
                       wait_time: float = 0, out_file: Optional[str] = None,
                       pred_score_thr: float = 0.3, step: int = 0) -> None:
        """Draw one test sample (``DetLocalVisualizer``'s signature; ``pred_score_thr`` unused).

        Args:
            name: image name (window title, or the key of ``add_image``).
            image: (H, W, 3) uint8 RGB image.
            data_sample: mmdet ``DetDataSample`` with ``pred_panoptic_seg``; its metainfo's
                ``seg_map_path`` and ``segments_info`` (packed for the metric) give the GT panel
                and the confusion boxes.
            draw_gt, draw_pred: draw the GT / prediction panel.
            show, wait_time: show the drawing in a window, for ``wait_time`` seconds.
            out_file: write the drawing there instead of the visualizer's backends.
            step: global step of ``add_image``.

        Raises:
            KeyError: the data sample has no GT (``seg_map_path``, ``segments_info``), which
                the confusion boxes need.
        """
        classes = self.dataset_meta['classes']
        num_things = len(self.dataset_meta['thing_classes'])
        palette = self.dataset_meta.get('palette')
        meta = data_sample.metainfo
        missing = [key for key in ('seg_map_path', 'segments_info') if key not in meta]
        if missing:
            raise KeyError(f'ConfusionVisualizer: the data sample of {meta.get("img_path")} has '
                           f'no {missing}; pack them in the test pipeline (PackDetInputs '
                           'meta_keys), as the panoptic metric needs them')
        gt_ids = read_panoptic_png(meta['seg_map_path'])
        gt_segments = gt_segments_from_info(meta['segments_info'], len(classes), num_things,
                                            meta['seg_map_path'])
        pred = data_sample.pred_panoptic_seg
        pan = pred.sem_seg[0].cpu().numpy().astype(np.int64)
        pred_segments, _ = decode_mmdet_panoptic(
            pan, len(classes), pred.metainfo.get('ignore_index', len(classes)), INSTANCE_OFFSET,
            image_name=f'prediction for {meta.get("img_path")}')
        panels = []
        if draw_gt:
            self.draw_segments(image, gt_ids, gt_segments, classes, num_things, palette)
            panels.append(self.draw_title('GT'))
        if draw_pred:
            flags = confused_segments(gt_ids, gt_segments, pan, pred_segments, len(classes),
                                      num_things, self.threshold)
            self.draw_segments(image, pan, pred_segments, classes, num_things, palette)
            self.draw_confusion_boxes(segment_boxes(pan, pred_segments.ids[flags]))
            panels.append(self.draw_title(
                f'prediction: {int(flags.sum())} confused at T = {self.threshold:g} %'))
        drawn = np.concatenate(panels, axis=1) if panels else image
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(drawn[..., ::-1], out_file)
        else:
            self.add_image(name, drawn, step)
