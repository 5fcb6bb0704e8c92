# Panoptic FCN R-50 trained on full Cityscapes images (no crop), the paper's full-image
# counterpart of the crop baseline (Table 1 "full image": PQ 57.2, PQ^th 51.1, Acc^th 85.1,
# Prec^th 91.4; Fig. 5): paper §5.2, images randomly resized by a factor 0.5-2.0, batches of
# 4 images (4 GPUs x 1), 100k iterations. Model and solver as the crop baseline.
_base_ = './panoptic-fcn_r50_4xb8-512x1024-65k_cityscapes-panoptic.py'

backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(batch_size=1, dataset=dict(pipeline=train_pipeline))

max_iters = 100000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1000 + 1),
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=0, end=max_iters + 1),
]
train_cfg = dict(max_iters=max_iters)
auto_scale_lr = dict(enable=False, base_batch_size=4)
