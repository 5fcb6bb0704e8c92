# Mask2Former R-50 + IBS + class-paired crops on Mapillary Vistas, all pairs of the GPU batch.
# With 2 crops per GPU (one class-paired pair) every crop has one other crop, its partner: the
# same supervision as the authors' random pairing, which at 2 crops is the partner too. Use it
# with more crops per GPU, or use the global variant for more targets (docs/ibs.md, "More
# targets and the global batch"). Not in the paper.
_base_ = ('./'
          'mask2former-ibs-random-pairing-class-paired_r50_8xb2-1024x1024-300k_mapillary-vistas-panoptic.py')

ibs_pairing = 'all'  # every other crop of the GPU batch (the authors: 'random', one crop)

model = dict(panoptic_head=dict(ibs=dict(pairing=ibs_pairing)))
