# The embedded synthetic streets panoptic dataset (3 things + 5 stuff, things first), model
# independent: `tools/dataset_converters/make_synthetic_panoptic.py --out data/synthetic` (or
# `make demo`) writes it (docs/datasets.md):
#   data/synthetic/images/{train,val}/*.jpg
#   data/synthetic/annotations/panoptic_{train,val}.json, panoptic_{train,val}/*.png
#
# The Cityscapes recipe at half its pixel sizes, as the images (512x1024) are half Cityscapes':
# random resize by a factor 0.5-2.0, random 256x512 crop, horizontal flip; class-paired crops
# with the authors' Cityscapes values halved (scales 16..256, shortest side 256..1548, longest
# side <= 3096). Model configs add their own bits by redefining the pipelines.
#
# This file defines `custom_imports`: a model base inherited next to it must not define it too.
custom_imports = dict(imports=['mmibs'], allow_failed_imports=False)

dataset_type = 'SyntheticStreetsPanopticDataset'
data_root = 'data/synthetic/'
backend_args = None

# (h, w) of the training crops; RandomCrop takes (w, h)
crop_size = (256, 512)
full_size = (1024, 512)  # (w, h) of the images, as mmcv scales are given

train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResize', scale=full_size, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size[::-1], crop_type='absolute', recompute_bbox=True,
         allow_negative_crop=True),
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

# Class-paired crop sampling (paper §4.2, docs/crop_sampling.md), written once for every model;
# an IBS config uses it as
#   train_dataloader = dict(batch_sampler=_base_.class_paired_batch_sampler,
#                           dataset=dict(pipeline=_base_.class_paired_train_pipeline))
#   custom_hooks = _base_.class_paired_hooks
# The metainfo keys of a class-paired crop (mmibs.datasets.class_paired.CLASS_PAIRED_META_KEYS).
class_paired_meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                          'flip_direction', 'ibs_partner', 'ibs_sample')
# The authors' Cityscapes limits (512, 3096, 6192) halved; stuff classes get the random resize
# above.
class_paired_crop = dict(
    type='ClassPairedCrop',
    crop_size=crop_size[::-1],
    min_short_side=256,
    max_short_side=1548,
    max_long_side=3096,
    stuff_resize=dict(scale=full_size, ratio_range=(0.5, 2.0)))
class_paired_train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    class_paired_crop,
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys=class_paired_meta_keys),
]
# mmengine still builds `train_dataloader.sampler` (InfiniteSampler); the batch sampler takes its
# dataset and seed and ignores its order. batch_size = crops per process (even).
class_paired_batch_sampler = dict(
    type='ClassPairedBatchSampler',
    class_sampling='uniform',  # authors: uniform over all classes, stuff included
    class_order='permutation',  # authors: one stream of class permutations, all ranks
    scale_options=(16, 32, 64, 128, 256),  # authors' 32..512 halved
    avoid_same_image=False,  # authors; True keeps the IBS assumption strictly
    segment_sampling='image',  # authors: an image of the class, then a segment in it
    include_crowd=True,  # authors: crowd segments can be drawn
    skip_empty_classes=False)  # every class occurs in the synthetic training set
# Restores the sampler's seed on resume and makes mmengine's dataloader fast-forward free.
class_paired_hooks = [dict(type='ClassPairedSamplerHook')]

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
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
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
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
    type='PanopticPixelMetric',
    seg_prefix=data_root + 'annotations/panoptic_val/',
    metric=('PQ', 'pixel', 'confusion', 'mIoU'),  # all groups: the paper's metrics too
    backend_args=backend_args)
test_evaluator = val_evaluator
