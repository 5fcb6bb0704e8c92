# Mask2Former + Intra-Batch Supervision + class-paired crop sampling on the synthetic streets
# default: the paper's full method (§4.1 + §4.2). Identical to the partner-pairing IBS config
# except for the training data: ClassPairedBatchSampler draws a class (uniform over all 8, stuff
# included), two segments of it, one shared scale, and puts the two crops at positions 2k, 2k+1
# of every per-process batch; ClassPairedCrop resizes each image so the segment's sqrt(bbox
# area) is that scale and crops around the segment's box centre. See docs/crop_sampling.md.
#
# Pixel values are the authors' Cityscapes values (1024x2048 images, 512x1024 crops, reference
# §4.4/§4.7) halved, as the synthetic images (512x1024) and crops (256x512) are: scales
# 16..256 (authors 32..512), shortest side clamped to [256, 1548] (512, 3096), longest side
# <= 3096 (6192); stuff classes use the baseline's random resize (ratio 0.5-2.0 of 1024x512).
# Colour augmentation is left out, as in the crop baseline, so that only the sampling differs.
_base_ = './mask2former-ibs_r18-w32_1xb4-256x512-300it_synthetic-streets.py'

crop_size = (256, 512)  # (h, w); ClassPairedCrop takes (w, h) like RandomCrop
backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    dict(type='ClassPairedCrop', crop_size=crop_size[::-1], min_short_side=256,
         max_short_side=1548, max_long_side=3096,
         stuff_resize=dict(scale=(1024, 512), ratio_range=(0.5, 2.0))),
    dict(type='RandomFlip', prob=0.5),
    # The authors' Mask2Former fix (paper §5.2): no targets for segments outside the crop.
    dict(type='RemoveSegmentsOutsideCrop', min_area=1),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                    'flip_direction', 'ibs_partner', 'ibs_sample')),
]
train_dataloader = dict(
    # mmengine still builds `sampler` (InfiniteSampler); the batch sampler takes its dataset and
    # seed and ignores its order. batch_size = crops per process (even: 2 pairs here).
    batch_sampler=dict(
        type='ClassPairedBatchSampler',
        class_sampling='uniform',  # authors; 'things' or 'frequency' as options
        class_order='permutation',  # authors: one stream of class permutations, all ranks
        scale_options=(16, 32, 64, 128, 256),
        avoid_same_image=False,  # authors; True keeps the IBS assumption strictly
        segment_sampling='image',
        include_crowd=True),
    dataset=dict(pipeline=train_pipeline))
# Restores the sampler's seed on resume and makes mmengine's dataloader fast-forward free.
custom_hooks = [dict(type='ClassPairedSamplerHook')]
