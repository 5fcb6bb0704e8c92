"""Panoptic FCN losses on hand-built examples (the official formulas) and the weighted IBS
loss."""
import math

import numpy as np
import pytest
import torch
from mmdet.models.losses.dice_loss import dice_loss
from mmdet.models.losses.focal_loss import py_sigmoid_focal_loss
from mmdet.registry import MODELS

from mmibs.models.ibs import IBSLoss
from mmibs.models.panoptic_fcn import weighted_dice_loss


def focal(x: float, t: float) -> float:
    """Hand-written official focal loss of one logit x with soft target t (alpha .25, gamma 2)."""
    p = 1 / (1 + math.exp(-x))
    bce = -(t * math.log(p) + (1 - t) * math.log(1 - p))
    p_t = p * t + (1 - p) * (1 - t)
    return bce * (0.25 * t + 0.75 * (1 - t)) * (1 - p_t)**2


def test_dice_hand_value_and_mmdet():
    logits = torch.zeros(1, 16)
    target = torch.zeros(1, 16)
    target[0, :4] = 1
    assert weighted_dice_loss(logits, target).item() == pytest.approx(0.5)
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 50, generator=gen)
    target = torch.rand(6, 50, generator=gen)
    ours = weighted_dice_loss(logits, target, avg_factor=6)
    mmdet = dice_loss(logits.sigmoid(), target, eps=1e-8, naive_dice=False, reduction='mean')
    assert ours.item() == pytest.approx(mmdet.item(), abs=1e-6)


def test_dice_weights_and_normaliser():
    logits = torch.zeros(2, 3, 16)  # G = 2 instances x K = 3 kernels
    target = torch.zeros(2, 1, 16)
    target[0, 0, :4] = 1  # dice 0.5 for instance 0
    target[1, 0, :] = 1  # dice 1 - 2*8/(4+16) = 0.2 for instance 1
    w = torch.tensor([[0.6, 0.3, 0.1], [0.2, 0.2, 0.1]])
    w_hat = w / w.sum(dim=1, keepdim=True)
    loss = weighted_dice_loss(logits, target, w_hat, avg_factor=2)
    assert loss.item() == pytest.approx((0.5 * 1 + 0.2 * 1) / 2)
    assert MODELS.build(dict(type='WeightedDiceLoss', loss_weight=4.0))(
        logits, target, w_hat, avg_factor=2).item() == pytest.approx(4 * loss.item())


def test_dice_no_masks_is_graph_connected_zero():
    logits = torch.zeros(0, 16, requires_grad=True)
    loss = weighted_dice_loss(logits, torch.zeros(0, 16), avg_factor=0)
    assert loss.item() == 0 and loss.requires_grad
    loss.backward()


@pytest.mark.parametrize('x, t, value', [(0.0, 0.0, 0.129965), (0.0, 0.5, 0.086643)])
def test_focal_official_values_equal_mmdet(x, t, value):
    assert focal(x, t) == pytest.approx(value, abs=1e-6)
    mmdet = py_sigmoid_focal_loss(torch.tensor([[x]]), torch.tensor([[t]]), alpha=0.25,
                                  gamma=2.0, reduction='sum')
    assert mmdet.item() == pytest.approx(value, abs=1e-6)
    loss = MODELS.build(dict(type='FocalLoss', use_sigmoid=True, alpha=0.25, gamma=2.0,
                             reduction='mean'))
    assert loss(torch.tensor([[x]]), torch.tensor([[t]]), avg_factor=1).item() == \
        pytest.approx(value, abs=1e-6)


def test_ibs_loss_per_mask_weights():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 10, generator=gen)
    weight = torch.tensor([0.5, 0.25, 0.25, 0.0])
    per_mask = [np.mean([focal(v, 0.0) for v in row]) for row in logits.tolist()]
    loss = IBSLoss(loss_weight=4.0)(logits, avg_factor=2.0, weight=weight)
    assert loss.item() == pytest.approx(4.0 * float(np.dot(per_mask, weight)) / 2.0, rel=1e-5)
    # weight None is the unweighted loss
    assert IBSLoss()(logits, weight=None).item() == pytest.approx(np.mean(per_mask) * 1, rel=1e-5)


def test_stuff_position_loss_independent_of_batch_and_level_sizes(build_pfcn_head,
                                                                  pfcn_sample):
    x = -1.3
    values = []
    for batch, hw in ((1, (64, 128)), (3, (128, 64))):
        head = build_pfcn_head()
        samples = [pfcn_sample(hw) for _ in range(batch)]  # all void: all-zero stuff targets
        sizes = [(-(-hw[0] // s), -(-hw[1] // s)) for s in (8, 16, 32, 64, 128)]
        centers = [torch.zeros(batch, 3, *s) for s in sizes]
        regions = [torch.full((batch, head.num_stuff_channels, *s), x) for s in sizes]
        kernels = [torch.randn(batch, 32, *s) for s in sizes]
        encode = torch.randn(batch, 32, hw[0] // 4, hw[1] // 4)
        targets = head.target_generator(samples, sizes, torch.device('cpu'))
        losses = head.loss_by_feat(centers, regions, kernels, encode, targets,
                                   [s.metainfo for s in samples])
        values.append(losses['loss_pos_st'].item())
    expected = 5 * 8 * focal(x, 0.0)  # 5 levels x S = 8 channels
    assert values == pytest.approx([expected, expected], rel=1e-5)
