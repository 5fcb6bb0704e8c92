# Mask2Former R-50 trained on full Cityscapes images (no crop), the counterpart of the crop
# baseline for the paper's full-image vs crop comparison (Table 1, Fig. 5). The authors report
# full-image training for Panoptic FCN only; this config uses their full-image data recipe
# (paper §5.2: images randomly resized by a factor 0.5-2.0, no crop, batches of 4 images) with
# Mask2Former's model, optimiser and 90k-iteration schedule. 4 GPUs x 1 image.
_base_ = './mask2former_r50_4xb4-512x1024-90k_cityscapes-panoptic.py'

# Images of one batch have different sizes: pad to a multiple of 32, no fixed-size pad.
model = dict(data_preprocessor=dict(batch_augments=None))

backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='ColorAugSSD'),  # authors: INPUT.COLOR_AUG_SSD (detectron2 ColorAugSSDTransform)
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(batch_size=1, dataset=dict(pipeline=train_pipeline))
auto_scale_lr = dict(enable=False, base_batch_size=4)
