# Panoptic FCN R-50, crop-training baseline on Mapillary Vistas v1.2 panoptic: the authors'
# released `PanopticFCN-R50-mapillaryvistas` (DdeGeus/PanopticFCN-IBS `configs/`). Paper
# Table 1/2/3 "crops": PQ 35.5, PQ^th 31.8, Acc^th 74.7, Prec^th 77.9.
# 32 crops of 1024x1024 per iteration = 8 GPUs x 4 (paper: 8 A100); 150k iterations; SGD 0.02,
# linear warm-up 2000 it and poly 0.9 from step 0, value clipping 5.0. Vistas values (their Vistas
# config): 37 things + 28 stuff, stuff branch "with thing" (channel 0 = all things, 29 channels), K
# = 3, SEGMENT 3, largest instance scale (512, 4096); test: thing threshold 0.2, similarity 0.95.
# Data (dataset base): shortest side 1024..2048 step 128, longest <= 4096, random 1024x1024 crop,
# flip; test with the long side at 2048. Deviation: the official crop is centred on a random thing
# instance; this uses RandomCrop.
_base_ = [
    '../_base_/datasets/mapillary_vistas_panoptic.py', '../_base_/models/panoptic_fcn_r50_fpn.py',
    'mmdet::_base_/default_runtime.py'
]

num_things_classes = 37
num_stuff_classes = 28
stuff_branch = 'with_thing'
model = dict(
    panoptic_head=dict(
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        stuff_branch=stuff_branch,
        pos_num=3,
        target_generator=dict(
            instance_scales=((1, 128), (64, 256), (128, 512), (256, 1024), (512, 4096))),
        loss_segment=dict(loss_weight=3.0)),
    test_cfg=dict(center_thr=0.2, similar_thr=0.95, stuff_branch=stuff_branch))

train_dataloader = dict(batch_size=4)

# The IBS head (paper §4.1) of this model on this dataset, for the IBS configs
# (`model = dict(panoptic_head=_base_.ibs_panoptic_head)`), the authors' Panoptic FCN IBS: every
# crop's thing kernels also meet the encoded features of its partner crop (2k <-> 2k+1), pushed
# to zero by a focal loss (docs/ibs.md); the random-pairing configs change the pairing.
ibs_weight = 3.0 * 5.0  # authors (Vistas): SEGMENT 3 x IBS_WEIGHT 5
ibs_panoptic_head = dict(
    ibs=dict(
        _delete_=True,  # the model base has ibs=None
        type='IntraBatchSupervision',
        loss=dict(type='IBSLoss', loss_weight=ibs_weight),  # focal, alpha 0.25, gamma 2
        pairing='partner'))

max_iters = 150000
warmup_iters = 2000
interval = 30000  # authors: TEST.EVAL_PERIOD 30000
# mmengine's linear/poly schedulers span end - begin - 1 steps: `end = N + 1` gives the
# detectron2 factors it / N exactly (tests/models/panoptic_fcn/test_pfcn_training.py).
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters + 1),
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=0, end=max_iters + 1),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=interval, save_last=True,
                    max_keep_ckpts=3))
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
randomness = dict(seed=9)
auto_scale_lr = dict(enable=False, base_batch_size=32)
