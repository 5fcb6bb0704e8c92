"""IBS diagnostics (the fraction of confused cross-crop points) and the IBS weight warm-up."""
import uuid

import pytest
import torch
from mmengine.logging import MessageHub

from mmibs.models import IBSLoss, IntraBatchSupervision


def test_confused_fraction_on_a_hand_made_case():
    # Two crops, 1-d features on a 1x4 grid; partner pairing: crop 0's rows meet crop 1's
    # features and vice versa.
    features = torch.tensor([[[[1.0, 1.0, 1.0, -1.0]]], [[[2.0, -1.0, 3.0, -2.0]]]])
    rows = torch.tensor([[1.0], [-1.0], [0.5]])
    src_crop = torch.tensor([0, 1, 1])
    ibs = IntraBatchSupervision(pairing='partner')
    loss, stats = ibs.loss_and_stats(rows, src_crop, features, [{}, {}])
    # Logits: row 0 on crop 1 = [2, -1, 3, -2] (2 of 4 > 0); row 1 on crop 0 = [-1, -1, -1, 1]
    # (1 of 4); row 2 on crop 0 = [0.5, 0.5, 0.5, -0.5] (3 of 4): 6 of 12.
    assert stats['confused'].item() == pytest.approx(6 / 12)
    assert not stats['confused'].requires_grad
    assert torch.equal(loss, ibs(rows, src_crop, features, [{}, {}]))


def test_confused_fraction_without_rows_is_zero():
    features = torch.randn(2, 3, 2, 2)
    loss, stats = IntraBatchSupervision().loss_and_stats(
        torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), features, [{}, {}])
    assert stats['confused'].item() == 0 and loss.item() == 0


def test_confused_keys_through_the_head(build_head, make_batch):
    x, samples = make_batch(4)
    head = build_head(ibs=dict(type='IntraBatchSupervision', point_sampling=True))
    losses = head.loss(x, samples)
    keys = ['d1.ibs_confused', 'd2.ibs_confused', 'ibs_confused']
    assert all(key in losses for key in keys)
    for key in keys:
        assert 0.0 <= losses[key].item() <= 1.0 and not losses[key].requires_grad
    # A fresh head's masks are around logit 0: some points are confused, not all.
    assert 0.0 < losses['ibs_confused'].item() < 1.0


@pytest.fixture
def message_hub():
    """A new MessageHub, which becomes the current instance (as a runner's does)."""
    hub = MessageHub.get_instance(f'test_ibs_warmup_{uuid.uuid4().hex}')
    assert MessageHub.get_current_instance() is hub
    return hub


@pytest.mark.parametrize('step, factor', [(0, 0.25), (1, 0.5), (3, 1.0), (10, 1.0)])
def test_linear_warmup_of_the_weight(message_hub, step, factor):
    logits = torch.tensor([[1.0, -2.0, 0.5]])
    full = IBSLoss(loss_weight=50.0)(logits)
    message_hub.update_info('iter', step)
    warm = IBSLoss(loss_weight=50.0, warmup_iters=4)
    assert warm.current_weight() == pytest.approx(50.0 * factor)
    assert warm(logits).item() == pytest.approx(factor * full.item(), rel=1e-6)
    # Off by default: the authors' constant weight whatever the iteration.
    assert IBSLoss(loss_weight=50.0)(logits).item() == pytest.approx(full.item())


@pytest.mark.parametrize('value', [-1, 2.5])
def test_invalid_warmup_raises(value):
    with pytest.raises(ValueError, match='warmup_iters'):
        IBSLoss(warmup_iters=value)
