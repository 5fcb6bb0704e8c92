# Full-image training counterpart of the crop baseline (paper Table 1 / Table 3 "full-image"):
# the same model, optimizer, schedule, 600 iterations and batch of 4 images, but each image is
# trained on whole at the test size (512x1024) instead of as a 256x512 crop, so every step sees
# every instance of its images (4x the pixels of a crop step). Only a horizontal flip is applied:
# the crop baseline's 0.5-2.0 random resize would make full images up to 1024x2048 (on average
# 1.75x the pixels again). The GT filter is kept so that crowd and 1-pixel segments are handled
# as in the crop baseline.
_base_ = './mask2former_r18-w32_1xb4-256x512-600it_synthetic-streets.py'

full_size = (1024, 512)  # (w, h), as mmcv scales are given
batch_augments = [
    dict(type='BatchFixedSizePad', size=full_size[::-1], img_pad_value=0, pad_mask=True,
         mask_pad_value=0, pad_seg=True, seg_pad_value=255)
]
model = dict(data_preprocessor=dict(batch_augments=batch_augments))

backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='LoadPanopticAnnotationsChecked', with_bbox=True, with_mask=True, with_seg=True,
         backend_args=backend_args),
    dict(type='Resize', scale=full_size, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RemoveSegmentsOutsideCrop', min_area=1),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
