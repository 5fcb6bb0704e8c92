"""Cross-crop logits (grouped rows == the authors' dense product), pairing and point sampling."""
import pytest
import torch
from mmcv.ops import point_sample

from mmibs.models.ibs import (
    IBSLoss,
    cross_crop_logits,
    partner_targets,
    random_targets,
    uncertain_point_coords,
)


def dense_cross_crop_logits(mask_embed, mask_feature, targets):
    """The authors' computation: every query of every crop times the features of t(b),
    (B, Q, h, w); a crop without target is multiplied with its own features."""
    own = torch.arange(targets.shape[0])
    targets = torch.where(targets >= 0, targets, own)
    return torch.einsum('bqc,bchw->bqhw', mask_embed, mask_feature[targets])


def lean_cross_crop_logits(mask_embed, mask_feature, src_crop, src_query, targets):
    """The supervised rows through :func:`cross_crop_logits` (what the heads do)."""
    return cross_crop_logits(mask_embed[src_crop, src_query], src_crop, mask_feature, targets)


def _inputs(batch=4, queries=6, channels=8, hw=(5, 7), seed=0):
    gen = torch.Generator().manual_seed(seed)
    embed = torch.randn(batch, queries, channels, generator=gen, dtype=torch.float64)
    feature = torch.randn(batch, channels, *hw, generator=gen, dtype=torch.float64)
    return embed.requires_grad_(), feature.requires_grad_()


def test_dense_logits_are_embeddings_of_b_times_features_of_t_b():
    embed, feature = _inputs()
    targets = torch.tensor([2, 0, 3, 1])
    dense = dense_cross_crop_logits(embed, feature, targets)
    for b, t in enumerate(targets.tolist()):
        expected = torch.einsum('qc,chw->qhw', embed[b], feature[t])
        torch.testing.assert_close(dense[b], expected)


@pytest.mark.parametrize('targets', [[1, 0, 3, 2], [2, 2, 0, 2], [1, 0, 3, -1]])
def test_lean_equals_dense_logits_loss_and_gradients(targets):
    targets = torch.tensor(targets)
    mask = torch.zeros(4, 6, dtype=torch.bool)
    mask[0, [0, 3]] = mask[1, 5] = mask[2, [1, 2, 4]] = mask[3, 0] = True
    mask &= (targets >= 0)[:, None]
    src_crop, src_query = mask.nonzero(as_tuple=True)
    coords = torch.rand(len(src_crop), 11, 2, generator=torch.Generator().manual_seed(1),
                        dtype=torch.float64)
    results = []
    for path in ('lean', 'dense'):
        embed, feature = _inputs()
        if path == 'lean':
            logits = lean_cross_crop_logits(embed, feature, src_crop, src_query, targets)
        else:
            logits = dense_cross_crop_logits(embed, feature, targets)[src_crop, src_query]
        points = point_sample(logits.unsqueeze(1), coords).squeeze(1)
        loss = IBSLoss(loss_weight=50.0)(points)
        loss.backward()
        results.append((logits, loss, embed.grad, feature.grad))
    for lean, dense in zip(*results):
        torch.testing.assert_close(lean, dense, rtol=1e-5, atol=1e-5)
    lean_logits, _, embed_grad, feature_grad = results[0]
    # Gradients reach the supervised embeddings and the target crops' features only.
    assert embed_grad[mask].abs().sum(-1).min() > 0
    assert embed_grad[~mask].abs().sum() == 0
    used = targets[src_crop].unique()
    assert all(feature_grad[t].abs().sum() > 0 for t in used.tolist())


def test_lean_with_no_rows_is_connected_and_empty():
    embed, feature = _inputs()
    empty = torch.zeros(0, dtype=torch.long)
    logits = lean_cross_crop_logits(embed, feature, empty, empty, torch.tensor([1, 0, 3, 2]))
    assert logits.shape == (0, 5, 7) and logits.requires_grad


def test_partner_pairing_pairs_2k_with_2k_plus_1_and_honours_metainfo():
    metas = [{}] * 4
    assert partner_targets(metas, torch.device('cpu')).tolist() == [1, 0, 3, 2]
    assert partner_targets([{}] * 3, torch.device('cpu')).tolist() == [1, 0, -1]
    assert partner_targets([{}], torch.device('cpu')).tolist() == [-1]
    explicit = [{'ibs_partner': 2}, {}, {'ibs_partner': 0}, {'ibs_partner': 1}]
    targets = partner_targets(explicit, torch.device('cpu'))
    assert targets.tolist() == [2, 0, 0, 1] and targets.dtype == torch.int64
    with pytest.raises(ValueError):
        partner_targets([{'ibs_partner': 0}, {}], torch.device('cpu'))
    with pytest.raises(ValueError):
        partner_targets([{'ibs_partner': 5}, {}], torch.device('cpu'))


def test_random_pairing_draws_uniformly_among_the_other_crops():
    gen = torch.Generator().manual_seed(0)
    draws = torch.stack([random_targets(4, gen) for _ in range(3000)])  # (3000, 4)
    assert draws.dtype == torch.int64
    for b in range(4):
        counts = torch.bincount(draws[:, b], minlength=4)
        assert counts[b] == 0
        others = counts[torch.arange(4) != b].double() / 3000
        assert torch.all((others - 1 / 3).abs() < 0.04)
    # With replacement over sources: some draws give several crops the same target.
    assert any(len(set(row.tolist())) < 4 for row in draws[:50])
    again = torch.stack([random_targets(4, torch.Generator().manual_seed(0)) for _ in range(2)])
    assert torch.equal(again[0], draws[0]) and torch.equal(again[1], draws[0])
    assert random_targets(1, gen).tolist() == [-1]
    assert random_targets(2, gen).tolist() == [1, 0]


def test_uncertain_points_prefer_logits_near_zero_and_use_the_generator():
    logits = torch.full((2, 1, 16, 16), -10.0)
    logits[:, :, :, :4] = 0.0  # uncertain band in the left quarter
    before = torch.random.get_rng_state()
    coords = uncertain_point_coords(logits, 40, 3.0, 0.75, torch.Generator().manual_seed(0))
    assert torch.equal(torch.random.get_rng_state(), before)
    assert coords.shape == (2, 40, 2)
    assert torch.all(coords[:, :30, 0] < 0.25 + 1e-6)  # the 30 importance points
    again = uncertain_point_coords(logits, 40, 3.0, 0.75, torch.Generator().manual_seed(0))
    assert torch.equal(coords, again)
