"""Runner hooks of mmibs, registered in mmdet's HOOKS."""
from .class_paired_sampler_hook import ClassPairedSamplerHook

__all__ = ['ClassPairedSamplerHook']
