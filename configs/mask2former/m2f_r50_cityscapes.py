# Short alias: the Mask2Former crop-training baseline on Cityscapes (4 GPUs),
#   bash tools/dist_train.sh configs/mask2former/m2f_r50_cityscapes.py 4
_base_ = './mask2former_r50_4xb4-512x1024-90k_cityscapes-panoptic.py'
