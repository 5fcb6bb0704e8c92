"""Pairing of crops for Intra-Batch Supervision: which crops' features a source crop's thing
embeddings are multiplied with.

The authors pair each crop with one other crop (``'partner'``, ``'random'``); ``'all'`` and
``'random'`` with ``num_targets=k`` give a source crop several target crops (docs/ibs.md,
"More targets and the global batch"). Every pairing is a boolean matrix ``pairs[s, t]``: source
crop s (of the batch, or of the global batch with ``scope='global'``) is supervised against the
features of this process's crop t.
"""
import logging
from dataclasses import dataclass
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
    targets = [t if t != NO_TARGET else (b ^ 1 if (b ^ 1) < batch_size else NO_TARGET)
               for b, t in enumerate(explicit_partners(batch_img_metas))]
    return torch.tensor(targets, dtype=torch.long, device=device)


def explicit_partners(batch_img_metas: Sequence[dict]) -> List[int]:
    """The partner named by every crop's metainfo (:data:`PARTNER_KEY`), :data:`NO_TARGET`
    for a crop without the key.

    Raises:
        ValueError: a named partner is not another crop of the batch.
    """
    batch_size = len(batch_img_metas)
    partners = []
    for b, meta in enumerate(batch_img_metas):
        t = NO_TARGET
        if PARTNER_KEY in meta:
            t = int(meta[PARTNER_KEY])
            if not 0 <= t < batch_size or t == b:
                raise ValueError(f'crop {b}: {PARTNER_KEY}={t} is not another crop of the '
                                 f'batch of {batch_size}')
        partners.append(t)
    return partners


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


@dataclass
class BatchCrops:
    """The crops a pairing chooses targets among: this process's batch, or the global batch.

    Crop s of the global batch is crop ``s - offset`` of this process when
    ``offset <= s < offset + num_local``.

    Attributes:
        image_keys: Source image of every crop (metainfo ``img_id``, else ``img_path``; ``None``
            when neither is there), length S.
        partners: Class-paired partner of every crop as a crop index of the same list (metainfo
            :data:`PARTNER_KEY`, shifted by its process's offset), :data:`NO_TARGET` if none.
        offset: Index of this process's first crop.
        num_local: Number of this process's crops B.
    """
    image_keys: List[Optional[str]]
    partners: List[int]
    offset: int
    num_local: int


def image_key(meta: dict) -> Optional[str]:
    """The source image of a crop: ``img_id``, else ``img_path``, else ``None``."""
    for key in ('img_id', 'img_path'):
        if meta.get(key) is not None:
            return f'{key}={meta[key]}'
    return None


def crops_of_batch(batch_img_metas: Sequence[dict]) -> BatchCrops:
    """:class:`BatchCrops` of one process's batch (offset 0)."""
    return BatchCrops([image_key(meta) for meta in batch_img_metas],
                      explicit_partners(batch_img_metas), 0, len(batch_img_metas))


def candidate_targets(crops: BatchCrops, source: int, exclude_same_image: bool) -> List[int]:
    """The crops ``source`` may be supervised against, ascending: every other crop, without
    those of the same source image when ``exclude_same_image`` (the partner always stays)."""
    key = crops.image_keys[source]
    partner = crops.partners[source]
    return [t for t in range(len(crops.image_keys))
            if t != source and (t == partner or not exclude_same_image or key is None
                                or crops.image_keys[t] != key)]


def draw_targets(crops: BatchCrops, sources: Sequence[int], num_targets: Optional[int],
                 exclude_same_image: bool, generator: torch.Generator) -> Tensor:
    """Targets of the ``sources`` among all crops of ``crops``: their candidates
    (:func:`candidate_targets`), all of them (``num_targets=None``) or ``num_targets`` distinct
    ones drawn without replacement (the partner first, when there is one).

    Each draw round takes one more target of every source that still needs one: one
    ``randint`` over the sources when they all have the same number n of candidates left (so
    one round without partners and exclusions is :func:`random_targets`' draw exactly), else
    one ``randint`` per source.

    Returns:
        Boolean matrix (len(sources), S), True where the source is supervised against the crop.
    """
    num_crops = len(crops.image_keys)
    chosen = torch.zeros(len(sources), num_crops, dtype=torch.bool)
    left, need = [], []
    for i, source in enumerate(sources):
        candidates = candidate_targets(crops, source, exclude_same_image)
        partner = crops.partners[source]
        if num_targets is None or num_targets >= len(candidates):
            chosen[i, candidates] = True
            left.append([])
            need.append(0)
            continue
        wanted = num_targets
        if partner != NO_TARGET:
            chosen[i, partner] = True
            candidates.remove(partner)
            wanted -= 1
        left.append(candidates)
        need.append(wanted)
    while any(need):
        active = [i for i, n in enumerate(need) if n > 0]
        sizes = {len(left[i]) for i in active}
        if len(sizes) == 1:
            draws = torch.randint(0, sizes.pop(), (len(active), ), generator=generator,
                                  device=generator.device).tolist()
        else:
            draws = [int(torch.randint(0, len(left[i]), (1, ), generator=generator,
                                       device=generator.device)) for i in active]
        for i, d in zip(active, draws):
            chosen[i, left[i].pop(d)] = True
            need[i] -= 1
    return chosen


