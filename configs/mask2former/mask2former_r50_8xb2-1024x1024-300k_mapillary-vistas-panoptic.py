# Mask2Former R-50, crop-training baseline on Mapillary Vistas v1.2 panoptic: the authors' released
# Vistas `maskformer2_R50_bs16_300k` (DdeGeus/Mask2Former-IBS) with their GT-outside-crop fix (paper
# §5.2, the authors' dataset mappers). Paper Table 2 "M2F": PQ 41.5, PQ^th 33.3, Acc^th 71.7,
# Prec^th 78.8. 16 crops of 1024x1024 per iteration = 8 GPUs x 2 (paper: 8 A100); 300k iterations,
# AdamW 1e-4, poly schedule, AMP (model base). `bash tools/dist_train.sh CONFIG 8`.
_base_ = [
    '../_base_/datasets/mapillary_vistas_panoptic.py',
    '../_base_/models/mask2former_r50_panoptic.py', 'mmdet::_base_/default_runtime.py'
]

num_things_classes = 37
num_stuff_classes = 28
num_classes = num_things_classes + num_stuff_classes
crop_size = (1024, 1024)  # (h, w), as BatchFixedSizePad takes it; RandomCrop takes (w, h)
# Authors' resize: shortest side chosen from int(0.1 k 2048), k = 5..20 (1024..4096), longest
# side <= 8192 (MIN_SIZE_TRAIN / MAX_SIZE_TRAIN, "choice"); keep-ratio scale (long, short).
m2f_short_sides = [int(0.1 * k * 2048) for k in range(5, 21)]
m2f_train_scales = [(8192, short) for short in m2f_short_sides]

batch_augments = [
    dict(type='BatchFixedSizePad', size=crop_size, img_pad_value=0, pad_mask=True,
         mask_pad_value=0, pad_seg=True, seg_pad_value=255)
]
model = dict(
    data_preprocessor=dict(batch_augments=batch_augments),
    # authors (Vistas): detectron2's default FrozenBN (their SyncBN line is commented out)
    backbone=dict(norm_cfg=dict(type='BN', requires_grad=False), norm_eval=True),
    panoptic_head=dict(
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])),
    panoptic_fusion_head=dict(
        num_things_classes=num_things_classes, num_stuff_classes=num_stuff_classes),
    test_cfg=dict(object_mask_thr=0.0))  # authors (Vistas): OBJECT_MASK_THRESHOLD 0.0

backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    dict(type='RandomChoiceResize', scales=m2f_train_scales, keep_ratio=True),
    # authors: RandomCrop_CategoryAreaConstraint with max area 1.0 = a plain uniform crop
    dict(type='RandomCrop', crop_size=crop_size[::-1], crop_type='absolute', recompute_bbox=True,
         allow_negative_crop=True),
    dict(type='ColorAugSSD'),  # authors: INPUT.COLOR_AUG_SSD (detectron2 ColorAugSSDTransform)
    dict(type='RandomFlip', prob=0.5),
    # The authors' Mask2Former fix (paper §5.2): no targets for segments outside the crop.
    dict(type='RemoveSegmentsOutsideCrop', min_area=1),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
# The same steps with class-paired crops (the authors' cropsampling mapper): the dataset base's
# ClassPairedCrop with the resize above for stuff classes. Used by the class-paired IBS config
# (`dataset=dict(pipeline=_base_.class_paired_train_pipeline)`).
class_paired_train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    dict(_base_.class_paired_crop,
         stuff_resize=dict(short_side=m2f_short_sides, sample_style='choice', max_long_side=8192)),
    dict(type='ColorAugSSD'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RemoveSegmentsOutsideCrop', min_area=1),
    dict(type='PackDetInputs', meta_keys=_base_.class_paired_meta_keys),
]

# The IBS head (paper §4.1) of this model on this dataset, for the IBS configs
# (`model = dict(panoptic_head=_base_.ibs_panoptic_head)`), the authors' Mask2Former IBS: the
# queries matched to things in each of the 9 decoder predictions (the query-only one skipped);
# focal loss on the uncertainty-sampled points of their logits with a random other crop of the
# GPU batch, normalised by the local number of thing-matched queries (docs/ibs.md).
ibs_weight = 100.0  # authors: IBS_WEIGHT 100 (Vistas)
ibs_panoptic_head = dict(
    type='Mask2FormerIBSHead',
    ibs=dict(
        type='IntraBatchSupervision',
        loss=dict(type='IBSLoss', loss_weight=ibs_weight),  # focal, alpha 0.25, gamma 2
        pairing='random',  # authors' Mask2Former; equals 'partner' at 2 crops per GPU
        point_sampling=True))  # on train_cfg's points, as the mask loss

max_iters = 300000
interval = 10000
param_scheduler = dict(  # authors: WarmupPolyLR, power 0.9, no warm-up
    type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters, by_epoch=False)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=interval, save_last=True,
                    max_keep_ckpts=3))
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
# The learning rate is the authors' for 16 crops; `--auto-scale-lr` rescales it to another batch.
auto_scale_lr = dict(enable=False, base_batch_size=16)
