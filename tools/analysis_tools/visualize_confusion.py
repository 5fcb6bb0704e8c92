"""Draw panoptic predictions like the paper's Figure 6 and box the confused thing segments.

Usage::

    python tools/analysis_tools/visualize_confusion.py GT_JSON --img-dir DIR \
        --panel 'crop' CONFIG CHECKPOINT --panel 'crop + IBS' CONFIG CHECKPOINT \
        --out-dir work_dirs/figure6 [--threshold 50] [--max-images 4] [--order confused]

    # or from COCO-panoptic predictions (PNG folder defaults to PRED_JSON without .json)
    python tools/analysis_tools/visualize_confusion.py GT_JSON --img-dir DIR \
        --panel 'my model' PRED_JSON [PRED_FOLDER] --out-dir DIR

For every image of ``GT_JSON`` (COCO panoptic; PNGs in ``--gt-folder``, default the JSON path
without ``.json``), one PNG ``<out-dir>/<image stem>.png`` stacks the ground truth (unless
``--no-gt``) and one panel per ``--panel`` (two for a side-by-side comparison): every segment
has its own colour and class name; a predicted thing segment that covers more than T % of at
least two non-crowd GT thing segments - the segments the confusion ratio of
``PanopticPixelMetric`` counts - has a red box. ``<out-dir>/confusion.json`` lists, per image
and panel, the confused and all predicted thing segments. A model panel runs the config's test
pipeline without its annotation loading; its classes are matched to the GT categories by name.
"""
import argparse
import json
import os.path as osp
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmengine.dataset import Compose
from tqdm import tqdm

from mmibs.engine import install_checkpoint_loaders
from mmibs.evaluation import PanopticEvalError, Segments
from mmibs.evaluation.coco_panoptic_json import load_panoptic_json, segments_of
from mmibs.evaluation.mmdet_predictions import decode_mmdet_panoptic
from mmibs.evaluation.panoptic_png import read_panoptic_png
from mmibs.utils import atomic_open
from mmibs.visualization import ConfusionVisualizer, confused_segments, segment_boxes

#: Annotation loaders dropped from a model's test pipeline (inference needs only the image).
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadPanopticAnnotations',
                      'LoadPanopticAnnotationsChecked')
GAP = 4  # white pixels between panels


@dataclass
class GroundTruth:
    """A COCO-panoptic GT file: categories (things first) and per-image annotations."""
    json_path: str
    png_folder: str
    classes: List[str]
    num_things: int
    palette: List[Tuple[int, int, int]]
    labels: Dict[int, int]  # category id -> label
    images: List[dict]  # COCO "images" entries, by id
    annotations: Dict[object, dict]  # image id -> annotation


def load_ground_truth(json_path: str, png_folder: Optional[str]) -> GroundTruth:
    """Read the GT JSON; labels are assigned things first, in JSON order within each group."""
    data = load_panoptic_json(json_path, 'GT file')
    cats = ([c for c in data['categories'] if c.get('isthing')]
            + [c for c in data['categories'] if not c.get('isthing')])
    palette = [tuple(c.get('color', (128, 128, 128))) for c in cats]
    return GroundTruth(json_path, png_folder or json_path[:-len('.json')],
                       [c['name'] for c in cats], sum(1 for c in cats if c.get('isthing')),
                       palette, {c['id']: k for k, c in enumerate(cats)},
                       sorted(data['images'], key=lambda im: im['id']),
                       {ann['image_id']: ann for ann in data['annotations']})


class FolderPanel:
    """Predictions read from a COCO-panoptic JSON and its PNG folder."""

    def __init__(self, label: str, json_path: str, folder: Optional[str],
                 gt: GroundTruth) -> None:
        self.label = label
        self.json_path = json_path
        self.folder = folder or json_path[:-len('.json')]
        self.gt = gt
        annotations = load_panoptic_json(json_path, 'prediction file')['annotations']
        self.annotations = {a['image_id']: a for a in annotations}

    def predict(self, image: dict, img_path: str) -> Tuple[np.ndarray, Segments]:
        """(H, W) predicted ids and their segments (GT labels) for one image."""
        ann = self.annotations.get(image['id'])
        if ann is None:
            raise PanopticEvalError(f'{self.json_path}: no prediction for image id '
                                    f'{image["id"]!r} ({image["file_name"]})')
        return (read_panoptic_png(osp.join(self.folder, ann['file_name'])),
                segments_of(ann, self.gt.labels, self.json_path))


