"""Panoptic FCN's panoptic combination of fused thing and stuff masks into mmdet's panoptic map."""
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.models.seg_heads.panoptic_fusion_heads import BasePanopticFusionHead
from mmdet.registry import MODELS
from mmdet.utils import OptConfigType, OptMultiConfig
from mmengine.structures import PixelData
from torch import Tensor

from .inference import cfg_value
from .target_generator import stuff_channel_lut


@MODELS.register_module()
class PanopticFCNFusionHead(BasePanopticFusionHead):
    """Panoptic FCN's combination of thing and stuff masks (official ``combine_thing_and_stuff``).

    Per image, the stride-4 probabilities of :func:`~mmibs.models.panoptic_fcn.inference.
    predict_kernels_single` are upsampled x ``mask_stride`` (bilinear), cropped to ``img_shape``,
    resized to ``ori_shape`` (when ``rescale``) and combined:

    * things, in descending score order with ``score >= inst_score_thr``: mask ``p > mask_thr``;
      skipped if empty or if more than ``overlap_thr`` of it is already painted; otherwise its
      unpainted pixels get ``label + k * INSTANCE_OFFSET``, k = 1, 2, ...;
    * stuff: the stuff probabilities are written into an (S, H, W) zero canvas at their channels
      and argmaxed; for every channel of the argmax map, its unpainted pixels get the channel's
      mmdet label if they are at least ``stuff_area_limit`` pixels. Channels without an mmdet
      stuff label are skipped: channel 0 (all things) in ``'with_thing'``, the thing classes in
      ``'all_classes'``. If no stuff class survived, no stuff is painted (the official code
      crashes);
    * every other pixel is VOID = ``num_classes``.

    Stuff-branch channel -> mmdet things-first label: ``'all_classes'`` c -> c (S = num_classes),
    ``'with_thing'`` c -> c - 1 + num_things (S = num_stuff + 1), ``'stuff_only'``
    c -> c + num_things (S = num_stuff).

    ``test_cfg`` keys: ``mask_thr`` (INST_THRES), ``overlap_thr`` (COMBINE.OVERLAP_THRESH),
    ``stuff_area_limit`` (COMBINE.STUFF_AREA_LIMIT), ``inst_score_thr`` (COMBINE.INST_THRESH),
    ``stuff_branch``.

    Args:
        num_things_classes: Number of thing classes (labels 0..num_things_classes-1).
        num_stuff_classes: Number of stuff classes (labels after the things).
        mask_stride: Stride of the mask probabilities (of ``encode_feat``), 4.
        test_cfg: Inference settings, see above.
        init_cfg: Unused (no parameters).
    """

    def __init__(self,
                 num_things_classes: int = 80,
                 num_stuff_classes: int = 53,
                 mask_stride: int = 4,
                 test_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 **kwargs) -> None:
        super().__init__(num_things_classes=num_things_classes,
                         num_stuff_classes=num_stuff_classes, test_cfg=test_cfg,
                         loss_panoptic=None, init_cfg=init_cfg, **kwargs)
        self.mask_stride = mask_stride
        if test_cfg is not None and 'stuff_branch' in test_cfg:
            self._stuff_label_map()  # fail at build time on a bad mode

    def loss(self, **kwargs) -> dict:
        """The combination has no loss."""
        return dict()

    def _stuff_label_map(self) -> Tensor:
        """mmdet label of every stuff-branch channel, -1 where the channel is not a stuff class.

        The inverse, on the stuff classes, of the training targets' label -> channel table.

        Returns:
            int64 tensor of shape (S,).
        """
        lut = stuff_channel_lut(self.num_things_classes, self.num_stuff_classes,
                                cfg_value(self.test_cfg, 'stuff_branch'))
        stuff_labels = torch.arange(self.num_things_classes, self.num_classes)
        label_map = torch.full((int(lut.max()) + 1, ), -1, dtype=torch.long)
        label_map[lut[stuff_labels]] = stuff_labels
        return label_map

    def _resize(self, probs: Tensor, img_shape: Tuple[int, int],
                out_shape: Tuple[int, int]) -> Tensor:
        """Upsample x mask_stride, crop to ``img_shape``, resize to ``out_shape`` (bilinear).

        Args:
            probs: Probabilities at the mask stride, shape (N, h4, w4).
            img_shape: (h, w) of the resized image inside the padded input.
            out_shape: (H, W) of the output (``ori_shape`` or ``img_shape``).

        Returns:
            Shape (N, H, W).
        """
        probs = F.interpolate(probs[None], scale_factor=self.mask_stride, mode='bilinear',
                              align_corners=False)[..., :img_shape[0], :img_shape[1]]
        if probs.shape[-2:] != out_shape:  # a same-size bilinear resize is the identity
            probs = F.interpolate(probs, size=out_shape, mode='bilinear', align_corners=False)
        return probs[0]

    def _paint_things(self, result: Dict[str, Tensor], pan: Tensor, painted: Tensor,
                      img_shape: Tuple[int, int]) -> None:
        """Paint the things into ``pan`` (H, W) in descending score order, updating ``painted``.

        Masks are upsampled one at a time (memory of one full-size map), and only those of
        things with ``score >= inst_score_thr``: the official code upsamples all of them for its
        instance output, which this head does not produce.
        """
        scores = result['thing_scores']
        order = torch.sort(scores, descending=True, stable=True).indices
        order = order[scores[order] >= cfg_value(self.test_cfg, 'inst_score_thr')]
        mask_thr = cfg_value(self.test_cfg, 'mask_thr')
        overlap_thr = cfg_value(self.test_cfg, 'overlap_thr')
        instance_id = 1
        for probs, label in zip(result['thing_probs'][order],
                                result['thing_labels'][order].tolist()):
            mask = self._resize(probs[None], img_shape, pan.shape)[0] > mask_thr
            area = int(torch.count_nonzero(mask))
            if area == 0 or int(torch.count_nonzero(mask & painted)) / area > overlap_thr:
                continue
            mask &= ~painted
            pan[mask] = label + instance_id * INSTANCE_OFFSET
            painted |= mask
            instance_id += 1

    def _paint_stuff(self, result: Dict[str, Tensor], pan: Tensor, painted: Tensor,
                     img_shape: Tuple[int, int]) -> None:
        """Paint the unpainted part of every large enough stuff region of the argmax map."""
        label_map = self._stuff_label_map()
        labels = result['stuff_labels']
        if len(labels) == 0:
            return
        if not 0 <= int(labels.min()) <= int(labels.max()) < len(label_map):
            raise ValueError(
                f'stuff labels {labels.tolist()} outside the {len(label_map)} channels of '
                f"test_cfg.stuff_branch={self.test_cfg['stuff_branch']!r}")
        canvas = pan.new_zeros((len(label_map), *pan.shape), dtype=result['stuff_probs'].dtype)
        canvas[labels] = self._resize(result['stuff_probs'], img_shape, pan.shape)
        semantic = canvas.argmax(dim=0)
        area_limit = cfg_value(self.test_cfg, 'stuff_area_limit')
        for channel in torch.unique(semantic).tolist():
            label = int(label_map[channel])
            region = (semantic == channel) & ~painted
            if label >= 0 and int(torch.count_nonzero(region)) >= area_limit:
                pan[region] = label

    def _predict_single(self, result: Dict[str, Tensor], img_meta: dict,
                        rescale: bool) -> PixelData:
        """Panoptic map of one image.

        Args:
            result: Output of ``predict_kernels_single`` for the image.
            img_meta: Its metainfo (``img_shape``, ``ori_shape``).
            rescale: Output at ``ori_shape`` (else at ``img_shape``).

        Returns:
            ``PixelData(sem_seg=int32 (1, H, W))``, mmdet's encoding.
        """
        img_shape = tuple(img_meta['img_shape'][:2])
        out_shape = tuple(img_meta['ori_shape'][:2]) if rescale else img_shape
        device = result['thing_scores'].device
        pan = torch.full(out_shape, self.num_classes, dtype=torch.int32, device=device)
        painted = torch.zeros(out_shape, dtype=torch.bool, device=device)
        self._paint_things(result, pan, painted, img_shape)
        self._paint_stuff(result, pan, painted, img_shape)
        return PixelData(sem_seg=pan[None])

    def predict(self, kernel_results: List[Dict[str, Tensor]], batch_img_metas: List[dict],
                rescale: bool = True, **kwargs) -> List[PixelData]:
        """Panoptic maps of a batch.

        Args:
            kernel_results: Per image the output of ``predict_kernels_single``: ``thing_probs``
                (N_t, h4, w4), ``thing_scores`` (N_t,) descending, ``thing_labels`` (N_t,),
                ``stuff_probs`` (N_s, h4, w4), ``stuff_scores`` (N_s,), ``stuff_labels`` (N_s,).
            batch_img_metas: Per image its metainfo, with ``img_shape`` and ``ori_shape``.
            rescale: Outputs at ``ori_shape`` (True) or at ``img_shape``.

        Returns:
            Per image ``PixelData(sem_seg=int32 (1, H, W))``: ``label + k * INSTANCE_OFFSET``
            for the k-th thing, ``label`` for stuff, ``num_classes`` for VOID.
        """
        if len(kernel_results) != len(batch_img_metas):
            raise ValueError(f'{len(kernel_results)} kernel results for '
                             f'{len(batch_img_metas)} images')
        return [self._predict_single(result, meta, rescale)
                for result, meta in zip(kernel_results, batch_img_metas)]
