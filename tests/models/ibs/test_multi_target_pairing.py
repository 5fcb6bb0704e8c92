"""Several targets per source crop: 'all', num_targets=k, same-image exclusion, the partner,
the normalisation (mean over (mask, target) pairs), max_pairs and the error paths."""
import logging

import pytest
import torch

from mmibs.models.ibs import IntraBatchSupervision
from mmibs.models.ibs import pairing as pairing_module
from mmibs.models.ibs.pairing import CrossCropPairing, crops_of_batch, draw_targets


def hand_focal(x: torch.Tensor) -> torch.Tensor:
    """(1 - 0.25) * sigmoid(x)**2 * softplus(x): the IBS focal term towards 0."""
    return 0.75 * x.sigmoid()**2 * torch.nn.functional.softplus(x)


def _inputs(batch=4, channels=5, hw=(3, 4), rows_per_crop=(2, 1, 0, 3), seed=0,
            dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    src = torch.tensor([b for b, n in enumerate(rows_per_crop) for _ in range(n)])
    rows = torch.randn(len(src), channels, generator=gen, dtype=dtype)
    feats = torch.randn(batch, channels, *hw, generator=gen, dtype=dtype)
    return rows.requires_grad_(), src, feats.requires_grad_()


def metas(img_ids, partners=None):
    out = [dict(img_id=i) for i in img_ids]
    for meta, partner in zip(out, partners or [None] * len(out)):
        if partner is not None:
            meta['ibs_partner'] = partner
    return out


def dense_reference(rows, src, feats, allowed, weight=None, rows_per_mask=1):
    """Mean over (mask, target) pairs of the per-pixel focal mean, from a full product."""
    total, count = 0.0, 0
    for n in range(rows.shape[0]):
        for t in range(feats.shape[0]):
            if allowed[int(src[n])][t]:
                logits = torch.einsum('c,chw->hw', rows[n], feats[t])
                w = 1.0 if weight is None else weight[n]
                total = total + w * hand_focal(logits).mean()
                count += 1
    return total / max(count // rows_per_mask, 1)


def test_all_pairs_is_the_mean_over_row_target_pairs_with_same_image_excluded():
    rows, src, feats = _inputs()
    ids = ['a', 'a', 'b', 'c']  # crops 0 and 1 are cut from the same image
    ibs = IntraBatchSupervision(pairing='all')
    loss = ibs(rows, src, feats, metas(ids))
    allowed = [[t != s and ids[t] != ids[s] for t in range(4)] for s in range(4)]
    assert allowed[0] == [False, False, True, True]
    expected = dense_reference(rows, src, feats, allowed)
    torch.testing.assert_close(loss, expected)
    grads = torch.autograd.grad(loss, (rows, feats))
    torch.testing.assert_close(grads, torch.autograd.grad(expected, (rows, feats)))
    # Without the exclusion, crop 0 is also supervised against crop 1.
    loss_all = IntraBatchSupervision(pairing='all', exclude_same_image=False)(
        rows, src, feats, metas(ids))
    allowed = [[t != s for t in range(4)] for s in range(4)]
    torch.testing.assert_close(loss_all, dense_reference(rows, src, feats, allowed))
    assert not torch.allclose(loss_all, loss)


def test_partner_always_stays_a_target_even_from_the_same_image():
    ids = ['a', 'a', 'a', 'b']  # crops 0, 1 and 2 are cut from image a
    crops = crops_of_batch(metas(ids, [1, 0, 3, 2]))
    gen = torch.Generator().manual_seed(0)
    matrix = draw_targets(crops, range(4), None, True, gen)
    assert matrix.tolist() == [[False, True, False, True], [True, False, False, True],
                               [False, False, False, True], [True, True, True, False]]
    for _ in range(20):
        drawn = draw_targets(crops_of_batch(metas('abcdef', [1, 0, 3, 2, 5, 4])), range(6), 2,
                             True, gen)
        assert drawn.sum(dim=1).tolist() == [2] * 6
        assert all(drawn[s, s ^ 1] and not drawn[s, s] for s in range(6))


def test_num_targets_draws_distinct_other_crops_of_other_images_uniformly():
    ids = ['a', 'a', 'b', 'c', 'd', 'e']
    pairing = CrossCropPairing('random', seed=0, num_targets=2)
    counts = torch.zeros(6, 6)
    for _ in range(600):
        matrix = pairing.pairs(metas(ids), crops_of_batch(metas(ids)), torch.device('cpu'))
        assert matrix.sum(dim=1).tolist() == [2] * 6
        assert not matrix.diagonal().any() and not matrix[0, 1] and not matrix[1, 0]
        counts += matrix
    # Crop 0 draws 2 of {2, 3, 4, 5}: each with probability 1/2.
    assert counts[0, 2:].sub(300).abs().max() < 60
    # More targets asked than there are: all candidates.
    many = CrossCropPairing('random', seed=0, num_targets=10)
    matrix = many.pairs(metas(ids), crops_of_batch(metas(ids)), torch.device('cpu'))
    assert matrix.sum(dim=1).tolist() == [4, 4, 5, 5, 5, 5]


POINTS = dict(num_points=6, oversample_ratio=3.0, importance_sample_ratio=0.75)


@pytest.mark.parametrize('point_sampling', [None, POINTS])
def test_one_target_without_exclusion_is_random_pairing_exactly(point_sampling):
    rows, src, feats = _inputs(rows_per_crop=(2, 3, 1, 2), dtype=torch.float32)
    ids = ['a', 'a', 'b', 'b']  # would be excluded: the exclusion is off
    results = []
    for kwargs in (dict(), dict(num_targets=1, exclude_same_image=False)):
        ibs = IntraBatchSupervision(pairing='random', seed=7, point_sampling=point_sampling,
                                    **kwargs)
        losses = [ibs(rows, src, feats, metas(ids)) for _ in range(4)]  # redrawn per call
        results.append((losses, torch.autograd.grad(sum(losses), (rows, feats))))
    for a, b in zip(results[0][0], results[1][0]):
        assert torch.equal(a, b)
    assert len({v.item() for v in results[0][0]}) > 1
    for a, b in zip(results[0][1], results[1][1]):
        assert torch.equal(a, b)


def test_rows_per_mask_and_weights_normalise_by_masks_times_targets():
    rows, src, feats = _inputs(rows_per_crop=(4, 2, 0, 2))  # masks of 2 rows
    weight = torch.rand(rows.shape[0], dtype=torch.float64)
    ids = ['a', 'b', 'c', 'd']
    loss = IntraBatchSupervision(pairing='all')(rows, src, feats, metas(ids), weight=weight,
                                                rows_per_mask=2)
    allowed = [[t != s for t in range(4)] for s in range(4)]
    torch.testing.assert_close(
        loss, dense_reference(rows, src, feats, allowed, weight=weight, rows_per_mask=2))


def test_max_pairs_caps_the_products_and_keeps_masks_whole():
    rows, src, feats = _inputs(rows_per_crop=(4, 2, 2, 2))
    ibs = IntraBatchSupervision(pairing='all', max_pairs=3, seed=0)
    matrix = torch.ones(4, 4, dtype=torch.bool) & ~torch.eye(4, dtype=torch.bool)
    row_index, targets = ibs._pair_rows(matrix, src, 2, torch.device('cpu'))
    assert row_index.shape[0] == 6 and targets.shape[0] == 6
    assert (row_index[0::2] + 1).tolist() == row_index[1::2].tolist()  # masks stay whole
    assert torch.equal(targets[0::2], targets[1::2])
    assert not (src[row_index] == targets).any()
    loss = ibs(rows, src, feats, metas('abcd'), rows_per_mask=2)
    assert torch.isfinite(loss) and loss > 0


def test_no_other_crop_is_a_connected_zero_with_one_warning(monkeypatch):
    warnings = []
    monkeypatch.setattr(pairing_module, 'print_log',
                        lambda msg, logger=None, level=None: warnings.append((msg, level)))
    rows, src, feats = _inputs(batch=2, rows_per_crop=(2, 1))
    ibs = IntraBatchSupervision(pairing='all')
    for _ in range(2):  # the two crops are cut from one image: no target
        loss = ibs(rows, src, feats, [dict(img_id='a'), dict(img_id='a')])
    assert loss.item() == 0.0 and loss.requires_grad
    assert [level for msg, level in warnings if 'no other crop' in msg] == [logging.WARNING]
    one = IntraBatchSupervision(pairing='random', num_targets=2)(
        rows[:1], src[:1], feats[:1], [dict(img_id='a')])
    assert one.item() == 0.0 and one.requires_grad


def test_invalid_options_name_the_knob():
    with pytest.raises(ValueError, match='num_targets'):
        IntraBatchSupervision(pairing='partner', num_targets=2)
    with pytest.raises(ValueError, match='num_targets'):
        IntraBatchSupervision(pairing='random', num_targets=0)
    with pytest.raises(ValueError, match="scope='global' needs"):
        IntraBatchSupervision(pairing='random', scope='global')
    with pytest.raises(ValueError, match='scope'):
        IntraBatchSupervision(pairing='all', scope='world')
    with pytest.raises(ValueError, match='max_pairs'):
        IntraBatchSupervision(pairing='all', max_pairs=0)
    with pytest.raises(ValueError, match='use pairs'):
        CrossCropPairing('all').targets(metas('ab'), torch.device('cpu'))


def test_global_scope_on_one_process_is_local():
    rows, src, feats = _inputs()
    local = IntraBatchSupervision(pairing='all')(rows, src, feats, metas('abcd'))
    global_ = IntraBatchSupervision(pairing='all', scope='global')(rows, src, feats,
                                                                   metas('abcd'))
    assert torch.equal(local, global_)
