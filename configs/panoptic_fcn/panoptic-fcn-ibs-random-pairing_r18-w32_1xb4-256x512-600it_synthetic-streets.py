# Panoptic FCN + Intra-Batch Supervision with random pairing on the synthetic streets default
# (paper Table 3 "IBS, random sampling" at CPU size): the crop baseline's data, and every crop's
# thing kernels are also multiplied with the encoded features of a uniformly random other crop
# of the batch, pushed to zero by a focal loss.
_base_ = './panoptic-fcn_r18-w32_1xb4-256x512-600it_synthetic-streets.py'

# The baseline's IBS head (weight 4 x 1) with a uniformly random other crop of the batch.
model = dict(panoptic_head=dict(ibs=dict(_base_.ibs_panoptic_head.ibs, pairing='random')))
