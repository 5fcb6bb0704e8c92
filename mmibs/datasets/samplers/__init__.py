"""Data samplers of mmibs, registered in mmdet's DATA_SAMPLERS (and their hook in HOOKS)."""
from .class_paired_batch_sampler import ClassPairedBatchSampler, ClassPairedSamplerHook

__all__ = ['ClassPairedBatchSampler', 'ClassPairedSamplerHook']
