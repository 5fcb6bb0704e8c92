# Mask2Former R-50 + Intra-Batch Supervision + class-paired crop sampling, instance segmentation
# on Mapillary Vistas v1.2: paper Table 4 "M2F + IBS" (AP 18.1, AP^S 4.8, AP^M 18.5, AP^L 36.8,
# Acc^th 77.7, Prec^th 79.2). No released config (paper Table 4): the instance baseline plus the
# authors' Vistas panoptic IBS settings and their Vistas class-paired crop sampling (classes
# uniform over all 65, stuff included, as their panoptic rule).
_base_ = './mask2former_r50_8xb2-1024x1024-300k_mapillary-vistas-instance.py'

# The baseline's IBS head (weight 100, random pairing, point sampling).
model = dict(panoptic_head=_base_.ibs_panoptic_head)
train_dataloader = dict(
    batch_sampler=_base_.class_paired_batch_sampler,
    dataset=dict(pipeline=_base_.class_paired_train_pipeline))
custom_hooks = _base_.class_paired_hooks
