"""Training targets of Panoptic FCN: thing centre heatmaps, stride-4 masks, stuff maps per level.

Official behaviour (``DdeGeus/PanopticFCN-IBS`` ``panopticfcn/gt_generate.py``, ``GenerateGT``:
``assign_multi_scale``, ``_label_assignment``, ``_sem_assign``, ``generate_score_map``), batched
and padded
dynamically: targets are rows of (instance, level) or (image, level, class) pairs instead of
slots of a fixed ``TENSOR_DIM``, so any number of instances works.
"""
from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.registry import TASK_UTILS
from mmdet.structures import SampleList
from torch import Tensor

from .utils import draw_gaussian, pfcn_gaussian_radius

#: Modes of the stuff branch (the official ``STUFF.ALL_CLASSES`` / ``STUFF.WITH_THING`` config
#: options): which classes its S channels hold.
STUFF_BRANCHES = ('all_classes', 'with_thing', 'stuff_only')


@dataclass
class PanopticFCNTargets:
    """Targets of one batch of B crops; h4 x w4 is the padded input size / 4, L levels.

    Things (one row per ground-truth instance of the batch, after dropping vanished ones):
        thing_masks: Soft stride-4 masks, (N, h4, w4), the dice targets.
        thing_img: Crop of each instance, int64 (N,).
        thing_labels: Thing class 0..N_th-1, int64 (N,).
        thing_level_rows: Per level, the instances assigned to it, int64 (G_l,) indices into
            the rows above; G_th = sum_l G_l counts (instance, level) pairs.
        heatmaps: Per level, centre heatmaps (B, N_th, H_l, W_l).
    Stuff:
        stuff_maps: Soft stride-4 one-hot maps, (B, S, h4, w4), the dice targets (void and
            padding: all-zero columns).
        stuff_targets: Per level, position targets (B, S, H_l, W_l), values in {0} u [0.5, 1].
        stuff_img / stuff_class: Per level, the (crop, channel) of every class present at the
            level, int64 (R_l,), ascending channels per crop.
        stuff_level_masks: Per level, binary level masks of those classes, (R_l, H_l, W_l).
    """
    thing_masks: Tensor
    thing_img: Tensor
    thing_labels: Tensor
    thing_level_rows: List[Tensor] = field(default_factory=list)
    heatmaps: List[Tensor] = field(default_factory=list)
    stuff_maps: Tensor = None
    stuff_targets: List[Tensor] = field(default_factory=list)
    stuff_img: List[Tensor] = field(default_factory=list)
    stuff_class: List[Tensor] = field(default_factory=list)
    stuff_level_masks: List[Tensor] = field(default_factory=list)

    @property
    def num_things(self) -> int:
        """G_th: the number of (instance, level) pairs."""
        return sum(int(rows.numel()) for rows in self.thing_level_rows)

    @property
    def num_stuff(self) -> int:
        """G_st: the number of (crop, level, class) triples."""
        return sum(int(img.numel()) for img in self.stuff_img)


def downsample_to_stride(maps: Tensor, img_hw: Tuple[int, int], canvas_hw: Tuple[int, int],
                         stride: int = 4) -> Tensor:
    """The official stride-4 maps: bilinear resize of the crop, pasted top-left into a canvas.

    The crop ``maps[..., :h, :w]`` is resized (bilinear, align_corners=False, no antialias) to
    ``(int(h / stride + 0.5), int(w / stride + 0.5))`` and pasted into a zero canvas.

    Args:
        maps: Float maps at the input resolution, shape (N, H_in, W_in) (padded or not).
        img_hw: (h, w) of the crop (``img_shape``).
        canvas_hw: (h4, w4) of the output canvas.
        stride: Output stride (4).

    Returns:
        Shape (N, h4, w4), values in [0, 1] for binary inputs.
    """
    height, width = img_hw
    out_h, out_w = int(height / stride + 0.5), int(width / stride + 0.5)
    canvas = maps.new_zeros((maps.shape[0], *canvas_hw))
    if maps.shape[0] == 0:
        return canvas
    small = F.interpolate(maps[None, :, :height, :width], size=(out_h, out_w), mode='bilinear',
                          align_corners=False)[0]
    canvas[:, :out_h, :out_w] = small[:, :canvas_hw[0], :canvas_hw[1]]
    return canvas


