# Short alias: the paper's best Cityscapes Panoptic FCN setting (IBS + class-paired crops),
#   bash tools/dist_train.sh configs/ibs/pfcn_r50_cityscapes_ibs.py 4
_base_ = ('../panoptic_fcn/panoptic-fcn-ibs-partner-pairing-class-paired_'
          'r50_4xb8-512x1024-65k_cityscapes-panoptic.py')
