# Mask2Former crop-training baseline on the embedded "synthetic streets" dataset
# (512x1024 images, 256x512 crops), small enough to train on a 2-core CPU in minutes.
# Inherits mmdet's own Mask2Former panoptic config and shrinks the model: a half-width ResNet-18
# (32 base channels) from scratch, 64-d features, 2 pixel-decoder layers, 3 decoder layers,
# 30 queries. About 1.1 s per iteration on 2 CPU cores; PQ ~65 after 300 iterations.
_base_ = 'mmdet::mask2former/mask2former_r50_8xb2-lsj-50e_coco-panoptic.py'

custom_imports = dict(imports=['mmibs'], allow_failed_imports=False)

data_root = 'data/synthetic/'
dataset_type = 'SyntheticStreetsPanopticDataset'
crop_size = (256, 512)  # (h, w), as BatchFixedSizePad takes it; RandomCrop takes (w, h)
full_size = (1024, 512)  # (w, h) of the full images, as mmcv scales are given
num_things_classes = 3
num_stuff_classes = 5
num_classes = num_things_classes + num_stuff_classes
embed_dims = 64

batch_augments = [
    dict(type='BatchFixedSizePad', size=crop_size, img_pad_value=0, pad_mask=True,
         mask_pad_value=0, pad_seg=True, seg_pad_value=255)
]
model = dict(
    data_preprocessor=dict(batch_augments=batch_augments),
    backbone=dict(
        depth=18,
        stem_channels=32,
        base_channels=32,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        init_cfg=None),
    panoptic_head=dict(
        in_channels=[32, 64, 128, 256],
        feat_channels=embed_dims,
        out_channels=embed_dims,
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        num_queries=30,
        pixel_decoder=dict(
            encoder=dict(
                num_layers=2,
                layer_cfg=dict(
                    self_attn_cfg=dict(embed_dims=embed_dims, num_heads=4),
                    ffn_cfg=dict(embed_dims=embed_dims, feedforward_channels=4 * embed_dims))),
            positional_encoding=dict(num_feats=embed_dims // 2)),
        positional_encoding=dict(num_feats=embed_dims // 2),
        transformer_decoder=dict(
            num_layers=3,
            layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=embed_dims, num_heads=4),
                cross_attn_cfg=dict(embed_dims=embed_dims, num_heads=4),
                ffn_cfg=dict(embed_dims=embed_dims, feedforward_channels=4 * embed_dims))),
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])),
    panoptic_fusion_head=dict(
        num_things_classes=num_things_classes, num_stuff_classes=num_stuff_classes),
    train_cfg=dict(num_points=3136),
    test_cfg=dict(instance_on=False))

backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResize', scale=full_size, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size[::-1], crop_type='absolute', recompute_bbox=True,
         allow_negative_crop=True),
    # The authors' Mask2Former fix (paper §5.2): no targets for segments outside the crop.
    dict(type='RemoveSegmentsOutsideCrop', min_area=1),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=full_size, keep_ratio=True),
    dict(type='LoadPanopticAnnotationsChecked', backend_args=backend_args),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'segments_info')),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/panoptic_train.json',
        data_prefix=dict(img='images/train/', seg='annotations/panoptic_train/'),
        filter_cfg=None,  # every image, as the Cityscapes / Vistas dataset bases
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/panoptic_val.json',
        data_prefix=dict(img='images/val/', seg='annotations/panoptic_val/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# mmibs' PanopticPixelMetric (docs/metrics.md): PQ/SQ/RQ with panopticapi's rules, plus the
# paper's Acc^th / Prec^th, the confusion ratio (T = 10..90 %) and mIoU, in memory, from the
# GT PNGs (seg_prefix + PNG name) and the packed segments_info. Logged as coco_panoptic/PQ etc.
val_evaluator = dict(
    _delete_=True,
    type='PanopticPixelMetric',
    seg_prefix=data_root + 'annotations/panoptic_val/',
    metric=('PQ', 'pixel', 'confusion', 'mIoU'),  # all groups: the paper's metrics too
    backend_args=backend_args)
test_evaluator = val_evaluator

max_iters = 300
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(
    _delete_=True, type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters, by_epoch=False)
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters,
    dynamic_intervals=None)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=100, max_keep_ckpts=2,
                    save_last=True))
log_processor = dict(window_size=20)
auto_scale_lr = dict(enable=False, base_batch_size=4)
randomness = dict(seed=0)
