"""Panoptic FCN head (Li et al., CVPR 2021) with Intra-Batch Supervision (de Geus & Dubbelman).

Official behaviour: ``DdeGeus/PanopticFCN-IBS`` (the official Panoptic FCN with IBS added):
``panopticfcn/head.py`` (position head, kernel head, feature encoder, ``ThingGenerator``,
``StuffGenerator``; IBS in ``ThingGenerator.forward``), ``panopticfcn/panoptic_seg.py``
(``losses``, ``loss_single_level``) and ``panopticfcn/loss.py`` (``weighted_focal_loss``). User
documentation: ``docs/panoptic_fcn.md``.
"""
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptConfigType
from mmengine.model import BaseModule
from torch import Tensor

from ..ibs import cross_crop_logits
from .inference import predict_kernels_single
from .modules import KernelHead, PanopticFCNEncoder, PositionHead
from .target_generator import PanopticFCNTargets, stuff_channel_lut
from .utils import guided_topk, stuff_kernels_from_masks

HeadOutputs = Tuple[List[Tensor], List[Tensor], List[Tensor], Tensor]


@MODELS.register_module()
class PanopticFCNHead(BaseModule):
    """Position head, kernel head, feature encoder, kernel embeddings, targets and losses.

    ``forward`` maps the neck's levels (P2..P7) to centre logits, region logits and kernel maps
    per head level (P3..P7, shared weights) and ``encode_feat`` (from P2..P5, stride 4).
    Training (``loss``): for every (instance, level) pair the top-K centre positions inside the
    instance give K kernels, each embedded (1x1 = linear) and multiplied with the crop's
    ``encode_feat`` into one mask, dice-supervised with weights = the normalised top-K centre
    scores (not detached); stuff gives one kernel per (crop, level, present class). IBS (when
    ``ibs`` is set) multiplies the same thing kernels with the partner crop's ``encode_feat``
    and pushes those logits to zero, weighted by the same normalised scores
    (:class:`~mmibs.models.ibs.IntraBatchSupervision`, dense over the stride-4 pixels).

    Losses (official names): ``loss_pos_th``, ``loss_pos_st``, ``loss_seg_th``,
    ``loss_seg_st`` and, with IBS, ``loss_ibs_th``.

    Args:
        num_things_classes: Thing classes N_th (mmdet labels 0..N_th-1).
        num_stuff_classes: Stuff classes (mmdet labels after the things).
        in_channels: Neck channels.
        stuff_branch: ``'all_classes'`` (Cityscapes), ``'with_thing'`` (Vistas) or
            ``'stuff_only'`` (COCO): which classes the S region channels hold.
        head_levels: Neck levels of the position/kernel heads (P3..P7 = 1..5).
        encoder_levels: Neck levels of the encoder (P2..P5 = 0..3).
        encoder_strides: Strides of ``encoder_levels``.
        feat_channels: Conv channels of the three sub-heads (256).
        kernel_channels: Kernel-map channels C_k (256).
        encode_channels: Encoder channels C_f (256).
        num_convs: Convs per sub-head (3).
        position_dcn / kernel_dcn / encoder_dcn: Deformable convs per sub-head (official: on,
            off, off).
        dcn_init_offset: Offset-conv init of the DCNs: ``'torch_default'`` (official) or
            ``'zero'`` (mmcv).
        norm_cfg: Norm of the position/kernel heads and the semantic FPN (GN 32).
        pos_num: K, the top-K positions per (instance, level) (``POS_NUM``: CS 7, Vistas 3).
        target_generator: Config of :class:`PanopticFCNTargetGenerator` (its classes and
            ``stuff_branch`` are filled in from this head).
        loss_position: Focal loss of centres and regions (mmdet ``FocalLoss``, ``POSITION``).
        loss_segment: Dice loss of the masks (``WeightedDiceLoss``, ``SEGMENT``).
        ibs: :class:`~mmibs.models.ibs.IntraBatchSupervision` config (no point sampling);
            ``None`` (default) disables IBS. Official weight (``loss.loss_weight``) SEGMENT x
            IBS_WEIGHT (CS 4 x 1, Vistas 3 x 5); ``pairing='partner'`` is the authors' crop
            sampling.
        train_cfg: Unused (kept for the detector interface).
        test_cfg: Inference settings (see ``predict_kernels_single`` and the fusion head).
    """

    def __init__(self,
                 num_things_classes: int,
                 num_stuff_classes: int,
                 in_channels: int = 256,
                 stuff_branch: str = 'all_classes',
                 head_levels: Sequence[int] = (1, 2, 3, 4, 5),
                 encoder_levels: Sequence[int] = (0, 1, 2, 3),
                 encoder_strides: Sequence[int] = (4, 8, 16, 32),
                 feat_channels: int = 256,
                 kernel_channels: int = 256,
                 encode_channels: int = 256,
                 num_convs: int = 3,
                 position_dcn: bool = True,
                 kernel_dcn: bool = False,
                 encoder_dcn: bool = False,
                 dcn_init_offset: str = 'torch_default',
                 norm_cfg: ConfigType = dict(type='GN', num_groups=32, requires_grad=True),
                 pos_num: int = 7,
                 target_generator: ConfigType = dict(type='PanopticFCNTargetGenerator'),
                 loss_position: ConfigType = dict(type='FocalLoss', use_sigmoid=True, alpha=0.25,
                                                  gamma=2.0, reduction='mean', loss_weight=1.0),
                 loss_segment: ConfigType = dict(type='WeightedDiceLoss', loss_weight=4.0),
                 ibs: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        self.num_things_classes = num_things_classes
        self.num_stuff_classes = num_stuff_classes
        self.num_classes = num_things_classes + num_stuff_classes
        self.stuff_branch = stuff_branch
        self.num_stuff_channels = int(
            stuff_channel_lut(num_things_classes, num_stuff_classes, stuff_branch).max()) + 1
        self.head_levels = tuple(head_levels)
        self.encoder_levels = tuple(encoder_levels)
        self.pos_num = pos_num
        self.position_head = PositionHead(in_channels, feat_channels, num_things_classes,
                                          self.num_stuff_channels, num_convs, position_dcn,
                                          dcn_init_offset, norm_cfg)
        self.kernel_head = KernelHead(in_channels, feat_channels, kernel_channels, num_convs,
                                      kernel_dcn, norm_cfg)
        self.encoder = PanopticFCNEncoder(in_channels, encoder_strides, feat_channels,
                                          encode_channels, num_convs, encoder_dcn, norm_cfg)
        self.thing_embed = nn.Linear(kernel_channels, encode_channels)
        self.stuff_embed = nn.Linear(kernel_channels, encode_channels)
        target_generator = dict(target_generator)
        target_generator.update(num_things_classes=num_things_classes,
                                num_stuff_classes=num_stuff_classes, stuff_branch=stuff_branch)
        self.target_generator = TASK_UTILS.build(target_generator)
        self.loss_position = MODELS.build(loss_position)
        self.loss_segment = MODELS.build(loss_segment)
        if ibs is not None and ibs.get('point_sampling') is not None:
            raise ValueError("PanopticFCNHead: IBS is dense over the stride-4 pixels, as the "
                             "authors'; point_sampling must be None")
        self.ibs = None if ibs is None else MODELS.build(ibs)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    def init_weights(self) -> None:
        """Sub-heads as the official code; the kernel embeddings normal(0, 0.01), bias 0."""
        super().init_weights()
        for embed in (self.thing_embed, self.stuff_embed):
            nn.init.normal_(embed.weight, std=0.01)
            nn.init.zeros_(embed.bias)

    def forward(self, feats: Sequence[Tensor]) -> HeadOutputs:
        """Head outputs.

        Args:
            feats: Neck levels, e.g. P2..P7, each (B, C, H_s, W_s).

        Returns:
            centre logits per head level (B, N_th, H_l, W_l), region logits per head level
            (B, S, H_l, W_l), kernel maps per head level (B, C_k, H_l, W_l), and
            encode_feat (B, C_f, h4, w4).
        """
        if max(self.head_levels + self.encoder_levels) >= len(feats):
            raise ValueError(f'Panoptic FCN head_levels {self.head_levels} / encoder_levels '
                             f'{self.encoder_levels} need more than the {len(feats)} neck levels')
        centers, regions, kernels = [], [], []
        for level in self.head_levels:
            center, region = self.position_head(feats[level])
            centers.append(center)
            regions.append(region)
            kernels.append(self.kernel_head(feats[level]))
        encode_feat = self.encoder([feats[level] for level in self.encoder_levels])
        return centers, regions, kernels, encode_feat

    def loss(self, feats: Sequence[Tensor], batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Forward, targets and losses.

        Args:
            feats: Neck levels, each (B, C, H_s, W_s).
            batch_data_samples: B data samples with ``gt_instances``, ``gt_sem_seg`` and
                metainfo (``img_shape``, ``batch_input_shape``, optional ``ibs_partner``).

        Returns:
            ``loss_pos_th``, ``loss_pos_st``, ``loss_seg_th``, ``loss_seg_st`` (+
            ``loss_ibs_th``).
        """
        outputs = self(feats)
        level_sizes = [tuple(center.shape[-2:]) for center in outputs[0]]
        targets = self.target_generator(batch_data_samples, level_sizes, outputs[3].device)
        batch_img_metas = [sample.metainfo for sample in batch_data_samples]
        return self.loss_by_feat(*outputs, targets, batch_img_metas)

    def loss_by_feat(self, centers: List[Tensor], regions: List[Tensor], kernels: List[Tensor],
                     encode_feat: Tensor, targets: PanopticFCNTargets,
                     batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """Losses from head outputs and targets (shapes as :meth:`forward`)."""
        batch_size = encode_feat.shape[0]
        num_things = targets.num_things
        losses = dict(
            loss_pos_th=sum(self.loss_position(center, heatmap, avg_factor=max(num_things, 1))
                            for center, heatmap in zip(centers, targets.heatmaps)),
            loss_pos_st=sum(
                self.loss_position(region, target, avg_factor=batch_size * region[0, 0].numel())
                for region, target in zip(regions, targets.stuff_targets)))
        thing_kernels, thing_weights, thing_rows = self._thing_kernels(centers, kernels, targets)
        embeds = self.thing_embed(thing_kernels)  # (G, K, C_f)
        src_crop = targets.thing_img[thing_rows]  # (G,)
        weights = thing_weights / thing_weights.sum(dim=1, keepdim=True).clamp(min=1e-8)
        own = torch.arange(batch_size, device=encode_feat.device)
        logits = cross_crop_logits(embeds.flatten(0, 1), src_crop.repeat_interleave(self.pos_num),
                                   encode_feat, own)
        masks = targets.thing_masks[thing_rows].flatten(1)[:, None]  # (G, 1, h4*w4)
        losses['loss_seg_th'] = self.loss_segment(
            logits.view(*embeds.shape[:2], masks.shape[-1]), masks, weight=weights,
            avg_factor=max(num_things, 1))
        losses['loss_seg_st'] = self._stuff_loss(kernels, encode_feat, targets)
        if self.ibs is not None:
            # IBS: the K kernels of each (instance, level) pair times the features of the
            # paired crop, weighted by the normalised top-K scores, one mask per pair.
            # ibs_confused_th: fraction of those pixels with a logit > 0 (logged, not a loss).
            losses['loss_ibs_th'], stats = self.ibs.loss_and_stats(
                embeds.flatten(0, 1), src_crop.repeat_interleave(self.pos_num), encode_feat,
                batch_img_metas, weight=weights.flatten(), rows_per_mask=self.pos_num)
            losses['ibs_confused_th'] = stats['confused']
        return losses

    def _thing_kernels(self, centers: List[Tensor], kernels: List[Tensor],
                       targets: PanopticFCNTargets) -> Tuple[Tensor, Tensor, Tensor]:
        """Guided top-K kernels of every (instance, level) pair, levels concatenated.

        Returns:
            kernels (G, K, C_k), top-K centre scores (G, K) (not detached), and the instance
            row of each pair (G,) into ``targets.thing_*``.
        """
        all_kernels, all_weights, all_rows = [], [], []
        for center, kernel_map, rows in zip(centers, kernels, targets.thing_level_rows):
            if rows.numel() == 0:
                continue
            level_hw = center.shape[-2:]
            img = targets.thing_img[rows]
            level_masks = F.interpolate(targets.thing_masks[rows][None], size=level_hw,
                                        mode='bilinear', align_corners=False)[0]
            guide = center[img, targets.thing_labels[rows]].flatten(1)  # (G_l, P)
            weights, index = guided_topk(guide, level_masks.flatten(1) > 0.1, self.pos_num)
            flat = kernel_map.flatten(2).transpose(1, 2)  # (B, P, C_k)
            all_kernels.append(flat[img[:, None], index])  # (G_l, K, C_k)
            all_weights.append(weights)
            all_rows.append(rows)
        if not all_kernels:  # no thing in the batch: empty rows, connected to the graph
            empty = kernels[0].new_zeros((0, self.pos_num, kernels[0].shape[1]))
            return (empty + kernels[0].sum() * 0, empty[..., 0] + centers[0].sum() * 0,
                    targets.thing_img.new_zeros(0))
        rows = torch.cat(all_rows)
        # grouped by crop, so the mask products need no reordering copy (losses are sums)
        order = torch.argsort(targets.thing_img[rows], stable=True)
        return torch.cat(all_kernels)[order], torch.cat(all_weights)[order], rows[order]

    def _stuff_loss(self, kernels: List[Tensor], encode_feat: Tensor,
                    targets: PanopticFCNTargets) -> Tensor:
        """Dice loss of the stuff masks: one kernel per (crop, level, present class)."""
        stuff_kernels, stuff_img, stuff_cls = [], [], []
        for kernel_map, img, cls, level_masks in zip(kernels, targets.stuff_img,
                                                     targets.stuff_class,
                                                     targets.stuff_level_masks):
            for b in torch.unique(img).tolist():
                rows = img == b
                stuff_kernels.append(stuff_kernels_from_masks(level_masks[rows], kernel_map[b]))
            stuff_img.append(img)
            stuff_cls.append(cls)
        if stuff_kernels:
            stuff_kernels = torch.cat(stuff_kernels)
        else:
            stuff_kernels = kernels[0].new_zeros((0, kernels[0].shape[1])) + kernels[0].sum() * 0
        # Rows were built per level grouped by crop (ascending), the order of (img, cls) too.
        stuff_img, stuff_cls = torch.cat(stuff_img), torch.cat(stuff_cls)
        own = torch.arange(encode_feat.shape[0], device=encode_feat.device)
        logits = cross_crop_logits(self.stuff_embed(stuff_kernels), stuff_img, encode_feat, own)
        maps = targets.stuff_maps[stuff_img, stuff_cls].flatten(1)
        return self.loss_segment(logits.flatten(1), maps, avg_factor=max(targets.num_stuff, 1))

    def predict(self, feats: Sequence[Tensor],
                batch_data_samples: SampleList) -> List[Dict[str, Tensor]]:
        """Fused thing and stuff masks at stride 4, per image (any test batch size).

        Args:
            feats: Neck levels, each (B, C, H_s, W_s).
            batch_data_samples: The B data samples.

        Returns:
            Per image the output of
            :func:`~mmibs.models.panoptic_fcn.inference.predict_kernels_single`.
        """
        if self.test_cfg is None:
            raise ValueError('PanopticFCNHead.predict needs model.test_cfg')
        centers, regions, kernels, encode_feat = self(feats)
        return [
            predict_kernels_single([c[b] for c in centers], [r[b] for r in regions],
                                   [k[b] for k in kernels], encode_feat[b], self.thing_embed,
                                   self.stuff_embed, self.test_cfg)
            for b in range(len(batch_data_samples))
        ]
