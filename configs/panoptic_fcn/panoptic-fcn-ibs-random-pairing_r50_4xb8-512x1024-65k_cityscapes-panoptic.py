# Panoptic FCN R-50 + Intra-Batch Supervision with random pairing on Cityscapes (paper Table 3
# row 3 "IBS, random sampling", here for Cityscapes): the crop baseline's data, and every crop's
# thing kernels are also multiplied with the encoded features of a uniformly random other crop
# of its GPU batch (the authors' code with NEW_SAMPLING off), pushed to zero by a focal loss.
# Weight SEGMENT x IBS_WEIGHT = 4 x 1 (DdeGeus/PanopticFCN-IBS IBS configs).
_base_ = './panoptic-fcn_r50_4xb8-512x1024-65k_cityscapes-panoptic.py'

model = dict(
    panoptic_head=dict(
        ibs=dict(
            _delete_=True,  # the baseline has ibs=None
            type='IntraBatchSupervision',
            loss=dict(type='IBSLoss', alpha=0.25, gamma=2.0, normalizer='local',
                      loss_weight=4.0 * 1.0),
            pairing='random')))
