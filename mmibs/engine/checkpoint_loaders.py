"""The checkpoint loaders mmibs gives mmengine, installed explicitly (not by ``import mmibs``).

``tools/train.py``, ``tools/test.py`` and ``tools/analysis_tools/visualize_confusion.py`` call
:func:`install_checkpoint_loaders` with the run's config; a script of your own calls it once
before building its Runner (docs/checkpoints.md)::

    from mmibs.engine import install_checkpoint_loaders
    install_checkpoint_loaders(cfg)
"""
from typing import Mapping, Optional

from .offline_weights import register_offline_weights_loaders
from .safe_checkpoint_loader import register_safe_checkpoint_loader


def install_checkpoint_loaders(config: Optional[Mapping] = None) -> None:
    """Make mmengine load local checkpoints with torch's safe unpickler plus the few types that
    mmengine checkpoints hold (:mod:`~mmibs.engine.safe_checkpoint_loader`), and explain failed
    downloads of remote pretrained weights (:mod:`~mmibs.engine.offline_weights`).

    Args:
        config: The run's config, so that a failed download names the config key that holds
            the checkpoint (e.g. ``model.backbone.init_cfg.checkpoint``).
    """
    register_safe_checkpoint_loader()
    register_offline_weights_loaders(config)
