"""A short Runner training of the IBS configs on the tiny synthetic data logs loss_ibs."""
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

IBS_CONFIGS = ['mask2former-ibs-partner-pairing_r18-w32_1xb4-256x512-600it_synthetic-streets.py',
               'mask2former-ibs-random-pairing_r18-w32_1xb4-256x512-600it_synthetic-streets.py']


@pytest.mark.parametrize('name', IBS_CONFIGS)
def test_runner_trains_the_ibs_config_and_logs_loss_ibs(name, repo_root, synthetic_root,
                                                        make_tiny_cfg, tmp_path):
    ibs_cfg = Config.fromfile(str(repo_root / 'configs/mask2former' / name))
    baseline = Config.fromfile(str(repo_root / 'configs/mask2former'
                                   / 'mask2former_r18-w32_1xb4-256x512-600it_synthetic-streets.py'))
    # The IBS configs change the head only, and keep the baseline's pipeline (with the filter).
    assert ibs_cfg.train_pipeline == baseline.train_pipeline
    assert ibs_cfg.model.backbone == baseline.model.backbone
    cfg = make_tiny_cfg(synthetic_root, tmp_path, max_iters=2)
    cfg.model.panoptic_head = ibs_cfg.model.panoptic_head
    cfg.train_cfg.val_interval = 100  # train only
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub
    for key in ('loss_ibs', 'd1.loss_ibs', 'd2.loss_ibs', 'loss_mask', 'loss'):
        assert f'train/{key}' in hub.log_scalars, key
    assert 'train/d0.loss_ibs' not in hub.log_scalars
    assert hub.get_scalar('train/loss_ibs').current() >= 0
