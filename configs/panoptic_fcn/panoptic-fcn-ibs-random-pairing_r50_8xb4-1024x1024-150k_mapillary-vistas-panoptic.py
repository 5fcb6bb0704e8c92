# Panoptic FCN R-50 + Intra-Batch Supervision with random pairing on Mapillary Vistas: paper
# Table 3 row 3 ("IBS, random sampling": PQ 35.9, PQ^th 32.9, Acc^th 76.3, Prec^th 82.5; no
# released config): the crop baseline's data, and every crop's thing kernels also meet the
# encoded features of a uniformly random other crop of its GPU batch.
_base_ = './panoptic-fcn_r50_8xb4-1024x1024-150k_mapillary-vistas-panoptic.py'

ibs_weight = 3.0 * 5.0  # authors (Vistas): SEGMENT 3 x IBS_WEIGHT 5
ibs_pairing = 'random'  # a uniformly random other crop of the GPU batch

model = dict(
    panoptic_head=dict(
        ibs=dict(
            _delete_=True,  # the baseline has ibs=None
            type='IntraBatchSupervision',
            loss=dict(type='IBSLoss', loss_weight=ibs_weight),  # focal, alpha 0.25, gamma 2
            pairing=ibs_pairing)))
