# Panoptic FCN R-50 + Intra-Batch Supervision with random pairing on Mapillary Vistas: paper
# Table 3 row 3 ("IBS, random sampling": PQ 35.9, PQ^th 32.9, Acc^th 76.3, Prec^th 82.5; no
# released config): the crop baseline's data, and every crop's thing
# kernels also meet the encoded features of a uniformly random other crop of its GPU batch.
# Weight SEGMENT x IBS_WEIGHT = 3 x 5.
_base_ = './panoptic-fcn_r50_8xb4-1024x1024-150k_mapillary-vistas-panoptic.py'

model = dict(
    panoptic_head=dict(
        ibs=dict(
            _delete_=True,  # the baseline has ibs=None
            type='IntraBatchSupervision',
            loss=dict(type='IBSLoss', alpha=0.25, gamma=2.0, normalizer='local',
                      loss_weight=3.0 * 5.0),
            pairing='random')))
