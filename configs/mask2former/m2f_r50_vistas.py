# Short alias: the Mask2Former crop-training baseline on Mapillary Vistas (8 GPUs),
#   bash tools/dist_train.sh configs/mask2former/m2f_r50_vistas.py 8
_base_ = './mask2former_r50_8xb2-1024x1024-300k_mapillary-vistas-panoptic.py'
