# Mask2Former R-50 trained on full Mapillary Vistas images (no crop), the counterpart of the crop
# baseline for the paper's full-image vs crop comparison (Table 1). The authors report full-image
# training for Panoptic FCN only; this config uses their full-image data recipe (paper §5.2:
# shortest side randomly resized to 1024..2048, no crop, batches of 8 images) with Mask2Former's
# model, optimiser and 300k-iteration schedule. 8 GPUs x 1 image.
_base_ = './mask2former_r50_8xb2-1024x1024-300k_mapillary-vistas-panoptic.py'

# Images of one batch have different sizes: pad to a multiple of 32, no fixed-size pad.
model = dict(data_preprocessor=dict(batch_augments=None))

backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    # shortest side 1024, 1152, ..., 2048, longest side <= 4096 (the dataset base's scales)
    dict(type='RandomChoiceResize', scales=[(4096, s) for s in range(1024, 2049, 128)],
         keep_ratio=True),
    dict(type='ColorAugSSD'),  # authors: INPUT.COLOR_AUG_SSD (detectron2 ColorAugSSDTransform)
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(batch_size=1, dataset=dict(pipeline=train_pipeline))
auto_scale_lr = dict(enable=False, base_batch_size=8)
