# Mask2Former + Intra-Batch Supervision (paper §4.1) on the synthetic streets default, partner
# pairing: the thing-query embeddings of crop 2k meet the pixel features of crop 2k+1 and vice
# versa. Identical to the crop baseline except for the head, its `ibs_panoptic_head` (IBS weight
# 5, partner pairing, point sampling; the reasons are given there), which adds `loss_ibs` to the
# 3 decoder-layer predictions (not to the query-only one). Without the class-paired crop sampler
# the partners are two random crops of the batch. See docs/ibs.md.
_base_ = './mask2former_r18-w32_1xb4-256x512-600it_synthetic-streets.py'

model = dict(panoptic_head=_base_.ibs_panoptic_head)
