# Panoptic FCN R-50 (Li et al., CVPR 2021), the official model and solver as released by the IBS
# authors (PanopticFCN-IBS = official Panoptic FCN + IBS; DdeGeus/PanopticFCN-IBS `panopticfcn/`).
# Cityscapes values by default (8 things + 11 stuff, stuff branch over all 19 classes, K = 7,
# SEGMENT 4); the Vistas configs override the classes, K, SEGMENT and test thresholds.
# This file has no `custom_imports` (the dataset bases define it).
#
# * Backbone: MSRA caffe ResNet-50, frozen BN, stem + res2 frozen (D2 FREEZE_AT 2).
# * Input quirk kept: BGR images minus the RGB-ordered means, std 1 (every official config).
# * FPN P2-P7: P6 from the P5 output, P7 from relu(P6) (`on_output`, relu before extra convs).
# * Head: position head (DCNv2, GN) and kernel head (coords, GN) on P3-P7 with shared weights;
#   semantic FPN (P2-P5, GN) + 3-conv encoder (coords, no norm) to stride 4, 256 channels.
# * Losses: focal (alpha 0.25, gamma 2) on centres/regions, weight POSITION 1; weighted dice on
#   masks, weight SEGMENT 4. IBS off here (`ibs=None`); IBS configs set it.
# * Solver (leaf configs add the schedule): SGD lr 0.02, momentum 0.9, wd 1e-4 (0 on norm
#   params), gradient clipping by value 5.0 (D2 CLIP_TYPE "value").
num_things_classes = 8
num_stuff_classes = 11
stuff_branch = 'all_classes'  # Cityscapes STUFF.ALL_CLASSES; Vistas 'with_thing'

model = dict(
    type='PanopticFCN',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],  # RGB means on BGR input: the official quirk, kept
        std=[1.0, 1.0, 1.0],
        bgr_to_rgb=False,
        pad_size_divisor=32,
        pad_mask=True,
        mask_pad_value=0,
        pad_seg=True,
        seg_pad_value=255),
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        style='caffe',
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://detectron2/resnet50_caffe')),
    neck=dict(
        type='FPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        start_level=0,
        add_extra_convs='on_output',
        relu_before_extra_convs=True,
        num_outs=6),
    panoptic_head=dict(
        type='PanopticFCNHead',
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        in_channels=256,
        stuff_branch=stuff_branch,
        head_levels=(1, 2, 3, 4, 5),  # P3-P7
        encoder_levels=(0, 1, 2, 3),  # P2-P5
        encoder_strides=(4, 8, 16, 32),
        feat_channels=256,
        kernel_channels=256,
        encode_channels=256,
        num_convs=3,
        position_dcn=True,  # official default, never overridden
        kernel_dcn=False,
        encoder_dcn=False,
        dcn_init_offset='torch_default',
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        pos_num=7,  # POS_NUM (Vistas 3)
        target_generator=dict(
            type='PanopticFCNTargetGenerator',
            instance_scales=((1, 128), (64, 256), (128, 512), (256, 1024), (512, 2048)),
            min_overlap=0.7,
            gaussian_sigma=3.0,
            center_type='mass'),
        loss_position=dict(
            type='FocalLoss', use_sigmoid=True, alpha=0.25, gamma=2.0, reduction='mean',
            loss_weight=1.0),
        loss_segment=dict(type='WeightedDiceLoss', eps=1e-8, loss_weight=4.0),
        ibs=None),  # no IBS in the baseline; the IBS configs set it
    panoptic_fusion_head=dict(type='PanopticFCNFusionHead', mask_stride=4),
    train_cfg=None,
    test_cfg=dict(
        center_thr=0.01,  # THING.THRES (Vistas 0.2)
        stuff_thr=0.1,
        top_num=200,
        pool_sizes=(3, 3, 3, 5, 5),
        mask_thr=0.5,  # INST_THRES
        similar_thr=0.97,  # SIMILAR_THRES (Vistas 0.95)
        class_specific=True,
        score_gate=0.05,
        overlap_thr=0.5,
        stuff_area_limit=2048,
        inst_score_thr=0.2,
        stuff_branch=stuff_branch))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0),
    clip_grad=dict(type='value', clip_value=5.0))
