"""Class-paired batch sampler of IBS (paper §4.2; docs/crop_sampling.md).

Each per-rank batch of ``batch_size`` crops holds ``batch_size / 2`` pairs, partners at
positions (2k, 2k+1). For each pair the sampler draws

1. a class (``class_sampling``: ``'uniform'`` over all classes, stuff included, as the
   authors do; ``'things'``; ``'frequency'``, proportional to the class' non-crowd segments).
   ``class_order='permutation'`` (default) takes the classes of all pairs of all ranks from one
   stream of shuffled permutations of the class list, as the authors' dataset of one item per
   class read by detectron2's ``TrainingSampler`` does (no class repeats within a permutation);
   ``'independent'`` draws each pair's class on its own;
2. one scale from ``scale_options``, shared by the pair (thing classes only; stuff classes get
   ``scale=None`` and the normal random resize, as in the authors' code);
3. for each crop, an image of that class uniformly, then a segment of the class in that image
   uniformly (``segment_sampling='image'``, the authors' rule; crowd segments included as in
   their code). Both crops may come from the same image unless ``avoid_same_image=True``.

It yields :class:`~mmibs.datasets.class_paired.PairedSample` indices, which
:class:`~mmibs.datasets.CocoFormatPanopticDataset` turns into crops with
:class:`~mmibs.datasets.class_paired.ClassPairedCrop`.

Determinism: batch ``b`` of epoch ``e`` on rank ``r`` is a pure function of
``(seed, r, e, b)`` (a numpy ``SeedSequence`` of those four numbers; the class permutations are
seeded by ``(seed, e, permutation number)``, shared by all ranks), so any batch can be
produced without replaying the ones before it. Ranks draw different pairs; the seed is the
runner's (synchronised) seed unless given.
:class:`~mmibs.engine.hooks.ClassPairedSamplerHook` uses this on ``resume=True``: it restores the
seed saved in the checkpoint's message hub, starts the sampler at the resumed iteration and makes
mmengine's "advance the dataloader ``iter`` steps" free.
"""
import logging
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np
from mmdet.registry import DATA_SAMPLERS
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.logging import print_log
from torch.utils.data import Sampler

from .sample import PairedSample
from .segment_index import SegmentIndexError

#: Scale options of the authors (target sqrt(bbox area) in pixels; their cropsampling dataset
#: mappers, e.g. DdeGeus/Mask2Former-IBS
#: mask2former/data/dataset_mappers/mask_former_panoptic_dataset_mapper_cropsampling.py).
DEFAULT_SCALE_OPTIONS = (32, 64, 128, 256, 512)
CLASS_SAMPLING_MODES = ('uniform', 'things', 'frequency')
CLASS_ORDERS = ('permutation', 'independent')
#: Separates the seed sequences of the class permutations from those of the per-rank draws.
_PERMUTATION_STREAM = 0x636C617373  # 'class'


class _EpochForwardingSampler:
    """Stands in for ``batch_sampler.sampler`` so that mmengine's ``set_epoch`` calls
    (``DistSamplerSeedHook``, ``_InfiniteDataloaderIterator``), which go to
    ``dataloader.batch_sampler.sampler``, reach the batch sampler as well."""

    def __init__(self, owner: 'ClassPairedBatchSampler', base) -> None:
        self._owner = owner
        self._base = base

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self._base, 'set_epoch'):
            self._base.set_epoch(epoch)
        self._owner.set_epoch(epoch)

    def __getattr__(self, name):
        if name.startswith('__') or name in ('_owner', '_base'):
            raise AttributeError(name)
        return getattr(self._base, name)

    def __iter__(self):
        return iter(self._base)

    def __len__(self) -> int:
        return len(self._base)


