"""PanopticFCNFusionHead: hand-built masks give the exact id map; stuff-branch
modes; no stuff / nothing surviving; batch of images with their own shapes; the output feeds
PanopticPixelMetric and mmdet's DetLocalVisualizer."""
import copy

import numpy as np
import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.visualization import DetLocalVisualizer
from mmengine.config import Config, ConfigDict
from panopticapi.utils import id2rgb
from PIL import Image

from mmibs.evaluation import PanopticPixelMetric

NUM_THINGS, NUM_STUFF = 3, 5
VOID = NUM_THINGS + NUM_STUFF
H4, W4 = 16, 32        # stride-4 size of a 64x128 input
STRIDE_META = dict(img_shape=(64, 128), ori_shape=(64, 128))


def build_head(stuff_branch: str = 'with_thing', **cfg):
    # inst_score_thr 0.25 (0.2 in the configs) is exact in float32: the gate's >= is tested.
    test_cfg = dict(mask_thr=0.5, overlap_thr=0.5, stuff_area_limit=2048, inst_score_thr=0.25,
                    stuff_branch=stuff_branch)
    test_cfg.update(cfg)
    return MODELS.build(dict(type='PanopticFCNFusionHead', num_things_classes=NUM_THINGS,
                             num_stuff_classes=NUM_STUFF, test_cfg=ConfigDict(test_cfg)))


def block(rows: slice, cols: slice, inside: float = 0.9, outside: float = 0.1) -> torch.Tensor:
    """A (H4, W4) probability map: ``inside`` on the block, ``outside`` elsewhere."""
    probs = torch.full((H4, W4), outside)
    probs[rows, cols] = inside
    return probs


def kernel_result(things, stuff) -> dict:
    """things [(label, score, probs)], stuff [(channel, probs)] -> predict_kernels_single dict."""
    return dict(
        thing_probs=torch.stack([t[2] for t in things]) if things else torch.zeros(0, H4, W4),
        thing_scores=torch.tensor([t[1] for t in things]),
        thing_labels=torch.tensor([t[0] for t in things], dtype=torch.long),
        stuff_probs=torch.stack([s[1] for s in stuff]) if stuff else torch.zeros(0, H4, W4),
        stuff_scores=torch.full((len(stuff),), 0.5),
        stuff_labels=torch.tensor([s[0] for s in stuff], dtype=torch.long))


def up4(grid: np.ndarray) -> np.ndarray:
    """Stride-4 grid -> full resolution. Full-width or full-height bands of 0.9 on 0.1,
    upsampled bilinearly x4 and thresholded at 0.5 (or argmaxed against each other), give
    exactly the 4x4-replicated bands; block corners would be rounded off."""
    return grid.repeat(4, axis=0).repeat(4, axis=1)


ALL = slice(None)


def hand_case():
    """Things and with_thing stuff channels as bands of the stride-4 grid; expected map below."""
    things = [
        (1, 0.9, block(ALL, slice(0, 8))),          # T1: painted, id 1
        (1, 0.8, block(ALL, slice(5, 10))),         # T2: 3/5 = 0.6 already painted: skip
        (0, 0.7, block(ALL, slice(6, 10))),         # T3: 2/4 = 0.5 painted: kept, id 2
        (0, 0.6, torch.full((H4, W4), 0.3)),        # T4: empty mask: skip
        (2, 0.25, block(slice(8, 16), ALL)),        # T5: score = gate, 10/32 painted: kept, id 3
        (2, 0.24, block(slice(0, 2), ALL)),         # T6: score below the gate: skip
    ]
    stuff = [
        (0, block(ALL, slice(10, 12))),    # the "things" channel: never painted
        (1, block(ALL, slice(12, 28))),    # label 3: 16 x 8 unpainted cells = 2048 px: painted
        (2, block(ALL, slice(28, 32))),    # label 4: 512 px: VOID
        (3, block(ALL, slice(0, 10))),     # label 5: all under things
    ]
    grid = np.full((H4, W4), VOID, np.int64)
    grid[:, 0:8] = 1 + 1 * INSTANCE_OFFSET
    grid[:, 8:10] = 0 + 2 * INSTANCE_OFFSET
    grid[8:16, 10:32] = 2 + 3 * INSTANCE_OFFSET
    grid[0:8, 12:28] = 3
    return things, stuff, up4(grid)


