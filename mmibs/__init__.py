"""mmibs: Intra-Batch Supervision for panoptic segmentation on high-resolution images.

Importing the package (``custom_imports=dict(imports=['mmibs'])`` in a config) registers its
datasets, transforms, samplers, hooks, models and metrics in mmdet's registries, and does
nothing else. The checkpoint loaders (safe loading of mmengine checkpoints, clear errors for
failed downloads) are installed explicitly: :func:`mmibs.engine.install_checkpoint_loaders`.
"""
from . import datasets, engine, evaluation, models, utils, visualization  # noqa: F401
from .version import __version__

__all__ = ['__version__']
