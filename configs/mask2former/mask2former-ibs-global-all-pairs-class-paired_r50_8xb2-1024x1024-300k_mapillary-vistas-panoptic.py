# Mask2Former R-50 + IBS + class-paired crops on Mapillary Vistas, global batch: the thing
# embeddings of all 8 GPUs are gathered (with gradient back to their GPU) and meet the pixel
# features of the 15 other crops of the 16-crop batch (the authors: the partner only). Only the
# 256-d embedding rows cross the network (docs/ibs.md). Not in the paper.
_base_ = ('./'
          'mask2former-ibs-random-pairing-class-paired_r50_8xb2-1024x1024-300k_mapillary-vistas-panoptic.py')

ibs_pairing = 'all'  # every other crop (the authors: 'random' = the partner at 2 crops per GPU)
ibs_scope = 'global'  # the crops of all GPUs (the authors: 'local')
# Cap on (query, target) pairs per GPU and prediction: a pair's logits are 256 x 256 floats
# (256 KiB) before point sampling, so 256 pairs ~ 64 MiB per prediction.
max_pairs = 256

model = dict(panoptic_head=dict(ibs=dict(pairing=ibs_pairing, scope=ibs_scope,
                                         max_pairs=max_pairs)))
