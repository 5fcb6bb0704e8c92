# Mask2Former R-50 + Intra-Batch Supervision on Mapillary Vistas with the standard random crops
# (no class-paired sampling): paper Table 3's "IBS, random sampling" row, for Mask2Former.
# Identical to the crop baseline except for the head; authors' Mask2Former IBS (their transformer
# decoder, criterion and released configs) with weight 100 (IBS_WEIGHT, Vistas). With 2 crops per
# GPU the random other crop is always the other one. See docs/ibs.md.
_base_ = '../mask2former/mask2former_r50_8xb2-1024x1024-300k_mapillary-vistas-panoptic.py'

model = dict(
    panoptic_head=dict(
        type='Mask2FormerIBSHead',
        ibs=dict(
            type='IntraBatchSupervision',
            loss=dict(type='IBSLoss', alpha=0.25, gamma=2.0, normalizer='local',
                      loss_weight=100.0),
            pairing='random',
            point_sampling=True),  # train_cfg.num_points, oversample 3, importance 0.75
        ibs_predictions=None))  # all but the query-only prediction 0
