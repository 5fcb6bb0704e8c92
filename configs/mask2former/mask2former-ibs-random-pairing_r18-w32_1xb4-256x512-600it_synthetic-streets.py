# Mask2Former + IBS on the synthetic streets default with the authors' Mask2Former pairing: every
# crop draws a uniformly random other crop of the per-process batch, anew for every prediction.
_base_ = './mask2former-ibs-partner-pairing_r18-w32_1xb4-256x512-600it_synthetic-streets.py'

model = dict(panoptic_head=dict(ibs=dict(pairing='random')))
