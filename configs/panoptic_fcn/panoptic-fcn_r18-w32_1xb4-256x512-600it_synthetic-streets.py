# Panoptic FCN crop-training baseline on the embedded "synthetic streets" dataset (512x1024
# images, 256x512 crops), small enough to train on a 2-core CPU: the official model shrunk to a
# half-width ResNet-18 (32 base channels, trained BN, from scratch) and 32-channel FPN/heads.
# Two deviations from the official Cityscapes recipe (model base):
# * plain convs in the position head (`position_dcn=False`; mmcv's CPU DCNv2 backward is about
#   half of a training step here; the Cityscapes / Vistas configs use DCNv2);
# * AdamW 1e-3 (wd 0.05, none on norms), as the synthetic Mask2Former, instead of SGD 0.02: the
#   official SGD recipe assumes an ImageNet backbone and 65k iterations; from scratch it does
#   not learn stuff at all in a few hundred iterations, not even on two images (overfitting
#   check: PQ^st 0.0 with SGD, docs/panoptic_fcn.md "Overfitting check").
# Kept: stuff branch over all classes, K = 7, focal/dice losses with SEGMENT 4, gradient value
# clipping 5.0, linear warm-up and poly from step 0. Pixel sizes are halved with the images:
# instance scales /2, stuff area limit 2048 / 4 = 512 px. The reproduction trains it at half
# this size (tools/experiment_config.py scales those too; docs/reproduction.md "Panoptic FCN").
_base_ = [
    '../_base_/datasets/synthetic_streets_panoptic.py', '../_base_/models/panoptic_fcn_r50_fpn.py',
    'mmdet::_base_/default_runtime.py'
]

num_things_classes = 3
num_stuff_classes = 5
channels = 32  # FPN / head / kernel / encoder width (R-50 model: 256)

model = dict(
    backbone=dict(
        depth=18,
        stem_channels=32,
        base_channels=32,
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=channels),
    panoptic_head=dict(
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        in_channels=channels,
        feat_channels=channels,
        kernel_channels=channels,
        encode_channels=channels,
        position_dcn=False,
        target_generator=dict(
            instance_scales=((1, 64), (32, 128), (64, 256), (128, 512), (256, 1024)))),
    test_cfg=dict(stuff_area_limit=512))

# The IBS head (paper §4.1) of this model on this dataset, for the IBS configs
# (`model = dict(panoptic_head=_base_.ibs_panoptic_head)`), the authors' Panoptic FCN IBS: every
# crop's thing kernels also meet the encoded features of its partner crop (2k <-> 2k+1), pushed
# to zero by a focal loss (docs/ibs.md); the random-pairing configs change the pairing.
ibs_weight = 4.0 * 1.0  # the authors' Cityscapes value: SEGMENT 4 x IBS_WEIGHT 1
ibs_panoptic_head = dict(
    ibs=dict(
        _delete_=True,  # the model base has ibs=None
        type='IntraBatchSupervision',
        loss=dict(type='IBSLoss', loss_weight=ibs_weight),  # focal, alpha 0.25, gamma 2
        pairing='partner'))

# AdamW instead of the model base's SGD (see the top); the base's value clipping is kept.
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=0.05, eps=1e-8,
                   betas=(0.9, 0.999)))

max_iters = 600
warmup_iters = 50  # official 1000 of 65k; shortened for the 600-iteration budget
# Official WarmupPolyLR: lr = base * warm-up factor * (1 - it / max_iters)^0.9, both from step 0.
# mmengine's linear/poly schedulers span end - begin - 1 steps: `end = N + 1` gives the
# detectron2 factors it / N exactly (tests/models/panoptic_fcn/test_pfcn_training.py).
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters + 1),
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=0, end=max_iters + 1),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=100, max_keep_ckpts=2,
                    save_last=True))
log_processor = dict(type='LogProcessor', window_size=20, by_epoch=False)
auto_scale_lr = dict(enable=False, base_batch_size=4)
randomness = dict(seed=0)
