# Panoptic FCN R-50 + Intra-Batch Supervision + class-paired crop sampling on Mapillary Vistas:
# the paper's full method, the authors' released `PanopticFCN-R50-mapillaryvistas-ibs-
# cropsampling` (DdeGeus/PanopticFCN-IBS). Paper Table 2/3 "PFCN + IBS": PQ 36.3, PQ^th 33.6,
# Acc^th 77.0, Prec^th 82.2. Short alias: configs/ibs/pfcn_r50_vistas_ibs.py.
#
# 32 crops per iteration = 8 GPUs x 4 crops = 2 class-paired pairs per GPU; partner pairing
# (2k <-> 2k+1). Crops (dataset base, docs/crop_sampling.md): a class uniform over all 65, a
# shared scale 32..512 px, shortest side clamped to 1024..6192, longest <= 9288, 1024x1024 crop
# around the box centre; stuff classes get the baseline's resize. It inherits the crop baseline
# directly, not the random-pairing config, to keep the short alias within 3 levels.
_base_ = './panoptic-fcn_r50_8xb4-1024x1024-150k_mapillary-vistas-panoptic.py'

# The baseline's IBS head (weight 3 x 5, partner pairing).
model = dict(panoptic_head=_base_.ibs_panoptic_head)
train_dataloader = dict(
    batch_sampler=_base_.class_paired_batch_sampler,
    dataset=dict(pipeline=_base_.class_paired_train_pipeline))
custom_hooks = _base_.class_paired_hooks
