# Mask2Former R-50 + Intra-Batch Supervision on Cityscapes with the standard random crops (no
# class-paired sampling): paper Table 3's "IBS, random sampling" row, for Mask2Former.
# Identical to the crop baseline except for the head. Authors' Mask2Former IBS (their transformer
# decoder, criterion and released configs): every crop draws a uniformly random other crop of its
# GPU batch, anew for each of the 9 supervised predictions (query-only prediction skipped); focal
# loss (alpha 0.25, gamma 2) on 12544 uncertainty-sampled points of the IBS logits; normalised by
# the local number of thing-matched queries. See docs/ibs.md.
_base_ = './mask2former_r50_4xb4-512x1024-90k_cityscapes-panoptic.py'

# The baseline's IBS head (weight 50, random pairing, point sampling).
model = dict(panoptic_head=_base_.ibs_panoptic_head)
