# Panoptic FCN R-50 + Intra-Batch Supervision + class-paired crop sampling on Cityscapes: the
# paper's full method, the authors' released `PanopticFCN-R50-cityscapes-ibs-cropsampling`.
# Paper Table 2 "PFCN + IBS": PQ 60.8, PQ^th 54.7, Acc^th 87.1, Prec^th 92.6.
# 32 crops per iteration = 4 GPUs x 8 crops = 4 class-paired pairs per GPU; each crop's thing
# kernels meet the encoded features of its partner crop (2k <-> 2k+1); weight SEGMENT x
# IBS_WEIGHT = 4 x 1. Crops: ClassPairedBatchSampler draws a class (uniform over all 19), two
# segments and a shared scale (32..512 px); ClassPairedCrop resizes so sqrt(bbox area) = scale,
# clamped to a shortest side of 512..3096 and longest side <= 6192, and crops 512x1024 around
# the box centre; stuff classes get the baseline's random resize (docs/crop_sampling.md).
_base_ = './panoptic-fcn_r50_4xb8-512x1024-65k_cityscapes-panoptic.py'

# The random-pairing config's IBS loss, with the partner crop as target (inherits the crop
# baseline directly to keep the short alias within 3 levels of inheritance).
model = dict(
    panoptic_head=dict(
        ibs=dict(
            _delete_=True,  # the baseline has ibs=None
            type='IntraBatchSupervision',
            loss=dict(type='IBSLoss', alpha=0.25, gamma=2.0, normalizer='local',
                      loss_weight=4.0 * 1.0),
            pairing='partner')))

train_dataloader = dict(
    batch_size=8,  # crops per GPU, even: whole pairs at positions (2k, 2k+1)
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
    dataset=dict(pipeline={{_base_.class_paired_train_pipeline}}))
# Restores the sampler's seed on resume and makes mmengine's dataloader fast-forward free.
custom_hooks = [dict(type='ClassPairedSamplerHook')]