@DATA_SAMPLERS.register_module()
class ClassPairedBatchSampler(Sampler):
    """Batch sampler yielding class-paired crops, partners adjacent in every per-rank batch.

    Use as ``train_dataloader.batch_sampler=dict(type='ClassPairedBatchSampler', ...)``; mmengine
    passes the dataloader's ``sampler`` (whose dataset, and seed when not given here, are used;
    its order is ignored) and the per-GPU ``batch_size`` (crops, must be even).

    Args:
        sampler: The mmengine sampler built from ``train_dataloader.sampler``.
        batch_size (int): Crops per rank and batch; even.
        class_sampling (str): ``'uniform'`` (default, authors: all classes, stuff included),
            ``'things'`` (thing classes only) or ``'frequency'`` (all classes, weighted by their
            number of non-crowd segments).
        class_order (str): ``'permutation'`` (default, authors): global pair ``g`` of the
            training (rank ``r`` of ``W``, batch ``b``, pair ``k`` of ``P`` per batch:
            ``g = (b P + k) W + r``) takes element ``g mod C`` of the ``g // C``-th shuffled
            permutation of the ``C`` classes, so the pairs of one iteration repeat a class only
            where the iteration spans two permutations. ``'independent'``: each pair's class is
            drawn on its own (same marginal, classes may repeat within an iteration). Not
            available with ``class_sampling='frequency'``.
        scale_options (Sequence[float]): Target ``sqrt(bbox area)`` in pixels, one drawn
            uniformly per pair. Defaults to (32, 64, 128, 256, 512).
        avoid_same_image (bool): Draw the two crops of a pair from different images. Defaults
            to False (authors; the paper's IBS assumption, §4.1, can then be violated).
        segment_sampling (str): ``'image'`` (default, authors: image uniform among the images of
            the class, then segment uniform within it) or ``'segment'`` (uniform over segments).
        include_crowd (bool): Whether crowd segments can be sampled. Defaults to True (authors).
        skip_empty_classes (bool): Leave classes that cannot be drawn (no non-crowd segment; or
            a single image when ``avoid_same_image``) out of the draw, as the authors' index
            implicitly does. Defaults to False: such classes raise an error at build time.
        seed (int, optional): Base seed; defaults to the mmengine sampler's seed (the runner's
            seed), else a seed synchronised across ranks.
        infinite (bool): Iterate forever (iteration-based loops). Defaults to True. With False an
            epoch has ``len(self)`` batches (epoch-based loops).
        num_batches_per_epoch (int, optional): ``len(self)``; defaults to
            ``len(dataset) // (batch_size * world_size)`` (at least 1).
    """

    def __init__(self,
                 sampler,
                 batch_size: int,
                 class_sampling: str = 'uniform',
                 class_order: str = 'permutation',
                 scale_options: Sequence[float] = DEFAULT_SCALE_OPTIONS,
                 avoid_same_image: bool = False,
                 segment_sampling: str = 'image',
                 include_crowd: bool = True,
                 skip_empty_classes: bool = False,
                 seed: Optional[int] = None,
                 infinite: bool = True,
                 num_batches_per_epoch: Optional[int] = None) -> None:
        if not isinstance(batch_size, int) or batch_size <= 0 or batch_size % 2:
            raise ValueError(
                f'ClassPairedBatchSampler: batch_size (crops per GPU) must be a positive even '
                f'number, as every batch holds whole pairs of crops; got {batch_size!r}')
        if class_sampling not in CLASS_SAMPLING_MODES:
            raise ValueError(f'ClassPairedBatchSampler: class_sampling must be one of '
                             f'{CLASS_SAMPLING_MODES}, got {class_sampling!r}')
        if class_order not in CLASS_ORDERS:
            raise ValueError(f'ClassPairedBatchSampler: class_order must be one of '
                             f'{CLASS_ORDERS}, got {class_order!r}')
        if class_order == 'permutation' and class_sampling == 'frequency':
            raise ValueError("ClassPairedBatchSampler: class_sampling='frequency' weights the "
                             "classes, which a permutation cannot; set class_order='independent'")
        if segment_sampling not in ('image', 'segment'):
            raise ValueError("ClassPairedBatchSampler: segment_sampling must be 'image' or "
                             f"'segment', got {segment_sampling!r}")
        scale_options = tuple(float(s) for s in scale_options)
        if not scale_options or min(scale_options) <= 0:
            raise ValueError(f'ClassPairedBatchSampler: scale_options must be positive sizes in '
                             f'pixels, got {scale_options}')
        dataset = getattr(sampler, 'dataset', None)
        if dataset is None or not hasattr(dataset, 'get_segment_index'):
            raise TypeError(
                'ClassPairedBatchSampler needs a dataset with get_segment_index() (e.g. '
                f'CocoFormatPanopticDataset), reached through sampler.dataset; got '
                f'{type(dataset).__name__} from {type(sampler).__name__}')
        self.sampler = _EpochForwardingSampler(self, sampler)
        self.dataset = dataset
        self.batch_size = batch_size
        self.class_sampling = class_sampling
        self.class_order = class_order
        self.scale_options = scale_options
        self.avoid_same_image = avoid_same_image
        self.segment_sampling = segment_sampling
        self.include_crowd = include_crowd
        self.infinite = infinite
        self.rank, self.world_size = get_dist_info()
        if seed is None:
            seed = getattr(sampler, 'seed', None)
        if seed is None:
            seed = sync_random_seed()
        self.seed = int(seed)
        self.epoch = 0
        self._start_batch = 0

        self.index = dataset.get_segment_index()
        self.classes, self.class_weights = self._candidate_classes(skip_empty_classes)
        if num_batches_per_epoch is None:
            num_batches_per_epoch = max(1, len(dataset) // (batch_size * self.world_size))
        self.num_batches_per_epoch = int(num_batches_per_epoch)

    def _candidate_classes(self, skip_empty: bool):
        index = self.index
        labels = list(range(index.num_classes))
        if self.class_sampling == 'things':
            labels = [c for c in labels if index.is_thing[c]]
        min_images = 2 if self.avoid_same_image else 1
        bad = [c for c in labels if index.num_images(c) < min_images]
        if bad:
            names = [f'{c} ({index.class_names[c]!r}: {index.num_images(c)} images)' for c in bad]
            reason = ('fewer than 2 images (avoid_same_image=True)'
                      if self.avoid_same_image else 'no non-crowd segment')
            if not skip_empty:
                raise SegmentIndexError(
                    f'ClassPairedBatchSampler: classes with {reason} cannot be paired: '
                    f'{", ".join(names)}. Set skip_empty_classes=True to leave them out of the '
                    "class draw (what the authors' index does implicitly).")
            print_log(f'ClassPairedBatchSampler: leaving out classes with {reason}: '
                      f'{", ".join(names)}', logger='current', level=logging.WARNING)
            labels = [c for c in labels if c not in bad]
        if not labels:
            raise SegmentIndexError(
                f'ClassPairedBatchSampler: no class to sample (class_sampling='
                f'{self.class_sampling!r}, avoid_same_image={self.avoid_same_image}) in '
                f'{getattr(self.dataset, "ann_file", "the dataset")}')
        if self.class_sampling == 'frequency':
            weights = np.array([index.num_segments(c) for c in labels], dtype=np.float64)
        else:
            weights = np.ones(len(labels), dtype=np.float64)
        return np.asarray(labels, dtype=np.int64), weights / weights.sum()

    # ------------------------------------------------------------------ state
    def set_epoch(self, epoch: int) -> None:
        """Set the epoch; batch draws depend on (seed, rank, epoch, batch)."""
        self.epoch = int(epoch)

    def set_start_batch(self, batch: int) -> None:
        """Make the next ``iter()`` start at batch ``batch`` of the current epoch (once)."""
        self._start_batch = int(batch)

    def state_dict(self) -> dict:
        return dict(seed=self.seed, world_size=self.world_size, batch_size=self.batch_size,
                    epoch=self.epoch)

    # ------------------------------------------------------------------ drawing
    def permutation(self, epoch: int, number: int) -> np.ndarray:
        """The ``number``-th shuffled permutation of the candidate classes' positions in
        ``epoch`` (the same on every rank)."""
        return np.random.default_rng(np.random.SeedSequence(
            [self.seed & (2**64 - 1), _PERMUTATION_STREAM, epoch, number])).permutation(
                len(self.classes))

    def permuted_labels(self, epoch: int, batch: int) -> List[int]:
        """The classes of this rank's pairs in batch ``batch`` (``class_order='permutation'``)."""
        pairs, num_classes = self.batch_size // 2, len(self.classes)
        permutations: Dict[int, np.ndarray] = {}
        labels = []
        for pair in range(pairs):
            position = (batch * pairs + pair) * self.world_size + self.rank
            number, offset = divmod(position, num_classes)
            if number not in permutations:
                permutations[number] = self.permutation(epoch, number)
            labels.append(int(self.classes[permutations[number][offset]]))
        return labels

    def draw_batch(self, epoch: int, batch: int) -> List[PairedSample]:
        """The crops of batch ``batch`` of ``epoch`` on this rank (pure function)."""
        rng = np.random.default_rng(
            np.random.SeedSequence([self.seed & (2**64 - 1), self.rank, epoch, batch]))
        index = self.index
        permuted = (self.permuted_labels(epoch, batch) if self.class_order == 'permutation'
                    else None)
        crops: List[Optional[PairedSample]] = [None] * self.batch_size
        for pair in range(self.batch_size // 2):
            if permuted is None:
                label = int(self.classes[rng.choice(len(self.classes), p=self.class_weights)])
            else:
                label = permuted[pair]
            scale = self.scale_options[int(rng.integers(len(self.scale_options)))]
            if not index.is_thing[label]:
                scale = None
            first = index.draw(label, rng, self.segment_sampling, self.include_crowd)
            exclude = int(index.seg_image[first]) if self.avoid_same_image else None
            second = index.draw(label, rng, self.segment_sampling, self.include_crowd, exclude)
            seeds = rng.integers(0, 2**31 - 1, size=2)
            for k, (position, seg) in enumerate(((2 * pair, first), (2 * pair + 1, second))):
                crops[position] = PairedSample(
                    index=int(index.seg_image[seg]), segment_id=int(index.seg_id[seg]),
                    label=label, scale=scale, partner=position ^ 1, seed=int(seeds[k]),
                    epoch=int(epoch), batch=int(batch), pair=pair)
        return crops  # type: ignore[return-value]

    def __iter__(self) -> Iterator[List[PairedSample]]:
        # Snapshot the state now: set_epoch/set_start_batch after iter() do not change it.
        epoch, start = self.epoch, self._start_batch
        self._start_batch = 0
        return self._generate(epoch, start)

    def _generate(self, epoch: int, start: int) -> Iterator[List[PairedSample]]:
        batch = start
        while self.infinite or batch < self.num_batches_per_epoch:
            yield self.draw_batch(epoch, batch)
            batch += 1

    def __len__(self) -> int:
        return self.num_batches_per_epoch
