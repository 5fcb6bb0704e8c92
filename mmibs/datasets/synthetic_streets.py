"""The embedded default dataset, *synthetic streets*, as an mmdet dataset."""
from mmdet.registry import DATASETS

from .coco_format_panoptic import CocoFormatPanopticDataset, PanopticAnnotationError
from .synthetic.categories import STUFF_CLASSES, SYNTHETIC_STREETS_CATEGORIES, THING_CLASSES
from .synthetic.config import GENERATOR_MAJOR

_COLOR_OF = {cat['name']: tuple(cat['color']) for cat in SYNTHETIC_STREETS_CATEGORIES}


@DATASETS.register_module()
class SyntheticStreetsPanopticDataset(CocoFormatPanopticDataset):
    """Synthetic streets panoptic data, as
    ``tools/dataset_converters/make_synthetic_panoptic.py`` writes it.

    Labels are things first: 0 person, 1 car, 2 truck, then road, sidewalk, building, vegetation,
    sky (3..7), although the JSON lists its categories stuff first, as Cityscapes does.

    The JSON's ``info.version`` (the generator version that wrote it) must have the major
    version of the installed generator (:data:`GENERATOR_MAJOR`): data of another generator
    (e.g. 1.x, whose instances are class clones) are refused with the command that regenerates
    them, not silently read as the current default.
    """

    METAINFO = dict(
        classes=THING_CLASSES + STUFF_CLASSES,
        thing_classes=THING_CLASSES,
        stuff_classes=STUFF_CLASSES,
        palette=[_COLOR_OF[name] for name in THING_CLASSES + STUFF_CLASSES])

    def _read_json(self) -> dict:
        """Read the annotation file and check the generator version it was written by."""
        raw = super()._read_json()
        version = str(raw.get('info', {}).get('version', 'unknown'))
        if version.split('.')[0] != str(GENERATOR_MAJOR):
            raise PanopticAnnotationError(
                f'{self.ann_file}: written by synthetic streets generator {version}, this mmibs '
                f'reads generator {GENERATOR_MAJOR}.x data; regenerate it with '
                f'`python tools/dataset_converters/make_synthetic_panoptic.py --out '
                f'{self.data_root or "DIR"} --overwrite` (and the same size options)')
        return raw
