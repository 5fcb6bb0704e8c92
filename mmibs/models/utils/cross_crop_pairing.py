"""Pairing of crops for Intra-Batch Supervision: the target crop t(b) of each source crop b."""
from typing import List, Sequence

import torch
from torch import Tensor

#: Metainfo key of an explicit partner: the index, in the per-process batch, of the crop whose
#: features the embeddings of this crop are multiplied with.
PARTNER_KEY = 'ibs_partner'

#: Target index of a crop that gets no IBS (no valid partner, or a batch of one crop).
NO_TARGET = -1


def partner_targets(batch_img_metas: Sequence[dict], device: torch.device) -> Tensor:
    """Fixed partner pairing: crop 2k <-> 2k+1, unless the metainfo names the partner.

    The class-paired crops of the crop sampler are adjacent in the batch, so by default crop
    ``b`` is paired with ``b ^ 1``. A crop whose metainfo holds :data:`PARTNER_KEY` is paired
    with that batch index instead. The last crop of an odd batch without an explicit partner
    gets :data:`NO_TARGET`.

    Args:
        batch_img_metas: Metainfo of the B crops of the per-process batch.
        device: Device of the returned tensor.

    Returns:
        Target crop of every crop, int64, shape (B,), :data:`NO_TARGET` where there is none.
    """
    batch_size = len(batch_img_metas)
    targets: List[int] = []
    for b, meta in enumerate(batch_img_metas):
        if PARTNER_KEY in meta:
            t = int(meta[PARTNER_KEY])
            if not 0 <= t < batch_size or t == b:
                raise ValueError(f'crop {b}: {PARTNER_KEY}={t} is not another crop of the '
                                 f'batch of {batch_size}')
        else:
            t = b ^ 1 if (b ^ 1) < batch_size else NO_TARGET
        targets.append(t)
    return torch.tensor(targets, dtype=torch.long, device=device)


def random_targets(batch_size: int, generator: torch.Generator) -> Tensor:
    """Random pairing: every crop draws one other crop uniformly (with replacement over crops).

    This is the authors' Mask2Former behaviour; the caller redraws it for every prediction.

    Args:
        batch_size: Number of crops B of the per-process batch.
        generator: Random generator; the result lives on its device.

    Returns:
        Target crop of every crop, int64, shape (B,); all :data:`NO_TARGET` when B < 2.
    """
    device = generator.device
    if batch_size < 2:
        return torch.full((batch_size, ), NO_TARGET, dtype=torch.long, device=device)
    draw = torch.randint(0, batch_size - 1, (batch_size, ), generator=generator, device=device)
    # Draw among the B - 1 others: skip over the source itself.
    return draw + (draw >= torch.arange(batch_size, device=device)).long()
