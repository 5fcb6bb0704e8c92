# Panoptic FCN + Intra-Batch Supervision + class-paired crop sampling on the synthetic streets
# default: the paper's full method at CPU size. Identical to the synthetic crop baseline except
# for the IBS loss (partner pairing, weight SEGMENT x IBS_WEIGHT = 4 x 1 as the authors'
# Cityscapes config) and the training data: ClassPairedBatchSampler puts two crops of one
# class at positions 2k, 2k+1; ClassPairedCrop resizes each image so the segment's sqrt(bbox
# area) is the shared scale and crops around its box centre. Pixel values are the authors'
# Cityscapes values halved, as for the Mask2Former synthetic IBS config (docs/crop_sampling.md).
_base_ = './panoptic-fcn_r18-w32_1xb4-256x512-300it_synthetic-streets.py'

model = dict(
    panoptic_head=dict(
        ibs=dict(
            _delete_=True,  # the baseline has ibs=None
            type='IntraBatchSupervision',
            loss=dict(type='IBSLoss', alpha=0.25, gamma=2.0, normalizer='local',
                      loss_weight=4.0 * 1.0),
            pairing='partner')))

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
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                    'flip_direction', 'ibs_partner', 'ibs_sample')),
]
train_dataloader = dict(
    batch_sampler=dict(
        type='ClassPairedBatchSampler',
        class_sampling='uniform',
        class_order='permutation',  # authors: one stream of class permutations, all ranks
        scale_options=(16, 32, 64, 128, 256),
        avoid_same_image=False,
        segment_sampling='image',
        include_crowd=True),
    dataset=dict(pipeline=train_pipeline))
custom_hooks = [dict(type='ClassPairedSamplerHook')]
