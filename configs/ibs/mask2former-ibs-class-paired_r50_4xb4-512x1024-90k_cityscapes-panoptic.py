# Mask2Former R-50 + Intra-Batch Supervision + class-paired crop sampling on Cityscapes: the
# paper's full method and best Cityscapes Mask2Former setting, the authors' released
# `maskformer2_R50_bs16_90k_ibs_cropsampling` (DdeGeus/Mask2Former-IBS). Paper Table 2 "M2F + IBS":
# PQ 62.4, PQ^th 55.7, Acc^th 87.6, Prec^th 94.1. Short alias:
# configs/ibs/m2f_r50_cityscapes_ibs.py.
#
# 16 crops per iteration = 4 GPUs x 4 crops = 2 class-paired pairs per GPU. The head is the
# random-pairing IBS config's: as in the authors' code, each crop's IBS target is a uniformly
# random other crop of its GPU batch (its class-paired partner with probability 1/3); the paper's
# wording (IBS between the paired crops) is `ibs=dict(pairing='partner')`.
# Crops: ClassPairedBatchSampler draws a class (uniform over all 19), two segments and a shared
# scale (32..512 px); ClassPairedCrop resizes the image so sqrt(bbox area) = scale, clamped to a
# shortest side of 512..3096 and longest side <= 6192, and crops 512x1024 around the box centre;
# stuff classes get the baseline's random resize (the authors' cropsampling mapper,
# docs/crop_sampling.md).
_base_ = '../mask2former/mask2former_r50_4xb4-512x1024-90k_cityscapes-panoptic.py'

model = dict(
    panoptic_head=dict(
        type='Mask2FormerIBSHead',
        ibs=dict(
            type='IntraBatchSupervision',
            loss=dict(type='IBSLoss', alpha=0.25, gamma=2.0, normalizer='local',
                      loss_weight=50.0),  # authors: IBS_WEIGHT 50 (Cityscapes)
            pairing='random',  # authors' Mask2Former; 'partner' = the paper's wording
            point_sampling=True),  # train_cfg.num_points, oversample 3, importance 0.75
        ibs_predictions=None))  # all but the query-only prediction 0

crop_size = (512, 1024)  # (h, w); ClassPairedCrop takes (w, h) like RandomCrop
m2f_short_sides = [int(0.1 * k * 1024) for k in range(5, 21)]
backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    # authors' Cityscapes limits (NEW_SAMPLING_SCALE_* of their configs); stuff: the baseline's
    # ResizeShortestEdge
    dict(type='ClassPairedCrop', crop_size=crop_size[::-1], min_short_side=512,
         max_short_side=3096, max_long_side=6192,
         stuff_resize=dict(short_side=m2f_short_sides, sample_style='choice',
                           max_long_side=4096)),
    dict(type='ColorAugSSD'),  # authors: INPUT.COLOR_AUG_SSD (detectron2 ColorAugSSDTransform)
    dict(type='RandomFlip', prob=0.5),
    # The authors' Mask2Former fix (paper §5.2): no targets for segments outside the crop.
    dict(type='RemoveSegmentsOutsideCrop', min_area=1),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                    'flip_direction', 'ibs_partner', 'ibs_sample')),
]
train_dataloader = dict(
    batch_size=4,  # crops per GPU, even: whole pairs at positions (2k, 2k+1)
    # mmengine still builds `sampler` (InfiniteSampler); the batch sampler takes its dataset and
    # seed and ignores its order.
    batch_sampler=dict(
        type='ClassPairedBatchSampler',
        class_sampling='uniform',  # authors: uniform over all classes, stuff included
        class_order='permutation',  # authors: one stream of class permutations, all ranks
        scale_options=(32, 64, 128, 256, 512),  # authors: NEW_SAMPLING scale options
        avoid_same_image=False,  # authors; True keeps the IBS assumption strictly
        segment_sampling='image',
        include_crowd=True,
        # authors: the class list is the classes found in the train annotations
        skip_empty_classes=True),
    dataset=dict(pipeline=train_pipeline))
# Restores the sampler's seed on resume and makes mmengine's dataloader fast-forward free.
custom_hooks = [dict(type='ClassPairedSamplerHook')]
