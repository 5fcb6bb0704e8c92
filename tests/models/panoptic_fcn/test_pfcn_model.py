"""Panoptic FCN model: shapes, DCN on CPU, end to end, IBS."""
import copy

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.config import Config

from mmibs.models.ibs import cross_crop_logits

BASE_MODEL = 'configs/_base_/models/panoptic_fcn_r50_fpn.py'


def build_detector(cfg) -> nn.Module:
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg))
    model.init_weights()
    return model


def test_r50_shapes_levels_and_shared_weights(repo_root):
    cfg = Config.fromfile(str(repo_root / BASE_MODEL)).model
    cfg.backbone.init_cfg = None
    model = MODELS.build(cfg)
    model.init_weights()
    model.eval()
    with torch.no_grad():
        centers, regions, kernels, encode = model._forward(torch.zeros(1, 3, 512, 1024))
    sizes = [(512 // s, 1024 // s) for s in (8, 16, 32, 64, 128)]  # P3 64 x 128 ... P7 4 x 8
    assert [tuple(c.shape) for c in centers] == [(1, 8, *s) for s in sizes]
    assert [tuple(r.shape) for r in regions] == [(1, 19, *s) for s in sizes]
    assert [tuple(k.shape) for k in kernels] == [(1, 256, *s) for s in sizes]
    assert tuple(encode.shape) == (1, 256, 128, 256) and (encode >= 0).all()
    head = model.panoptic_head
    # one position head and one kernel head for all 5 levels (shared weights)
    assert len(list(head.position_head.convs)) == 3
    assert all(m.conv.__class__.__name__ == 'ModulatedDeformConv2dPack'
               for m in head.position_head.convs)
    assert all(isinstance(m.conv, nn.Conv2d) for m in head.kernel_head.convs)
    for out in (head.position_head.out_inst, head.position_head.out_sem):
        assert torch.allclose(out.bias, torch.full_like(out.bias, -2.19))  # prior ~0.1


def test_dcn_on_cpu_zero_offset_is_half_the_regular_conv(build_pfcn_head):
    from mmcv.ops import ModulatedDeformConv2dPack
    torch.manual_seed(0)
    dcn = ModulatedDeformConv2dPack(4, 6, 3, padding=1, bias=False)
    nn.init.zeros_(dcn.conv_offset.weight)
    nn.init.zeros_(dcn.conv_offset.bias)
    x = torch.randn(2, 4, 7, 9, requires_grad=True)
    out = dcn(x)
    assert torch.allclose(out, 0.5 * F.conv2d(x, dcn.weight, padding=1), atol=1e-5)
    out.sum().backward()
    assert x.grad.abs().sum() > 0 and dcn.weight.grad.abs().sum() > 0
    head = build_pfcn_head(position_dcn=True)  # official init: torch-default offset conv
    offset = head.position_head.convs[0].conv.conv_offset
    assert offset.weight.abs().sum() > 0
    zero = build_pfcn_head(position_dcn=True, dcn_init_offset='zero')
    assert zero.position_head.convs[0].conv.conv_offset.weight.abs().sum() == 0
    plain = build_pfcn_head(position_dcn=False)
    assert all(type(m.conv) is nn.Conv2d for m in plain.position_head.convs)


def test_end_to_end_losses_backward_and_predict(tiny_model_cfg, tiny_batch):
    cfg = copy.deepcopy(tiny_model_cfg)
    cfg.panoptic_head.ibs = ibs_cfg(4.0)
    model = build_detector(cfg).train()
    inputs, samples = tiny_batch()
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_pos_th', 'loss_pos_st', 'loss_seg_th', 'loss_seg_st',
                           'loss_ibs_th', 'ibs_confused_th'}
    confused = losses.pop('ibs_confused_th')  # a logged diagnostic, not a loss
    assert 0 <= confused.item() <= 1 and not confused.requires_grad
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    sum(losses.values()).backward()
    for name, param in model.panoptic_head.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    model.eval()
    with torch.no_grad():
        blank = model.predict(torch.zeros(1, 3, 64, 128), samples[1:])
    pan = blank[0].pred_panoptic_seg.sem_seg
    assert pan.shape == (1, 64, 128)


def test_nothing_kept_gives_void_not_a_crash(tiny_model_cfg, tiny_batch):
    cfg = copy.deepcopy(tiny_model_cfg)
    cfg.test_cfg.update(center_thr=1.0, stuff_thr=1.0)
    model = build_detector(cfg).eval()
    inputs, samples = tiny_batch()
    with torch.no_grad():
        results = model.predict(inputs, samples)
    for result in results:
        assert (result.pred_panoptic_seg.sem_seg == model.num_classes).all()


def test_test_batch_of_two_equals_one_by_one(tiny_model_cfg, tiny_batch):
    cfg = copy.deepcopy(tiny_model_cfg)
    cfg.test_cfg.update(center_thr=0.0, stuff_thr=0.0, inst_score_thr=0.0, stuff_area_limit=0)
    model = build_detector(cfg).eval()
    inputs, samples = tiny_batch()
    with torch.no_grad():
        kernels_both = model.panoptic_head.predict(model.extract_feat(inputs), samples)
        both = [r.pred_panoptic_seg.sem_seg.clone()
                for r in model.predict(inputs, copy.deepcopy(samples))]
        for b in range(2):
            kernels = model.panoptic_head.predict(model.extract_feat(inputs[b:b + 1]),
                                                  samples[b:b + 1])[0]
            for key, value in kernels.items():
                assert torch.allclose(value.float(), kernels_both[b][key].float(), atol=1e-5), key
            single = model.predict(inputs[b:b + 1], copy.deepcopy(samples[b:b + 1]))[0]
            assert torch.equal(both[b], single.pred_panoptic_seg.sem_seg)
    # each image gets its own predictions (the official code overwrote them inside its loop)
    scores = [kernels_both[b]['thing_scores'] for b in range(2)]
    assert scores[0].shape != scores[1].shape or not torch.allclose(*scores)


def test_more_instances_than_tensor_dim_trains(build_pfcn_head, pfcn_sample, pfcn_box):
    hw = (64, 128)
    things = [(i % 3, pfcn_box(hw, 4 * (i // 32), 4 * (i // 32) + 4, 4 * (i % 32),
                               4 * (i % 32) + 4)) for i in range(160)]
    head = build_pfcn_head()
    feats = [torch.randn(1, 32, -(-hw[0] // s), -(-hw[1] // s)) for s in (4, 8, 16, 32, 64, 128)]
    losses = head.loss(feats, [pfcn_sample(hw, things)])
    assert all(torch.isfinite(v) for v in losses.values())


def ibs_cfg(weight: float, **kwargs) -> dict:
    """An IntraBatchSupervision config with IBS weight ``weight``."""
    return dict(type='IntraBatchSupervision', loss=dict(type='IBSLoss', loss_weight=weight),
                **kwargs)


def test_kernel_cross_crop_logits_equal_dense_einsum():
    gen = torch.Generator().manual_seed(0)
    kernels, features = torch.randn(7, 5, generator=gen), torch.randn(3, 5, 4, 6, generator=gen)
    src = torch.tensor([2, 0, 1, 2, 0, 0, 1])
    targets = torch.tensor([1, 2, 0])
    dense = torch.einsum('nc,nchw->nhw', kernels, features[targets[src]])
    assert torch.allclose(cross_crop_logits(kernels, src, features, targets), dense,
                          atol=1e-6)
    with pytest.raises(ValueError, match='without target'):
        cross_crop_logits(kernels, src, features, torch.tensor([1, -1, 0]))


def _head_losses(head, tiny_batch):
    """Head losses on fixed random features of the tiny batch, and the features."""
    _, samples = tiny_batch()
    gen = torch.Generator().manual_seed(1)
    feats = [torch.randn(2, 32, -(-64 // s), -(-128 // s), generator=gen, requires_grad=True)
             for s in (4, 8, 16, 32, 64, 128)]
    return head.loss(feats, samples), feats


def test_ibs_zero_weight_is_neutral(build_pfcn_head, tiny_batch):
    plain = build_pfcn_head()
    zero = build_pfcn_head(ibs=ibs_cfg(0.0))
    losses_plain, _ = _head_losses(plain, tiny_batch)
    losses_zero, _ = _head_losses(zero, tiny_batch)
    assert set(losses_plain) == {'loss_pos_th', 'loss_pos_st', 'loss_seg_th', 'loss_seg_st'}
    assert losses_zero['loss_ibs_th'].item() == 0
    for key, value in losses_plain.items():
        assert torch.equal(value, losses_zero[key]), key
    sum(losses_plain.values()).backward()
    sum(losses_zero.values()).backward()
    for (name, a), (_, b) in zip(plain.named_parameters(), zero.named_parameters()):
        assert torch.equal(a.grad, b.grad), name


def test_ibs_reaches_kernels_features_and_position_head(build_pfcn_head, tiny_batch):
    head = build_pfcn_head(ibs=ibs_cfg(4.0))
    outputs = {}
    head.encoder.register_forward_hook(lambda m, a, out: outputs.setdefault('encode', out))
    losses, _ = _head_losses(head, tiny_batch)
    encode = outputs['encode']
    encode.retain_grad()
    losses['loss_ibs_th'].backward()
    # crop 0 has the things, its partner is crop 1: the loss reaches crop 1's features only
    assert encode.grad[1].abs().sum() > 0 and encode.grad[0].abs().sum() == 0
    for module in (head.kernel_head, head.thing_embed, head.encoder, head.position_head):
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        assert grads and sum(g.abs().sum() for g in grads) > 0, type(module).__name__
    assert head.stuff_embed.weight.grad is None or head.stuff_embed.weight.grad.abs().sum() == 0


def test_ibs_random_pairing_and_value(build_pfcn_head, tiny_batch):
    head = build_pfcn_head(ibs=ibs_cfg(1.0, pairing='random', seed=0))
    targets = head.ibs.targets([{}] * 4, torch.device('cpu'))
    assert (targets != torch.arange(4)).all() and (targets >= 0).all()
    # the value: sum_g sum_k w_gk mean FL(x_gk, 0) / G with x = kernel . F_partner
    head = build_pfcn_head(ibs=ibs_cfg(1.0))
    embeds = torch.randn(3, head.pos_num, 32)
    weights = torch.rand(3, head.pos_num)
    encode = torch.randn(2, 32, 4, 8)
    src = torch.tensor([0, 0, 1])
    loss = head.ibs(embeds.flatten(0, 1), src.repeat_interleave(head.pos_num), encode, [{}, {}],
                    weight=weights.flatten(), rows_per_mask=head.pos_num)
    logits = torch.einsum('gkc,gchw->gkhw', embeds, encode[1 - src]).flatten(2)
    p = logits.sigmoid()
    fl = (0.75 * p**2 * F.softplus(logits)).mean(-1)
    assert loss.item() == pytest.approx(float((fl * weights).sum() / 3), rel=1e-5)


def test_stuff_branch_mismatch_and_missing_dcn_key_errors(tiny_model_cfg):
    cfg = copy.deepcopy(tiny_model_cfg)
    cfg.test_cfg.stuff_branch = 'with_thing'
    with pytest.raises(ValueError, match='stuff_branch'):
        MODELS.build(cfg)
    cfg = copy.deepcopy(tiny_model_cfg)
    cfg.panoptic_head.ibs = ibs_cfg(1.0, pairing='neighbour')
    with pytest.raises(ValueError, match="'partner', 'random' or 'all'"):
        MODELS.build(cfg)
    cfg.panoptic_head.ibs = ibs_cfg(1.0, point_sampling=dict(
        num_points=8, oversample_ratio=3.0, importance_sample_ratio=0.75))
    with pytest.raises(ValueError, match='dense over the stride-4 pixels'):
        MODELS.build(cfg)


def test_with_thing_mode_trains(build_pfcn_head, tiny_batch):
    head = build_pfcn_head(stuff_branch='with_thing')
    assert head.num_stuff_channels == 6
    losses, _ = _head_losses(head, tiny_batch)
    assert all(np.isfinite(v.item()) for v in losses.values())


def test_ibs_all_pairs_of_two_crops_is_the_partner(build_pfcn_head, tiny_batch):
    """With 2 crops every other crop is the partner: 'all' (and the global scope on one
    process) give the partner head's IBS loss and gradients."""
    results = []
    for extra in (dict(), dict(pairing='all'), dict(pairing='all', scope='global')):
        head = build_pfcn_head(ibs=ibs_cfg(4.0, **extra))
        losses, feats = _head_losses(head, tiny_batch)
        assert losses['loss_ibs_th'].item() > 0
        results.append((losses['loss_ibs_th'],
                        torch.autograd.grad(losses['loss_ibs_th'], feats, allow_unused=True)))
    for loss, grads in results[1:]:
        assert torch.equal(loss, results[0][0])
        for a, b in zip(grads, results[0][1]):
            assert (a is None and b is None) or torch.equal(a, b)
