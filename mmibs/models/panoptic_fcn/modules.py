"""Sub-modules of Panoptic FCN: position head, kernel head and feature encoder.

Official architecture: ``DdeGeus/PanopticFCN-IBS`` ``panopticfcn/head.py`` (``PositionHead``,
``KernelHead``, ``SingleHead``, ``FeatureEncoder``) and ``panopticfcn/backbone_utils.py`` (the
semantic FPN); the deformable convolutions are mmcv's ``ModulatedDeformConv2dPack``.
"""
import math
from typing import List, Sequence, Tuple

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.models.layers import ConvUpsample
from mmdet.utils import ConfigType
from mmengine.model import BaseModule, normal_init
from torch import Tensor

from .utils import with_coord_features

#: ``BIAS_VALUE`` of the centre and region outputs: prior probability ~0.1.
PRIOR_BIAS = -2.19


def _conv_cfg(use_dcn: bool, key: str):
    """``conv_cfg`` of a sub-head: mmcv's ``DCNv2`` (``ModulatedDeformConv2dPack``) or None."""
    if not use_dcn:
        return None
    try:
        import mmcv.ops  # noqa: F401  (registers DCNv2)
    except ImportError as error:  # mmcv-lite has no compiled ops
        raise ImportError(f'{key}=True needs mmcv with compiled ops (mmcv.ops, MMCV_WITH_OPS=1); '
                          f'set {key}=False to use plain convolutions') from error
    return dict(type='DCNv2', deform_groups=1)


def _conv_stack(in_channels: int, channels: int, num_convs: int, norm_cfg: ConfigType,
                conv_cfg=None) -> nn.Sequential:
    """``num_convs`` x [conv3x3 -> norm -> ReLU] (bias only without norm)."""
    return nn.Sequential(*[
        ConvModule(in_channels if i == 0 else channels, channels, 3, padding=1,
                   conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=dict(type='ReLU'))
        for i in range(num_convs)
    ])


class PositionHead(BaseModule):
    """Position head (shared over levels): thing centre heatmaps and stuff-region maps.

    3 x [conv3x3 (DCNv2 when ``use_dcn``) -> GN -> ReLU], then two conv3x3 outputs,
    initialised normal(0, 0.01) with bias -2.19.

    The official DCN layer is ``ModulatedDeformConv2dPack``'s layout but initialised
    differently: the deformable weight kaiming-uniform (ReLU gain) and the offset/mask conv with
    torch's default init (mmcv zero-initialises it). ``init_offset`` chooses.

    Args:
        in_channels: FPN channels.
        channels: Conv channels (256).
        num_things_classes: Centre-heatmap channels N_th.
        num_stuff_channels: Stuff-region channels S.
        num_convs: Conv layers (3).
        use_dcn: Deformable convs (official: True in all configs).
        init_offset: ``'torch_default'`` (official) or ``'zero'`` (mmcv) for the offset conv.
        norm_cfg: Norm of the convs (GN, 32 groups).
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 num_things_classes: int,
                 num_stuff_channels: int,
                 num_convs: int = 3,
                 use_dcn: bool = True,
                 init_offset: str = 'torch_default',
                 norm_cfg: ConfigType = dict(type='GN', num_groups=32, requires_grad=True),
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        if init_offset not in ('torch_default', 'zero'):
            raise ValueError(f"init_offset must be 'torch_default' or 'zero', got {init_offset!r}")
        self.use_dcn = use_dcn
        self.init_offset = init_offset
        self.convs = _conv_stack(in_channels, channels, num_convs, norm_cfg,
                                 _conv_cfg(use_dcn, 'position_head.use_dcn'))
        self.out_inst = nn.Conv2d(channels, num_things_classes, 3, padding=1)
        self.out_sem = nn.Conv2d(channels, num_stuff_channels, 3, padding=1)

    def init_weights(self) -> None:
        """Official init: outputs normal(0, 0.01) with the prior bias; DCN as described above."""
        super().init_weights()
        for conv in (self.out_inst, self.out_sem):
            normal_init(conv, std=0.01, bias=PRIOR_BIAS)
        if self.use_dcn:
            for module in self.convs:
                nn.init.kaiming_uniform_(module.conv.weight, a=0, nonlinearity='relu')
                offset = module.conv.conv_offset
                if self.init_offset == 'torch_default':
                    offset.reset_parameters()
                else:
                    nn.init.zeros_(offset.weight)
                    nn.init.zeros_(offset.bias)

    def forward(self, feat: Tensor) -> Tuple[Tensor, Tensor]:
        """One level (B, C, H_l, W_l) -> centre logits (B, N_th, H_l, W_l), region logits
        (B, S, H_l, W_l)."""
        feat = self.convs(feat)
        return self.out_inst(feat), self.out_sem(feat)


class KernelHead(BaseModule):
    """Kernel head (shared over levels): coord channels -> 3 x [conv3x3 -> GN -> ReLU] -> conv3x3.

    Args:
        in_channels: FPN channels (the two coordinate channels are added here).
        channels: Conv channels (256).
        out_channels: Kernel channels C_k (256).
        num_convs: Conv layers (3).
        use_dcn: Deformable convs (official: False).
        norm_cfg: Norm of the convs (GN, 32 groups).
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 out_channels: int,
                 num_convs: int = 3,
                 use_dcn: bool = False,
                 norm_cfg: ConfigType = dict(type='GN', num_groups=32, requires_grad=True),
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        self.convs = _conv_stack(in_channels + 2, channels, num_convs, norm_cfg,
                                 _conv_cfg(use_dcn, 'kernel_head.use_dcn'))
        self.out_conv = nn.Conv2d(channels, out_channels, 3, padding=1)

    def init_weights(self) -> None:
        """Official init of the output conv: normal(0, 0.01), bias 0."""
        super().init_weights()
        normal_init(self.out_conv, std=0.01, bias=0)

    def forward(self, feat: Tensor) -> Tensor:
        """One level (B, C, H_l, W_l) -> kernel map (B, C_k, H_l, W_l)."""
        return self.out_conv(self.convs(with_coord_features(feat)))


