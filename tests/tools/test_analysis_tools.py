"""The analysis tools: Figure-6 panels (visualize_confusion), Figure-5 curves, results tables.

A tiny model is trained for 2 iterations once (in process) on the tiny synthetic tree; its work
dir and checkpoint feed the tools. Confusion marks are checked against the metric
(eval_panoptic.py's confusion ratio) on hand-made predictions that merge two GT instances.
"""
import contextlib
import io
import json
import math
import os
import re
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.runner import Runner

from mmibs.evaluation.panoptic_png import read_panoptic_png

TINY_H, TINY_W = 128, 256  # conftest's tiny images
CLASS_PAIRED = ('configs/mask2former/mask2former-ibs-partner-pairing-class-paired_'
                'r18-w32_1xb4-256x512-600it_synthetic-streets.py')
PFCN = 'configs/panoptic_fcn/panoptic-fcn_r18-w32_1xb4-256x512-600it_synthetic-streets.py'


def quiet(func, *args):
    """Call ``func`` with stdout captured."""
    with contextlib.redirect_stdout(io.StringIO()):
        return func(*args)


@pytest.fixture(scope='module')
def trained(synthetic_root, make_tiny_cfg, tmp_path_factory):
    """(config path, work dir, checkpoint) of the tiny baseline trained for 2 iterations."""
    work_dir = tmp_path_factory.mktemp('tiny_run')
    cfg = make_tiny_cfg(synthetic_root, work_dir, max_iters=2)
    config_path = work_dir / 'tiny_config.py'
    cfg.dump(str(config_path))
    Runner.from_cfg(cfg).train()
    return config_path, work_dir, work_dir / 'iter_2.pth'


def write_run(folder: Path, metrics: dict, timestamp: str = '20260101_000000',
              prefix: str = 'coco_panoptic/') -> Path:
    """A fake work dir whose scalars.json ends with one validation record (percent)."""
    vis = folder / timestamp / 'vis_data'
    vis.mkdir(parents=True)
    records = [{'loss': 1.0, 'step': 1},
               dict({f'{prefix}{k}': v for k, v in metrics.items()}, step=2)]
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))
    return folder


def fake_metrics(pq: float, confusion: dict) -> dict:
    metrics = dict(PQ=pq, PQ_th=pq - 10, PQ_st=pq + 10, Acc_th=pq - 5, Prec_th=pq + 5)
    metrics.update({f'confusion@{t}': v for t, v in confusion.items()})
    return metrics


@pytest.fixture(scope='module')
def merged_predictions(synthetic_root, tmp_path_factory):
    """Predictions = the val GT, except that two thing instances of the last image merge.

    Returns (GT json, prediction json, merged segment's (x1, y1, x2, y2) box).
    """
    gt_json = synthetic_root / 'annotations' / 'panoptic_val.json'
    gt = json.loads(gt_json.read_text())
    out = tmp_path_factory.mktemp('pred') / 'panoptic_pred'
    out.mkdir()
    annotations = []
    box = None
    for ann in reversed(gt['annotations']):
        ids = read_panoptic_png(str(synthetic_root / 'annotations' / 'panoptic_val' /
                                    ann['file_name']))
        segments = [dict(id=s['id'], category_id=s['category_id']) for s in ann['segments_info']]
        if box is None:
            # The two largest things of the most frequent thing class.
            things = [s for s in ann['segments_info']
                      if s['category_id'] in (24, 26, 27) and not s['iscrowd']]
            cats = [s['category_id'] for s in things]
            things = sorted((s for s in things if s['category_id'] == max(cats, key=cats.count)),
                            key=lambda s: -s['area'])
            keep, gone = things[0], things[1]
            ids[ids == gone['id']] = keep['id']
            segments = [s for s in segments if s['id'] != gone['id']]
            rows, cols = np.nonzero(ids == keep['id'])
            box = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
        rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536], -1).astype(np.uint8)
        cv2.imwrite(str(out / ann['file_name']), rgb[..., ::-1])
        annotations.append(dict(image_id=ann['image_id'], file_name=ann['file_name'],
                                segments_info=segments))
    pred_json = out.parent / 'panoptic_pred.json'
    pred_json.write_text(json.dumps(dict(annotations=annotations,
                                         categories=gt['categories'])))
    return gt_json, pred_json, box


