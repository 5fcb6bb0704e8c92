"""setup_cpu_distributed: gloo process group and device-less DDP wrapper on CPU-only torch."""
import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from mmibs.utils import setup_cpu_distributed

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU-only path')


def test_non_distributed_launch_changes_nothing():
    cfg = Config(dict(model=dict(type='X')))
    assert setup_cpu_distributed(cfg, 'none') is False
    assert 'model_wrapper_cfg' not in cfg


def test_gpu_only_launchers_are_refused_with_a_clear_error():
    with pytest.raises(RuntimeError, match='tools/dist_train.sh'):
        setup_cpu_distributed(Config(dict()), 'slurm')


def test_pytorch_launcher_initialises_gloo_and_drops_device_ids(monkeypatch):
    for key, value in dict(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0', MASTER_ADDR='127.0.0.1',
                           MASTER_PORT='29531').items():
        monkeypatch.setenv(key, value)
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl')),
                      model_wrapper_cfg=dict(find_unused_parameters=True)))
    try:
        assert setup_cpu_distributed(cfg, 'pytorch') is True
        assert torch_dist.is_initialized() and torch_dist.get_backend() == 'gloo'
    finally:
        if torch_dist.is_initialized():
            torch_dist.destroy_process_group()
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(type='MMDistributedDataParallel', device_ids=None,
                                         find_unused_parameters=True)


def test_teardown_destroys_the_process_group_and_is_a_no_op_without_one(monkeypatch):
    from mmibs.utils import teardown_distributed
    teardown_distributed()  # nothing initialised: nothing to do
    for key, value in dict(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0', MASTER_ADDR='127.0.0.1',
                           MASTER_PORT='29532').items():
        monkeypatch.setenv(key, value)
    setup_cpu_distributed(Config(dict()), 'pytorch')
    assert torch_dist.is_initialized()
    teardown_distributed()
    assert not torch_dist.is_initialized()
