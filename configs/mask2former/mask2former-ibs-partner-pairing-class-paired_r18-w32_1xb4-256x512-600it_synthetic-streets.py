# Mask2Former + Intra-Batch Supervision + class-paired crop sampling on the synthetic streets
# default: the paper's full method (§4.1 + §4.2) and `make demo`. Identical to the partner-pairing
# IBS config except for the training data: ClassPairedBatchSampler draws a class (uniform over
# all 8, stuff included), two segments of it and one shared scale, and puts the two crops at
# positions 2k, 2k+1 of every per-process batch; ClassPairedCrop resizes each image so the
# segment's sqrt(bbox area) is that scale and crops around the segment's box centre. The pixel
# values are the authors' Cityscapes values halved, as the images are (dataset base). Colour
# augmentation is left out, as in the crop baseline, so that only the sampling differs. See
# docs/crop_sampling.md.
_base_ = './mask2former-ibs-partner-pairing_r18-w32_1xb4-256x512-600it_synthetic-streets.py'

train_dataloader = dict(
    batch_sampler=_base_.class_paired_batch_sampler,
    dataset=dict(pipeline=_base_.class_paired_train_pipeline))
custom_hooks = _base_.class_paired_hooks
