# Mask2Former + IBS + class-paired crops on the synthetic streets default, 2 processes x 2 crops,
# global batch: the thing embeddings of both processes are gathered (with gradient) and meet the
# pixel features of all 3 other crops of the global batch, not only the partner on their own
# process (docs/ibs.md, "More targets and the global batch").
#   bash tools/dist_train.sh <this config> 2
_base_ = ('./'
          'mask2former-ibs-partner-pairing-class-paired_r18-w32_2xb2-256x512-600it_synthetic-streets.py')

ibs_pairing = 'all'  # every other crop (the base: 'partner')
ibs_scope = 'global'  # targets among the crops of all processes (the base: 'local')

model = dict(panoptic_head=dict(ibs=dict(pairing=ibs_pairing, scope=ibs_scope)))
