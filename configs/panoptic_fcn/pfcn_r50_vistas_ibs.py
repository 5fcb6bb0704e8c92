# Short alias: the paper's best Mapillary Vistas Panoptic FCN setting (IBS + class-paired crops),
#   bash tools/dist_train.sh configs/panoptic_fcn/pfcn_r50_vistas_ibs.py 8
_base_ = './panoptic-fcn-ibs-class-paired_r50_8xb4-1024x1024-150k_mapillary-vistas-panoptic.py'
