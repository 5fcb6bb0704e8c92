# Panoptic FCN R-50 trained on full Mapillary Vistas images (no crop), the paper's full-image
# counterpart of the crop baseline (Table 1/3 "full image": PQ 32.7, PQ^th 29.8, Acc^th 73.8,
# Prec^th 80.8): paper §5.2, shortest side randomly resized to 1024..2048, batches of 8 images
# (8 GPUs x 1), 150k iterations. Model and solver as the crop baseline.
_base_ = './panoptic-fcn_r50_8xb4-1024x1024-150k_mapillary-vistas-panoptic.py'

backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomChoiceResize', scales={{_base_.train_scales}}, keep_ratio=True),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(batch_size=1, dataset=dict(pipeline=train_pipeline))
auto_scale_lr = dict(enable=False, base_batch_size=8)
