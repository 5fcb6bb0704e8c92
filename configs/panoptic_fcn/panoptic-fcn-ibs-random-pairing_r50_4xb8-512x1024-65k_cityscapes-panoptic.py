# Panoptic FCN R-50 + Intra-Batch Supervision with random pairing on Cityscapes (paper Table 3
# row 3 "IBS, random sampling", here for Cityscapes): the crop baseline's data, and every crop's
# thing kernels are also multiplied with the encoded features of a uniformly random other crop
# of its GPU batch (the authors' code with NEW_SAMPLING off), pushed to zero by a focal loss.
_base_ = './panoptic-fcn_r50_4xb8-512x1024-65k_cityscapes-panoptic.py'

# The baseline's IBS head (weight 4 x 1) with a uniformly random other crop of the GPU batch.
model = dict(panoptic_head=dict(ibs=dict(_base_.ibs_panoptic_head.ibs, pairing='random')))
