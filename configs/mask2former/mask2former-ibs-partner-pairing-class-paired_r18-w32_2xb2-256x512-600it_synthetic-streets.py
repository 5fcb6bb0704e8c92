# Mask2Former + IBS + class-paired crops on the synthetic streets default, 2 processes x 2 crops
# (one class-paired pair per process, as the authors' Vistas setting): the local baseline of the
# global-batch variant. The same 4 crops per iteration, learning rate and schedule as the 1xb4
# config; each crop's IBS target is its partner on the same process.
#   bash tools/dist_train.sh <this config> 2
_base_ = './mask2former-ibs-partner-pairing-class-paired_r18-w32_1xb4-256x512-600it_synthetic-streets.py'

crops_per_process = 2  # 2 processes x 2 = the base's 4 crops per iteration

train_dataloader = dict(batch_size=crops_per_process)
