# Panoptic FCN R-50 + Intra-Batch Supervision with random pairing on Mapillary Vistas: paper
# Table 3 row 3 ("IBS, random sampling": PQ 35.9, PQ^th 32.9, Acc^th 76.3, Prec^th 82.5; no
# released config): the crop baseline's data, and every crop's thing kernels also meet the
# encoded features of a uniformly random other crop of its GPU batch.
_base_ = './panoptic-fcn_r50_8xb4-1024x1024-150k_mapillary-vistas-panoptic.py'

# The baseline's IBS head (weight 3 x 5) with a uniformly random other crop of the GPU batch.
model = dict(panoptic_head=dict(ibs=dict(_base_.ibs_panoptic_head.ibs, pairing='random')))
