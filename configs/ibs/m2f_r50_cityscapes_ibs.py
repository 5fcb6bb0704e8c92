# Short alias: the paper's best Cityscapes Mask2Former setting (IBS + class-paired crops),
#   bash tools/dist_train.sh configs/ibs/m2f_r50_cityscapes_ibs.py 4
_base_ = ('../mask2former/'
          'mask2former-ibs-random-pairing-class-paired_r50_4xb4-512x1024-90k_cityscapes-panoptic.py')
