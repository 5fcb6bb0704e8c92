"""Runner hooks of mmibs, registered in mmdet's HOOKS."""
from .class_paired_sampler_hook import ClassPairedSamplerHook
from .random_state_hook import RandomStateHook

__all__ = ['ClassPairedSamplerHook', 'RandomStateHook']
