"""Remote pretrained weights offline: a clear error naming URL, config key, cache file, way out."""
import os.path as osp
from urllib.error import URLError

import mmengine
import pytest
import torch
from mmdet.models.backbones import ResNet
from mmengine.config import Config
from mmengine.model import BaseModule
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

from mmibs.engine import WeightsDownloadError, install_checkpoint_loaders
from mmibs.engine.offline_weights import config_keys

#: URLs mmengine ships for torchvision names (independent of our resolution code).
TV_URLS = mmengine.load(osp.join(mmengine.__path__[0], 'hub', 'torchvision_0.12.json'))


#: The config of TinyDetector, as a run's config holds it.
CONFIG = Config(dict(model=dict(backbone=dict(
    type='ResNet', depth=18, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18'))),
    load_from=None))


@pytest.fixture
def offline(monkeypatch):
    """Every download fails as without network (the loaders installed with the run's config,
    as tools/train.py does); the requested URLs are recorded."""
    install_checkpoint_loaders(CONFIG)
    requested = []

    def no_network(url, *args, **kwargs):
        requested.append(url)
        raise URLError('[Errno -3] Temporary failure in name resolution')

    monkeypatch.setattr(mmengine_checkpoint, 'load_url', no_network)
    return requested


class TinyDetector(BaseModule):
    """A model whose backbone asks for torchvision weights, as mmdet configs do."""

    def __init__(self):
        super().__init__()
        self.backbone = ResNet(depth=18, init_cfg=dict(type='Pretrained',
                                                       checkpoint='torchvision://resnet18'))


def test_torchvision_weights_offline(offline):
    model = TinyDetector()
    with pytest.raises(WeightsDownloadError) as info:
        model.init_weights()
    url = TV_URLS['resnet18']
    assert offline == [url]  # resolved without torchvision, the URL mmengine would use
    message = str(info.value)
    assert "'torchvision://resnet18'" in message and url in message
    assert '`model.backbone.init_cfg.checkpoint`' in message
    cache = osp.join(torch.hub.get_dir(), 'checkpoints', 'resnet18-f37072fd.pth')
    assert cache in message
    assert 'model.backbone.init_cfg=None' in message
    assert 'model.backbone.init_cfg.checkpoint=/path/to/resnet18-f37072fd.pth' in message
    assert isinstance(info.value.__cause__, URLError)


def test_http_weights_offline_without_config(offline):
    url = 'https://download.openmmlab.com/mmdetection/v3.0/x/model_20230101-abcdef12.pth'
    with pytest.raises(WeightsDownloadError) as info:
        CheckpointLoader.load_checkpoint(url)
    message = str(info.value)
    assert url in message
    assert osp.join(torch.hub.get_dir(), 'checkpoints', 'model_20230101-abcdef12.pth') in message
    assert 'init_cfg=None' in message


def test_openmmlab_weights_offline(offline):
    with pytest.raises(WeightsDownloadError) as info:
        CheckpointLoader.load_checkpoint('open-mmlab://resnet50_v1c')
    url = mmengine_checkpoint.get_external_models()['resnet50_v1c']
    assert offline == [url]
    assert "'open-mmlab://resnet50_v1c'" in str(info.value) and url in str(info.value)


def test_torchvision_name_resolves_and_loads_when_cached(monkeypatch):
    """Online (or cached), the loader returns what mmengine's download returns."""
    install_checkpoint_loaders()
    state = {'conv1.weight': torch.zeros(1)}
    monkeypatch.setattr(mmengine_checkpoint, 'load_url', lambda url, **kwargs: state)
    assert CheckpointLoader.load_checkpoint('torchvision://resnet50') is state


def test_unknown_torchvision_name():
    install_checkpoint_loaders()
    with pytest.raises(KeyError, match='resnet5000'):
        CheckpointLoader.load_checkpoint('torchvision://resnet5000')


def test_config_keys_find_every_key_naming_the_checkpoint():
    cfg = dict(model=dict(backbone=dict(init_cfg=[dict(checkpoint='a'), dict(checkpoint='b')]),
                          neck=dict(init_cfg=dict(checkpoint='a'))), load_from='a')
    assert config_keys(cfg, 'a') == ['model.backbone.init_cfg[0].checkpoint',
                                     'model.neck.init_cfg.checkpoint', 'load_from']
    assert config_keys(None, 'a') == [] and config_keys(cfg, 'c') == []
