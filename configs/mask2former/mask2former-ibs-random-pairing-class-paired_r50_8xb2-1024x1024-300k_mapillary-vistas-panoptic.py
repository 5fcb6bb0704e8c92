# Mask2Former R-50 + Intra-Batch Supervision + class-paired crop sampling on Mapillary Vistas:
# the paper's full method, the authors' released Vistas `maskformer_R50_bs16_300k_ibs_cropsampling`
# (DdeGeus/Mask2Former-IBS). Paper Table 2 "M2F + IBS": PQ 42.2, PQ^th 34.9, Acc^th 75.7, Prec^th
# 84.1. Short alias: configs/ibs/m2f_r50_vistas_ibs.py.
#
# The random-pairing IBS config with class-paired crops. 16 crops per iteration = 8 GPUs x 2
# crops = one class-paired pair per GPU, so the authors' random IBS target is always the partner.
# Crops (dataset base, docs/crop_sampling.md): a class uniform over all 65, two segments and a
# shared scale (32..512 px); each image resized so sqrt(bbox area) = scale, clamped to a shortest
# side of 1024..6192 and a longest side <= 9288, cropped 1024x1024 around the box centre; stuff
# classes get the baseline's random resize. It inherits the crop baseline directly, not the
# random-pairing config, to keep the short alias within 3 levels.
_base_ = './mask2former_r50_8xb2-1024x1024-300k_mapillary-vistas-panoptic.py'

# The baseline's IBS head (weight 100, random pairing, point sampling).
model = dict(panoptic_head=_base_.ibs_panoptic_head)
train_dataloader = dict(
    batch_sampler=_base_.class_paired_batch_sampler,
    dataset=dict(pipeline=_base_.class_paired_train_pipeline))
custom_hooks = _base_.class_paired_hooks