class ModelPanel:
    """Predictions of a config + checkpoint, through mmdet's ``inference_detector``."""

    def __init__(self, label: str, config: str, checkpoint: str, gt: GroundTruth,
                 device: str) -> None:
        from mmdet.apis import inference_detector, init_detector

        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'panel {label!r}: checkpoint {checkpoint!r} not found')
        self.label = label
        self.infer = inference_detector
        install_checkpoint_loaders()  # the checkpoint is an mmengine Runner checkpoint
        self.model = init_detector(config, checkpoint, device=device)
        pipeline = [step for step in self.model.cfg.test_dataloader.dataset.pipeline
                    if step['type'].split('.')[-1] not in ANNOTATION_LOADERS]
        self.pipeline = Compose(pipeline)
        classes = list(self.model.dataset_meta.get('classes') or ())
        unknown = [c for c in classes if c not in gt.classes]
        if not classes or unknown:
            raise PanopticEvalError(
                f'panel {label!r}: the classes {unknown or classes} of {checkpoint} '
                f'(dataset_meta) are not among the GT categories {gt.classes} of {gt.json_path}')
        self.num_classes = len(classes)
        self.to_gt = np.array([gt.classes.index(c) for c in classes], np.int64)

    def predict(self, image: dict, img_path: str) -> Tuple[np.ndarray, Segments]:
        """(H, W) predicted ids (mmdet values) and their segments (GT labels) for one image."""
        result = self.infer(self.model, img_path, test_pipeline=self.pipeline)
        pan = result.pred_panoptic_seg.sem_seg[0].cpu().numpy().astype(np.int64)
        segments, _ = decode_mmdet_panoptic(pan, self.num_classes, 255, INSTANCE_OFFSET,
                                            image_name=f'{self.label}: {img_path}')
        return pan, segments._replace(labels=self.to_gt[segments.labels])


@dataclass
class PanelResult:
    """One panel of one image."""
    label: str
    ids: np.ndarray
    segments: Segments
    confused: np.ndarray  # (M,) bool


def render(vis: ConfusionVisualizer, image: np.ndarray, title: str, ids: np.ndarray,
           segments: Segments, gt: GroundTruth, boxes: np.ndarray) -> np.ndarray:
    """One panel: segments, confusion boxes and title, (H, W, 3) RGB."""
    vis.draw_segments(image, ids, segments, gt.classes, gt.num_things, gt.palette)
    vis.draw_confusion_boxes(boxes)
    return vis.draw_title(title)


def stack(panels: Sequence[np.ndarray], layout: str) -> np.ndarray:
    """Panels in a column (``rows``) or a row (``columns``) with white gaps."""
    axis = 0 if layout == 'rows' else 1
    gap_shape = list(panels[0].shape)
    gap_shape[axis] = GAP
    gap = np.full(gap_shape, 255, np.uint8)
    parts = [panels[0]]
    for panel in panels[1:]:
        parts += [gap, panel]
    return np.concatenate(parts, axis=axis)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='example:\n'
        '  python tools/analysis_tools/visualize_confusion.py data/synthetic/annotations/'
        'panoptic_val.json --img-dir data/synthetic/images/val --panel crop CROP_CONFIG '
        'CROP_CKPT --panel IBS IBS_CONFIG IBS_CKPT --out-dir panels --max-images 2 '
        '--order confused')
    parser.add_argument('gt_json', help='GT COCO panoptic JSON')
    parser.add_argument('--img-dir', required=True, help='folder of the images')
    parser.add_argument('--gt-folder', help='GT PNG folder (default: GT_JSON without .json)')
    parser.add_argument('--panel', nargs='+', action='append', required=True,
                        metavar='LABEL SOURCE',
                        help='LABEL CONFIG CHECKPOINT, or LABEL PRED_JSON [PRED_FOLDER]')
    parser.add_argument('--out-dir', required=True, help='output folder of the PNGs')
    parser.add_argument('--threshold', type=float, default=50.0,
                        help='T in percent (default 50)')
    parser.add_argument('--same-class', action='store_true',
                        help='count only GT segments of the predicted class')
    parser.add_argument('--no-gt', action='store_true', help='leave out the GT panel')
    parser.add_argument('--layout', choices=('rows', 'columns'), default='rows',
                        help='panels one above the other (default) or side by side')
    parser.add_argument('--max-images', type=int, help='draw at most this many images')
    parser.add_argument('--order', choices=('id', 'confused'), default='id',
                        help='image order: by id, or most confused segments in the first '
                        'panel first (with --max-images: the most confused images)')
    parser.add_argument('--device', default='cpu', help='device of model panels')
    args = parser.parse_args(argv)
    for panel in args.panel:
        is_model = len(panel) > 1 and panel[1].endswith('.py')
        if len(panel) not in ((3, ) if is_model else (2, 3)):
            parser.error(f'--panel {" ".join(panel)}: expected LABEL CONFIG CHECKPOINT or '
                         'LABEL PRED_JSON [PRED_FOLDER]')
    if args.max_images is not None and args.max_images < 1:
        parser.error('--max-images must be at least 1')
    return args


