# Mask2Former R-50 + Intra-Batch Supervision + class-paired crop sampling, instance segmentation
# on Mapillary Vistas v1.2: paper Table 4 "M2F + IBS" (AP 18.1, AP^S 4.8, AP^M 18.5, AP^L 36.8,
# Acc^th 77.7, Prec^th 79.2). No released config (paper Table 4): the instance baseline plus the
# authors' Vistas panoptic IBS settings (weight 100, random other crop = the partner at 2 crops
# per GPU, point sampling) and their Vistas class-paired crop sampling.
_base_ = '../mask2former/mask2former_r50_8xb2-1024x1024-300k_mapillary-vistas-instance.py'

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
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=False,
         backend_args=backend_args),
    dict(type='ClassPairedCrop', crop_size=crop_size[::-1], min_short_side=1024,
         max_short_side=6192, max_long_side=9288,
         stuff_resize=dict(short_side=m2f_short_sides, sample_style='choice',
                           max_long_side=8192)),
    dict(type='ColorAugSSD'),  # authors: INPUT.COLOR_AUG_SSD (detectron2 ColorAugSSDTransform)
    dict(type='RandomFlip', prob=0.5),
    dict(type='RemoveSegmentsOutsideCrop', min_area=1),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                    'flip_direction', 'ibs_partner', 'ibs_sample')),
]
train_dataloader = dict(
    batch_size=2,  # crops per GPU, even: one pair
    batch_sampler=dict(
        type='ClassPairedBatchSampler',
        class_sampling='uniform',  # authors' panoptic rule: all 65 classes, stuff included
        class_order='permutation',  # authors: one stream of class permutations, all ranks
        scale_options=(32, 64, 128, 256, 512),
        avoid_same_image=False,
        segment_sampling='image',
        include_crowd=True,
        # authors: the class list is the classes found in the train annotations
        skip_empty_classes=True),
    dataset=dict(pipeline=train_pipeline))
custom_hooks = [dict(type='ClassPairedSamplerHook')]
