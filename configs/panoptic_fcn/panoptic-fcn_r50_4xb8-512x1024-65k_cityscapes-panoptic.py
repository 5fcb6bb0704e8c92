# Panoptic FCN R-50, crop-training baseline on Cityscapes panoptic: the authors' released
# `PanopticFCN-R50-cityscapes` (DdeGeus/PanopticFCN-IBS `configs/`). Paper Table 1/2 "crops":
# PQ 59.5, PQ^th 52.2, Acc^th 81.3, Prec^th 86.8.
# 32 crops of 512x1024 per iteration = 4 GPUs x 8 (paper: 4 A100); 65k iterations; SGD 0.02,
# linear warm-up 1000 it (factor 0.001) and poly 0.9 both from step 0, value clipping 5.0.
# `bash tools/dist_train.sh CONFIG 4`.
# Data: random resize 0.5-2.0 of 1024x2048 (= the official short side 512..2048), random crop,
# flip (dataset base). Deviation: the official crop is centred on a random thing instance
# (RandomCropWithInstance, `data/cityscapes/augmentations.py`); this uses mmdet's uniform
# RandomCrop.
_base_ = [
    '../_base_/datasets/cityscapes_panoptic.py', '../_base_/models/panoptic_fcn_r50_fpn.py',
    'mmdet::_base_/default_runtime.py'
]

train_dataloader = dict(batch_size=8)

# The IBS head (paper §4.1) of this model on this dataset, for the IBS configs
# (`model = dict(panoptic_head=_base_.ibs_panoptic_head)`), the authors' Panoptic FCN IBS: every
# crop's thing kernels also meet the encoded features of its partner crop (2k <-> 2k+1), pushed
# to zero by a focal loss (docs/ibs.md); the random-pairing configs change the pairing.
ibs_weight = 4.0 * 1.0  # authors (Cityscapes): SEGMENT 4 x IBS_WEIGHT 1
ibs_panoptic_head = dict(
    ibs=dict(
        _delete_=True,  # the model base has ibs=None
        type='IntraBatchSupervision',
        loss=dict(type='IBSLoss', loss_weight=ibs_weight),  # focal, alpha 0.25, gamma 2
        pairing='partner'))

max_iters = 65000
warmup_iters = 1000
interval = 10000  # authors: TEST.EVAL_PERIOD 10000
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
# The learning rate is the authors' for 32 crops; `--auto-scale-lr` rescales it to another batch.
auto_scale_lr = dict(enable=False, base_batch_size=32)