def test_hand_built_case_gives_the_exact_id_map():
    things, stuff, expected = hand_case()
    (pan,) = build_head().predict([kernel_result(things, stuff)], [STRIDE_META])
    assert pan.sem_seg.shape == (1, 64, 128) and pan.sem_seg.dtype == torch.int32
    np.testing.assert_array_equal(pan.sem_seg[0].numpy(), expected)
    # mmdet's decoding: label = id % INSTANCE_OFFSET, instance = id // INSTANCE_OFFSET.
    ids = np.unique(expected)
    assert sorted((ids % INSTANCE_OFFSET).tolist()) == [0, 1, 2, 3, VOID]
    assert sorted((ids // INSTANCE_OFFSET).tolist()) == [0, 0, 1, 2, 3]


def test_stuff_area_limit_is_inclusive():
    things, stuff, expected = hand_case()
    (pan,) = build_head(stuff_area_limit=2049).predict([kernel_result(things, stuff)],
                                                       [STRIDE_META])
    expected[expected == NUM_THINGS] = VOID  # the 2048-px stuff region now falls short
    np.testing.assert_array_equal(pan.sem_seg[0].numpy(), expected)


def test_things_are_painted_in_score_order_whatever_the_input_order():
    things, stuff, expected = hand_case()
    shuffled = [things[i] for i in (4, 2, 0, 5, 1, 3)]
    (pan,) = build_head().predict([kernel_result(shuffled, stuff)], [STRIDE_META])
    np.testing.assert_array_equal(pan.sem_seg[0].numpy(), expected)


@pytest.mark.parametrize('mode, channel, label', [
    ('all_classes', 1, None),            # a thing class of the stuff branch: skipped
    ('all_classes', 6, 6),
    ('with_thing', 0, None),             # the "things" channel: skipped
    ('with_thing', 1, NUM_THINGS),
    ('stuff_only', 0, NUM_THINGS),
    ('stuff_only', 4, NUM_THINGS + 4)])
def test_stuff_branch_channels_map_to_things_first_labels(mode, channel, label):
    other = 2 if channel != 2 else 3
    stuff = [(channel, block(slice(0, 16), slice(0, 24))),   # 6144 px
             (other, block(slice(0, 16), slice(24, 32)))]    # 2048 px
    stuff.sort(key=lambda s: s[0])
    (pan,) = build_head(mode).predict([kernel_result([], stuff)], [STRIDE_META])
    sem = pan.sem_seg[0]
    assert int(sem[0, 0]) == (VOID if label is None else label)


def test_stuff_label_outside_the_branch_is_an_error():
    stuff = [(NUM_STUFF, block(slice(0, 16), slice(0, 32)))]  # stuff_only has 5 channels
    with pytest.raises(ValueError, match='stuff_branch'):
        build_head('stuff_only').predict([kernel_result([], stuff)], [STRIDE_META])
    with pytest.raises(ValueError, match='stuff_branch'):
        build_head('things_and_stuff')


def test_no_surviving_stuff_gives_void_and_nothing_gives_all_void():
    thing = (2, 0.9, block(ALL, slice(0, 8)))
    no_stuff, nothing = build_head('all_classes').predict(
        [kernel_result([thing], []), kernel_result([], [])], [STRIDE_META, STRIDE_META])
    expected = np.full((H4, W4), VOID)
    expected[:, 0:8] = 2 + INSTANCE_OFFSET
    np.testing.assert_array_equal(no_stuff.sem_seg[0].numpy(), up4(expected))
    assert torch.all(nothing.sem_seg == VOID) and nothing.sem_seg.shape == (1, 64, 128)


def test_batch_images_keep_their_own_shapes_and_crop_the_padding():
    # Image 0: the whole 64x128 input, rescaled to 32x64. Image 1: a 40x96 image in the padded
    # input, original 80x192; a thing in the padding is cropped away.
    full = (1, 0.9, torch.full((H4, W4), 0.9))
    stuff_all = [(1, torch.full((H4, W4), 0.9))]
    in_pad = (0, 0.95, block(slice(10, 16), slice(0, 32)))     # rows 40..63: padding of image 1
    inside = (2, 0.9, block(slice(0, 10), slice(0, 12)))       # rows 0..39, cols 0..47
    metas = [dict(img_shape=(64, 128), ori_shape=(32, 64)),
             dict(img_shape=(40, 96), ori_shape=(80, 192))]
    pans = build_head(stuff_area_limit=0).predict(
        [kernel_result([full], []), kernel_result([in_pad, inside], stuff_all)], metas)
    assert [tuple(p.sem_seg.shape) for p in pans] == [(1, 32, 64), (1, 80, 192)]
    assert torch.all(pans[0].sem_seg == 1 + INSTANCE_OFFSET)
    second = pans[1].sem_seg[0]
    # The padded-area thing is gone; the thing spanning 48 of 96 columns covers the left half
    # of the 192 columns (x2), the rest is stuff label 3.
    assert set(torch.unique(second).tolist()) == {2 + INSTANCE_OFFSET, NUM_THINGS}
    assert torch.all(second[:, :90] == 2 + INSTANCE_OFFSET)
    assert torch.all(second[:, 102:] == NUM_THINGS)
    # rescale=False: outputs at img_shape.
    pans = build_head().predict([kernel_result([full], [])] * 2, metas, rescale=False)
    assert [tuple(p.sem_seg.shape) for p in pans] == [(1, 64, 128), (1, 40, 96)]


def test_prediction_scores_perfectly_against_its_own_layout_in_the_pixel_metric(tmp_path):
    things, stuff, _ = hand_case()
    (pan,) = build_head().predict([kernel_result(things, stuff)], [STRIDE_META])
    # GT written independently from the hand-built layout: panopticapi RGB ids.
    t1, t3 = up4_block(ALL, slice(0, 8)), up4_block(ALL, slice(8, 10))
    t5 = up4_block(slice(8, 16), slice(10, 32))
    layout = [(11, 1, t1), (12, 0, t3), (13, 2, t5), (14, 3, up4_block(slice(0, 8), slice(12, 28)))]
    gt = np.zeros((64, 128), np.int64)
    segments_info = []
    for seg_id, category, mask in layout:
        gt[mask] = seg_id
        segments_info.append(dict(id=seg_id, category=category, iscrowd=0))
    path = tmp_path / 'gt.png'
    Image.fromarray(id2rgb(gt)).save(path)
    metric = PanopticPixelMetric(metric=('PQ', 'pixel'))
    classes = tuple(f'c{i}' for i in range(VOID))
    metric.dataset_meta = dict(classes=classes, thing_classes=classes[:NUM_THINGS],
                               stuff_classes=classes[NUM_THINGS:])
    metric.process({}, [dict(seg_map_path=str(path), segments_info=segments_info,
                             pred_panoptic_seg=pan.to_dict())])
    scores = metric.evaluate(1)
    for key in ('PQ', 'PQ_th', 'PQ_st', 'Acc_th'):
        assert scores[f'coco_panoptic/{key}'] == pytest.approx(100.0)


def up4_block(rows: slice, cols: slice) -> np.ndarray:
    grid = np.zeros((H4, W4), bool)
    grid[rows, cols] = True
    return up4(grid)


def test_prediction_draws_in_mmdet_visualizer():
    things, stuff, _ = hand_case()
    (pan,) = build_head().predict([kernel_result(things, stuff)], [STRIDE_META])
    sample = DetDataSample(metainfo=STRIDE_META)
    sample.pred_panoptic_seg = pan
    visualizer = DetLocalVisualizer(name='pfcn_fusion_head_test', alpha=1.0)
    classes = tuple(f'c{i}' for i in range(VOID))
    visualizer.dataset_meta = dict(classes=classes, palette=[(200, 0, 0)] * VOID)
    image = np.zeros((64, 128, 3), np.uint8)
    visualizer.add_datasample('pred', image, sample, draw_gt=False, show=False)
    drawn = visualizer.get_image()
    assert drawn.shape == image.shape
    assert drawn[4:28, 56:100].any(axis=-1).all()         # stuff label 3: drawn
    assert not drawn[4:28, 116:124].any()                 # VOID: untouched


# ---------------------------------------------------------------- end to end with PanopticFCN

SYNTHETIC_CONFIG = ('configs/panoptic_fcn/'
                    'panoptic-fcn_r18-w32_1xb4-256x512-600it_synthetic-streets.py')


@pytest.fixture(scope='module')
def detector(repo_root):
    """The synthetic config's Panoptic FCN, random weights (seed 0), eval mode, painting every
    thing and stuff segment (inst_score_thr 0, stuff_area_limit 0). GN with 16 groups: with one
    channel per group, torch refuses the 1x1 P7 of a single 64x128 image."""
    cfg = Config.fromfile(str(repo_root / SYNTHETIC_CONFIG))
    cfg.model.panoptic_head.norm_cfg.num_groups = 16
    cfg.model.test_cfg.update(inst_score_thr=0.0, stuff_area_limit=0)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval()


def detector_inputs():
    """Two padded 64x128 inputs: a full image (original 32x64) and a 48x100 one (96x200)."""
    images = torch.randn(2, 3, 64, 128, generator=torch.Generator().manual_seed(0)) * 50
    images[1, :, 48:] = 0
    images[1, :, :, 100:] = 0
    metas = [dict(img_shape=(64, 128), ori_shape=(32, 64)),
             dict(img_shape=(48, 100), ori_shape=(96, 200))]
    return images, [DetDataSample(metainfo=dict(m, pad_shape=(64, 128),
                                                batch_input_shape=(64, 128))) for m in metas]


def test_detector_predict_batch_of_two_equals_single_images(detector):
    model = detector
    images, samples = detector_inputs()
    with torch.no_grad():
        kernels = model.panoptic_head.predict(model.extract_feat(images), samples)
        for i in range(2):
            (alone,) = model.panoptic_head.predict(model.extract_feat(images[i:i + 1]),
                                                   [samples[i]])
            for key, value in alone.items():
                torch.testing.assert_close(kernels[i][key], value, rtol=1e-4, atol=1e-5)
        batch = [s.pred_panoptic_seg.sem_seg for s in model.predict(images, samples)]
        single = [model.predict(images[i:i + 1], [samples[i]])[0].pred_panoptic_seg.sem_seg
                  for i in range(2)]
    assert [tuple(p.shape) for p in batch] == [(1, 32, 64), (1, 96, 200)]
    for b, s in zip(batch, single):
        assert b.dtype == torch.int32
        assert (b == s).float().mean() > 0.999  # the same map, up to conv round-off
        labels = b % INSTANCE_OFFSET
        assert torch.all((labels < VOID) | (b == VOID))
        assert (b >= INSTANCE_OFFSET).any()  # random weights: large things, painted first


def test_detector_predict_with_nothing_kept_is_all_void(detector):
    model = copy.deepcopy(detector)
    model.panoptic_head.test_cfg.update(center_thr=1.0, stuff_thr=1.0)
    images, samples = detector_inputs()
    with torch.no_grad():
        results = model.predict(images, samples)
    for result, shape in zip(results, [(1, 32, 64), (1, 96, 200)]):
        assert result.pred_panoptic_seg.sem_seg.shape == shape
        assert torch.all(result.pred_panoptic_seg.sem_seg == VOID)


def test_detector_predict_on_a_blank_image(detector):
    sample = DetDataSample(metainfo=dict(img_shape=(64, 128), ori_shape=(64, 128),
                                         pad_shape=(64, 128), batch_input_shape=(64, 128)))
    with torch.no_grad():
        (result, ) = detector.predict(torch.zeros(1, 3, 64, 128), [sample])
    pan = result.pred_panoptic_seg.sem_seg
    assert pan.shape == (1, 64, 128) and pan.dtype == torch.int32
    assert torch.all((pan % INSTANCE_OFFSET < VOID) | (pan == VOID))
