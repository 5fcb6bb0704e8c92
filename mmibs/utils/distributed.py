"""Distributed training on machines without a GPU (torchrun + gloo)."""
import torch
import torch.distributed as torch_dist
from mmengine.config import Config


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Prepare ``cfg`` and the process group for a distributed run without CUDA.

    mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and its default DDP wrapper
    passes ``device_ids=[LOCAL_RANK]``; both fail on a CPU-only torch. When no GPU is available
    this function initialises the default process group with ``gloo`` from torchrun's environment
    (the Runner then skips its own initialisation) and sets
    ``cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None)``,
    keeping any other wrapper options of the config. With a GPU nothing changes (nccl).

    Args:
        cfg: The experiment config, modified in place.
        launcher: The ``--launcher`` argument of ``tools/train.py`` / ``tools/test.py``.

    Returns:
        Whether the CPU (gloo) set-up was applied.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} needs GPUs; on a machine without CUDA use '
            'tools/dist_train.sh (torchrun, --launcher pytorch), which falls back to gloo')
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper_cfg = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
    wrapper_cfg['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper_cfg
    return True


def teardown_distributed() -> None:
    """Wait for every rank and destroy the default process group, if there is one.

    Called at the end of ``tools/train.py`` / ``tools/test.py``: a process group left to the
    interpreter's exit makes torch warn and lets one rank tear gloo down while another still
    talks to it (observed as ``terminate called without an active exception`` in a rank).
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
