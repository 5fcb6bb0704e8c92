"""Mask2FormerIBSHead: stock losses untouched, IBS on the matched thing queries, options."""
import logging

import pytest
import torch
from mmcv.ops import point_sample
from mmdet.models.dense_heads import Mask2FormerHead
from mmdet.registry import MODELS

from mmibs.models import Mask2FormerIBSHead
from mmibs.models.ibs import pairing as pairing_module
from mmibs.models.ibs import uncertain_point_coords

IBS_KEYS = ['d1.loss_ibs', 'd2.loss_ibs', 'loss_ibs']
# Logged diagnostics (no 'loss' in the name, so not part of the total loss).
CONFUSED_KEYS = ['d1.ibs_confused', 'd2.ibs_confused', 'ibs_confused']


def ibs_cfg(**kwargs) -> dict:
    """An IntraBatchSupervision config (IBS weight 50, point sampling from train_cfg)."""
    cfg = dict(type='IntraBatchSupervision', loss=dict(type='IBSLoss', loss_weight=50.0),
               point_sampling=True)
    cfg.update(kwargs)
    return cfg


def _losses_and_grads(head, x, samples, seed=1):
    """Losses of ``head.loss`` under ``torch.manual_seed(seed)`` and the gradients of their sum
    w.r.t. the head's parameters and the input features."""
    x = [level.clone().requires_grad_() for level in x]
    head.zero_grad()
    torch.manual_seed(seed)
    losses = head.loss(x, samples)
    sum(losses.values()).backward()
    grads = {name: p.grad.clone() for name, p in head.named_parameters() if p.grad is not None}
    grads.update({f'x{i}': level.grad for i, level in enumerate(x)})
    return losses, grads


@pytest.mark.parametrize('ibs', [dict(ibs=None),
                                 dict(ibs=ibs_cfg(loss=dict(type='IBSLoss', loss_weight=0.0)))],
                         ids=['disabled', 'weight0'])
def test_disabled_or_weight_zero_equals_stock_head(build_head, make_batch, ibs):
    x, samples = make_batch(4)
    stock_losses, stock_grads = _losses_and_grads(build_head(type='Mask2FormerHead'), x, samples)
    losses, grads = _losses_and_grads(build_head(**ibs), x, samples)
    if ibs['ibs'] is None:
        assert set(losses) == set(stock_losses)
    else:
        assert set(losses) == set(stock_losses) | set(IBS_KEYS) | set(CONFUSED_KEYS)
        assert all(losses[key].item() == 0 for key in IBS_KEYS)
    for key, value in stock_losses.items():
        torch.testing.assert_close(losses[key], value, rtol=0, atol=1e-6)
    assert set(grads) == set(stock_grads)
    for key, value in stock_grads.items():
        torch.testing.assert_close(grads[key], value, rtol=0, atol=1e-6)


def test_ibs_keys_and_regular_losses_unchanged(build_head, make_batch):
    x, samples = make_batch(4)
    stock_losses, _ = _losses_and_grads(build_head(type='Mask2FormerHead'), x, samples)
    losses, _ = _losses_and_grads(build_head(ibs=ibs_cfg()), x, samples)
    # not d0 (the query-only prediction)
    assert set(losses) - set(stock_losses) == set(IBS_KEYS) | set(CONFUSED_KEYS)
    assert all(losses[key].item() > 0 for key in IBS_KEYS)
    for key, value in stock_losses.items():
        torch.testing.assert_close(losses[key], value, rtol=0, atol=1e-6)
    all_losses, _ = _losses_and_grads(build_head(ibs=ibs_cfg(), ibs_predictions=[0, 3]), x,
                                      samples)
    assert {'d0.loss_ibs', 'loss_ibs'} <= set(all_losses) and 'd1.loss_ibs' not in all_losses


class DenseIBSHead(Mask2FormerIBSHead):
    """The authors' computation as a reference: the cross-crop logits of *all* queries of all
    crops, (B, Q, h, w) by one einsum, then the supervised rows; same generator draws."""

    def _loss_ibs_single(self, embed, feature, labels, batch_img_metas):
        ibs = self.ibs
        targets = ibs.targets(batch_img_metas, feature.device)
        own = torch.arange(len(targets))
        dense = torch.einsum('bqc,bchw->bqhw', embed,
                             feature[torch.where(targets >= 0, targets, own)])
        rows = (labels < self.num_things_classes) & (targets >= 0)[:, None]
        logits = dense[rows]  # (N, h, w), rows in (crop, query) order
        if ibs.point_sampling is not None and logits.shape[0] > 0:
            logits = logits.unsqueeze(1)
            coords = uncertain_point_coords(logits, self.num_points, self.oversample_ratio,
                                            self.importance_sample_ratio,
                                            ibs.pairing.generator(logits.device))
            logits = point_sample(logits, coords).squeeze(1)
        logits = logits.flatten(1)
        confused = (logits > 0).float().mean() if logits.numel() else logits.new_zeros(())
        return ibs.loss(logits), {'confused': confused}


