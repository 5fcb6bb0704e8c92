"""The Table 4 config (Mask2Former + IBS, instance segmentation on Vistas) on the fake tree.

One class-paired batch through the config's train pipeline and model loss (64x64 crops, 10
queries, 64 points, no pretrained download), then its val pipeline, model and
CocoInstancePixelMetric (COCO segm AP + Acc^th / Prec^th) on the validation images.
"""
import copy
import math

import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.runner import Runner

CONFIG = ('configs/mask2former/mask2former-ibs-random-pairing-class-paired_'
          'r50_8xb2-1024x1024-300k_mapillary-vistas-instance.py')


def test_instance_ibs_config_trains_and_evaluates(repo_root, fake_vistas_root):
    cfg = Config.fromfile(str(repo_root / CONFIG))
    root = str(fake_vistas_root) + '/'
    cfg.model.backbone.init_cfg = None
    cfg.model.panoptic_head.num_queries = 10
    cfg.model.train_cfg.num_points = 64
    cfg.model.data_preprocessor.batch_augments[0].size = (64, 64)
    for step in cfg.train_dataloader.dataset.pipeline:
        if step.type == 'ClassPairedCrop':
            step.update(crop_size=(64, 64), min_short_side=32, max_short_side=128,
                        max_long_side=256, stuff_resize=dict(short_side=[32, 48],
                                                             sample_style='choice',
                                                             max_long_side=256))
    for step in cfg.val_dataloader.dataset.pipeline:
        if step.type == 'Resize':
            step.scale = (64, 64)
    model = MODELS.build(cfg.model)
    assert model.panoptic_head.num_things_classes == 37
    assert model.panoptic_head.num_stuff_classes == 0

    train_cfg = copy.deepcopy(cfg.train_dataloader)
    train_cfg.dataset.data_root = root
    train_cfg.update(num_workers=0, persistent_workers=False)
    batch = next(iter(Runner.build_dataloader(train_cfg, seed=0)))
    assert [s.metainfo['ibs_partner'] for s in batch['data_samples']] == [1, 0]
    assert all('gt_sem_seg' not in s for s in batch['data_samples'])  # things only
    data = model.data_preprocessor(batch, True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert {'loss_ibs', 'd1.loss_ibs'} <= set(losses) and 'd0.loss_ibs' not in losses
    assert all(math.isfinite(float(v)) for v in losses.values())

    val_cfg = copy.deepcopy(cfg.val_dataloader)
    val_cfg.dataset.data_root = root
    val_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(val_cfg, seed=0)
    evaluator_cfg = copy.deepcopy(cfg.val_evaluator)
    evaluator_cfg.update(ann_file=root + 'validation/instances_2018.json',
                         seg_prefix=root + 'validation/panoptic/')
    evaluator = Evaluator(evaluator_cfg)
    evaluator.dataset_meta = loader.dataset.metainfo
    model.eval()
    with torch.no_grad():
        for data_batch in loader:
            outputs = model.test_step(data_batch)
            assert 'pred_instances' in outputs[0] and 'pred_panoptic_seg' not in outputs[0]
            evaluator.process(outputs, data_batch)
    metrics = evaluator.evaluate(len(loader.dataset))
    assert {'coco/segm_mAP', 'coco/Acc_th', 'coco/Prec_th', 'coco/confusion@50'} <= set(metrics)
