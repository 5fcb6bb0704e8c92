# Short alias: the paper's best Mapillary Vistas Panoptic FCN setting (IBS + class-paired crops),
#   bash tools/dist_train.sh configs/ibs/pfcn_r50_vistas_ibs.py 8
_base_ = ('../panoptic_fcn/panoptic-fcn-ibs-partner-pairing-class-paired_'
          'r50_8xb4-1024x1024-150k_mapillary-vistas-panoptic.py')