def pure_red(img: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels drawn in the box colour (RGB 255, 0, 0)."""
    return (img[..., 0] >= 250) & (img[..., 1] <= 10) & (img[..., 2] <= 10)


def test_visualize_marks_exactly_the_confused_segments(tool, synthetic_root,
                                                       merged_predictions, tmp_path):
    gt_json, pred_json, (x1, y1, x2, y2) = merged_predictions
    vis = tool('analysis_tools/visualize_confusion')
    out = tmp_path / 'fig'
    summary = quiet(vis.main, [str(gt_json), '--img-dir', str(synthetic_root / 'images/val'),
                               '--panel', 'merged', str(pred_json), '--panel', 'exact',
                               str(gt_json), '--out-dir', str(out), '--threshold', '50'])
    pngs = sorted(out.glob('*.png'))
    assert [p.stem for p in pngs] == ['synth_val_00000', 'synth_val_00001']
    last = cv2.imread(str(pngs[1]))[..., ::-1]
    # Three panels (GT, merged, exact) stacked with 4-pixel gaps.
    assert last.shape == (3 * TINY_H + 2 * 4, TINY_W, 3)
    gt_panel, merged_panel, exact_panel = (last[k * (TINY_H + 4):k * (TINY_H + 4) + TINY_H]
                                           for k in range(3))
    assert not pure_red(gt_panel).any() and not pure_red(exact_panel).any()
    red = pure_red(merged_panel)
    ring = np.zeros_like(red)
    ring[max(y1 - 2, 0):y2 + 2, max(x1 - 2, 0):x2 + 2] = True
    ring[y1 + 2:y2 - 2, x1 + 2:x2 - 2] = False
    assert red[ring].mean() > 0.3 and not red[~ring].any()
    # The panels differ from the raw image (segments are drawn) and from each other.
    assert np.abs(merged_panel.astype(int) - exact_panel.astype(int)).sum() > 0
    written = json.loads((out / 'confusion.json').read_text())
    assert written['images'] == summary
    assert summary['synth_val_00001']['merged']['confused'] == 1
    assert summary['synth_val_00000']['merged']['confused'] == 0
    assert all(v['exact']['confused'] == 0 for v in summary.values())
    # The marked segments are those the metric counts: eval_panoptic.py's confusion@50.
    scores = quiet(tool('analysis_tools/eval_panoptic').main, [str(gt_json), str(pred_json)])
    confused = sum(v['merged']['confused'] for v in summary.values())
    things = sum(v['merged']['things'] for v in summary.values())
    assert confused / things == pytest.approx(scores['confusion'][50], abs=1e-12)


def test_visualize_keeps_the_most_confused_images(tool, synthetic_root,
                                                  merged_predictions, tmp_path):
    gt_json, pred_json, _ = merged_predictions
    summary = quiet(tool('analysis_tools/visualize_confusion').main, [
        str(gt_json), '--img-dir', str(synthetic_root / 'images/val'), '--panel', 'exact',
        str(gt_json), '--panel', 'merged', str(pred_json), '--out-dir', str(tmp_path),
        '--no-gt', '--order', 'confused', '--max-images', '1'])
    # Ranked by the first panel only (no confusion anywhere): the first image by id is kept.
    assert list(summary) == ['synth_val_00000']
    assert [p.name for p in tmp_path.glob('*.png')] == ['synth_val_00000.png']
    assert summary['synth_val_00000']['merged']['confused'] == 0
    summary = quiet(tool('analysis_tools/visualize_confusion').main, [
        str(gt_json), '--img-dir', str(synthetic_root / 'images/val'), '--panel', 'merged',
        str(pred_json), '--out-dir', str(tmp_path / 'b'), '--no-gt', '--order', 'confused',
        '--max-images', '1'])
    # Ranked by 'merged': the last image, which holds its confused segment, comes first.
    assert list(summary) == ['synth_val_00001']
    assert summary['synth_val_00001']['merged']['confused'] == 1


def test_visualize_model_panels_side_by_side(tool, run_metrics, synthetic_root, trained,
                                             tmp_path):
    config, work_dir, checkpoint = trained
    vis = tool('analysis_tools/visualize_confusion')
    out = tmp_path / 'fig'
    summary = quiet(vis.main, [
        str(synthetic_root / 'annotations/panoptic_val.json'), '--img-dir',
        str(synthetic_root / 'images/val'), '--panel', 'A', str(config), str(checkpoint),
        '--panel', 'B', str(config), str(checkpoint), '--out-dir', str(out), '--no-gt',
        '--layout', 'columns', '--order', 'confused'])
    pngs = sorted(out.glob('*.png'))
    assert len(pngs) == len(summary) == 2
    counts = [v['A']['confused'] for v in summary.values()]
    assert counts == sorted(counts, reverse=True)  # most confused first
    for png in pngs:
        img = cv2.imread(str(png))
        assert img.shape == (TINY_H, 2 * TINY_W + 4, 3)
        left, right = img[:, :TINY_W], img[:, TINY_W + 4:]
        title_rows = 30  # the panels differ only in their titles ('A: ...', 'B: ...')
        np.testing.assert_array_equal(left[title_rows:], right[title_rows:])
        assert (left[:title_rows] != right[:title_rows]).any()
        assert (img[:, TINY_W:TINY_W + 4] == 255).all()
    # Inference through the tool gives the predictions the training's validation scored: the
    # same confusion@50 over the val set (nan when no thing is predicted).
    assert all(v['A'] == v['B'] for v in summary.values())
    confused = sum(v['A']['confused'] for v in summary.values())
    things = sum(v['A']['things'] for v in summary.values())
    logged = run_metrics.load_run_metrics(str(work_dir))['confusion@50']
    if things == 0:
        assert math.isnan(logged)
    else:
        assert 100 * confused / things == pytest.approx(logged, abs=1e-9)


def test_visualize_rejects_a_bad_panel(tool, synthetic_root, tmp_path):
    vis = tool('analysis_tools/visualize_confusion')
    gt_json = str(synthetic_root / 'annotations/panoptic_val.json')
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
        vis.main([gt_json, '--img-dir', '.', '--panel', 'x', 'config.py', '--out-dir', '.'])
    with pytest.raises(FileNotFoundError, match='prediction .*missing.json'):
        vis.main([gt_json, '--img-dir', '.', '--panel', 'x', str(tmp_path / 'missing.json'),
                  '--out-dir', str(tmp_path)])


def test_results_table_means_spreads_and_deltas(tool, trained, tmp_path):
    _, work_dir, _ = trained
    a0 = write_run(tmp_path / 'a0', fake_metrics(60.0, {50: 40.0}))
    a1 = write_run(tmp_path / 'a1', fake_metrics(62.0, {50: 30.0}))
    b0 = write_run(tmp_path / 'b0', fake_metrics(65.0, {50: 20.0}))
    out = tmp_path / 'table.md'
    table = quiet(tool('analysis_tools/results_table').main,
                  [f'crop={a0},{a1}', f'IBS={b0}', f'tiny={work_dir}', '--baseline', 'crop',
                   '--out', str(out)])
    assert out.read_text() == table
    lines = table.splitlines()
    assert lines[0] == ('| setting | n | PQ | PQ^th | PQ^st | Acc^th | Prec^th | '
                        'confusion@50 ↓ |')
    # mean 61.0, sample std sqrt(2) = 1.414; confusion 35.0 +- 7.1
    assert lines[2] == ('| crop | 2 | 61.0 ± 1.4 | 51.0 ± 1.4 | 71.0 ± 1.4 | 56.0 ± 1.4 | '
                        '66.0 ± 1.4 | 35.0 ± 7.1 |')
    assert lines[3] == ('| IBS | 1 | 65.0 (+4.0) | 55.0 (+4.0) | 75.0 (+4.0) | 60.0 (+4.0) | '
                        '70.0 (+4.0) | 20.0 (-15.0) |')
    # The real run's row holds its logged validation PQ.
    records = [json.loads(line) for p in work_dir.glob('*/vis_data/scalars.json')
               for line in p.read_text().splitlines()]
    pq = [r['coco_panoptic/PQ'] for r in records if 'coco_panoptic/PQ' in r][-1]
    assert lines[4].startswith(f'| tiny | 1 | {pq:.1f} ({pq - 61.0:+.1f}) |')


def test_results_table_paired_cis_and_summary_json(tool, tmp_path):
    from scipy.stats import ttest_rel
    crop_pq, ibs_pq = [60.0, 62.0, 61.0], [63.0, 66.0, 62.0]
    crop = [write_run(tmp_path / f'c{i}', fake_metrics(pq, {50: 40.0 + i}))
            for i, pq in enumerate(crop_pq)]
    ibs = [write_run(tmp_path / f'i{i}', fake_metrics(pq, {50: 30.0 - 2 * i}))
           for i, pq in enumerate(ibs_pq)]
    summary_path = tmp_path / 'summary.json'
    table = quiet(tool('analysis_tools/results_table').main,
                  ['crop=' + ','.join(map(str, crop)), 'ibs=' + ','.join(map(str, ibs)),
                   '--baseline', 'crop', '--ci', '--metrics', 'PQ', 'confusion@50',
                   '--summary-json', str(summary_path)])
    # The reference: scipy's paired t-test interval of the same differences.
    ref = ttest_rel(ibs_pq, crop_pq).confidence_interval(0.95)
    summary = json.loads(summary_path.read_text())
    assert summary['n_seeds'] == 3
    assert summary['settings']['crop']['pq'] == pytest.approx(61.0)
    assert summary['settings']['ibs']['confusion@50'] == pytest.approx(28.0)
    pq = summary['vs_crop']['ibs']['pq']
    assert pq['diff'] == pytest.approx(8 / 3)
    assert pq['ci95'] == pytest.approx([ref.low, ref.high])
    # confusion: differences -10, -13, -16
    ref = ttest_rel([30.0, 28.0, 26.0], [40.0, 41.0, 42.0]).confidence_interval(0.95)
    assert summary['vs_crop']['ibs']['confusion@50']['ci95'] == pytest.approx(
        [ref.low, ref.high])
    assert 'crop' not in summary['vs_crop']
    row = table.splitlines()[3]
    assert row.startswith(f'| ibs | 3 | 63.7 ± 2.1 (+2.7 [{pq["ci95"][0]:+.1f}, '
                          f'{pq["ci95"][1]:+.1f}]) |')
    with pytest.raises(SystemExit, match=r"--ci pairs runs by seed: \['short'\]"):
        tool('analysis_tools/results_table').main(
            ['crop=' + ','.join(map(str, crop)), f'short={ibs[0]}', '--baseline', 'crop',
             '--ci', '--metrics', 'PQ'])
    with pytest.raises(SystemExit, match='--summary-json needs --baseline'):
        tool('analysis_tools/results_table').main(
            [f'crop={crop[0]}', '--metrics', 'PQ', '--summary-json', str(summary_path)])


def test_ibs_diagnostics_first_middle_last_and_resumed_runs(tool, tmp_path):
    diagnostics = tool('analysis_tools/ibs_diagnostics')
    run = tmp_path / 'ibs'

    def log(timestamp, iters, confused):
        vis = run / timestamp / 'vis_data'
        vis.mkdir(parents=True)
        records = [dict(loss=1.0, loss_ibs=0.1 * i, loss_dice=3.0 - 0.01 * i, ibs_confused=c,
                        iter=i) for i, c in zip(iters, confused)]
        records.append({'coco_panoptic/PQ': 50.0, 'step': iters[-1]})  # validation: ignored
        (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))

    log('20260101_000000', [20, 40, 60], [0.5, 0.9, 0.9])
    # Resumed from iteration 40: iteration 60 is logged again, the later record wins.
    log('20260101_010000', [60, 80, 100], [0.4, 0.3, 0.2])
    table = quiet(diagnostics.main, [str(run), '--out', str(tmp_path / 'd.md')])
    assert (tmp_path / 'd.md').read_text() == table
    row = table.splitlines()[2]
    # iterations 20, 40, 60, 80, 100: first 20, middle 60 (the resumed record), last 100
    assert row == (f'| {run} | 20 / 60 / 100 | 0.500 → 0.400 → 0.200 | 2.000 → 6.000 → 10.000'
                   ' | 2.800 → 2.400 → 2.000 |')
    write_run(tmp_path / 'crop', fake_metrics(60.0, {50: 40.0}))
    with pytest.raises(SystemExit, match='crop: no training record with ibs_confused'):
        diagnostics.main([str(tmp_path / 'crop')])


def test_ibs_diagnostics_reads_panoptic_fcn_keys(tool, tmp_path):
    """Panoptic FCN logs ibs_confused_th / loss_ibs_th / loss_seg_th (its thing masks)."""
    vis = tmp_path / 'pfcn' / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    records = [dict(loss=1.0, loss_ibs_th=0.5 * i, loss_seg_th=2.0 - 0.1 * i,
                    ibs_confused_th=0.1 * i, iter=i) for i in (1, 2, 3)]
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))
    row = quiet(tool('analysis_tools/ibs_diagnostics').main, [str(tmp_path / 'pfcn')])
    assert row.splitlines()[2] == (f'| {tmp_path / "pfcn"} | 1 / 2 / 3 | 0.100 → 0.200 → 0.300 '
                                   '| 0.500 → 1.000 → 1.500 | 1.900 → 1.800 → 1.700 |')


def test_protocol_report_pairs_over_the_common_seeds(tool, tmp_path):
    from scipy.stats import ttest_rel
    runs = tmp_path / 'runs'
    pq = {'crop': [60.0, 62.0, 61.0], 'ibs_class_paired': [63.0, 66.0, 62.0],
          'full_image': [64.0, 63.0], 'crop_d0': [58.0, 59.0, 57.0],
          'ibs_class_paired_d0': [57.0, 60.0, 57.5]}
    for name, values in pq.items():
        for seed, value in enumerate(values):
            (write_run(runs / f'{name}_seed{seed}', fake_metrics(value, {30: 9, 50: 8, 70: 7}))
             / 'done').touch()
    (runs / 'ibs_class_paired_seed3').mkdir()  # unfinished (no done): left out
    out = tmp_path / 'report'
    quiet(tool('analysis_tools/protocol_report').main,
          [str(runs), '--seeds', '0', '1', '2', '3', '--settings', 'crop', 'ibs_class_paired',
           'full_image', '--ablation', 'crop_d0', 'ibs_class_paired_d0', '--out-dir', str(out)])
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['n_seeds'] == 3
    assert set(summary['settings']) == set(pq)
    assert summary['settings']['full_image']['pq'] == pytest.approx(63.5)
    ibs = summary['vs_crop']['ibs_class_paired']
    ref = ttest_rel(pq['ibs_class_paired'], pq['crop']).confidence_interval(0.95)
    assert ibs['n_pairs'] == 3 and ibs['pq']['ci95'] == pytest.approx([ref.low, ref.high])
    # full_image finished seeds 0 and 1 only: paired with crop's seeds 0 and 1.
    full = summary['vs_crop']['full_image']
    ref = ttest_rel(pq['full_image'], pq['crop'][:2]).confidence_interval(0.95)
    assert full['n_pairs'] == 2 and full['pq']['diff'] == pytest.approx(2.5)
    assert full['pq']['ci95'] == pytest.approx([ref.low, ref.high])
    assert set(full) == {'n_pairs', 'pq', 'pq_th', 'pq_st', 'acc_th', 'prec_th',
                         'confusion@30', 'confusion@50', 'confusion@70'}
    d0 = summary['vs_crop_d0']['ibs_class_paired_d0']['pq']
    assert d0['diff'] == pytest.approx(0.5 / 3) and 'crop_d0' not in summary['vs_crop']
    table = (out / 'table.md').read_text().splitlines()
    assert table[4].startswith('| full_image | 2 | 63.5 ± 0.7 (+2.5 [')
    assert (out / 'table_ablation_d0.md').read_text().splitlines()[2].startswith('| crop_d0 | 3 |')


def test_results_table_errors_name_the_run(tool, tmp_path):
    tool = tool('analysis_tools/results_table')
    run = write_run(tmp_path / 'r', dict(PQ=1.0))
    with pytest.raises(SystemExit, match=r'r: no metric\(s\) \[.PQ_th'):
        tool.main([f'x={run}'])
    with pytest.raises(SystemExit, match='empty: no panoptic metrics'):
        (tmp_path / 'empty').mkdir()
        tool.main([f'x={tmp_path / "empty"}'])
    with pytest.raises(SystemExit, match="--baseline 'y' is not one of"):
        tool.main([f'x={run}', '--baseline', 'y', '--metrics', 'PQ'])


@pytest.fixture(scope='module')
def run_metrics(tool):
    """tools/analysis_tools/run_metrics.py (the run readers of the tables and curves)."""
    return tool('analysis_tools/run_metrics')


def test_eval_json_and_setting_specs(run_metrics, tmp_path):
    path = tmp_path / 'scores.json'
    path.write_text(json.dumps({
        'All': dict(pq=0.5, sq=0.75, rq=0.25, n=8), 'Things': dict(pq=0.4, sq=0.5, rq=0.8, n=3),
        'Stuff': dict(pq=None, sq=0.1, rq=0.2, n=0), 'acc_th': 0.625, 'prec_th': 0.125,
        'confusion': {'10': 0.5, '50': 0.25}, 'confusion_same_class': {'50': 0.125}}))
    metrics = run_metrics.load_run_metrics(str(path))
    assert metrics['PQ'] == 50.0 and metrics['PQ_th'] == 40.0 and math.isnan(metrics['PQ_st'])
    assert metrics['Acc_th'] == 62.5 and metrics['Prec_th'] == 12.5
    assert metrics['confusion@10'] == 50.0 and metrics['confusion@50'] == 25.0
    assert metrics['confusion_same@50'] == 12.5
    assert run_metrics.parse_setting('a b=x,y').paths == ['x', 'y']
    assert run_metrics.parse_setting('work_dirs/run1/').label == 'run1'
    with pytest.raises(ValueError, match='LABEL=PATH'):
        run_metrics.parse_setting('a=x,,y')
    with pytest.raises(run_metrics.RunMetricsError, match='nowhere: no such'):
        run_metrics.load_run_metrics(str(tmp_path / 'nowhere'))


def test_confusion_curve_png_and_plotted_values(tool, trained, tmp_path):
    _, work_dir, _ = trained
    a0 = write_run(tmp_path / 'a0', fake_metrics(60.0, {10: 80.0, 50: 40.0, 90: 5.0}))
    a1 = write_run(tmp_path / 'a1', fake_metrics(62.0, {10: 60.0, 50: 30.0, 90: 0.0}))
    out = tmp_path / 'plots' / 'curve.png'
    data = quiet(tool('analysis_tools/plot_confusion_curve').main,
                 [f'crop={a0},{a1}', f'tiny={work_dir}', '--out', str(out), '--size', '4', '3',
                  '--dpi', '50'])
    img = cv2.imread(str(out))
    assert img.shape == (150, 200, 3)
    assert (img != 255).any(axis=2).mean() > 0.05  # axes, lines and text are drawn
    assert data['crop'] == dict(thresholds=[10.0, 50.0, 90.0], mean=[70.0, 35.0, 2.5],
                                min=[60.0, 30.0, 0.0], max=[80.0, 40.0, 5.0], runs=2)
    assert data['tiny']['thresholds'] == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]
    assert json.loads(out.with_suffix('.json').read_text()) == json.loads(json.dumps(data))


def test_confusion_curve_rejects_runs_without_curves(tool, tmp_path):
    run = write_run(tmp_path / 'r', dict(PQ=1.0))
    with pytest.raises(SystemExit, match='r: no confusion@T'):
        tool('analysis_tools/plot_confusion_curve').main(
            [f'x={run}', '--out', str(tmp_path / 'c.png')])


def test_derive_config_scales_every_pixel_size(repo_root, tool):
    derive_config = tool('experiment_config').derive_config
    from mmengine.config import Config
    cfg = derive_config(Config.fromfile(str(repo_root / CLASS_PAIRED)), scale=0.5, max_iters=40,
                        seed=3, data_root='data/x', num_workers=0)
    crop = next(s for s in cfg.train_dataloader.dataset.pipeline if s.type == 'ClassPairedCrop')
    assert tuple(crop.crop_size) == (256, 128)  # (w, h) of 256x512 halved
    assert (crop.min_short_side, crop.max_short_side, crop.max_long_side) == (128, 774, 1548)
    assert tuple(crop.stuff_resize.scale) == (512, 256)
    assert tuple(cfg.train_dataloader.batch_sampler.scale_options) == (8, 16, 32, 64, 128)
    assert tuple(cfg.model.data_preprocessor.batch_augments[0].size) == (128, 256)
    resize = next(s for s in cfg.test_dataloader.dataset.pipeline if s.type == 'Resize')
    assert tuple(resize.scale) == (512, 256)
    assert cfg.train_cfg.max_iters == cfg.train_cfg.val_interval == cfg.param_scheduler.end == 40
    assert cfg.randomness.seed == 3 and cfg.train_dataloader.num_workers == 0
    assert cfg.val_dataloader.dataset.data_root == 'data/x/'
    assert cfg.val_evaluator.seg_prefix == 'data/x/annotations/panoptic_val/'
    with pytest.raises(ValueError, match='scale must be'):
        derive_config(cfg, scale=0)


def test_derive_config_scales_panoptic_fcn_pixel_sizes(repo_root, tool):
    """Panoptic FCN's level assignment (box side lengths) and stuff area limit (an area) are
    pixel sizes too: at half size an instance must go to the same level as at full size."""
    from mmengine.config import Config
    cfg = tool('experiment_config').derive_config(Config.fromfile(str(repo_root / PFCN)),
                                                  scale=0.5)
    scales = cfg.model.panoptic_head.target_generator.instance_scales
    assert [tuple(s) for s in scales] == [(0.5, 32), (16, 64), (32, 128), (64, 256), (128, 512)]
    assert cfg.model.test_cfg.stuff_area_limit == 128  # 512 px x 0.5^2


def test_reproduction_script_dry_run(repo_root, tmp_path):
    """The protocol's plan: 6 settings x seeds, derived configs with the same budget and seed;
    the diversity-0 settings train on their own data root."""
    import subprocess
    script = repo_root / 'tools' / 'reproduce_synthetic.sh'
    proc = subprocess.run(['bash', str(script), '--dry-run', '--seeds', '0 1', '--iters', '7',
                           '--out', str(tmp_path / 'rep')], cwd=repo_root, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    configs = sorted((tmp_path / 'rep' / 'runs').glob('*/config.py'))
    names = [p.parent.name for p in configs]
    settings = ['crop', 'crop_d0', 'full_image', 'ibs_class_paired', 'ibs_class_paired_d0',
                'ibs_random']
    assert names == sorted(f'{s}_seed{seed}' for s in settings for seed in (0, 1))
    from mmengine.config import Config
    for path in configs:
        cfg = Config.fromfile(str(path))
        assert cfg.train_cfg.max_iters == 7 and cfg.train_dataloader.batch_size == 4
        assert cfg.randomness.seed == int(path.parent.name[-1])
        root = cfg.train_dataloader.dataset.data_root
        assert root == 'data/synthetic-v2-256x512-t100-v20' + (
            '-d0/' if '_d0_' in path.parent.name else '/')
        assert cfg.val_evaluator.seg_prefix == root + 'annotations/panoptic_val/'
    # Panoptic FCN's protocol: its three settings, the model's pixel sizes scaled as well
    proc = subprocess.run(['bash', str(script), '--model', 'panoptic_fcn', '--dry-run',
                           '--seeds', '0', '--iters', '7', '--out', str(tmp_path / 'pfcn')],
                          cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = sorted(p.name for p in (tmp_path / 'pfcn' / 'runs').iterdir())
    assert runs == ['crop_seed0', 'ibs_class_paired_seed0', 'ibs_random_seed0']
    cfg = Config.fromfile(str(tmp_path / 'pfcn' / 'runs' / 'ibs_random_seed0' / 'config.py'))
    assert cfg.model.type == 'PanopticFCN' and cfg.model.panoptic_head.ibs.pairing == 'random'
    assert cfg.model.test_cfg.stuff_area_limit == 128 and cfg.train_cfg.max_iters == 7
    proc = subprocess.run(['bash', str(script), '--dry-run', '--settings', 'crop nonsense'],
                          cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and 'unknown setting nonsense' in proc.stderr
    shutil.rmtree(tmp_path / 'rep')


def test_reproduction_script_prints_training_progress(repo_root, tmp_path):
    """Each training run reports its logged iteration and ETA every PROGRESS_S seconds (the
    console otherwise only says when a run starts and ends); tools/train.py is replaced by a
    stand-in that logs as mmengine does, everything else runs for real on 3 tiny images."""
    import subprocess
    fake = tmp_path / 'python'
    fake.write_text(f"""#!/usr/bin/env bash
if [[ $1 == tools/train.py ]]; then
  for it in 20 40 60; do
    echo "mmengine - INFO - Iter(train) [  $it/60]  eta: 0:00:0$(( 6 - it / 20 ))  loss: 1"
    sleep 1.5
  done
  exit 0
fi
exec {sys.executable} "$@"
""")
    fake.chmod(0o755)
    proc = subprocess.run(
        ['bash', 'tools/reproduce_synthetic.sh', '--settings', 'crop', '--seeds', '0',
         '--iters', '60', '--scale', '0.125', '--num-train', '2', '--num-val', '1',
         '--no-report', '--out', str(tmp_path / 'rep'), '--data-dir', str(tmp_path / 'data')],
        cwd=repo_root, capture_output=True,
        text=True, timeout=300, env=dict(os.environ, PYTHON=str(fake), PROGRESS_S='1'))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    progress = re.findall(r'crop_seed0: iteration (\d+)/60, eta (0:00:0\d)', proc.stdout)
    assert progress and progress[-1] == ('60', '0:00:03'), proc.stdout
    assert 'crop_seed0: finished in' in proc.stdout
    shutil.rmtree(tmp_path / 'rep')


def test_runs_logged_under_the_earlier_prefix_still_load(run_metrics, tmp_path):
    """Work dirs from before the metric took mmdet's coco_panoptic/ prefix (panoptic/PQ ...)."""
    metrics = fake_metrics(50.0, {50: 12.5})
    old = run_metrics.load_run_metrics(str(write_run(tmp_path / 'old', metrics,
                                                     prefix='panoptic/')))
    assert old == run_metrics.load_run_metrics(str(write_run(tmp_path / 'new', metrics)))
    assert old == metrics


def test_class_mix_counts_repeats_per_order(tool):
    """8 classes, 1 GPU x 2 pairs: a permutation never repeats a class within an iteration
    (2 divides 8), independent draws do (1/8 of the time)."""
    rows = quiet(tool('analysis_tools/class_mix').main,
                 ['--classes', '8', '--pairs-per-gpu', '2', '--iters', '400'])
    by_order = {r['class_order']: r for r in rows}
    assert by_order['permutation']['repeat'] == 0 and by_order['permutation']['distinct'] == 2
    assert 0.06 < by_order['independent']['repeat'] < 0.2


def test_ibs_targets_script_dry_run(repo_root, tmp_path):
    """The all-pairs / global comparison's plan: its 3 new settings x seeds on the main
    protocol's data and budget; 1 x 4 crops or 2 x 2 crops, the pairing and scope of each."""
    import subprocess
    script = repo_root / 'tools' / 'reproduce_ibs_targets.sh'
    proc = subprocess.run(['bash', str(script), '--dry-run', '--seeds', '0 1', '--out',
                           str(tmp_path / 'rep')], cwd=repo_root, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from mmengine.config import Config
    expected = dict(ibs_all_pairs=(4, 'all', 'local'), ibs_partner_2x2=(2, 'partner', 'local'),
                    ibs_global_2x2=(2, 'all', 'global'))
    configs = sorted((tmp_path / 'rep' / 'runs').glob('*/config.py'))
    assert sorted(p.parent.name for p in configs) == sorted(
        f'{s}_seed{seed}' for s in expected for seed in (0, 1))
    for path in configs:
        cfg = Config.fromfile(str(path))
        batch, pairing, scope = expected[path.parent.name.rsplit('_seed', 1)[0]]
        ibs = cfg.model.panoptic_head.ibs
        assert (cfg.train_dataloader.batch_size, ibs.pairing, ibs.get('scope', 'local')) == (
            batch, pairing, scope)
        assert cfg.train_dataloader.batch_sampler.type == 'ClassPairedBatchSampler'
        assert cfg.train_cfg.max_iters == 600 and cfg.randomness.seed == int(path.parent.name[-1])
        assert cfg.train_dataloader.dataset.data_root == 'data/synthetic-v2-256x512-t100-v20/'
    proc = subprocess.run(['bash', str(script), '--dry-run', '--settings', 'nonsense'],
                          cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and 'unknown setting nonsense' in proc.stderr


def test_every_cli_help_shows_an_example(repo_root):
    """Every command-line tool under tools/ ends its --help with one or two examples."""
    import runpy
    import sys
    clis = sorted(p for p in (repo_root / 'tools').rglob('*.py')
                  if 'ArgumentParser(' in p.read_text() and p.name != 'runner_cli.py')
    assert len(clis) >= 14
    missing = []
    for path in clis:
        out = io.StringIO()
        argv, sys.argv = sys.argv, [str(path), '--help']
        sys.path.insert(0, str(path.parent))
        try:
            with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
                runpy.run_path(str(path), run_name='__main__')
        finally:
            sys.argv = argv
            sys.path.remove(str(path.parent))
        if 'example' not in out.getvalue().lower() or 'python' not in out.getvalue():
            missing.append(str(path.relative_to(repo_root)))
    assert not missing, f'--help without an example: {missing}'
