"""The structured index of one class-paired crop, and the metainfo keys it travels under.

:class:`~mmibs.datasets.class_paired.ClassPairedBatchSampler` yields :class:`PairedSample`
indices; :meth:`CocoFormatPanopticDataset.__getitem__` puts the sample and the partner's batch
position into the results under :data:`SAMPLE_KEY` and :data:`PARTNER_KEY`;
:data:`CLASS_PAIRED_META_KEYS` packs them into the metainfo (``PackDetInputs(meta_keys=...)``),
where :class:`~mmibs.models.ibs.IntraBatchSupervision` reads the partner.
"""
from typing import NamedTuple, Optional

#: Results / metainfo key of the partner: the index, in the per-process batch, of the crop whose
#: features the embeddings of this crop are multiplied with.
PARTNER_KEY = 'ibs_partner'
#: Results / metainfo key of the crop's :class:`PairedSample` (as a dict).
SAMPLE_KEY = 'ibs_sample'
#: ``PackDetInputs`` meta keys of a class-paired training crop: mmdet's training keys plus the
#: partner and the sample.
CLASS_PAIRED_META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                          'flip_direction', PARTNER_KEY, SAMPLE_KEY)


class PairedSample(NamedTuple):
    """One crop of a class-paired batch: the structured index the batch sampler yields.

    Attributes:
        index (int): Dataset index of the image.
        segment_id (int): Panoptic id of the sampled segment (``segments_info[*]['id']``).
        label (int): Contiguous (things-first) label of the sampled class.
        scale (float | None): Target ``sqrt(bbox area)`` in pixels after resizing, shared by the
            pair; ``None`` for stuff classes (they use the normal random resize).
        partner (int): Position of the partner crop in the per-rank batch.
        seed (int): Seed of every random draw the pipeline makes for this crop.
        epoch (int): Sampler epoch of the batch.
        batch (int): Batch number within the epoch (per rank).
        pair (int): Pair number within the batch.
    """
    index: int
    segment_id: int
    label: int
    scale: Optional[float]
    partner: int
    seed: int
    epoch: int = 0
    batch: int = 0
    pair: int = 0