class CrossCropPairing:
    """The pairing of an IBS head: the supervised (source, target) crops of a batch and the
    seeded random generator.

    Args:
        pairing: ``'partner'`` (:func:`partner_targets`, one target); ``'random'`` with
            ``num_targets=None`` (:func:`random_targets`, one target redrawn at every call, the
            authors'); ``'random'`` with ``num_targets=k``: k distinct other crops drawn at every
            call (:func:`draw_targets`); ``'all'``: every other crop.
        seed: Seed of the generator, offset by the process rank; ``None``: the run's seed
            (``torch.initial_seed()``) at first use. The generator is separate from torch's
            global one, so drawing IBS targets leaves every other random stream unchanged.
        num_targets: Targets per source crop for ``'random'`` (see above); ``None`` or >= 1.
        exclude_same_image: With ``'all'`` / ``num_targets``: crops cut from the same source
            image (metainfo ``img_id``) are no targets (their instances can be the same
            object); the class-paired partner (:data:`PARTNER_KEY`) always is one. The authors'
            one-target pairings exclude nothing.
    """

    def __init__(self, pairing: str, seed: Optional[int] = None,
                 num_targets: Optional[int] = None, exclude_same_image: bool = True) -> None:
        if pairing not in ('partner', 'random', 'all'):
            raise ValueError(f"ibs_pairing must be 'partner', 'random' or 'all', got {pairing!r}")
        if num_targets is not None and (pairing != 'random' or not isinstance(num_targets, int)
                                        or num_targets < 1):
            raise ValueError(f"num_targets must be None or an integer >= 1 with pairing "
                             f"'random', got num_targets={num_targets!r} with {pairing!r}")
        self.pairing = pairing
        self.seed = seed
        self.num_targets = num_targets
        self.exclude_same_image = exclude_same_image
        self._generators: Dict[torch.device, torch.Generator] = {}
        self._warned_no_target = False
        self._warned_no_image = False

    @property
    def multi_target(self) -> bool:
        """Whether a source crop can have several targets (``'all'`` or ``num_targets``)."""
        return self.pairing == 'all' or self.num_targets is not None

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
        """Target crop t(b) of every crop of a one-target pairing, int64 (B,),
        :data:`NO_TARGET` for none (:meth:`pairs` is the general form)."""
        if self.multi_target:
            raise ValueError(f'{self.pairing!r} pairing with num_targets={self.num_targets} '
                             'gives several targets per crop: use pairs()')
        if self.pairing == 'random':
            targets = random_targets(len(batch_img_metas), self.generator(device))
        else:
            targets = partner_targets(batch_img_metas, device)
        self._warn_no_target(int((targets < 0).sum()), len(batch_img_metas))
        return targets

    def pairs(self, batch_img_metas: Sequence[dict], crops: BatchCrops,
              device: torch.device) -> Tensor:
        """Which source crops of this process are supervised against which crops.

        Args:
            batch_img_metas: Metainfo of this process's B crops.
            crops: The crops targets are drawn among (:func:`crops_of_batch`, or the global
                batch of :func:`~mmibs.models.ibs.global_batch.gather_crops`).
            device: Device of the generator (and of the one-target pairings' draws).

        Returns:
            Boolean matrix (B, S): row b (this process's crop b, crop ``offset + b`` of
            ``crops``) is True at the crops it is supervised against.
        """
        batch_size = len(batch_img_metas)
        if not self.multi_target:
            targets = self.targets(batch_img_metas, device).cpu()
            matrix = torch.zeros(batch_size, len(crops.image_keys), dtype=torch.bool)
            has = targets >= 0
            matrix[has.nonzero(as_tuple=True)[0], targets[has] + crops.offset] = True
            return matrix
        if self.exclude_same_image and not self._warned_no_image and None in crops.image_keys:
            print_log('IBS: crops without img_id / img_path in their metainfo; crops of the same '
                      'image cannot be excluded as targets for them. Warned once.',
                      logger='current', level=logging.WARNING)
            self._warned_no_image = True
        sources = range(crops.offset, crops.offset + batch_size)
        matrix = draw_targets(crops, sources, self.num_targets, self.exclude_same_image,
                              self.generator(device))
        self._warn_no_target(int((~matrix.any(dim=1)).sum()), batch_size)
        return matrix

    def _warn_no_target(self, num_without: int, batch_size: int) -> None:
        """Report crops without a target, once per head (a batch of one crop gets none)."""
        if num_without and not self._warned_no_target:
            print_log(f'IBS ({self.pairing} pairing): {num_without} of {batch_size} crops of the '
                      'batch have no other crop to pair with and get no IBS loss (a batch of 1 '
                      'gets none). Warned once.', logger='current', level=logging.WARNING)
            self._warned_no_target = True
