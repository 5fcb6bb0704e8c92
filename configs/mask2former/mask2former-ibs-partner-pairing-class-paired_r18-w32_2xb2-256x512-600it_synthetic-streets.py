# Mask2Former + IBS + class-paired crops on the synthetic streets default, 2 processes x 2 crops
# (one class-paired pair per process, as the authors' Vistas setting): the local baseline of the
# global-batch variant. The same 4 crops per iteration, learning rate and schedule as the 1xb4
# partner class-paired config (it inherits the crop baseline directly to stay within 3 levels);
# each crop's IBS target is its partner on the same process.
#   bash tools/dist_train.sh <this config> 2
_base_ = './mask2former_r18-w32_1xb4-256x512-600it_synthetic-streets.py'

crops_per_process = 2  # 2 processes x 2 = the 1xb4 configs' 4 crops per iteration

# The baseline's IBS head (weight 5, partner pairing, point sampling).
model = dict(panoptic_head=_base_.ibs_panoptic_head)
train_dataloader = dict(
    batch_size=crops_per_process,
    batch_sampler=_base_.class_paired_batch_sampler,
    dataset=dict(pipeline=_base_.class_paired_train_pipeline))
custom_hooks = _base_.class_paired_hooks
