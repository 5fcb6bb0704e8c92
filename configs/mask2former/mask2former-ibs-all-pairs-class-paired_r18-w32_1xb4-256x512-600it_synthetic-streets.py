# Mask2Former + IBS + class-paired crops on the synthetic streets default, all pairs: the thing
# embeddings of every crop meet the pixel features of every other crop of the batch (3 targets
# per crop instead of the partner; crops of the same image excluded, the partner always kept).
# The loss is the mean over the (query, target) pairs, so its scale is the partner config's.
# Otherwise identical to the partner class-paired config (it inherits the crop baseline directly
# to stay within 3 levels; docs/ibs.md, "More targets and the global batch").
_base_ = './mask2former_r18-w32_1xb4-256x512-600it_synthetic-streets.py'

ibs_pairing = 'all'  # every other crop of the batch (the partner config: 'partner')
exclude_same_image = True  # crops of one source image are no targets (the partner always is)

# The baseline's IBS head (weight 5, point sampling) with these pairing knobs.
model = dict(panoptic_head=dict(
    _base_.ibs_panoptic_head,
    ibs=dict(_base_.ibs_panoptic_head.ibs, pairing=ibs_pairing,
             exclude_same_image=exclude_same_image)))
train_dataloader = dict(
    batch_sampler=_base_.class_paired_batch_sampler,
    dataset=dict(pipeline=_base_.class_paired_train_pipeline))
custom_hooks = _base_.class_paired_hooks
