"""Panoptic FCN target generation (the official GenerateGT, and the TENSOR_DIM failure case)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmibs.models.panoptic_fcn import (
    PanopticFCNTargetGenerator,
    downsample_to_stride,
    draw_gaussian,
    pfcn_gaussian_radius,
    stuff_channel_lut,
)

CS_SCALES = ((1, 128), (64, 256), (128, 512), (256, 1024), (512, 2048))


def generator(**kwargs) -> PanopticFCNTargetGenerator:
    kwargs.setdefault('instance_scales', CS_SCALES)
    return PanopticFCNTargetGenerator(num_things_classes=3, num_stuff_classes=5, **kwargs)


def level_sizes(input_hw):
    return [(-(-input_hw[0] // s), -(-input_hw[1] // s)) for s in (8, 16, 32, 64, 128)]


def test_level_assignment_cityscapes_scales(pfcn_sample, pfcn_box):
    hw = (640, 640)
    sides = [50, 64, 100, 128, 600]  # sqrt(area) of square instances
    things = [(0, pfcn_box(hw, 0, side, 0, side)) for side in sides]
    targets = generator()([pfcn_sample(hw, things)], level_sizes(hw), torch.device('cpu'))
    levels_of = {side: {level for level, rows in enumerate(targets.thing_level_rows)
                        if i in rows.tolist()} for i, side in enumerate(sides)}
    assert levels_of == {50: {0}, 64: {0, 1}, 100: {0, 1}, 128: {0, 1, 2}, 600: {3, 4}}
    assert targets.num_things == 1 + 2 + 2 + 3 + 2  # G_th counts (instance, level) pairs


def test_mass_centre_and_truncated_level_peak(pfcn_sample, pfcn_box):
    hw = (64, 128)
    sample = pfcn_sample(hw, [(2, pfcn_box(hw, 8, 24, 16, 48))])
    targets = generator()([sample], level_sizes(hw), torch.device('cpu'))
    soft = targets.thing_masks[0]
    # bilinear /4 samples pixels 4i+1, 4i+2: stride-4 rows 2..5, columns 4..11 are 1
    assert torch.nonzero(soft).amin(0).tolist() == [2, 4]
    assert torch.nonzero(soft).amax(0).tolist() == [5, 11]
    # mass centre (x, y) = (7.5, 3.5) at stride 4 -> P3 (8 x 16 of a 16 x 32 canvas):
    # (3.75, 1.75) truncated to (3, 1)
    heatmap = targets.heatmaps[0][0]
    assert heatmap.shape == (3, 8, 16)
    assert heatmap[2, 1, 3] == 1 and heatmap[:2].abs().sum() == 0
    # box 32 x 16 px -> 4 x 2 at P3 -> un-normalised radius, sigma = d / 3
    expected = torch.zeros(8, 16)
    draw_gaussian(expected, (3, 1), int(pfcn_gaussian_radius(2.0, 4.0)))
    assert torch.equal(heatmap[2], expected)
    box = generator(center_type='box')([sample], level_sizes(hw), torch.device('cpu'))
    # box centre (32, 16) px / 4 = (8, 4) -> P3 (4, 2)
    assert box.heatmaps[0][0, 2, 2, 4] == 1


def test_instance_vanishing_at_stride_4_is_dropped(pfcn_sample, pfcn_box):
    hw = (64, 128)
    tiny = pfcn_box(hw, 0, 1, 0, 1)  # one pixel: bilinear /4 never samples pixel 0
    kept = pfcn_box(hw, 8, 24, 16, 48)
    targets = generator()([pfcn_sample(hw, [(0, tiny), (1, kept)])], level_sizes(hw),
                          torch.device('cpu'))
    assert targets.thing_labels.tolist() == [1]
    assert targets.num_things == 1
    assert torch.isfinite(targets.thing_masks).all()
    assert targets.heatmaps[0][0, 0].sum() == 0  # no peak drawn at (0, 0) for the vanished one


@pytest.mark.parametrize('crop_hw, equal', [((60, 124), True), ((62, 126), False)])
def test_stride_4_paste_vs_padded_downsample(crop_hw, equal):
    maps = torch.zeros(2, 64, 128)
    gen = torch.Generator().manual_seed(0)
    maps[:, :crop_hw[0], :crop_hw[1]] = (torch.rand(2, *crop_hw, generator=gen) > 0.5).float()
    official = downsample_to_stride(maps, crop_hw, (16, 32))
    padded = F.interpolate(maps[None], size=(16, 32), mode='bilinear', align_corners=False)[0]
    assert torch.allclose(official, padded) == equal


def test_stuff_targets_cut_presence_void_and_padding(pfcn_sample):
    hw = (128, 256)
    sem = np.full(hw, 255, np.int64)  # void by default
    sem[0:8, 0:4] = 3  # one stride-4 column x 2 rows: 0.5 at P3 -> kept
    sem[0:4, 8:12] = 4  # one stride-4 pixel: 0.25 at P3 -> cut to 0
    sem[16:24, 16:24] = 5  # 2 x 2 at stride 4: present at P3, absent at P7
    sem[64:, :] = 6  # a large region
    sample = pfcn_sample(hw, (), sem, img_hw=(120, 256))  # rows 120.. are padding
    targets = generator()([sample], level_sizes(hw), torch.device('cpu'))
    p3 = targets.stuff_targets[0][0]
    assert p3[3, 0, 0] == 0.5 and p3[4].sum() == 0
    values = torch.unique(torch.cat([t.flatten() for t in targets.stuff_targets]))
    assert ((values == 0) | ((values >= 0.5) & (values <= 1))).all()
    present = [classes.tolist() for classes in targets.stuff_class]
    assert 5 in present[0] and 5 not in present[4] and 4 not in present[0]
    assert present[4] == [6]
    # void columns are all zero; the padding rows (120..127 -> stride-4 rows 30, 31) too
    maps = targets.stuff_maps[0]
    assert maps[:, 10, 40].sum() == 0  # a void pixel
    assert maps[:, 30:].sum() == 0 and maps[6, 29].sum() > 0
    # the level masks of present classes are binary, and the dice targets the soft maps
    level_masks = targets.stuff_level_masks[0]
    assert set(torch.unique(level_masks).tolist()) <= {0.0, 1.0}
    assert targets.num_stuff == sum(len(c) for c in targets.stuff_class)


def test_stuff_branch_modes_map_things_first_labels():
    all_classes = stuff_channel_lut(3, 5, 'all_classes')
    with_thing = stuff_channel_lut(3, 5, 'with_thing')
    stuff_only = stuff_channel_lut(3, 5, 'stuff_only')
    assert all_classes[:8].tolist() == list(range(8)) and all_classes[255] == -1
    assert with_thing[:8].tolist() == [0, 0, 0, 1, 2, 3, 4, 5]
    assert stuff_only[:8].tolist() == [-1, -1, -1, 0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match='stuff_branch'):
        stuff_channel_lut(3, 5, 'things')


def test_more_instances_than_tensor_dim(pfcn_sample, pfcn_box):
    hw = (128, 256)
    things = [(i % 3, pfcn_box(hw, 8 * (i // 32), 8 * (i // 32) + 4, 8 * (i % 32),
                               8 * (i % 32) + 4)) for i in range(160)]  # > Cityscapes' 150
    targets = generator()([pfcn_sample(hw, things)], level_sizes(hw), torch.device('cpu'))
    assert len(targets.thing_level_rows[0]) == 160  # all on P3, no padding limit


def test_bad_labels_raise_clear_errors(pfcn_sample, pfcn_box):
    hw = (64, 128)
    bad = pfcn_sample(hw, [(4, pfcn_box(hw, 8, 24, 16, 48))])
    with pytest.raises(ValueError, match='crop 0: gt_instances label 4 is not a thing class'):
        generator()([bad], level_sizes(hw), torch.device('cpu'))
    with pytest.raises(ValueError, match='instance_scales'):
        generator()([bad], level_sizes(hw)[:3], torch.device('cpu'))