def build_panel(spec: Sequence[str], gt: GroundTruth, device: str):
    """A :class:`ModelPanel` (``LABEL CONFIG.py CHECKPOINT``) or a :class:`FolderPanel`."""
    if spec[1].endswith('.py'):
        return ModelPanel(spec[0], spec[1], spec[2], gt, device)
    return FolderPanel(spec[0], spec[1], spec[2] if len(spec) > 2 else None, gt)


def load_image_gt(gt: GroundTruth, image: dict) -> Tuple[dict, np.ndarray, Segments]:
    """(COCO image entry, (H, W) GT ids, GT segments) of one image."""
    ann = gt.annotations.get(image['id'])
    if ann is None:
        raise PanopticEvalError(f'{gt.json_path}: image id {image["id"]!r} has no annotation')
    return (image, read_panoptic_png(osp.join(gt.png_folder, ann['file_name'])),
            segments_of(ann, gt.labels, gt.json_path))


def predict_panel(panel, args: argparse.Namespace, gt: GroundTruth, image: dict,
                  gt_ids: np.ndarray, gt_segments: Segments) -> PanelResult:
    """One panel's prediction of one image and its confused segments."""
    ids, segments = panel.predict(image, osp.join(args.img_dir, image['file_name']))
    if ids.shape != gt_ids.shape:
        raise PanopticEvalError(
            f'panel {panel.label!r}, {image["file_name"]}: prediction shape {ids.shape} '
            f'differs from the GT shape {gt_ids.shape}')
    flags = confused_segments(gt_ids, gt_segments, ids, segments, len(gt.classes),
                              gt.num_things, args.threshold, args.same_class)
    return PanelResult(panel.label, ids, segments, flags)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, dict]:
    args = parse_args(argv)
    gt = load_ground_truth(args.gt_json, args.gt_folder)
    panels = [build_panel(spec, gt, args.device) for spec in args.panel]
    images = [load_image_gt(gt, image) for image in gt.images]
    if args.order == 'confused':
        # Only the first panel decides the order; the others run on the chosen images only.
        first = [predict_panel(panels[0], args, gt, *item) for item in
                 tqdm(images, desc=f'rank by {panels[0].label}', unit='img', file=sys.stderr)]
        order = sorted(range(len(images)), key=lambda k: -int(first[k].confused.sum()))
        chosen = order[:args.max_images]
        rows = {k: [first[k]] for k in chosen}
        later = panels[1:]
    else:
        chosen = list(range(len(images)))[:args.max_images]
        rows = {k: [] for k in chosen}
        later = panels
    for k in tqdm(chosen, desc='predict + confusion', unit='img', file=sys.stderr):
        rows[k] += [predict_panel(panel, args, gt, *images[k]) for panel in later]
    results = [(images[k], rows[k]) for k in chosen]

    vis = ConfusionVisualizer(name=f'confusion_visualizer_{id(args)}')
    summary: Dict[str, dict] = {}
    for (image, gt_ids, gt_segments), row in tqdm(results, desc='draw', unit='img',
                                                  file=sys.stderr):
        img = mmcv.imread(osp.join(args.img_dir, image['file_name']), channel_order='rgb')
        drawn = []
        if not args.no_gt:
            drawn.append(render(vis, img, 'ground truth', gt_ids, gt_segments, gt,
                                np.zeros((0, 4))))
        stem = osp.splitext(image['file_name'])[0]
        summary[stem] = {}
        for res in row:
            things = int((res.segments.labels < gt.num_things).sum())
            confused = int(res.confused.sum())
            summary[stem][res.label] = dict(confused=confused, things=things)
            boxes = segment_boxes(res.ids, res.segments.ids[res.confused])
            drawn.append(render(vis, img, f'{res.label}: {confused} of {things} things '
                                f'confused (T = {args.threshold:g} %)', res.ids, res.segments,
                                gt, boxes))
        ok, png = cv2.imencode('.png', mmcv.rgb2bgr(stack(drawn, args.layout)))
        if not ok:
            raise RuntimeError(f'{stem}: PNG encoding failed')
        with atomic_open(osp.join(args.out_dir, stem + '.png'), 'wb') as f:
            f.write(png.tobytes())
    with atomic_open(osp.join(args.out_dir, 'confusion.json'), 'w', encoding='utf-8') as f:
        json.dump(dict(threshold=args.threshold, same_class=args.same_class, images=summary),
                  f, indent=2)
    print(f'wrote {len(summary)} figure(s) to {args.out_dir}')
    return summary


if __name__ == '__main__':
    main()