def stuff_channel_lut(num_things: int, num_stuff: int, stuff_branch: str,
                      ignore_index: int = 255) -> Tensor:
    """Lookup table from mmdet's things-first semantic label to a stuff-branch channel.

    ``'all_classes'``: channel = label (S = N_th + N_st); ``'with_thing'``: every thing label
    (crowd included) -> 0, stuff label s -> s - N_th + 1 (S = N_st + 1); ``'stuff_only'``:
    stuff s -> s - N_th, things -> void (S = N_st). Void (``ignore_index`` and any label
    outside the classes) -> -1.

    Returns:
        int64 tensor of size max(256, ignore_index + 1).
    """
    if stuff_branch not in STUFF_BRANCHES:
        raise ValueError(f'stuff_branch must be one of {STUFF_BRANCHES}, got {stuff_branch!r}')
    lut = torch.full((max(256, ignore_index + 1), ), -1, dtype=torch.long)
    labels = torch.arange(num_things + num_stuff)
    if stuff_branch == 'all_classes':
        lut[labels] = labels
    elif stuff_branch == 'with_thing':
        lut[labels] = torch.where(labels < num_things, 0, labels - num_things + 1)
    else:
        lut[labels] = torch.where(labels < num_things, -1, labels - num_things)
    lut[ignore_index] = -1
    return lut


