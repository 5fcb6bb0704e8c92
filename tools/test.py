"""Evaluate a checkpoint with the test split and evaluator of its config.

Examples::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --out work_dirs/x/results.pkl
    python tools/test.py CONFIG CHECKPOINT --show-dir vis   # painted predictions: WORK_DIR/*/vis
    python tools/test.py CONFIG CHECKPOINT --show-dir vis --show-confusion 50  # Figure-6 style
    python tools/test.py CONFIG CHECKPOINT --out-dir preds  # + preds/results.panoptic.json
    python tools/analysis_tools/eval_panoptic.py GT_JSON preds/results.panoptic.json
    bash tools/dist_test.sh CONFIG CHECKPOINT 2
"""
import argparse
import os.path as osp

from mmdet.evaluation import DumpDetResults
from runner_cli import build_runner, load_config, parse_common_args  # this folder

from mmibs.utils import teardown_distributed


def parse_args() -> argparse.Namespace:
    """Parse the command line (same options as mmdet's ``tools/test.py``)."""
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a panoptic model',
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump predictions to this pickle file')
    parser.add_argument('--out-dir',
                        help='also write the predictions in COCO panoptic format, with the '
                        "category and image ids of the test dataset's ann_file: "
                        'OUT_DIR/results.panoptic.json and OUT_DIR/results.panoptic/*.png '
                        '(for eval_panoptic.py; add --cfg-options test_evaluator.format_only=True '
                        'to write them without scoring, e.g. for a test split without GT)')
    parser.add_argument('--show', action='store_true',
                        help='show the predictions in a window (mmdet: DetVisualizationHook)')
    parser.add_argument('--show-dir',
                        help="folder, relative to the run's timestamped work dir, to save the "
                        'images with the predictions painted on them')
    parser.add_argument('--show-confusion', type=float, nargs='?', const=50.0, metavar='T',
                        help='with --show / --show-dir: draw GT | prediction with one colour per '
                        'segment and red boxes on the predicted things confused at T %% '
                        "(ConfusionVisualizer, the paper's Figure 6; default T 50) instead of "
                        "mmdet's per-class colours")
    parser.add_argument('--wait-time', type=float, default=2,
                        help='seconds each image is shown with --show (default 2)')
    return parse_common_args(parser)


def trigger_visualization_hook(cfg, args: argparse.Namespace) -> None:
    """mmdet's ``--show`` / ``--show-dir``: switch the config's ``DetVisualizationHook`` on, and
    draw with :class:`mmibs.visualization.PanopticLocalVisualizer` instead of mmdet's
    ``DetLocalVisualizer`` (the same drawing, but an all-void prediction does not crash it).

    Raises:
        KeyError: the config has no ``default_hooks.visualization``.
    """
    hooks = cfg.get('default_hooks') or {}
    if 'visualization' not in hooks:
        raise KeyError(f'{args.config}: --show / --show-dir need default_hooks.visualization '
                       "(e.g. dict(type='DetVisualizationHook'), as mmdet's default_runtime.py)")
    hook = hooks['visualization']
    hook['draw'] = True
    visualizer = cfg.get('visualizer') or {}
    if args.show_confusion is not None:
        visualizer.update(type='ConfusionVisualizer', threshold=args.show_confusion)
        visualizer.pop('_scope_', None)
    elif visualizer.get('type') == 'DetLocalVisualizer':  # mmdet's fails on all-void maps
        visualizer['type'] = 'PanopticLocalVisualizer'
        visualizer.pop('_scope_', None)
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        hook['test_out_dir'] = args.show_dir


def export_predictions(cfg, args: argparse.Namespace) -> None:
    """``--out-dir``: make every ``PanopticPixelMetric`` of ``test_evaluator`` write its
    predictions to ``OUT_DIR/results`` (``outfile_prefix``), with the category ids of the test
    dataset's ``ann_file`` (set as the metric's ``ann_file`` where it has none).

    Raises:
        ValueError: ``test_evaluator`` has no ``PanopticPixelMetric`` (mmdet's
            ``CocoPanopticMetric`` numbers the categories in JSON order, which is wrong for a
            stuff-first JSON), or the test dataset has no ``ann_file``.
    """
    evaluator = cfg.test_evaluator
    metrics = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    ours = [m for m in metrics if str(m.get('type')).split('.')[-1] == 'PanopticPixelMetric']
    if not ours:
        raise ValueError(
            f'{args.config}: --out-dir needs a PanopticPixelMetric in test_evaluator, got '
            f"{[m.get('type') for m in metrics]} (mmdet's CocoPanopticMetric export numbers the "
            'categories in JSON order; PanopticPixelMetric takes the same arguments)')
    dataset = cfg.test_dataloader.dataset
    if not dataset.get('ann_file'):
        raise ValueError(f'{args.config}: --out-dir needs test_dataloader.dataset.ann_file '
                         '(the COCO panoptic JSON whose category ids the predictions use)')
    ann_file = osp.join(dataset.get('data_root') or '', dataset.ann_file)
    for metric in ours:
        metric['outfile_prefix'] = osp.join(args.out_dir, 'results')
        metric.setdefault('ann_file', ann_file)


def main() -> None:
    """Build the Runner, load the checkpoint and run the test loop."""
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not exist')
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out {args.out!r}: the output file must be a .pkl file')
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.show_confusion is not None and not (args.show or args.show_dir):
        raise ValueError('--show-confusion draws with --show or --show-dir; give one of them')
    if args.show or args.show_dir:
        trigger_visualization_hook(cfg, args)
    if args.out_dir:
        export_predictions(cfg, args)

    runner = build_runner(cfg)
    if args.out is not None:
        runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=args.out))
    runner.test()
    teardown_distributed()


if __name__ == '__main__':
    main()
