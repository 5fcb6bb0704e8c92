# Cityscapes panoptic (19 evaluated classes, things first), model independent.
#
# Data: `tools/dataset_converters/cityscapes.py` turns the official gtFine / leftImg8bit
# downloads into cityscapesscripts' COCO-panoptic layout (docs/datasets.md):
#   data/cityscapes/leftImg8bit/{train,val}/<city>/*_leftImg8bit.png
#   data/cityscapes/gtFine/cityscapes_panoptic_{train,val}.json
#   data/cityscapes/gtFine/cityscapes_panoptic_{train,val}/*_gtFine_panoptic.png
#
# Standard crop training as the paper describes it (§5.2): random resize by a factor 0.5-2.0 of
# the 1024x2048 image, random 512x1024 crop, horizontal flip. `class_paired_train_pipeline` is the
# class-paired crop sampling of §4.2 with the authors' Cityscapes limits (NEW_SAMPLING_SCALE_* of
# their configs). Model configs add their own bits (batch padding, colour augmentation, the
# Mask2Former GT-outside-crop filter) by redefining the pipelines.
#
# This file defines `custom_imports` (the dataset and transforms are mmibs components): a model
# base inherited next to it must not define it too (mmengine forbids duplicate keys among bases).
custom_imports = dict(imports=['mmibs'], allow_failed_imports=False)

dataset_type = 'CityscapesPanopticDataset'
data_root = 'data/cityscapes/'
backend_args = None

# (h, w) of the training crops (their released configs); RandomCrop takes (w, h)
crop_size = (512, 1024)
image_scale = (2048, 1024)  # (w, h): Cityscapes images; test images are not resized

train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResize', scale=image_scale, ratio_range=(0.5, 2.0), keep_ratio=True),
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
# Authors' Cityscapes limits S_min 512, S_max 3096, L_max 6192 (NEW_SAMPLING_SCALE_* of their
# configs); stuff classes get the random resize above.
class_paired_crop = dict(
    type='ClassPairedCrop',
    crop_size=crop_size[::-1],
    min_short_side=512,
    max_short_side=3096,
    max_long_side=6192,
    stuff_resize=dict(scale=image_scale, ratio_range=(0.5, 2.0)))
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

# Full 1024x2048 images (short side 1024, long side 2048: the authors' test size).
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadPanopticAnnotationsChecked', backend_args=backend_args),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'segments_info')),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='gtFine/cityscapes_panoptic_train.json',
        data_prefix=dict(img='leftImg8bit/train/', seg='gtFine/cityscapes_panoptic_train/'),
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
        ann_file='gtFine/cityscapes_panoptic_val.json',
        data_prefix=dict(img='leftImg8bit/val/', seg='gtFine/cityscapes_panoptic_val/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

# PQ, Acc^th, Prec^th, confusion ratio and mIoU (docs/metrics.md), logged as coco_panoptic/PQ
# etc. (mmdet's keys)
val_evaluator = dict(
    type='PanopticPixelMetric',
    seg_prefix=data_root + 'gtFine/cityscapes_panoptic_val/',
    metric=('PQ', 'pixel', 'confusion', 'mIoU'),  # all groups: the paper's metrics too
    backend_args=backend_args)
test_evaluator = val_evaluator