MODELS.register_module(module=DenseIBSHead, force=True)


@pytest.mark.parametrize('pairing', ['partner', 'random'])
@pytest.mark.parametrize('point_sampling', [True, False])
def test_lean_equals_dense_through_the_head(build_head, make_batch, pairing, point_sampling):
    x, samples = make_batch(4)
    results = [
        _losses_and_grads(build_head(type=head_type, ibs=ibs_cfg(
            pairing=pairing, seed=3, point_sampling=point_sampling)), x, samples)
        for head_type in ('Mask2FormerIBSHead', 'DenseIBSHead')
    ]
    (lean_losses, lean_grads), (dense_losses, dense_grads) = results
    for key in IBS_KEYS + CONFUSED_KEYS:
        torch.testing.assert_close(lean_losses[key], dense_losses[key], rtol=1e-5, atol=1e-5)
    for key, value in dense_grads.items():
        torch.testing.assert_close(lean_grads[key], value, rtol=1e-5, atol=1e-5)


class DenseAllPairsIBSHead(Mask2FormerIBSHead):
    """Reference for ``pairing='all'``: every query of crop b times the features of every crop
    t, (B, B, Q, h, w) by one einsum; the thing queries' masks on the other crops (t != b)."""

    def _loss_ibs_single(self, embed, feature, labels, batch_img_metas):
        batch_size = embed.shape[0]
        dense = torch.einsum('bqc,tchw->btqhw', embed, feature)
        others = ~torch.eye(batch_size, dtype=torch.bool)
        pick = (labels < self.num_things_classes)[:, None, :] & others[:, :, None]
        logits = dense[pick].flatten(1)  # (supervised queries x other crops, h * w)
        return self.ibs.loss(logits), {'confused': (logits > 0).float().mean()}


MODELS.register_module(module=DenseAllPairsIBSHead, force=True)


def test_all_pairs_through_the_head_equals_the_dense_product(build_head, make_batch):
    x, samples = make_batch(4, metas=[dict(img_id=i) for i in range(4)])
    results = [
        _losses_and_grads(build_head(type=head_type, ibs=ibs_cfg(
            pairing='all', point_sampling=False)), x, samples)
        for head_type in ('Mask2FormerIBSHead', 'DenseAllPairsIBSHead')
    ]
    (lean_losses, lean_grads), (dense_losses, dense_grads) = results
    for key in IBS_KEYS + CONFUSED_KEYS:
        torch.testing.assert_close(lean_losses[key], dense_losses[key], rtol=1e-5, atol=1e-6)
    for key, value in dense_grads.items():
        torch.testing.assert_close(lean_grads[key], value, rtol=1e-5, atol=1e-5)
    # Crops 0 and 1 cut from one image: excluded as each other's targets, so a smaller loss
    # term set (and a different value).
    x, samples = make_batch(4, metas=[dict(img_id=i) for i in (0, 0, 1, 2)])
    excluded, _ = _losses_and_grads(build_head(ibs=ibs_cfg(pairing='all', point_sampling=False)),
                                    x, samples)
    assert not torch.allclose(excluded['loss_ibs'], lean_losses['loss_ibs'])


def test_gradients_reach_embeddings_and_features(build_head, make_batch):
    head = build_head(ibs=ibs_cfg())
    x, samples = make_batch(4)
    loss = head.loss(x, samples)['loss_ibs']
    embed_params = list(head.mask_embed.parameters())
    feature_params = list(head.pixel_decoder.mask_feature.parameters())
    grads = torch.autograd.grad(loss, embed_params + feature_params)
    assert all(g.abs().sum() > 0 for g in grads)


def _supervised_rows(head, matched_labels, batch_size=4, queries=30, channels=64):
    """Number of rows IBS supervises for the given matched labels (B, Q)."""
    seen = []
    hook = head.ibs.loss.register_forward_pre_hook(
        lambda module, args: seen.append(args[0].shape[0]))
    embed = torch.randn(batch_size, queries, channels)
    feature = torch.randn(batch_size, channels, 16, 32)
    head._loss_ibs_single(embed, feature, matched_labels, [{}] * batch_size)  # partners 1 0 3 2
    hook.remove()
    return seen[0]


def test_thing_selection_includes_class_zero_and_excludes_stuff_and_unmatched(build_head):
    head = build_head(ibs=ibs_cfg())
    unmatched = head.num_classes
    labels = torch.full((4, 30), unmatched)
    assert _supervised_rows(head, labels) == 0
    labels[0, 5] = 0  # thing class 0 (the authors' `label > 0` drops it)
    labels[1, 2] = 2  # last thing class
    labels[2, 7] = head.num_things_classes  # first stuff class
    labels[3, 1] = head.num_classes - 1  # last stuff class
    assert _supervised_rows(head, labels) == 2