@TASK_UTILS.register_module()
class PanopticFCNTargetGenerator:
    """Panoptic FCN's target generation (official ``GenerateGT``), without ``TENSOR_DIM``.

    Per crop: the non-crowd thing masks of ``gt_instances`` (crowd things must be in
    ``ignored_instances``, as mmdet's panoptic datasets and ``PackDetInputs`` do) and the
    things-first ``gt_sem_seg`` (255 = void; padded with 255). Boxes are recomputed from the
    masks (``x2 = last column + 1``). An instance goes to every level whose
    ``instance_scales`` range holds sqrt(box area) (both ends inclusive); its centre is the
    unweighted mean of the non-zero pixels of its soft stride-4 mask (``center_type='mass'``)
    or its box centre / 4 (``'box'``), mapped to the level and truncated; the Gaussian has the
    un-normalised CornerNet radius of the box at the level and sigma = d / ``gaussian_sigma``.

    Deviation from the official code (documented in docs/panoptic_fcn.md): an instance whose
    soft stride-4 mask is all zero (it vanishes in the bilinear downsampling) is dropped; the
    official code computes a NaN mass centre for it, draws a peak at (0, 0) and counts it.

    Args:
        num_things_classes: Number of thing classes N_th (labels 0..N_th-1).
        num_stuff_classes: Number of stuff classes.
        stuff_branch: ``'all_classes'`` (Cityscapes), ``'with_thing'`` (Vistas) or
            ``'stuff_only'`` (COCO), see :func:`stuff_channel_lut`.
        instance_scales: (min, max) sqrt(box area) in input pixels per head level.
        min_overlap: ``MIN_OVERLAP`` of the Gaussian radius.
        gaussian_sigma: ``GAUSSIAN_SIGMA``: sigma = diameter / gaussian_sigma.
        center_type: ``'mass'`` (official default) or ``'box'``.
        mask_stride: Stride of the encoded features (4).
        ignore_index: Void label of ``gt_sem_seg``.
    """

    def __init__(self,
                 num_things_classes: int,
                 num_stuff_classes: int,
                 stuff_branch: str = 'all_classes',
                 instance_scales: Sequence[Tuple[float, float]] = ((1, 128), (64, 256),
                                                                   (128, 512), (256, 1024),
                                                                   (512, 2048)),
                 min_overlap: float = 0.7,
                 gaussian_sigma: float = 3.0,
                 center_type: str = 'mass',
                 mask_stride: int = 4,
                 ignore_index: int = 255) -> None:
        if center_type not in ('mass', 'box'):
            raise ValueError(f"center_type must be 'mass' or 'box', got {center_type!r}")
        self.num_things_classes = num_things_classes
        self.num_stuff_classes = num_stuff_classes
        self.stuff_branch = stuff_branch
        self.instance_scales = [tuple(map(float, s)) for s in instance_scales]
        self.min_overlap = min_overlap
        self.gaussian_sigma = gaussian_sigma
        self.center_type = center_type
        self.mask_stride = mask_stride
        self.ignore_index = ignore_index
        self.lut = stuff_channel_lut(num_things_classes, num_stuff_classes, stuff_branch,
                                     ignore_index)
        self.num_stuff_channels = int(self.lut.max()) + 1

    @torch.no_grad()
    def __call__(self, batch_data_samples: SampleList, level_sizes: Sequence[Tuple[int, int]],
                 device: torch.device) -> PanopticFCNTargets:
        """Targets of a batch.

        Args:
            batch_data_samples: B data samples with ``gt_instances`` (``masks``, ``labels``),
                ``gt_sem_seg`` and metainfo ``img_shape`` and ``batch_input_shape``.
            level_sizes: (H_l, W_l) of each head level, as many as ``instance_scales``.
            device: Device of the targets.

        Returns:
            The batch's :class:`PanopticFCNTargets`.
        """
        if len(level_sizes) != len(self.instance_scales):
            raise ValueError(f'{len(level_sizes)} head levels but {len(self.instance_scales)} '
                             'instance_scales in the target generator config')
        input_hw = tuple(batch_data_samples[0].metainfo['batch_input_shape'][:2])
        canvas_hw = (input_hw[0] // self.mask_stride, input_hw[1] // self.mask_stride)
        num_levels = len(level_sizes)
        masks, imgs, labels, boxes = [], [], [], []
        stuff_maps = []
        for b, sample in enumerate(batch_data_samples):
            img_hw = tuple(sample.metainfo['img_shape'][:2])
            inst_masks, inst_labels = self._instance_masks(sample, b, input_hw, device)
            soft = downsample_to_stride(inst_masks, img_hw, canvas_hw, self.mask_stride)
            keep = soft.flatten(1).amax(dim=1) > 0  # drops instances that vanish at stride 4
            masks.append(soft[keep])
            labels.append(inst_labels[keep])
            imgs.append(torch.full((int(keep.sum()), ), b, dtype=torch.long, device=device))
            boxes.append(_boxes_from_masks(inst_masks[keep]))
            stuff_maps.append(self._stuff_map(sample, b, img_hw, input_hw, canvas_hw, device))
        targets = PanopticFCNTargets(thing_masks=torch.cat(masks), thing_img=torch.cat(imgs),
                                     thing_labels=torch.cat(labels),
                                     stuff_maps=torch.stack(stuff_maps))
        boxes = torch.cat(boxes)
        centers = self._centers(targets.thing_masks, boxes)
        for level in range(num_levels):
            self._thing_level(targets, boxes, centers, level, level_sizes[level], input_hw,
                              canvas_hw, len(batch_data_samples))
            self._stuff_level(targets, level_sizes[level])
        return targets

    def _instance_masks(self, sample, index: int, input_hw: Tuple[int, int],
                        device: torch.device) -> Tuple[Tensor, Tensor]:
        """Binary thing masks (n, H_in, W_in) float and labels (n,) of one crop."""
        instances = sample.gt_instances
        masks = instances.masks
        if hasattr(masks, 'to_tensor'):
            masks = masks.to_tensor(dtype=torch.float32, device=device)
        masks = masks.to(device=device, dtype=torch.float32)
        labels = instances.labels.to(device=device, dtype=torch.long)
        if masks.shape[0] != labels.shape[0]:
            raise ValueError(f'crop {index}: {masks.shape[0]} masks but {labels.shape[0]} labels')
        if labels.numel() and not 0 <= int(labels.min()) <= int(labels.max()) < \
                self.num_things_classes:
            raise ValueError(f'crop {index}: gt_instances label {int(labels.max())} is not a '
                             f'thing class (0..{self.num_things_classes - 1})')
        canvas = masks.new_zeros((masks.shape[0], *input_hw))
        height, width = min(masks.shape[1], input_hw[0]), min(masks.shape[2], input_hw[1])
        canvas[:, :height, :width] = masks[:, :height, :width]
        return canvas, labels

    def _stuff_map(self, sample, index: int, img_hw: Tuple[int, int],
                   input_hw: Tuple[int, int], canvas_hw: Tuple[int, int],
                   device: torch.device) -> Tensor:
        """Soft stride-4 one-hot stuff-branch map (S, h4, w4) of one crop."""
        if 'gt_sem_seg' not in sample:
            raise ValueError(f'crop {index}: Panoptic FCN needs gt_sem_seg '
                             '(LoadPanopticAnnotations with_seg=True)')
        sem = sample.gt_sem_seg.sem_seg.to(device).long()[0]
        if int(sem.min()) < 0 or int(sem.max()) >= self.lut.numel():
            raise ValueError(f'crop {index}: gt_sem_seg holds labels outside 0..'
                             f'{self.lut.numel() - 1}')
        seg = torch.full(input_hw, -1, dtype=torch.long, device=device)
        height, width = min(sem.shape[0], input_hw[0]), min(sem.shape[1], input_hw[1])
        seg[:height, :width] = self.lut.to(device)[sem[:height, :width]]
        onehot = F.one_hot(seg.clamp(min=0), self.num_stuff_channels).permute(2, 0, 1)
        onehot = onehot.float() * (seg >= 0)[None].float()
        return downsample_to_stride(onehot, img_hw, canvas_hw, self.mask_stride)

    def _centers(self, soft_masks: Tensor, boxes: Tensor) -> Tensor:
        """Stride-4 centres (x, y) of the instances, (N, 2) float."""
        if self.center_type == 'box':
            return torch.stack(((boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2),
                               dim=1) / self.mask_stride
        nonzero = (soft_masks > 0).float()
        count = nonzero.flatten(1).sum(dim=1).clamp(min=1)
        rows = torch.arange(soft_masks.shape[1], device=soft_masks.device, dtype=torch.float32)
        cols = torch.arange(soft_masks.shape[2], device=soft_masks.device, dtype=torch.float32)
        y = (nonzero.sum(dim=2) * rows).sum(dim=1) / count
        x = (nonzero.sum(dim=1) * cols).sum(dim=1) / count
        return torch.stack((x, y), dim=1)

    def _thing_level(self, targets: PanopticFCNTargets, boxes: Tensor, centers: Tensor,
                     level: int, level_hw: Tuple[int, int], input_hw: Tuple[int, int],
                     canvas_hw: Tuple[int, int], batch_size: int) -> None:
        """Level assignment and centre heatmap of one level (appended to ``targets``)."""
        level_h, level_w = level_hw
        heatmap = targets.thing_masks.new_zeros(
            (batch_size, self.num_things_classes, level_h, level_w))
        widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        scale = torch.sqrt(widths * heights)
        low, high = self.instance_scales[level]
        rows = torch.nonzero((scale >= low) & (scale <= high)).flatten()
        for row in rows.tolist():
            x = int(float(centers[row, 0]) * level_w / canvas_hw[1])
            y = int(float(centers[row, 1]) * level_h / canvas_hw[0])
            x, y = min(max(x, 0), level_w), min(max(y, 0), level_h)
            radius = pfcn_gaussian_radius(float(heights[row]) * level_h / input_hw[0],
                                          float(widths[row]) * level_w / input_hw[1],
                                          self.min_overlap)
            radius = int(max(radius, 0.0))
            img, label = int(targets.thing_img[row]), int(targets.thing_labels[row])
            draw_gaussian(heatmap[img, label], (x, y), radius, self.gaussian_sigma)
        targets.thing_level_rows.append(rows)
        targets.heatmaps.append(heatmap)

    def _stuff_level(self, targets: PanopticFCNTargets, level_hw: Tuple[int, int]) -> None:
        """Stuff position targets and present classes of one level (appended to ``targets``)."""
        level = F.interpolate(targets.stuff_maps, size=tuple(level_hw), mode='bilinear',
                              align_corners=False).clamp(max=1)
        level = torch.where(level < 0.5, torch.zeros_like(level), level)
        img, cls = torch.nonzero(level.flatten(2).amax(dim=2) > 0, as_tuple=True)
        targets.stuff_targets.append(level)
        targets.stuff_img.append(img)
        targets.stuff_class.append(cls)
        targets.stuff_level_masks.append((level[img, cls] > 0).float())


def _boxes_from_masks(masks: Tensor) -> Tensor:
    """Boxes (x1, y1, x2, y2) of binary masks (n, H, W), ``x2 = last column + 1``; (n, 4)."""
    if masks.shape[0] == 0:
        return masks.new_zeros((0, 4))
    cols = masks.amax(dim=1) > 0  # (n, W)
    rows = masks.amax(dim=2) > 0  # (n, H)
    col_idx = torch.arange(masks.shape[2], device=masks.device)
    row_idx = torch.arange(masks.shape[1], device=masks.device)
    big = masks.shape[1] + masks.shape[2]
    x1 = torch.where(cols, col_idx, big).amin(dim=1)
    x2 = torch.where(cols, col_idx, -1).amax(dim=1) + 1
    y1 = torch.where(rows, row_idx, big).amin(dim=1)
    y2 = torch.where(rows, row_idx, -1).amax(dim=1) + 1
    return torch.stack((x1, y1, x2, y2), dim=1).float()
