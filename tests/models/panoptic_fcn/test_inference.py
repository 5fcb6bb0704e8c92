"""Panoptic FCN inference of one image: peaks, stuff candidates, kernel
fusion, maskness rescoring, and the empty cases the official code crashes on."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict

from mmibs.models.panoptic_fcn.inference import (
    fuse_stuff_kernels,
    fuse_thing_kernels,
    predict_kernels_single,
    smooth_centers,
    stuff_candidates,
    thing_candidates,
)

NEG = -30.0  # a logit whose probability is 0 at float32 precision for the thresholds used


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def position_kernels(height: int, width: int) -> torch.Tensor:
    """A (2, H, W) kernel map whose channel 0 is the flat position index, channel 1 = 1."""
    return torch.stack([torch.arange(height * width, dtype=torch.float32).view(height, width),
                        torch.ones(height, width)])


def cfg(**overrides) -> ConfigDict:
    base = dict(center_thr=0.01, stuff_thr=0.1, top_num=200, mask_thr=0.5, similar_thr=0.97,
                pool_sizes=(3, 3, 3, 5, 5))
    base.update(overrides)
    return ConfigDict(base)


# ---------------------------------------------------------------- peaks (item 14)

def test_smoothing_counts_zero_padding():
    probs = torch.full((1, 5, 6), 0.5)
    smooth3 = smooth_centers(probs, 3)[0]
    assert smooth3[2, 2] == pytest.approx(0.5)                      # interior: (p + p) / 2
    assert smooth3[0, 0] == pytest.approx((0.5 + 0.5 * 4 / 9) / 2)  # corner: 4 of 9 cells inside
    assert smooth3[0, 2] == pytest.approx((0.5 + 0.5 * 6 / 9) / 2)  # border: 6 of 9
    smooth5 = smooth_centers(probs, 5)[0]
    assert smooth5[2, 2] == pytest.approx(0.5)
    assert smooth5[0, 0] == pytest.approx((0.5 + 0.5 * 9 / 25) / 2)
    with pytest.raises(ValueError, match='pool_sizes'):
        smooth_centers(probs, 4)


def test_nms_keeps_3x3_local_maxima_and_gathers_their_kernels():
    logits = torch.full((1, 6, 6), NEG)
    logits[0, 1, 1], logits[0, 1, 2] = 2.0, 1.0   # neighbours: only the larger survives
    logits[0, 4, 4] = 0.5                          # a separate, lower peak survives
    kernel_map = position_kernels(6, 6)
    kernels, scores, labels = thing_candidates(logits, kernel_map, 1, 200, 0.01)
    assert kernels[:, 0].tolist() == [1 * 6 + 1, 4 * 6 + 4]
    torch.testing.assert_close(scores, torch.tensor([2.0, 0.5]).sigmoid())
    assert labels.tolist() == [0, 0] and labels.dtype == torch.long


@pytest.mark.parametrize('top_num, expected', [(200, 4), (6, 3), (1, 0)])
def test_per_level_cap_is_min_of_positions_and_half_top_num(top_num, expected):
    # 8 classes on a 2x2 map: one peak per class (3x3 NMS covers the map), class c scores c.
    logits = torch.full((8, 2, 2), NEG)
    for c in range(8):
        logits[c, c % 2, c // 4] = -2.0 + 0.5 * c
    _, scores, labels = thing_candidates(logits, position_kernels(2, 2), 1, top_num, 0.01)
    assert labels.tolist() == list(range(7, 7 - expected, -1))
    assert torch.all(scores[:-1] >= scores[1:])


def test_center_threshold_is_strict():
    logits = torch.full((1, 3, 3), NEG)
    logits[0, 1, 1] = 0.0  # probability exactly 0.5; pool size 1 leaves it unchanged
    assert len(thing_candidates(logits, position_kernels(3, 3), 1, 200, 0.5)[1]) == 0
    assert len(thing_candidates(logits, position_kernels(3, 3), 1, 200, 0.4999)[1]) == 1


def two_stage_topk(heat: torch.Tensor, k: int) -> set:
    """The official two-stage top-k: top-k per class, then top-k of those; {(class, position)}."""
    num_classes = heat.shape[0]
    per_class_scores, per_class_pos = heat.flatten(1).topk(k, dim=1)
    best, idx = per_class_scores.flatten().topk(k)
    classes = idx // k
    positions = per_class_pos.flatten()[idx]
    return {(int(c), int(p)) for c, p, s in zip(classes, positions, best) if s > 0
            and c < num_classes}


def test_topk_equals_official_two_stage_topk_as_a_set():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 16, 20, generator=gen) * 3
    kernel_map = torch.cat([position_kernels(16, 20), torch.randn(3, 16, 20, generator=gen)])
    kernels, scores, labels = thing_candidates(logits, kernel_map, 3, 60, 0.0)
    # Reference smoothing and NMS written out with torch ops.
    probs = logits.sigmoid()
    smooth = (probs + F.avg_pool2d(probs[None], 3, 1, 1, count_include_pad=True)[0]) / 2
    heat = smooth * (F.max_pool2d(smooth[None], 3, 1, 1)[0] == smooth)
    expected = two_stage_topk(heat, 30)
    got = {(int(c), int(p)) for c, p in zip(labels, kernels[:, 0])}
    assert got == expected and len(got) == 30
    torch.testing.assert_close(kernels.t(), kernel_map.flatten(1)[:, kernels[:, 0].long()])
    torch.testing.assert_close(scores, heat.flatten()[labels * 320 + kernels[:, 0].long()])


# ---------------------------------------------------------------- stuff candidates

def test_stuff_candidates_score_is_mean_over_argmax_and_kernel_is_mean_over_all_positions():
    probs = torch.full((3, 4, 4), 0.05)
    probs[0, :, :2] = 0.9                                     # channel 0 wins columns 0-1
    probs[1, :, 2] = torch.tensor([0.2, 0.4, 0.6, 0.8])       # channel 1 wins column 2, mean 0.5
    probs[2, :, 3] = 0.08                                     # channel 2 wins column 3, mean 0.08
    kernel_map = position_kernels(4, 4)
    kernels, scores, labels = stuff_candidates(torch.logit(probs), kernel_map, 0.1)
    assert labels.tolist() == [0, 1]
    torch.testing.assert_close(scores, torch.tensor([0.9, 0.5]))
    positions = torch.arange(16.0).view(4, 4)
    # A class covering 1/2 (1/4) of the map: its kernel is 1/2 (1/4) x its mask-mean kernel.
    torch.testing.assert_close(kernels, torch.tensor(
        [[positions[:, :2].sum() / 16, 8 / 16], [positions[:, 2].sum() / 16, 4 / 16]]))


def test_stuff_threshold_is_strict():
    logits = torch.full((2, 3, 3), NEG)
    logits[1] = 0.0  # channel 1 wins everywhere with probability exactly 0.5
    assert len(stuff_candidates(logits, position_kernels(3, 3), 0.5)[2]) == 0
    assert stuff_candidates(logits, position_kernels(3, 3), 0.4999)[2].tolist() == [1]


# ---------------------------------------------------------------- kernel fusion (items 12, 13)

def unit(degrees: float, norm: float = 1.0) -> list:
    return [norm * math.cos(math.radians(degrees)), norm * math.sin(math.radians(degrees))]


def test_thing_fusion_chain_keeps_first_as_mean_and_drops_the_chained_one():
    # cos(A,B) = cos(B,C) = 0.985 >= 0.97 > cos(A,C) = 0.940: C's first similar row is B,
    # which A absorbs, so C disappears.
    kernels = torch.tensor([unit(0), unit(10, 2.0), unit(20, 0.5)])
    fused, keep = fuse_thing_kernels(kernels, torch.zeros(3, dtype=torch.long), 0.97)
    assert keep.tolist() == [0]
    torch.testing.assert_close(fused, (kernels[:1] + kernels[1:2]) / 2)


def test_thing_fusion_is_class_specific():
    kernels = torch.tensor([unit(0), unit(0, 3.0)])
    labels = torch.tensor([0, 1])
    fused, keep = fuse_thing_kernels(kernels, labels, 0.97)
    assert keep.tolist() == [0, 1]
    torch.testing.assert_close(fused, kernels)
    fused, keep = fuse_thing_kernels(kernels, labels, 0.97, class_specific=False)
    assert keep.tolist() == [0]
    torch.testing.assert_close(fused, kernels.mean(dim=0, keepdim=True))


def official_thing_fusion(kernels, labels, thr):
    """The official matrix form: triu similarity, cumsum over rows < 2, diagonal keeps."""
    normed = kernels / kernels.norm(dim=1, keepdim=True).clamp(min=1e-8)
    label_matrix = (normed @ normed.t()).triu(diagonal=0) >= thr
    label_matrix &= labels[:, None] == labels[None, :]
    cum_matrix = torch.cumsum(label_matrix.float(), dim=0) < 2
    keep = cum_matrix.diagonal(0)
    absorbed = (label_matrix[keep] & cum_matrix[keep]).to(kernels.dtype)
    return absorbed @ kernels / absorbed.sum(dim=1, keepdim=True), keep.nonzero().flatten()


def test_thing_fusion_equals_the_official_matrix_form_on_random_clusters():
    gen = torch.Generator().manual_seed(3)
    centres = torch.randn(4, 16, generator=gen, dtype=torch.float64)
    kernels = centres[torch.randint(0, 4, (40,), generator=gen)] + \
        0.15 * torch.randn(40, 16, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 2, (40,), generator=gen)
    fused, keep = fuse_thing_kernels(kernels, labels, 0.97)
    ref_fused, ref_keep = official_thing_fusion(kernels, labels, 0.97)
    assert 4 <= len(keep) < 40  # the case does fuse, and does not fuse everything
    assert keep.tolist() == ref_keep.tolist()
    torch.testing.assert_close(fused, ref_fused)


def test_thing_fusion_of_nothing_is_empty():
    fused, keep = fuse_thing_kernels(torch.zeros(0, 5), torch.zeros(0, dtype=torch.long), 0.9)
    assert fused.shape == (0, 5) and keep.shape == (0,)


def test_stuff_fusion_averages_kernels_and_scores_per_class_ascending():
    kernels = torch.tensor([[1.0, 0.0], [2.0, 2.0], [3.0, 0.0], [0.0, 4.0], [4.0, 4.0]])
    scores = torch.tensor([0.2, 0.4, 0.6, 0.8, 0.5])
    labels = torch.tensor([2, 0, 2, 1, 0])
    fused, fused_scores, classes = fuse_stuff_kernels(kernels, scores, labels)
    assert classes.tolist() == [0, 1, 2]
    torch.testing.assert_close(fused, torch.tensor([[3.0, 3.0], [0.0, 4.0], [2.0, 0.0]]))
    torch.testing.assert_close(fused_scores, torch.tensor([0.45, 0.8, 0.4]))


# ---------------------------------------------------------------- predict_kernels_single

def two_level_inputs():
    """Two levels (4x4, 2x2), 2 thing classes, 2 stuff channels, C_k = C_f = 2, 8x8 features.

    Peaks: level 0 class 0 (logit 2, kernel (1, 0)), level 0 class 1 (logit 1.5, kernel 0),
    level 1 class 0 (logit 1, kernel (2, 0): same direction, fused into the first), level 1
    class 1 (logit 0.5, kernel (0, 1)). Stuff: channel 0 wins level 0, channel 1 level 1.
    """
    centers = [torch.full((2, 4, 4), NEG), torch.full((2, 2, 2), NEG)]
    kernels = [torch.zeros(2, 4, 4), torch.zeros(2, 2, 2)]
    centers[0][0, 0, 0], kernels[0][:, 0, 0] = 2.0, torch.tensor([1.0, 0.0])
    centers[0][1, 3, 3] = 1.5
    centers[1][0, 1, 1], kernels[1][:, 1, 1] = 1.0, torch.tensor([2.0, 0.0])
    centers[1][1, 0, 0], kernels[1][:, 0, 0] = 0.5, torch.tensor([0.0, 1.0])
    regions = [torch.stack([torch.full((4, 4), 1.0), torch.full((4, 4), -1.0)]),
               torch.stack([torch.full((2, 2), -3.0), torch.full((2, 2), 0.4)])]
    feat = torch.zeros(2, 8, 8)
    feat[0, :, :4], feat[0, :, 4:] = 4.0, -4.0
    feat[1, :4], feat[1, 4:] = 4.0, -4.0
    return centers, regions, kernels, feat


def identity(x):
    return x


def test_predict_kernels_single_hand_built():
    centers, regions, kernels, feat = two_level_inputs()
    out = predict_kernels_single(centers, regions, kernels, feat, identity, lambda x: 2 * x,
                                 cfg(pool_sizes=(1, 1)))
    s = torch.sigmoid
    # Fused class-0 thing: kernel (1.5, 0) -> logits +-6 on the left/right half; its score is
    # the highest candidate's (sigmoid(2)), not the mean, times maskness sigmoid(6). The
    # zero-kernel thing (p = 0.5 everywhere, empty mask) is rescored to 0 and gated out.
    expected_probs = torch.stack([s(1.5 * feat[0]), s(feat[1])])
    torch.testing.assert_close(out['thing_probs'], expected_probs)
    torch.testing.assert_close(out['thing_scores'], torch.stack(
        [s(torch.tensor(2.0)) * s(torch.tensor(6.0)), s(torch.tensor(0.5)) * s(torch.tensor(4.0))]))
    assert out['thing_labels'].tolist() == [0, 1]
    # Stuff: one candidate per level; kernel = mean over all positions of the kernel map,
    # embedded by the stuff embedding (x2).
    assert out['stuff_labels'].tolist() == [0, 1]
    torch.testing.assert_close(out['stuff_scores'], s(torch.tensor([1.0, 0.4])))
    stuff_kernels = 2 * torch.stack([k.flatten(1).mean(1) for k in kernels])
    torch.testing.assert_close(out['stuff_probs'],
                               s(torch.einsum('nc,chw->nhw', stuff_kernels, feat)))


def test_predict_kernels_single_top_num_and_score_gate():
    centers, regions, kernels, feat = two_level_inputs()
    # top_num 2 -> one peak per level: the class-0 peaks of both levels, fused into one thing.
    out = predict_kernels_single(centers, regions, kernels, feat, identity, identity,
                                 cfg(pool_sizes=(1, 1), top_num=2))
    assert out['thing_labels'].tolist() == [0]
    out = predict_kernels_single(centers, regions, kernels, feat, identity, identity,
                                 cfg(pool_sizes=(1, 1), score_gate=0.7))
    assert out['thing_labels'].tolist() == [0]  # 0.881 * 0.998 passes, 0.622 * 0.982 does not


def test_nothing_survives_gives_empty_outputs():
    centers, regions, kernels, feat = two_level_inputs()
    blank = [torch.full_like(c, -20.0) for c in centers]
    no_regions = [torch.full_like(r, -20.0) for r in regions]

    def never(x):
        raise AssertionError('the embedding must not be called without candidates')

    out = predict_kernels_single(blank, no_regions, kernels, feat, never, never,
                                 cfg(pool_sizes=(1, 1)))
    for key in ('thing_probs', 'stuff_probs'):
        assert out[key].shape == (0, 8, 8)
    for key in ('thing_scores', 'thing_labels', 'stuff_scores', 'stuff_labels'):
        assert out[key].shape == (0,)


def test_config_errors_name_the_key():
    centers, regions, kernels, feat = two_level_inputs()
    with pytest.raises(ValueError, match='pool_sizes'):
        predict_kernels_single(centers, regions, kernels, feat, identity, identity, cfg())
    bad = cfg(pool_sizes=(1, 1))
    del bad['similar_thr']
    with pytest.raises(KeyError, match='test_cfg.similar_thr'):
        predict_kernels_single(centers, regions, kernels, feat, identity, identity, bad)
