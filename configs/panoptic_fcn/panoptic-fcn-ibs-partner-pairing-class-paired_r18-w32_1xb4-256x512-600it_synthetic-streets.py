# Panoptic FCN + Intra-Batch Supervision + class-paired crop sampling on the synthetic streets
# default: the paper's full method at CPU size. Identical to the synthetic crop baseline except
# for the IBS loss (partner pairing: the thing kernels of crop 2k meet the encoded features of
# crop 2k+1 and vice versa) and the training data: ClassPairedBatchSampler puts two crops of one
# class at positions 2k, 2k+1; ClassPairedCrop resizes each image so the segment's sqrt(bbox
# area) is the shared scale and crops around its box centre. Pixel values are the authors'
# Cityscapes values halved (dataset base, docs/crop_sampling.md).
_base_ = './panoptic-fcn_r18-w32_1xb4-256x512-600it_synthetic-streets.py'

# The baseline's IBS head (weight 4 x 1, partner pairing).
model = dict(panoptic_head=_base_.ibs_panoptic_head)
train_dataloader = dict(
    batch_sampler=_base_.class_paired_batch_sampler,
    dataset=dict(pipeline=_base_.class_paired_train_pipeline))
custom_hooks = _base_.class_paired_hooks
