"""Cityscapes panoptic (19 evaluated classes, things first) as converted by cityscapesscripts.

``tools/dataset_converters/cityscapes.py`` wraps cityscapesscripts'
``createPanopticImgs.convert2panoptic`` and writes, for each split::

    data/cityscapes/gtFine/cityscapes_panoptic_{split}.json
    data/cityscapes/gtFine/cityscapes_panoptic_{split}/<city>_<seq>_<frame>_gtFine_panoptic.png

The JSON lists its categories stuff first with the Cityscapes label ids (7 road ... 33 bicycle)
and names the image ``<city>_<seq>_<frame>_gtFine_leftImg8bit.png`` (cityscapesscripts 2.3.0
replaces ``_instanceIds.png`` by ``_leftImg8bit.png`` in the GT file name, keeping ``_gtFine``)
without the city sub-folder, while the image is
``leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png``.
:class:`CityscapesPanopticDataset` maps the categories by name onto the things-first labels below
and builds the real image path, so a config points ``data_prefix.img`` at
``leftImg8bit/<split>/`` (see ``docs/datasets.md``).
"""
import os.path as osp

from mmdet.registry import DATASETS

from .coco_format_panoptic import CocoFormatPanopticDataset

#: The 8 Cityscapes thing classes (labels 0..7), names as in cityscapesscripts' ``labels``.
CITYSCAPES_THING_CLASSES = ('person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
                            'bicycle')
#: The 11 Cityscapes stuff classes (labels 8..18).
CITYSCAPES_STUFF_CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole',
                            'traffic light', 'traffic sign', 'vegetation', 'terrain', 'sky')
#: The official colours of cityscapesscripts' ``labels`` table, in things-first order.
CITYSCAPES_PALETTE = [
    (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100), (0, 80, 100),
    (0, 0, 230), (119, 11, 32),
    (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153),
    (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152),
    (70, 130, 180)]


@DATASETS.register_module()
class CityscapesPanopticDataset(CocoFormatPanopticDataset):
    """Cityscapes panoptic from ``cityscapes_panoptic_{split}.json``, labels things first.

    Labels: 0 person, 1 rider, 2 car, 3 truck, 4 bus, 5 train, 6 motorcycle, 7 bicycle,
    8 road, ..., 18 sky. Crowd regions (a thing label id without instance in
    ``*_instanceIds.png``) have ``iscrowd=1`` and no instance, as in COCO.

    Typical arguments::

        data_root='data/cityscapes/',
        ann_file='gtFine/cityscapes_panoptic_val.json',
        data_prefix=dict(img='leftImg8bit/val/', seg='gtFine/cityscapes_panoptic_val/')

    The image path is ``<data_prefix.img>/<city>/<file_name>`` with ``city`` the part of the
    JSON ``file_name`` before the first ``_`` and ``_gtFine_leftImg8bit`` in ``file_name``
    replaced by ``_leftImg8bit``; a ``file_name`` that already contains a folder is only joined
    to ``data_prefix.img``.
    """

    METAINFO = dict(
        classes=CITYSCAPES_THING_CLASSES + CITYSCAPES_STUFF_CLASSES,
        thing_classes=CITYSCAPES_THING_CLASSES,
        stuff_classes=CITYSCAPES_STUFF_CLASSES,
        palette=CITYSCAPES_PALETTE)

    def _parse_image(self, img_info: dict, ann: dict, label_of_category: dict) -> dict:
        """The base data info with the city sub-folder inserted into ``img_path``."""
        data_info = super()._parse_image(img_info, ann, label_of_category)
        file_name = img_info['file_name'].replace('_gtFine_leftImg8bit.', '_leftImg8bit.')
        if '/' not in file_name:
            city = file_name.split('_')[0]
            data_info['img_path'] = osp.join(self.data_prefix.get('img', '') or '', city,
                                             file_name)
        return data_info
