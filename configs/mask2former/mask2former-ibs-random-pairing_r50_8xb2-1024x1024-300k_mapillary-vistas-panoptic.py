# Mask2Former R-50 + Intra-Batch Supervision on Mapillary Vistas with the standard random crops
# (no class-paired sampling): paper Table 3's "IBS, random sampling" row, for Mask2Former.
# Identical to the crop baseline except for the head; authors' Mask2Former IBS (their transformer
# decoder, criterion and released configs). With 2 crops per GPU the random other crop is always
# the other one. See docs/ibs.md.
_base_ = './mask2former_r50_8xb2-1024x1024-300k_mapillary-vistas-panoptic.py'

ibs_weight = 100.0  # authors: IBS_WEIGHT 100 (Vistas)
ibs_pairing = 'random'  # authors' Mask2Former; equals 'partner' at 2 crops per GPU

model = dict(
    panoptic_head=dict(
        type='Mask2FormerIBSHead',
        ibs=dict(
            type='IntraBatchSupervision',
            loss=dict(type='IBSLoss', loss_weight=ibs_weight),  # focal, alpha 0.25, gamma 2
            pairing=ibs_pairing,
            point_sampling=True)))  # on train_cfg's points, as the mask loss
