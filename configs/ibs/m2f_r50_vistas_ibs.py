# Short alias: the paper's best Mapillary Vistas Mask2Former setting (IBS + class-paired crops),
#   bash tools/dist_train.sh configs/ibs/m2f_r50_vistas_ibs.py 8
_base_ = ('../mask2former/mask2former-ibs-random-pairing-class-paired_'
          'r50_8xb2-1024x1024-300k_mapillary-vistas-panoptic.py')
