"""Panoptic FCN stuff path: training-mode masks vs inference masks of a trained model.

For each image of the chosen split, the stuff masks are computed twice from the same features
(``model.eval()``): with the training path's kernels (ground-truth level masks x kernel map,
one kernel per present class and level, as in the loss) and with the inference path's
(region-argmax kernels fused over the levels, ``predict_kernels_single``). Both are compared
with the stride-4 stuff targets (IoU per class at p > 0.5) and drawn next to each other at
stride 4 together with the fused panoptic map's semantics: GT | training path | inference
path | after fusion. Findings on the synthetic default: docs/panoptic_fcn.md ("Overfitting
check").
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.runner import Runner, load_checkpoint

import mmibs  # noqa: F401  (registers components)
from mmibs.engine import install_checkpoint_loaders
from mmibs.models.panoptic_fcn.inference import predict_kernels_single
from mmibs.models.panoptic_fcn.utils import stuff_kernels_from_masks
from mmibs.utils import atomic_open

_VOID = 255


def _palette(num: int) -> np.ndarray:
    """``num`` distinct BGR colours plus black for void (index 255)."""
    rng = np.random.default_rng(0)
    colours = np.zeros((256, 3), np.uint8)
    colours[:num] = rng.integers(40, 255, (num, 3))
    return colours


def _iou(pred: torch.Tensor, target: torch.Tensor) -> float:
    union = int((pred | target).sum())
    return float((pred & target).sum()) / union if union else float('nan')


def _fmt(value: Optional[float]) -> str:
    return '–' if value is None else f'{value:.2f}'


def training_path_masks(head, kernels: List[torch.Tensor], encode_feat: torch.Tensor, targets,
                        b: int) -> Dict[int, torch.Tensor]:
    """Per stuff-branch channel present in crop ``b``: the mean over its levels of the
    training-path mask probabilities (h4, w4)."""
    probs: Dict[int, List[torch.Tensor]] = {}
    for kernel_map, img, cls, level_masks in zip(kernels, targets.stuff_img,
                                                 targets.stuff_class, targets.stuff_level_masks):
        rows = img == b
        if not rows.any():
            continue
        kernel = head.stuff_embed(stuff_kernels_from_masks(level_masks[rows], kernel_map[b]))
        maps = (kernel @ encode_feat[b].flatten(1)).sigmoid().view(-1, *encode_feat.shape[-2:])
        for channel, prob in zip(cls[rows].tolist(), maps):
            probs.setdefault(channel, []).append(prob)
    return {channel: torch.stack(maps).mean(0) for channel, maps in probs.items()}


def diagnose(model, data_batch: dict) -> List[dict]:
    """Per image: per-channel IoU of both paths and the four stride-4 label maps."""
    head = model.panoptic_head
    data = model.data_preprocessor(data_batch, True)
    inputs, samples = data['inputs'], data['data_samples']
    results = []
    with torch.no_grad():
        centers, regions, kernels, encode_feat = head(model.extract_feat(inputs))
        targets = head.target_generator(samples, [tuple(c.shape[-2:]) for c in centers],
                                        encode_feat.device)
        pan = model.predict(inputs, samples, rescale=False)
        lut = head.target_generator.lut
        for b, sample in enumerate(samples):
            gt = targets.stuff_maps[b]
            gt_label = torch.where(gt.amax(0) > 0.5, gt.argmax(0), torch.full_like(
                gt.argmax(0), _VOID))
            train = training_path_masks(head, kernels, encode_feat, targets, b)
            infer = predict_kernels_single([c[b] for c in centers], [r[b] for r in regions],
                                           [k[b] for k in kernels], encode_feat[b],
                                           head.thing_embed, head.stuff_embed, head.test_cfg)
            channels = sorted(train)
            rows = {c: dict(channel=c, gt_px=int((gt[c] > 0.5).sum()),
                            train_iou=_iou(train[c] > 0.5, gt[c] > 0.5), infer_iou=None)
                    for c in channels}
            infer_map = torch.zeros_like(gt)
            for c, prob in zip(infer['stuff_labels'].tolist(), infer['stuff_probs']):
                infer_map[c] = prob
                row = rows.setdefault(c, dict(channel=c, gt_px=int((gt[c] > 0.5).sum()),
                                              train_iou=None))
                row['infer_iou'] = _iou(prob > 0.5, gt[c] > 0.5)
                row['infer_px'] = int((prob > 0.5).sum())
            train_map = torch.zeros_like(gt)
            for c in channels:
                train_map[c] = train[c]
            # mmdet's encoding: label + k * 1000 (things), label (stuff), num_classes (void,
            # which the table maps to -1)
            semantic = lut[pan[b].pred_panoptic_seg.sem_seg[0].long() % INSTANCE_OFFSET]
            fused = torch.nn.functional.interpolate(
                semantic[None, None].float(), size=gt.shape[-2:], mode='nearest')[0, 0].long()
            results.append(dict(
                name=osp.basename(sample.img_path), rows=[rows[c] for c in sorted(rows)],
                maps=[gt_label, train_map.argmax(0), infer_map.argmax(0),
                      torch.where(fused >= 0, fused, torch.full_like(fused, _VOID))]))
    return results


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='example:\n  python tools/analysis_tools/pfcn_stuff_diagnosis.py '
        'work_dirs/reproduce_synthetic_pfcn/runs/crop_seed0/config.py '
        'work_dirs/reproduce_synthetic_pfcn/runs/crop_seed0/iter_600.pth --out-dir diag')
    parser.add_argument('config', help='a Panoptic FCN config')
    parser.add_argument('checkpoint', help='its trained weights')
    parser.add_argument('--out-dir', required=True, help='report.md and one PNG per image')
    parser.add_argument('--split', choices=('train', 'val'), default='val',
                        help='images of the train or val set (with their annotations)')
    parser.add_argument('--max-images', type=int, default=2, help='images (default 2)')
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    if cfg.model.type != 'PanopticFCN':
        sys.exit(f'error: {args.config}: model.type is {cfg.model.type}, not PanopticFCN')
    train = cfg.train_dataloader
    if args.split == 'val':  # the val images with the training targets' annotations
        train.dataset.ann_file = cfg.val_dataloader.dataset.ann_file
        train.dataset.data_prefix = cfg.val_dataloader.dataset.data_prefix
    train.dataset.pipeline = [step for step in cfg.val_dataloader.dataset.pipeline
                              if step.type != 'PackDetInputs'] + [dict(type='PackDetInputs')]
    for step in train.dataset.pipeline:
        if step.type.startswith('LoadPanopticAnnotations'):
            step.update(with_bbox=True, with_mask=True, with_seg=True)
    train.update(batch_size=1, num_workers=0, persistent_workers=False,
                 sampler=dict(type='DefaultSampler', shuffle=False))
    train.pop('batch_sampler', None)
    register_all_modules()
    model = MODELS.build(cfg.model)
    install_checkpoint_loaders(cfg)  # safe unpickling of mmengine checkpoints
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.eval()
    loader = Runner.build_dataloader(train)
    palette = _palette(int(model.panoptic_head.num_stuff_channels))
    lines = ['| image | channel | GT px (stride 4) | training-path IoU | inference IoU | '
             'inference px |', '|---|---|---|---|---|---|']
    for index, batch in enumerate(loader):
        if index >= args.max_images:
            break
        for result in diagnose(model, batch):
            for row in result['rows']:
                lines.append(f"| {result['name']} | {row['channel']} | {row['gt_px']} | "
                             f"{_fmt(row['train_iou'])} | {_fmt(row['infer_iou'])} | "
                             f"{row.get('infer_px', '–')} |")
            panel = np.concatenate([palette[m.numpy().astype(np.int64)] for m in
                                    result['maps']], axis=1)
            out = osp.join(args.out_dir, osp.splitext(result['name'])[0] + '_stuff.png')
            ok, png = cv2.imencode('.png', cv2.resize(panel, None, fx=2, fy=2,
                                                      interpolation=cv2.INTER_NEAREST))
            with atomic_open(out, 'wb') as f:
                f.write(png.tobytes())
    report = '\n'.join(lines) + '\n\nPanels: GT | training path | inference path | after fusion\n'
    with atomic_open(osp.join(args.out_dir, 'report.md'), 'w', encoding='utf-8') as f:
        f.write(report)
    print(report, end='')


if __name__ == '__main__':
    main()
