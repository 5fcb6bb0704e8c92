"""Pairing of crops for Intra-Batch Supervision: the target crop t(b) of each source crop b."""
import logging
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.dist import get_rank
from mmengine.logging import print_log
from torch import Tensor

from ...datasets.class_paired.sample import PARTNER_KEY

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


class CrossCropPairing:
    """The pairing of an IBS head: targets per batch and the seeded random generator.

    Args:
        pairing: ``'partner'`` (:func:`partner_targets`) or ``'random'`` (:func:`random_targets`,
            redrawn at every call).
        seed: Seed of the generator, offset by the process rank; ``None``: the run's seed
            (``torch.initial_seed()``) at first use. The generator is separate from torch's
            global one, so drawing IBS targets leaves every other random stream unchanged.
    """

    def __init__(self, pairing: str, seed: Optional[int] = None) -> None:
        if pairing not in ('partner', 'random'):
            raise ValueError(f"ibs_pairing must be 'partner' or 'random', got {pairing!r}")
        self.pairing = pairing
        self.seed = seed
        self._generators: Dict[torch.device, torch.Generator] = {}
        self._warned_no_target = False

    def generator(self, device: torch.device) -> torch.Generator:
        """The generator on ``device``, seeded at first use."""
        generator = self._generators.get(device)
        if generator is None:
            seed = self.seed if self.seed is not None else torch.initial_seed()
            generator = torch.Generator(device=device)
            generator.manual_seed((seed + get_rank()) % 2**63)
            self._generators[device] = generator
        return generator

    def targets(self, batch_img_metas: Sequence[dict], device: torch.device) -> Tensor:
        """Target crop t(b) of every crop, int64 (B,), :data:`NO_TARGET` for none.

        Crops without a target are reported once per head (a batch of one crop gets none).
        """
        if self.pairing == 'random':
            targets = random_targets(len(batch_img_metas), self.generator(device))
        else:
            targets = partner_targets(batch_img_metas, device)
        if not self._warned_no_target and bool((targets < 0).any()):
            print_log(f'IBS ({self.pairing} pairing): {int((targets < 0).sum())} of '
                      f'{len(batch_img_metas)} crops of the batch have no other crop to pair '
                      'with and get no IBS loss (a batch of 1 gets none). Warned once.',
                      logger='current', level=logging.WARNING)
            self._warned_no_target = True
        return targets
