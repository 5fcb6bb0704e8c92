"""A third head gets IBS through the module: mmdet's MaskFormerHead, subclassed here.

The subclass below is all a contributor writes for IBS on another MaskFormer-family head: say
where the mask embeddings and features are (``ibs_inputs``) and build the component. Weight 0
gives the stock head's losses and gradients; a positive weight adds ``loss_ibs`` per prediction.
"""
import pytest
import torch
from mmdet.models.dense_heads import MaskFormerHead
from mmdet.registry import MODELS
from mmengine.config import ConfigDict

from mmibs.models.ibs import MaskFormerIBSMixin


class MaskFormerIBSHead(MaskFormerIBSMixin, MaskFormerHead):
    """mmdet's MaskFormerHead with IBS on every decoder layer's prediction. Its forward makes
    all layers' mask embeddings at once (L, B, Q, C); they and the mask features are kept on the
    mask logits it returns."""

    def __init__(self, *args, ibs=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ibs = None if ibs is None else MODELS.build(ibs)
        self.ibs_predictions = range(self.transformer_decoder.num_layers)

    def forward(self, x, batch_data_samples):
        kept = {}
        hooks = [self.mask_embed.register_forward_hook(lambda m, a, out: kept.update(e=out)),
                 self.pixel_decoder.register_forward_hook(lambda m, a, out: kept.update(f=out[0]))]
        try:
            all_cls_scores, all_mask_preds = super().forward(x, batch_data_samples)
        finally:
            for hook in hooks:
                hook.remove()
        all_mask_preds.ibs_embedding, all_mask_preds.ibs_feature = kept['e'], kept['f']
        return all_cls_scores, all_mask_preds

    def ibs_inputs(self, all_mask_preds, k):
        return all_mask_preds.ibs_embedding[k], all_mask_preds.ibs_feature


MODELS.register_module(module=MaskFormerIBSHead, force=True)

ATTENTION = dict(embed_dims=32, num_heads=4, dropout=0.0, batch_first=True)
FFN = dict(embed_dims=32, feedforward_channels=64, num_fcs=2, ffn_drop=0.0,
           act_cfg=dict(type='ReLU', inplace=True))


def tiny_maskformer(head_type: str, ibs=None) -> torch.nn.Module:
    """A 32-d MaskFormerHead (1 encoder, 2 decoder layers, 10 queries) on the 4 test levels."""
    cfg = dict(
        type=head_type, in_channels=[32, 64, 128, 256], feat_channels=32, out_channels=32,
        num_things_classes=3, num_stuff_classes=5, num_queries=10,
        pixel_decoder=dict(
            type='TransformerEncoderPixelDecoder', norm_cfg=dict(type='GN', num_groups=8),
            act_cfg=dict(type='ReLU'),
            encoder=dict(num_layers=1, layer_cfg=dict(self_attn_cfg=ATTENTION, ffn_cfg=FFN)),
            positional_encoding=dict(num_feats=16, normalize=True)),
        enforce_decoder_input_project=False,
        positional_encoding=dict(num_feats=16, normalize=True),
        transformer_decoder=dict(
            num_layers=2, return_intermediate=True,
            layer_cfg=dict(self_attn_cfg=ATTENTION, cross_attn_cfg=ATTENTION, ffn_cfg=FFN)),
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                      reduction='mean', class_weight=[1.0] * 8 + [0.1]),
        train_cfg=dict(
            assigner=dict(type='HungarianAssigner', match_costs=[
                dict(type='ClassificationCost', weight=1.0),
                dict(type='FocalLossCost', weight=20.0, binary_input=True),
                dict(type='DiceCost', weight=1.0, pred_act=True, eps=1.0)]),
            sampler=dict(type='MaskPseudoSampler')))
    if ibs is not None:
        cfg['ibs'] = ibs
    torch.manual_seed(0)
    head = MODELS.build(ConfigDict(cfg))
    head.init_weights()
    return head.train()


def losses_and_grads(head, x, samples):
    x = [level.clone().requires_grad_() for level in x]
    torch.manual_seed(1)
    losses = head.loss(x, samples)
    sum(losses.values()).backward()
    grads = {name: p.grad for name, p in head.named_parameters() if p.grad is not None}
    grads.update({f'x{i}': level.grad for i, level in enumerate(x)})
    return losses, grads


@pytest.mark.parametrize('weight', [0.0, 20.0])
def test_maskformer_head_gets_ibs_through_the_module(make_batch, weight):
    x, samples = make_batch(4)
    stock_losses, stock_grads = losses_and_grads(tiny_maskformer('MaskFormerHead'), x, samples)
    ibs = dict(type='IntraBatchSupervision', loss=dict(type='IBSLoss', loss_weight=weight))
    losses, grads = losses_and_grads(tiny_maskformer('MaskFormerIBSHead', ibs), x, samples)
    assert list(losses)[:len(stock_losses)] == list(stock_losses)
    assert set(losses) - set(stock_losses) == {'d0.loss_ibs', 'loss_ibs', 'd0.ibs_confused',
                                               'ibs_confused'}
    if weight == 0:
        for key, value in stock_losses.items():
            assert torch.equal(losses[key], value), key
        assert set(grads) == set(stock_grads)
        for key, value in stock_grads.items():
            torch.testing.assert_close(grads[key], value, rtol=0, atol=1e-6)
    else:
        assert all(losses[key] > 0 for key in ('d0.loss_ibs', 'loss_ibs'))
        for key, value in stock_losses.items():
            assert torch.equal(losses[key], value), key
