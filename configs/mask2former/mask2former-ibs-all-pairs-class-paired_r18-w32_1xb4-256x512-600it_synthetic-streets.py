# Mask2Former + IBS + class-paired crops on the synthetic streets default, all pairs: the thing
# embeddings of every crop meet the pixel features of every other crop of the batch (3 targets
# per crop instead of the partner; crops of the same image excluded, the partner always kept).
# The loss is the mean over the (query, target) pairs, so its scale is the partner config's.
# Identical to the partner class-paired config otherwise (docs/ibs.md, "More targets and the
# global batch").
_base_ = './mask2former-ibs-partner-pairing-class-paired_r18-w32_1xb4-256x512-600it_synthetic-streets.py'

ibs_pairing = 'all'  # every other crop of the batch (the base: 'partner')
exclude_same_image = True  # crops of one source image are no targets (the partner always is)

model = dict(panoptic_head=dict(ibs=dict(pairing=ibs_pairing,
                                         exclude_same_image=exclude_same_image)))
