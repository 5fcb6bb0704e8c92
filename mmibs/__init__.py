"""mmibs: Intra-Batch Supervision for panoptic segmentation on high-resolution images.

Importing the package (``custom_imports=dict(imports=['mmibs'])`` in a config) registers its
datasets, transforms, models and metrics in mmdet's registries and makes mmengine load local
checkpoints with torch's safe loader plus the few types mmengine checkpoints contain, and
explains failed downloads of remote pretrained weights (``torchvision://`` etc.) offline.
"""
from . import datasets, evaluation, models, utils, visualization  # noqa: F401  (registration)
from .engine import register_offline_weights_loaders, register_safe_checkpoint_loader
from .version import __version__

register_safe_checkpoint_loader()
register_offline_weights_loaders()

__all__ = ['__version__']
