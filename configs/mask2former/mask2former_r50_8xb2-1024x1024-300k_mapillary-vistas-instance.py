# Mask2Former R-50 instance segmentation on Mapillary Vistas v1.2 (37 thing classes), crop
# baseline of paper Table 4 ("M2F": AP 17.4, AP^S 5.3, AP^M 18.2, AP^L 34.9, Acc^th 73.4,
# Prec^th 74.9). The authors released no config for it (paper Table 4); this is the Vistas panoptic
# recipe (crops, schedule, optimiser) with Mask2Former's instance set-up as mmdet's
# `mask2former/mask2former_r50_8xb2-lsj-50e_coco.py` makes it from the panoptic one: no stuff
# classes, no semantic targets or padding, instance output only. Training reads the thing
# segments of the panoptic annotations (crowd things are not targets); the authors' instance mapper
# drops instances that end up empty in the crop (the authors' dataset mappers), as
# RemoveSegmentsOutsideCrop does. Evaluation: COCO mask AP (mmdet's CocoMetric) plus Acc^th /
# Prec^th / confusion against the panoptic GT (CocoInstancePixelMetric, docs/metrics.md). The COCO
# instance GT is written once by
#   python tools/dataset_converters/panoptic_to_instances.py \
#       data/mapillary_vistas/validation/panoptic/panoptic_2018.json \
#       --out data/mapillary_vistas/validation/instances_2018.json
_base_ = './mask2former_r50_8xb2-1024x1024-300k_mapillary-vistas-panoptic.py'

num_things_classes = 37
num_stuff_classes = 0
num_classes = num_things_classes + num_stuff_classes
crop_size = (1024, 1024)
batch_augments = [
    dict(type='BatchFixedSizePad', size=crop_size, img_pad_value=0, pad_mask=True,
         mask_pad_value=0, pad_seg=False)
]
model = dict(
    data_preprocessor=dict(pad_seg=False, batch_augments=batch_augments),
    panoptic_head=dict(
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])),
    panoptic_fusion_head=dict(
        num_things_classes=num_things_classes, num_stuff_classes=num_stuff_classes),
    test_cfg=dict(panoptic_on=False, instance_on=True))

m2f_short_sides = [int(0.1 * k * 2048) for k in range(5, 21)]
backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=False,
         backend_args=backend_args),
    dict(type='RandomChoiceResize', scales=[(8192, s) for s in m2f_short_sides],
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size[::-1], crop_type='absolute', recompute_bbox=True,
         allow_negative_crop=True),
    dict(type='ColorAugSSD'),  # authors: INPUT.COLOR_AUG_SSD (detectron2 ColorAugSSDTransform)
    dict(type='RandomFlip', prob=0.5),
    dict(type='RemoveSegmentsOutsideCrop', min_area=1),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# The same steps with class-paired crops; used by the class-paired IBS instance config.
class_paired_train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=False,
         backend_args=backend_args),
    dict(_base_.class_paired_crop,
         stuff_resize=dict(short_side=m2f_short_sides, sample_style='choice', max_long_side=8192)),
    dict(type='ColorAugSSD'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RemoveSegmentsOutsideCrop', min_area=1),
    dict(type='PackDetInputs', meta_keys=_base_.class_paired_meta_keys),
]

data_root = 'data/mapillary_vistas/'
val_evaluator = dict(
    _delete_=True,
    type='CocoInstancePixelMetric',
    ann_file=data_root + 'validation/instances_2018.json',
    metric='segm',
    seg_prefix=data_root + 'validation/panoptic/',
    backend_args=backend_args)
test_evaluator = val_evaluator
