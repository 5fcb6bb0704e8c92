# Mask2Former R-50 + Intra-Batch Supervision + class-paired crop sampling on Cityscapes: the
# paper's full method and best Cityscapes Mask2Former setting, the authors' released
# `maskformer2_R50_bs16_90k_ibs_cropsampling` (DdeGeus/Mask2Former-IBS). Paper Table 2 "M2F + IBS":
# PQ 62.4, PQ^th 55.7, Acc^th 87.6, Prec^th 94.1.
# Short alias: configs/ibs/m2f_r50_cityscapes_ibs.py.
#
# The random-pairing IBS config with class-paired crops. 16 crops per iteration = 4 GPUs x 4
# crops = 2 class-paired pairs per GPU; as in the authors' code, each crop's IBS target is a
# uniformly random other crop of its GPU batch (its class-paired partner with probability 1/3).
# Crops (dataset base, docs/crop_sampling.md): a class uniform over all 19, two segments and a
# shared scale (32..512 px); each image resized so sqrt(bbox area) = scale, clamped to a shortest
# side of 512..3096 and a longest side <= 6192, cropped 512x1024 around the box centre; stuff
# classes get the baseline's random resize. It inherits the crop baseline directly, not the
# random-pairing config, to keep the short alias within 3 levels.
_base_ = './mask2former_r50_4xb4-512x1024-90k_cityscapes-panoptic.py'

# The baseline's IBS head (weight 50, random pairing, point sampling).
model = dict(panoptic_head=_base_.ibs_panoptic_head)
train_dataloader = dict(
    batch_sampler=_base_.class_paired_batch_sampler,
    dataset=dict(pipeline=_base_.class_paired_train_pipeline))
custom_hooks = _base_.class_paired_hooks
