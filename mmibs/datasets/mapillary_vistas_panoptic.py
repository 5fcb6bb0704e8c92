"""Mapillary Vistas v1.2 panoptic (65 classes, 37 things, things first).

The official v1.2 download already has COCO panoptic annotations, so no conversion is needed::

    data/mapillary_vistas/training/images/<key>.jpg
    data/mapillary_vistas/training/panoptic/panoptic_2018.json
    data/mapillary_vistas/training/panoptic/<key>.png
    (the same under validation/)

``panoptic_2018.json`` lists the categories in the order of v1.2's ``config.json`` (things and
stuff interleaved); labels are remapped by name to things first.

Where the class list comes from (``classes_from``):

* ``'json'`` (default): from the annotation file's ``categories`` -- things first, each group in
  the JSON order, ``isthing`` authoritative, palette from the categories' ``color``. A warning is
  logged when the result differs from the built-in v1.2 table (:data:`VISTAS_V12_CATEGORIES`).
* ``'metainfo'``: the class' ``METAINFO`` (the built-in table) or the ``metainfo`` argument,
  checked against the JSON like every :class:`CocoFormatPanopticDataset`.

The built-in table is written from v1.2's ``config.json`` (``instances: true`` = thing) without
the final ``Unlabeled`` label; it could not be checked against the real files here, which is why
``'json'`` is the default. A config's model needs the numbers of things/stuff before the data is
read: 37 and 28 for v1.2 with either setting.
"""
from typing import List, Tuple

from mmdet.registry import DATASETS
from mmengine.logging import print_log

from .coco_format_panoptic import CocoFormatPanopticDataset, PanopticAnnotationError

#: v1.2 categories in ``config.json`` order: (name, is_thing, colour).
VISTAS_V12_CATEGORIES: Tuple[Tuple[str, bool, Tuple[int, int, int]], ...] = (
    ('Bird', True, (165, 42, 42)),
    ('Ground Animal', True, (0, 192, 0)),
    ('Curb', False, (196, 196, 196)),
    ('Fence', False, (190, 153, 153)),
    ('Guard Rail', False, (180, 165, 180)),
    ('Barrier', False, (90, 120, 150)),
    ('Wall', False, (102, 102, 156)),
    ('Bike Lane', False, (128, 64, 255)),
    ('Crosswalk - Plain', True, (140, 140, 200)),
    ('Curb Cut', False, (170, 170, 170)),
    ('Parking', False, (250, 170, 160)),
    ('Pedestrian Area', False, (96, 96, 96)),
    ('Rail Track', False, (230, 150, 140)),
    ('Road', False, (128, 64, 128)),
    ('Service Lane', False, (110, 110, 110)),
    ('Sidewalk', False, (244, 35, 232)),
    ('Bridge', False, (150, 100, 100)),
    ('Building', False, (70, 70, 70)),
    ('Tunnel', False, (150, 120, 90)),
    ('Person', True, (220, 20, 60)),
    ('Bicyclist', True, (255, 0, 0)),
    ('Motorcyclist', True, (255, 0, 100)),
    ('Other Rider', True, (255, 0, 200)),
    ('Lane Marking - Crosswalk', True, (200, 128, 128)),
    ('Lane Marking - General', False, (255, 255, 255)),
    ('Mountain', False, (64, 170, 64)),
    ('Sand', False, (230, 160, 50)),
    ('Sky', False, (70, 130, 180)),
    ('Snow', False, (190, 255, 255)),
    ('Terrain', False, (152, 251, 152)),
    ('Vegetation', False, (107, 142, 35)),
    ('Water', False, (0, 170, 30)),
    ('Banner', True, (255, 255, 128)),
    ('Bench', True, (250, 0, 30)),
    ('Bike Rack', True, (100, 140, 180)),
    ('Billboard', True, (220, 220, 220)),
    ('Catch Basin', True, (220, 128, 128)),
    ('CCTV Camera', True, (222, 40, 40)),
    ('Fire Hydrant', True, (100, 170, 30)),
    ('Junction Box', True, (40, 40, 40)),
    ('Mailbox', True, (33, 33, 33)),
    ('Manhole', True, (100, 128, 160)),
    ('Phone Booth', True, (142, 0, 0)),
    ('Pothole', False, (70, 100, 150)),
    ('Street Light', True, (210, 170, 100)),
    ('Pole', True, (153, 153, 153)),
    ('Traffic Sign Frame', True, (128, 128, 128)),
    ('Utility Pole', True, (0, 0, 80)),
    ('Traffic Light', True, (250, 170, 30)),
    ('Traffic Sign (Back)', True, (192, 192, 192)),
    ('Traffic Sign (Front)', True, (220, 220, 0)),
    ('Trash Can', True, (140, 140, 20)),
    ('Bicycle', True, (119, 11, 32)),
    ('Boat', True, (150, 0, 255)),
    ('Bus', True, (0, 60, 100)),
    ('Car', True, (0, 0, 142)),
    ('Caravan', True, (0, 0, 90)),
    ('Motorcycle', True, (0, 0, 230)),
    ('On Rails', False, (0, 80, 100)),
    ('Other Vehicle', True, (128, 64, 64)),
    ('Trailer', True, (0, 0, 110)),
    ('Truck', True, (0, 0, 70)),
    ('Wheeled Slow', True, (0, 0, 192)),
    ('Car Mount', False, (32, 32, 32)),
    ('Ego Vehicle', False, (120, 10, 10)),
)

