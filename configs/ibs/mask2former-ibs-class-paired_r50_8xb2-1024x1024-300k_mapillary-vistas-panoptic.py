# Mask2Former R-50 + Intra-Batch Supervision + class-paired crop sampling on Mapillary Vistas:
# the paper's full method, the authors' released Vistas `maskformer_R50_bs16_300k_ibs_cropsampling`
# (DdeGeus/Mask2Former-IBS). Paper Table 2 "M2F + IBS": PQ 42.2, PQ^th 34.9, Acc^th 75.7, Prec^th
# 84.1. Short alias: configs/ibs/m2f_r50_vistas_ibs.py.
#
# 16 crops per iteration = 8 GPUs x 2 crops = one class-paired pair per GPU, so the authors'
# random IBS target is always the partner. IBS weight 100.
# Crops: ClassPairedBatchSampler draws a class (uniform over all 65), two segments and a shared
# scale (32..512 px); ClassPairedCrop resizes the image so sqrt(bbox area) = scale, clamped to a
# shortest side of 1024..6192 and longest side <= 9288, and crops 1024x1024 around the box centre;
# stuff classes get the baseline's random resize (the authors' cropsampling mapper,
# docs/crop_sampling.md).
_base_ = '../mask2former/mask2former_r50_8xb2-1024x1024-300k_mapillary-vistas-panoptic.py'

model = dict(
    panoptic_head=dict(
        type='Mask2FormerIBSHead',
        ibs=dict(
            type='IntraBatchSupervision',
            loss=dict(type='IBSLoss', alpha=0.25, gamma=2.0, normalizer='local',
                      loss_weight=100.0),  # authors: IBS_WEIGHT 100 (Vistas)
            pairing='random',  # authors' Mask2Former; equals 'partner' at 2 crops per GPU
            point_sampling=True),  # train_cfg.num_points, oversample 3, importance 0.75
        ibs_predictions=None))  # all but the query-only prediction 0

crop_size = (1024, 1024)  # (h, w); ClassPairedCrop takes (w, h) like RandomCrop
m2f_short_sides = [int(0.1 * k * 2048) for k in range(5, 21)]
backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    # authors' Vistas limits (NEW_SAMPLING_SCALE_* of their configs); stuff: the baseline's
    # ResizeShortestEdge
    dict(type='ClassPairedCrop', crop_size=crop_size[::-1], min_short_side=1024,
         max_short_side=6192, max_long_side=9288,
         stuff_resize=dict(short_side=m2f_short_sides, sample_style='choice',
                           max_long_side=8192)),
    dict(type='ColorAugSSD'),  # authors: INPUT.COLOR_AUG_SSD (detectron2 ColorAugSSDTransform)
    dict(type='RandomFlip', prob=0.5),
    # The authors' Mask2Former fix (paper §5.2): no targets for segments outside the crop.
    dict(type='RemoveSegmentsOutsideCrop', min_area=1),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                    'flip_direction', 'ibs_partner', 'ibs_sample')),
]
train_dataloader = dict(
    batch_size=2,  # crops per GPU, even: whole pairs at positions (2k, 2k+1)
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
