"""IBSLoss: focal loss towards zero, per-mask mean, normalised by the number of masks."""
import math

import pytest
import torch

from mmibs.models import IBSLoss


def hand_focal(x: float, alpha: float = 0.25, gamma: float = 2.0) -> float:
    """(1 - alpha) * p**gamma * -log(1 - p), p = sigmoid(x): the focal loss of x towards 0."""
    p = 1.0 / (1.0 + math.exp(-x))
    return (1 - alpha) * p**gamma * -math.log(1 - p)


def test_equals_hand_computed_focal_loss():
    logits = [[0.0, 2.0, -1.0], [3.0, -4.0, 0.5]]
    expected = sum(sum(hand_focal(v) for v in row) / 3 for row in logits) / 2
    loss = IBSLoss(loss_weight=1.0)(torch.tensor(logits, dtype=torch.float64))
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    # 0.75 * 0.25 * log 2 at logit 0, the value of a fresh network.
    assert hand_focal(0.0) == pytest.approx(0.75 * 0.25 * math.log(2))


def test_alpha_gamma_weight_and_avg_factor():
    logits = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    expected = (hand_focal(1.0, 0.5, 1.0) + hand_focal(-2.0, 0.5, 1.0)) / 2
    loss = IBSLoss(alpha=0.5, gamma=1.0, loss_weight=3.0)(logits)
    assert loss.item() == pytest.approx(3.0 * expected, rel=1e-12)
    assert IBSLoss(alpha=0.5, gamma=1.0)(logits, avg_factor=4.0).item() == pytest.approx(
        expected / 4)


def test_all_reduce_normaliser_on_one_process_is_the_local_count():
    logits = torch.randn(5, 7)
    assert torch.equal(IBSLoss(normalizer='all_reduce')(logits), IBSLoss()(logits))
    with pytest.raises(ValueError):
        IBSLoss(normalizer='global')


def test_empty_input_is_a_graph_connected_zero():
    embeds = torch.randn(0, 4, requires_grad=True)
    logits = embeds @ torch.randn(4, 9)
    loss = IBSLoss(loss_weight=50.0)(logits)
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert embeds.grad is not None
