# Panoptic FCN R-50 + Intra-Batch Supervision + class-paired crop sampling on Cityscapes: the
# paper's full method, the authors' released `PanopticFCN-R50-cityscapes-ibs-cropsampling`
# (DdeGeus/PanopticFCN-IBS). Paper Table 2 "PFCN + IBS": PQ 60.8, PQ^th 54.7, Acc^th 87.1,
# Prec^th 92.6. Short alias: configs/ibs/pfcn_r50_cityscapes_ibs.py.
#
# 32 crops per iteration = 4 GPUs x 8 crops = 4 class-paired pairs per GPU; each crop's thing
# kernels meet the encoded features of its partner crop (2k <-> 2k+1). Crops (dataset base,
# docs/crop_sampling.md): a class uniform over all 19, two segments and a shared scale
# (32..512 px); each image resized so sqrt(bbox area) = scale, clamped to a shortest side of
# 512..3096 and a longest side <= 6192, cropped 512x1024 around the box centre; stuff classes get
# the baseline's random resize. It inherits the crop baseline directly, not the random-pairing
# config, to keep the short alias within 3 levels.
_base_ = './panoptic-fcn_r50_4xb8-512x1024-65k_cityscapes-panoptic.py'

# The baseline's IBS head (weight 4 x 1, partner pairing).
model = dict(panoptic_head=_base_.ibs_panoptic_head)
train_dataloader = dict(
    batch_sampler=_base_.class_paired_batch_sampler,
    dataset=dict(pipeline=_base_.class_paired_train_pipeline))
custom_hooks = _base_.class_paired_hooks
