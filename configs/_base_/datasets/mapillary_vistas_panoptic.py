# Mapillary Vistas v1.2 panoptic (65 classes: 37 things first, then 28 stuff), model independent.
#
# Data: the official v1.2 download, unpacked, needs no conversion (docs/datasets.md):
#   data/mapillary_vistas/{training,validation}/images/<key>.jpg
#   data/mapillary_vistas/{training,validation}/panoptic/panoptic_2018.json
#   data/mapillary_vistas/{training,validation}/panoptic/<key>.png
#
# Standard crop training as the paper describes it (§5.2): shortest side resized to a random
# value in 1024..2048 (Panoptic FCN's choices, step 128, longest side <= 4096), random 1024x1024
# crop, horizontal flip. `class_paired_train_pipeline` is the class-paired crop sampling of §4.2
# with the authors' Vistas limits (NEW_SAMPLING_SCALE_* of their configs). Model configs add their
# own bits (batch padding, colour augmentation, Mask2Former's resize range and GT-outside-crop
# filter) by redefining the pipelines.
#
# This file defines `custom_imports` (the dataset and transforms are mmibs components): a model
# base inherited next to it must not define it too (mmengine forbids duplicate keys among bases).
custom_imports = dict(imports=['mmibs'], allow_failed_imports=False)

dataset_type = 'MapillaryVistasPanopticDataset'
data_root = 'data/mapillary_vistas/'
backend_args = None

# (h, w) of the training crops (their released configs); RandomCrop takes (w, h)
crop_size = (1024, 1024)
# Shortest side 1024, 1152, ..., 2048, longest side <= 4096 (paper §5.2; Panoptic FCN's Vistas
# config). mmcv's keep-ratio scale (long, short) = (4096, s) resizes the short side to s unless
# the long side would exceed 4096.
train_scales = [(4096, short) for short in range(1024, 2049, 128)]
# Test: shortest side 2048, longest side <= 2048 (their released configs), i.e. the long side
# becomes 2048.
test_scale = (2048, 2048)

train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomChoiceResize', scales=train_scales, keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size[::-1], crop_type='absolute', recompute_bbox=True,
         allow_negative_crop=True),
    dict(type='PackDetInputs'),
]
# Class-paired crop sampling (paper §4.2, docs/crop_sampling.md), written once for every model;
# an IBS config uses it as
#   train_dataloader = dict(batch_sampler=_base_.class_paired_batch_sampler,
#                           dataset=dict(pipeline=_base_.class_paired_train_pipeline))
#   custom_hooks = _base_.class_paired_hooks
# (a model whose pipeline has more steps redefines class_paired_train_pipeline in its crop
# baseline from class_paired_crop, as the Mask2Former configs do). The metainfo keys of a
# class-paired crop (mmibs.datasets.class_paired.CLASS_PAIRED_META_KEYS):
class_paired_meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                          'flip_direction', 'ibs_partner', 'ibs_sample')
# Authors' Vistas limits S_min 1024, S_max 6192, L_max 9288 (NEW_SAMPLING_SCALE_* of their
# configs); stuff classes get the random resize above.
class_paired_crop = dict(
    type='ClassPairedCrop',
    crop_size=crop_size[::-1],
    min_short_side=1024,
    max_short_side=6192,
    max_long_side=9288,
    stuff_resize=dict(short_side=[s for _, s in train_scales], sample_style='choice',
                      max_long_side=4096))
class_paired_train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    class_paired_crop,
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys=class_paired_meta_keys),
]
# mmengine still builds `train_dataloader.sampler` (InfiniteSampler); the batch sampler takes its
# dataset and seed and ignores its order. batch_size = crops per GPU (even: whole pairs).
class_paired_batch_sampler = dict(
    type='ClassPairedBatchSampler',
    class_sampling='uniform',  # authors: uniform over all classes, stuff included
    class_order='permutation',  # authors: one stream of class permutations, all ranks
    scale_options=(32, 64, 128, 256, 512),  # authors: NEW_SAMPLING scale options
    avoid_same_image=False,  # authors; True keeps the IBS assumption strictly
    segment_sampling='image',  # authors: an image of the class, then a segment in it
    include_crowd=True,  # authors: crowd segments can be drawn
    skip_empty_classes=True)  # authors: the class list is the classes found in the annotations
# Restores the sampler's seed on resume and makes mmengine's dataloader fast-forward free.
class_paired_hooks = [dict(type='ClassPairedSamplerHook')]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=test_scale, keep_ratio=True),
    dict(type='LoadPanopticAnnotationsChecked', backend_args=backend_args),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'segments_info')),
]

train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='training/panoptic/panoptic_2018.json',
        data_prefix=dict(img='training/images/', seg='training/panoptic/'),
        # Every image of the JSON, as the authors train (detectron2 filters empty images only
        # for dataset dicts with "annotations"; panoptic ones have none): also what the class-
        # paired index covers (docs/crop_sampling.md).
        filter_cfg=None,
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='validation/panoptic/panoptic_2018.json',
        data_prefix=dict(img='validation/images/', seg='validation/panoptic/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

# PQ, Acc^th, Prec^th, confusion ratio and mIoU (docs/metrics.md), logged as coco_panoptic/PQ
# etc. (mmdet's keys)
val_evaluator = dict(
    type='PanopticPixelMetric',
    seg_prefix=data_root + 'validation/panoptic/',
    metric=('PQ', 'pixel', 'confusion', 'mIoU'),  # all groups: the paper's metrics too
    backend_args=backend_args)
test_evaluator = val_evaluator
