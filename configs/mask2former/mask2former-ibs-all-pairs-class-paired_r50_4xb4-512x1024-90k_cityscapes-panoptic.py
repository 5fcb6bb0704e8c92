# Mask2Former R-50 + IBS + class-paired crops on Cityscapes, all pairs: the thing embeddings of
# each of the 4 crops of a GPU meet the pixel features of the 3 other crops (the authors: one
# random other crop), crops of the same image excluded, the class-paired partner always kept;
# the loss is the mean over (query, target) pairs, so its scale is the authors' at one target.
# Not in the paper (docs/ibs.md, "More targets and the global batch").
_base_ = ('./'
          'mask2former-ibs-random-pairing-class-paired_r50_4xb4-512x1024-90k_cityscapes-panoptic.py')

ibs_pairing = 'all'  # every other crop of the GPU batch (the authors: 'random', one crop)

model = dict(panoptic_head=dict(ibs=dict(pairing=ibs_pairing)))
