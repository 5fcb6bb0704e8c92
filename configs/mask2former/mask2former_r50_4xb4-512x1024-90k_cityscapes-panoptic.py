# Mask2Former R-50, crop-training baseline on Cityscapes panoptic: the authors' released
# `maskformer2_R50_bs16_90k` (DdeGeus/Mask2Former-IBS) with their GT-outside-crop fix (paper §5.2;
# their dataset mappers). Paper Table 2 "M2F": PQ 62.1, PQ^th 55.2, Acc^th 87.1, Prec^th 93.3. 16
# crops of 512x1024 per iteration = 4 GPUs x 4 (paper: 4 A100); 90k iterations, AdamW 1e-4, poly
# schedule, AMP (model base). `bash tools/dist_train.sh CONFIG 4`.
_base_ = [
    '../_base_/datasets/cityscapes_panoptic.py', '../_base_/models/mask2former_r50_panoptic.py',
    'mmdet::_base_/default_runtime.py'
]

crop_size = (512, 1024)  # (h, w), as BatchFixedSizePad takes it; RandomCrop takes (w, h)
# Authors' resize: shortest side chosen from int(0.1 k 1024), k = 5..20 (512..2048), longest
# side <= 4096 (MIN_SIZE_TRAIN / MAX_SIZE_TRAIN, "choice"); keep-ratio scale (long, short).
m2f_short_sides = [int(0.1 * k * 1024) for k in range(5, 21)]
m2f_train_scales = [(4096, short) for short in m2f_short_sides]

batch_augments = [
    dict(type='BatchFixedSizePad', size=crop_size, img_pad_value=0, pad_mask=True,
         mask_pad_value=0, pad_seg=True, seg_pad_value=255)
]
model = dict(data_preprocessor=dict(batch_augments=batch_augments))

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
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
# The same steps with class-paired crops (the authors' cropsampling mapper): the dataset base's
# ClassPairedCrop with the resize above for stuff classes. Used by the class-paired IBS config
# (`dataset=dict(pipeline=_base_.class_paired_train_pipeline)`).
class_paired_train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    dict(_base_.class_paired_crop,
         stuff_resize=dict(short_side=m2f_short_sides, sample_style='choice', max_long_side=4096)),
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
ibs_weight = 50.0  # authors: IBS_WEIGHT 50 (Cityscapes)
ibs_panoptic_head = dict(
    type='Mask2FormerIBSHead',
    ibs=dict(
        type='IntraBatchSupervision',
        loss=dict(type='IBSLoss', loss_weight=ibs_weight),  # focal, alpha 0.25, gamma 2
        # authors' Mask2Former: a random other crop per prediction; 'partner' (crop 2k <->
        # 2k+1) is the paper's wording
        pairing='random',
        point_sampling=True))  # on train_cfg's points, as the mask loss

max_iters = 90000
interval = 5000  # authors: TEST.EVAL_PERIOD 5000
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
