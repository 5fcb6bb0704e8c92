"""Class-paired crop sampling (paper §4.2, docs/crop_sampling.md), one feature in one folder:

* :class:`PairedSample` and the metainfo keys it travels under (``sample.py``);
* :class:`SegmentIndex`, the per-class index of segments (``segment_index.py``), and its disk
  cache (``index_cache.py``);
* :class:`ClassPairedBatchSampler`, which draws the pairs (``sampler.py``);
* :class:`ClassPairedCrop`, the resize-and-crop of one crop (``crop.py``).

The resume hook is :class:`mmibs.engine.hooks.ClassPairedSamplerHook`.
"""
from .crop import ClassPairedCrop, ClassPairedCropError
from .sample import CLASS_PAIRED_META_KEYS, PARTNER_KEY, SAMPLE_KEY, PairedSample
from .sampler import CLASS_ORDERS, CLASS_SAMPLING_MODES, ClassPairedBatchSampler
from .segment_index import SegmentIndex, SegmentIndexError

__all__ = [
    'CLASS_ORDERS', 'CLASS_PAIRED_META_KEYS', 'CLASS_SAMPLING_MODES', 'ClassPairedBatchSampler',
    'ClassPairedCrop', 'ClassPairedCropError', 'PARTNER_KEY', 'PairedSample', 'SAMPLE_KEY',
    'SegmentIndex', 'SegmentIndexError'
]