VISTAS_THING_CLASSES = tuple(name for name, thing, _ in VISTAS_V12_CATEGORIES if thing)
VISTAS_STUFF_CLASSES = tuple(name for name, thing, _ in VISTAS_V12_CATEGORIES if not thing)
_COLOR_OF = {name: color for name, _, color in VISTAS_V12_CATEGORIES}


def metainfo_from_categories(categories: List[dict]) -> dict:
    """Things-first metainfo from COCO panoptic ``categories`` (``isthing`` authoritative)."""
    things = tuple(c['name'] for c in categories if c.get('isthing', 0))
    stuff = tuple(c['name'] for c in categories if not c.get('isthing', 0))
    color_of = {c['name']: c.get('color') for c in categories}
    palette = [tuple(color_of[name]) if color_of[name] is not None else
               _COLOR_OF.get(name, (0, 0, 0)) for name in things + stuff]
    return dict(classes=things + stuff, thing_classes=things, stuff_classes=stuff,
                palette=palette)


@DATASETS.register_module()
class MapillaryVistasPanopticDataset(CocoFormatPanopticDataset):
    """Mapillary Vistas v1.2 panoptic from ``panoptic_2018.json``, labels things first.

    Typical arguments::

        data_root='data/mapillary_vistas/',
        ann_file='validation/panoptic/panoptic_2018.json',
        data_prefix=dict(img='validation/images/', seg='validation/panoptic/')

    Args:
        classes_from (str): ``'json'`` (default) takes the classes from the JSON categories
            (things first, ``isthing`` authoritative); ``'metainfo'`` uses ``METAINFO`` (the
            built-in v1.2 table) or the ``metainfo`` argument. See the module docstring.
        **kwargs: Passed to :class:`CocoFormatPanopticDataset`.
    """

    METAINFO = dict(
        classes=VISTAS_THING_CLASSES + VISTAS_STUFF_CLASSES,
        thing_classes=VISTAS_THING_CLASSES,
        stuff_classes=VISTAS_STUFF_CLASSES,
        palette=[_COLOR_OF[name] for name in VISTAS_THING_CLASSES + VISTAS_STUFF_CLASSES])

    def __init__(self, *args, classes_from: str = 'json', **kwargs) -> None:
        if classes_from not in ('json', 'metainfo'):
            raise ValueError(f'{type(self).__name__}: classes_from must be "json" or '
                             f'"metainfo", got {classes_from!r}')
        self.classes_from = classes_from
        super().__init__(*args, **kwargs)

    def _read_json(self) -> dict:
        """Read the JSON; with ``classes_from='json'`` take the metainfo from its categories."""
        raw = super()._read_json()
        if self.classes_from == 'json':
            names = [c['name'] for c in raw['categories']]
            duplicated = sorted({n for n in names if names.count(n) > 1})
            if duplicated:
                raise PanopticAnnotationError(
                    f'{self.ann_file}: duplicated category names {duplicated}')
            meta = metainfo_from_categories(raw['categories'])
            if (meta['thing_classes'], meta['stuff_classes']) != (VISTAS_THING_CLASSES,
                                                                  VISTAS_STUFF_CLASSES):
                print_log(
                    f'{self.ann_file}: the JSON categories ({len(meta["thing_classes"])} things, '
                    f'{len(meta["stuff_classes"])} stuff) differ from the built-in Mapillary '
                    f'Vistas v1.2 table ({len(VISTAS_THING_CLASSES)} things, '
                    f'{len(VISTAS_STUFF_CLASSES)} stuff); using the JSON categories',
                    logger='current', level=30)
            self._metainfo.update(meta)
        return raw
