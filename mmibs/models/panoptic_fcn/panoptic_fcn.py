"""Panoptic FCN detector (Li et al., CVPR 2021), with Intra-Batch Supervision in its head."""
from typing import Dict, List, Tuple

from mmdet.models.detectors import SingleStageDetector
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.structures import PixelData
from torch import Tensor


@MODELS.register_module()
class PanopticFCN(SingleStageDetector):
    """Backbone + neck (P2..P7) + :class:`PanopticFCNHead` + :class:`PanopticFCNFusionHead`.

    ``loss``: features -> head losses (IBS pairing metadata ``ibs_partner`` arrives through the
    data samples). ``predict``: head -> fused masks per image -> fusion head -> panoptic maps in
    ``pred_panoptic_seg`` (mmdet's encoding, so mmdet's and mmibs' panoptic metrics and mmdet's
    visualiser work unchanged). Mirrors mmdet's ``MaskFormer`` detector.

    Args:
        backbone: Backbone config.
        neck: Neck config (FPN with 6 outputs P2..P7).
        panoptic_head: :class:`PanopticFCNHead` config (``train_cfg``/``test_cfg`` added).
        panoptic_fusion_head: :class:`PanopticFCNFusionHead` config (``test_cfg`` and the
            class numbers added).
        train_cfg: Training settings (passed to the head).
        test_cfg: Inference settings (passed to both heads); ``stuff_branch`` must match the
            head's (it is filled in from the head when absent).
        data_preprocessor: ``DetDataPreprocessor`` config.
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 neck: ConfigType,
                 panoptic_head: ConfigType,
                 panoptic_fusion_head: ConfigType,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super(SingleStageDetector, self).__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        head_cfg = panoptic_head.deepcopy() if hasattr(panoptic_head, 'deepcopy') \
            else dict(panoptic_head)
        stuff_branch = head_cfg.get('stuff_branch', 'all_classes')
        if test_cfg is not None:
            test_cfg = test_cfg.deepcopy() if hasattr(test_cfg, 'deepcopy') else dict(test_cfg)
            test_stuff_branch = test_cfg.setdefault('stuff_branch', stuff_branch)
            if test_stuff_branch != stuff_branch:
                raise ValueError(f'model.test_cfg.stuff_branch={test_stuff_branch!r} differs from '
                                 f'model.panoptic_head.stuff_branch={stuff_branch!r}')
        head_cfg.update(train_cfg=train_cfg, test_cfg=test_cfg)
        self.panoptic_head = MODELS.build(head_cfg)
        fusion_cfg = panoptic_fusion_head.deepcopy() if hasattr(panoptic_fusion_head, 'deepcopy') \
            else dict(panoptic_fusion_head)
        fusion_cfg.update(num_things_classes=self.panoptic_head.num_things_classes,
                          num_stuff_classes=self.panoptic_head.num_stuff_classes,
                          test_cfg=test_cfg)
        self.panoptic_fusion_head = MODELS.build(fusion_cfg)
        self.num_things_classes = self.panoptic_head.num_things_classes
        self.num_stuff_classes = self.panoptic_head.num_stuff_classes
        self.num_classes = self.panoptic_head.num_classes
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Losses of a batch of crops.

        Args:
            batch_inputs: Images (B, 3, H, W), normalised and padded.
            batch_data_samples: B data samples with ``gt_instances``, ``gt_sem_seg``.

        Returns:
            The head's loss dict.
        """
        return self.panoptic_head.loss(self.extract_feat(batch_inputs), batch_data_samples)

    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Panoptic predictions of a batch (any batch size).

        Args:
            batch_inputs: Images (B, 3, H, W).
            batch_data_samples: B data samples (``img_shape``, ``ori_shape``).
            rescale: Maps at ``ori_shape`` (True) or at ``img_shape``.

        Returns:
            The data samples with ``pred_panoptic_seg = PixelData(sem_seg=(1, H, W))``.
        """
        kernel_results = self.panoptic_head.predict(self.extract_feat(batch_inputs),
                                                    batch_data_samples)
        batch_img_metas = [sample.metainfo for sample in batch_data_samples]
        pan_results = self.panoptic_fusion_head.predict(kernel_results, batch_img_metas,
                                                        rescale=rescale)
        return self.add_pred_to_datasample(batch_data_samples, pan_results)

    def add_pred_to_datasample(self, data_samples: SampleList,
                               results_list: List[PixelData]) -> SampleList:
        """Store each panoptic map as ``pred_panoptic_seg``."""
        for data_sample, pan_result in zip(data_samples, results_list):
            data_sample.pred_panoptic_seg = pan_result
        return data_samples

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: SampleList = None) -> Tuple[List[Tensor], ...]:
        """Raw head outputs (centre, region and kernel maps per level, encode_feat)."""
        return self.panoptic_head(self.extract_feat(batch_inputs))