def test_only_thing_class_zero_is_supervised(build_head, make_batch):
    x, samples = make_batch(4, thing_label=0)
    losses = build_head(ibs=ibs_cfg()).loss(x, samples)
    assert all(losses[key].item() > 0 for key in IBS_KEYS)


def test_crops_without_things_give_a_connected_zero(build_head, make_batch):
    x, samples = make_batch(4, things=False)
    losses, _ = _losses_and_grads(build_head(ibs=ibs_cfg()), x, samples)
    assert all(losses[key].item() == 0 and losses[key].requires_grad for key in IBS_KEYS)


@pytest.mark.parametrize('pairing', ['partner', 'random'])
def test_batch_of_one_skips_ibs_with_one_warning(build_head, make_batch, pairing, monkeypatch):
    warnings = []
    monkeypatch.setattr(pairing_module, 'print_log',
                        lambda msg, logger=None, level=None: warnings.append((msg, level)))
    head = build_head(ibs=ibs_cfg(pairing=pairing))
    x, samples = make_batch(1)
    for _ in range(2):
        losses, _ = _losses_and_grads(head, x, samples)
    assert all(losses[key].item() == 0 and losses[key].requires_grad for key in IBS_KEYS)
    assert len(warnings) == 1
    assert 'no other crop' in warnings[0][0] and warnings[0][1] == logging.WARNING


def test_random_pairing_is_redrawn_per_prediction_and_partner_is_fixed(build_head, make_batch):
    x, samples = make_batch(4)
    for pairing in ('random', 'partner'):
        head = build_head(ibs=ibs_cfg(pairing=pairing, seed=0))
        drawn = []
        original = head.ibs.pairing.targets
        head.ibs.pairing.targets = lambda metas, device: drawn.append(
            original(metas, device)) or drawn[-1]
        for _ in range(3):
            head.loss(x, samples)
        assert len(drawn) == 9
        assert all(t.dtype == torch.int64 for t in drawn)
        assert all((t != torch.arange(4)).all() for t in drawn)
        distinct = {tuple(t.tolist()) for t in drawn}
        assert len(distinct) > 1 if pairing == 'random' else distinct == {(1, 0, 3, 2)}


def test_explicit_partner_in_metainfo(build_head, make_batch):
    x, samples = make_batch(4, metas=[{'ibs_partner': p} for p in (3, 2, 1, 0)])
    head = build_head(ibs=ibs_cfg())
    assert head.ibs.targets([s.metainfo for s in samples],
                            torch.device('cpu')).tolist() == [3, 2, 1, 0]


def test_deterministic_under_a_fixed_seed(build_head, make_batch):
    x, samples = make_batch(4)
    runs = [_losses_and_grads(build_head(ibs=ibs_cfg(pairing='random')), x, samples)
            for _ in range(2)]
    for key, value in runs[0][0].items():
        assert torch.equal(value, runs[1][0][key]), key


def test_inference_is_the_stock_heads(build_head, make_batch):
    x, samples = make_batch(2)
    outputs = []
    for head_type in ('Mask2FormerHead', 'Mask2FormerIBSHead'):
        head = build_head(type=head_type).eval()
        with torch.no_grad():
            outputs.append(head.predict(x, samples))
    for stock, ibs in zip(*outputs):
        assert torch.equal(stock, ibs)


def test_invalid_options_raise(build_head):
    with pytest.raises(ValueError):
        build_head(ibs=ibs_cfg(pairing='nearest'))
    with pytest.raises(ValueError, match='point_sampling needs'):
        build_head(ibs=ibs_cfg(point_sampling=dict(num_points=3)))
    with pytest.raises(ValueError):
        build_head(ibs_predictions=[4])
    assert isinstance(build_head(), Mask2FormerIBSHead)


def test_forward_head_is_mmdets(build_head):
    """The head step is mmdet's (same outputs, bit for bit); in training with IBS the mask
    logits carry the embeddings they were made from."""
    head = build_head(ibs=ibs_cfg())
    gen = torch.Generator().manual_seed(4)
    decoder_out = torch.randn(2, 30, 64, generator=gen)
    mask_feature = torch.randn(2, 64, 16, 32, generator=gen)
    ours = head._forward_head(decoder_out, mask_feature, (8, 16))
    theirs = Mask2FormerHead._forward_head(head, decoder_out, mask_feature, (8, 16))
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b)
    embed = ours[1].ibs_embedding
    assert embed.shape == (2, 30, 64) and ours[1].ibs_feature is mask_feature
    assert torch.equal(torch.einsum('bqc,bchw->bqhw', embed, mask_feature), ours[1])
    assert not hasattr(head.eval()._forward_head(decoder_out, mask_feature, (8, 16))[1],
                       'ibs_embedding')
