"""Loading of panoptic annotations that fails loudly on PNGs that disagree with their JSON."""
import mmcv
import numpy as np
from mmdet.datasets.transforms import LoadPanopticAnnotations
from mmdet.registry import TRANSFORMS
from mmdet.structures.mask import BitmapMasks
from mmengine.fileio import get

from ..coco_format_panoptic import PanopticAnnotationError


@TRANSFORMS.register_module()
class LoadPanopticAnnotationsChecked(LoadPanopticAnnotations):
    """mmdet's ``LoadPanopticAnnotations`` plus a consistency check of the PNG ids.

    mmdet silently treats a PNG id that has no ``segments_info`` entry as void and a listed
    segment that is absent from the PNG as an empty mask. Both mean the PNG and its JSON do not
    belong together, so this transform raises :class:`PanopticAnnotationError` naming the PNG
    and the offending ids. Id 0 is void (panopticapi's convention) and may appear freely.

    Outputs are identical to mmdet's: ``gt_masks`` (``BitmapMasks``, one per non-crowd thing,
    H x W) and ``gt_seg_map`` (H x W uint8/int labels, things first, 255 = void).
    """

    def _load_masks_and_semantic_segs(self, results: dict) -> None:
        """Load the panoptic PNG, check it against ``segments_info`` and build the targets."""
        if results.get('seg_map_path', None) is None:
            return
        pan_png = self.rgb2id(self._read_png(results))
        self._check_ids(pan_png, results)

        gt_masks = []
        gt_seg = np.full_like(pan_png, 255)
        for segment_info in results['segments_info']:
            mask = pan_png == segment_info['id']
            gt_seg[mask] = segment_info['category']
            if segment_info.get('is_thing'):
                gt_masks.append(mask.astype(np.uint8))

        if self.with_mask:
            h, w = results['ori_shape']
            results['gt_masks'] = BitmapMasks(gt_masks, h, w)
        if self.with_seg:
            results['gt_seg_map'] = gt_seg

    def _read_png(self, results: dict) -> np.ndarray:
        """The panoptic PNG as an (H, W, 3) RGB array.

        Raises:
            PanopticAnnotationError: the file cannot be read or decoded (empty, truncated,
                garbage); the message names the PNG and the image id.
        """
        path = results['seg_map_path']
        where = f'{path} (image id {results.get("img_id")!r})'
        try:
            img_bytes = get(path, backend_args=self.backend_args)
        except OSError as e:
            raise PanopticAnnotationError(f'{where}: cannot read the panoptic PNG ({e})') from e
        try:
            # cv2 decodes undecodable bytes to None and mmcv's colour conversion then fails.
            pan_png = mmcv.imfrombytes(img_bytes, flag='color', channel_order='rgb')
        except Exception as e:  # any decoder failure is the same user error
            raise PanopticAnnotationError(
                f'{where}: cannot be decoded as a panoptic PNG ({len(img_bytes)} bytes; empty, '
                'truncated or not an image?)') from e
        if pan_png is None or pan_png.ndim != 3:
            raise PanopticAnnotationError(
                f'{where}: cannot be decoded as a panoptic PNG ({len(img_bytes)} bytes; empty, '
                'truncated or not an image?)')
        return pan_png

    @staticmethod
    def _check_ids(pan_png: np.ndarray, results: dict) -> None:
        """Raise if the PNG's ids and the listed segment ids differ (0 = void is allowed)."""
        png_ids = set(np.unique(pan_png).tolist()) - {0}
        listed_ids = {seg['id'] for seg in results['segments_info']}
        unlisted, absent = png_ids - listed_ids, listed_ids - png_ids
        if unlisted or absent:
            raise PanopticAnnotationError(
                f'{results["seg_map_path"]}: PNG ids do not match segments_info: ids in the PNG '
                f'but not listed {sorted(unlisted)[:10]}, listed but absent from the PNG '
                f'{sorted(absent)[:10]}')
        if pan_png.shape != tuple(results['ori_shape']):
            raise PanopticAnnotationError(
                f'{results["seg_map_path"]}: PNG size {pan_png.shape} differs from the image '
                f'size {tuple(results["ori_shape"])} of {results.get("img_path")}')
