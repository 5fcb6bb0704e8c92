"""The embedded default dataset, *synthetic streets*, as an mmdet dataset."""
from mmdet.registry import DATASETS

from .coco_format_panoptic import CocoFormatPanopticDataset
from .synthetic.categories import STUFF_CLASSES, SYNTHETIC_STREETS_CATEGORIES, THING_CLASSES

_COLOR_OF = {cat['name']: tuple(cat['color']) for cat in SYNTHETIC_STREETS_CATEGORIES}


@DATASETS.register_module()
class SyntheticStreetsPanopticDataset(CocoFormatPanopticDataset):
    """Synthetic streets panoptic data, as
    ``tools/dataset_converters/make_synthetic_panoptic.py`` writes it.

    Labels are things first: 0 person, 1 car, 2 truck, then road, sidewalk, building, vegetation,
    sky (3..7), although the JSON lists its categories stuff first, as Cityscapes does.
    """

    METAINFO = dict(
        classes=THING_CLASSES + STUFF_CLASSES,
        thing_classes=THING_CLASSES,
        stuff_classes=STUFF_CLASSES,
        palette=[_COLOR_OF[name] for name in THING_CLASSES + STUFF_CLASSES])
