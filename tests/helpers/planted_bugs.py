"""Planted bugs for the overfitting check (tests/tools/test_overfit_check.py).

Imported through ``custom_imports`` of an overfitting run, each module-level patch reproduces a
defect of the kind unit tests miss; the check must fail with it. Selected by the environment
variable ``MMIBS_PLANTED_BUG``:

* ``pfcn_stuff_wrong_level``: Panoptic FCN inference builds the stuff kernels of level l from
  the kernel map of level l + 1 (resized to level l). The check does **not** catch it (the
  kernel head is shared over levels, neighbouring levels' kernels are alike): kept to record
  that, see docs/panoptic_fcn.md.
* ``pfcn_stuff_thing_embed``: Panoptic FCN inference embeds the stuff kernels with the thing
  embedding (a copy-paste slip in the head's predict).
* ``m2f_mirrored_targets``: Mask2Former trains on annotations mirrored left-right relative to
  their images (a flip applied to the image but not to its annotations).
"""
import os

import torch.nn.functional as F
from mmdet.models.dense_heads import Mask2FormerHead

from mmibs.models.panoptic_fcn import inference, panoptic_fcn_head

BUG = os.environ.get('MMIBS_PLANTED_BUG', '')


def _stuff_from_wrong_level(predict_stuff):

    def patched(region_logits, kernel_maps, encode_feat, stuff_embed, test_cfg):
        shifted = [
            F.interpolate(kernel_maps[(level + 1) % len(kernel_maps)][None],
                          size=kernel_maps[level].shape[-2:], mode='bilinear',
                          align_corners=False)[0] for level in range(len(kernel_maps))
        ]
        return predict_stuff(region_logits, shifted, encode_feat, stuff_embed, test_cfg)

    return patched


def _stuff_with_thing_embed(predict_kernels_single):

    def patched(centers, regions, kernels, encode_feat, thing_embed, stuff_embed, test_cfg):
        return predict_kernels_single(centers, regions, kernels, encode_feat, thing_embed,
                                      thing_embed, test_cfg)

    return patched


def _mirrored_targets(loss):

    def patched(self, x, batch_data_samples):
        for sample in batch_data_samples:
            sample.gt_instances.masks = sample.gt_instances.masks.flip('horizontal')
            sample.gt_sem_seg.sem_seg = sample.gt_sem_seg.sem_seg.flip(-1)
        return loss(self, x, batch_data_samples)

    return patched


if BUG == 'pfcn_stuff_wrong_level':
    inference.predict_stuff = _stuff_from_wrong_level(inference.predict_stuff)
elif BUG == 'pfcn_stuff_thing_embed':
    panoptic_fcn_head.predict_kernels_single = _stuff_with_thing_embed(
        panoptic_fcn_head.predict_kernels_single)
elif BUG == 'm2f_mirrored_targets':
    Mask2FormerHead.loss = _mirrored_targets(Mask2FormerHead.loss)
elif BUG:
    raise ValueError(f'MMIBS_PLANTED_BUG={BUG!r}: not a planted bug of {__name__}')
