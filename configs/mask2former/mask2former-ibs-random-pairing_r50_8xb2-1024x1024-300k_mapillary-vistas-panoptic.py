# Mask2Former R-50 + Intra-Batch Supervision on Mapillary Vistas with the standard random crops
# (no class-paired sampling): paper Table 3's "IBS, random sampling" row, for Mask2Former.
# Identical to the crop baseline except for the head; authors' Mask2Former IBS (their transformer
# decoder, criterion and released configs). With 2 crops per GPU the random other crop is always
# the other one. See docs/ibs.md.
_base_ = './mask2former_r50_8xb2-1024x1024-300k_mapillary-vistas-panoptic.py'

# The baseline's IBS head (weight 100, random pairing, point sampling).
model = dict(panoptic_head=_base_.ibs_panoptic_head)
