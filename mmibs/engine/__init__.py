"""Runner-level support of mmibs: the class-paired sampler's resume hook, the check that model
and data agree on the thing / stuff split, and the checkpoint
loaders (safe loading of mmengine checkpoints under torch >= 2.6, clear errors when remote
pretrained weights cannot be downloaded), which the tools install explicitly."""
from .checkpoint_loaders import install_checkpoint_loaders
from .class_split import ClassSplitError, check_class_split
from .hooks import ClassPairedSamplerHook, RandomStateHook
from .offline_weights import (
    WeightsDownloadError,
    register_offline_weights_loaders,
    torchvision_model_urls,
)
from .safe_checkpoint_loader import (
    MMENGINE_CHECKPOINT_GLOBALS,
    CheckpointReadError,
    CheckpointRefusedError,
    load_from_local_with_mmengine_globals,
    register_safe_checkpoint_loader,
)

__all__ = [
    'CheckpointReadError', 'CheckpointRefusedError', 'ClassPairedSamplerHook', 'ClassSplitError',
    'MMENGINE_CHECKPOINT_GLOBALS', 'RandomStateHook', 'WeightsDownloadError',
    'check_class_split', 'install_checkpoint_loaders', 'load_from_local_with_mmengine_globals',
    'register_offline_weights_loaders', 'register_safe_checkpoint_loader',
    'torchvision_model_urls'
]