class PanopticFCNEncoder(BaseModule):
    """Semantic FPN to stride 4 plus the feature encoder: ``encode_feat`` (B, C_f, h4, w4).

    Semantic FPN: per input level with stride s, ``max(1, log2(s) - 2)`` x [conv3x3 -> GN ->
    ReLU], each followed by a bilinear x2 upsample unless at stride 4 (mmdet ``ConvUpsample``,
    as ``PanopticFPNHead``); the branches are summed. Feature encoder: coord channels, then
    ``num_convs`` x [conv3x3 with bias -> ReLU] (no norm); non-negative output. The encoder
    convs keep torch's default init, as the official code.

    Args:
        in_channels: FPN channels.
        in_strides: Strides of the input levels (P2..P5: 4, 8, 16, 32).
        channels: Semantic-FPN channels (256).
        out_channels: Encoder channels C_f (256 in both official configs).
        num_convs: Encoder convs (3).
        use_dcn: Deformable encoder convs (official: False).
        norm_cfg: Norm of the semantic FPN (GN, 32 groups).
    """

    def __init__(self,
                 in_channels: int,
                 in_strides: Sequence[int] = (4, 8, 16, 32),
                 channels: int = 256,
                 out_channels: int = 256,
                 num_convs: int = 3,
                 use_dcn: bool = False,
                 norm_cfg: ConfigType = dict(type='GN', num_groups=32, requires_grad=True),
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        self.in_strides = tuple(in_strides)
        base = int(math.log2(self.in_strides[0]))
        self.branches = nn.ModuleList()
        for stride in self.in_strides:
            num_up = int(math.log2(stride)) - base
            self.branches.append(
                ConvUpsample(in_channels, channels, num_layers=max(num_up, 1),
                             num_upsample=num_up, norm_cfg=norm_cfg))
        conv_cfg = _conv_cfg(use_dcn, 'encoder.use_dcn')
        self.encoder = nn.Sequential(*[
            ConvModule(channels + 2 if i == 0 else out_channels, out_channels, 3, padding=1,
                       conv_cfg=conv_cfg, norm_cfg=None, act_cfg=dict(type='ReLU'))
            for i in range(num_convs)
        ])

    def init_weights(self) -> None:
        """Semantic FPN: kaiming fan-out (= c2_msra_fill); encoder: torch default."""
        super().init_weights()
        for module in self.encoder:
            if isinstance(module.conv, nn.Conv2d):
                module.conv.reset_parameters()

    def forward(self, feats: List[Tensor]) -> Tensor:
        """Levels (B, C, H_s, W_s) at ``in_strides`` -> encode_feat (B, C_f, h4, w4)."""
        if len(feats) != len(self.branches):
            raise ValueError(f'encoder got {len(feats)} levels for in_strides {self.in_strides}')
        semantic = sum(branch(feat) for branch, feat in zip(self.branches, feats))
        return self.encoder(with_coord_features(semantic))
