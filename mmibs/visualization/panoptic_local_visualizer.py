"""mmdet's ``DetLocalVisualizer`` for panoptic predictions that may be empty."""
import numpy as np
from mmdet.registry import VISUALIZERS
from mmdet.visualization import DetLocalVisualizer
from mmengine.structures import PixelData


@VISUALIZERS.register_module()
class PanopticLocalVisualizer(DetLocalVisualizer):
    """``DetLocalVisualizer`` whose panoptic drawing accepts a map without any segment.

    mmdet 3.3's ``_draw_panoptic_seg`` stacks the label positions of the segments and fails
    (``need at least one array to stack``) on a prediction or GT that is all void, e.g. from an
    early checkpoint. Such a map is drawn as the plain image; everything else is the parent's.
    """

    def _draw_panoptic_seg(self, image: np.ndarray, panoptic_seg: PixelData, classes,
                           palette) -> np.ndarray:
        """The parent's drawing, or ``image`` unchanged when the map holds only void."""
        seg = panoptic_seg.sem_seg[0]
        seg = seg.cpu().numpy() if hasattr(seg, 'cpu') else np.asarray(seg)
        num_classes = len(classes)
        void = panoptic_seg.metainfo.get('ignore_index', num_classes) \
            if 'label_names' in panoptic_seg else num_classes
        if not bool((seg != void).any()):
            return image
        return super()._draw_panoptic_seg(image, panoptic_seg, classes, palette)
