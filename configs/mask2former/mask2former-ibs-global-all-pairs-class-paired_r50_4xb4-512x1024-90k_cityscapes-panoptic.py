# Mask2Former R-50 + IBS + class-paired crops on Cityscapes, global batch: the thing embeddings
# of all 4 GPUs are gathered (with gradient back to their GPU) and meet the pixel features of
# all 15 other crops of the 16-crop batch. Only the embeddings (256-d rows) cross the network:
# per prediction and GPU ~ N_r x 1 KiB (N_r thing-matched queries on that GPU), 9 predictions
# per step (docs/ibs.md). Not in the paper.
_base_ = ('./'
          'mask2former-ibs-random-pairing-class-paired_r50_4xb4-512x1024-90k_cityscapes-panoptic.py')

ibs_pairing = 'all'  # every other crop (the authors: 'random', one crop of the own GPU)
ibs_scope = 'global'  # the crops of all GPUs (the authors: 'local')
max_pairs = 512  # cap on (query, target) pairs per GPU and prediction (~64 MiB of logits)

model = dict(panoptic_head=dict(ibs=dict(pairing=ibs_pairing, scope=ibs_scope,
                                         max_pairs=max_pairs)))
