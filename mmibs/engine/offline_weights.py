"""Remote pretrained weights (``torchvision://``, ``open-mmlab://``, ``http(s)://``): clear errors.

Configs keep the usual ``init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')``.
mmengine resolves such names to URLs and downloads them into torch's hub cache. Offline, that
ends in a bare ``URLError`` from deep inside ``urllib``; and ``torchvision://`` names cannot
even be resolved without torchvision installed. :func:`register_offline_weights_loaders`
replaces mmengine's loaders of these schemes by ones that

* resolve ``torchvision://NAME`` with torchvision's table when torchvision is installed and
  with the table mmengine ships (``mmengine/hub/torchvision_0.12.json``, the URLs ``resnet50``
  etc. have always had) when it is not;
* download as mmengine does (same URL, same cache file, nothing else changed);
* turn a network failure into :class:`WeightsDownloadError`, whose message names the checkpoint,
  its URL, the config key that asked for it when a config is given (the keys whose value is that
  checkpoint, e.g. ``model.backbone.init_cfg.checkpoint`` or ``load_from``), the cache file to
  place it into, and the ways out (a local path, or ``init_cfg=None`` to train from scratch).
"""
import functools
import http.client
import os.path as osp
import socket
from typing import Dict, List, Mapping, Optional, Tuple
from urllib.error import URLError
from urllib.parse import urlparse

import mmengine
import torch
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

#: Exceptions that mean "the file could not be fetched over the network".
NETWORK_ERRORS: Tuple[type, ...] = (URLError, ConnectionError, TimeoutError, socket.gaierror,
                                    http.client.HTTPException)


class WeightsDownloadError(RuntimeError):
    """Raised when remote pretrained weights cannot be downloaded (e.g. the machine is offline)."""


def torchvision_model_urls() -> Dict[str, str]:
    """``{name: url}`` of ``torchvision://`` names, with or without torchvision installed."""
    try:
        return mmengine_checkpoint.get_torchvision_models()
    except ImportError:
        return mmengine.load(osp.join(mmengine.__path__[0], 'hub', 'torchvision_0.12.json'))


def resolve_url(filename: str) -> Optional[str]:
    """The URL that mmengine downloads for ``filename``; None if it is not a remote file."""
    if filename.startswith(('http://', 'https://')):
        return filename
    scheme, _, name = filename.partition('://')
    if scheme in ('torchvision', 'modelzoo'):
        return torchvision_model_urls().get(name)
    if scheme in ('open-mmlab', 'openmmlab'):
        name = mmengine_checkpoint.get_deprecated_model_names().get(name, name)
        url = mmengine_checkpoint.get_external_models().get(name)
        return url if url and url.startswith(('http://', 'https://')) else None
    return None


def cache_file(url: str) -> str:
    """Where torch's hub cache keeps the download of ``url`` (what mmengine reads first)."""
    return osp.join(torch.hub.get_dir(), 'checkpoints', osp.basename(urlparse(url).path))


def config_keys(cfg: Optional[Mapping], value: str, prefix: str = '') -> List[str]:
    """The dotted keys of ``cfg`` (nested dicts and lists, ``[i]`` for list items) whose value
    is the string ``value``, e.g. ``['model.backbone.init_cfg.checkpoint']``."""
    if cfg is None:
        return []
    items = cfg.items() if isinstance(cfg, Mapping) else enumerate(cfg)
    keys = []
    for key, item in items:
        path = f'{prefix}[{key}]' if isinstance(key, int) else (
            f'{prefix}.{key}' if prefix else str(key))
        if isinstance(item, str):
            if item == value:
                keys.append(path)
        elif isinstance(item, (Mapping, list, tuple)):
            keys.extend(config_keys(item, value, path))
    return keys


def explain_download_failure(filename: str, url: Optional[str], error: BaseException,
                             key: Optional[str]) -> str:
    """The message of :class:`WeightsDownloadError`."""
    where = url if url and url != filename else None
    lines = [f'Cannot download the pretrained weights {filename!r}'
             + (f' from {where}' if where else '') + f' ({type(error).__name__}: {error}); '
             'is this machine offline?']
    if key:
        lines.append(f'They are requested by `{key}` of the config.')
    if url:
        lines.append(f'* Download {url} on a machine with internet access and place it at '
                     f'{cache_file(url)} (mmengine loads it from there without downloading; '
                     'TORCH_HOME moves this folder), or')
    option = key or 'model.backbone.init_cfg.checkpoint'
    lines.append(f'* point the config at a local copy: --cfg-options {option}=/path/to/'
                 f'{osp.basename(urlparse(url).path) if url else "weights.pth"}, or')
    if key and key.endswith('.checkpoint') and key.startswith('model'):
        init_key = key[:-len('.checkpoint')].split('[')[0]
        lines.append(f'* train without these weights (from scratch): --cfg-options '
                     f'{init_key}=None')
    elif key == 'load_from':
        lines.append('* start without them: --cfg-options load_from=None')
    else:
        lines.append("* train without pretrained weights: set the module's init_cfg=None "
                     '(e.g. --cfg-options model.backbone.init_cfg=None)')
    return '\n'.join(lines)


def _raise_explained(filename: str, url: Optional[str], error: BaseException,
                     config: Optional[Mapping]) -> None:
    """Raise :class:`WeightsDownloadError` for a failed download of ``filename``."""
    key = next(iter(config_keys(config, filename)), None)
    raise WeightsDownloadError(explain_download_failure(filename, url, error, key)) from error


def load_from_http(filename: str, map_location=None, model_dir: Optional[str] = None,
                   progress: bool = False, config: Optional[Mapping] = None) -> dict:
    """mmengine's ``http(s)://`` loader; a network failure raises :class:`WeightsDownloadError`
    (naming the key of ``config`` that holds ``filename``)."""
    try:
        return mmengine_checkpoint.load_from_http(filename, map_location=map_location,
                                                  model_dir=model_dir, progress=progress)
    except NETWORK_ERRORS as e:
        _raise_explained(filename, filename, e, config)


def load_from_torchvision(filename: str, map_location=None,
                          config: Optional[Mapping] = None) -> dict:
    """``torchvision://NAME`` (and ``modelzoo://NAME``), resolvable without torchvision."""
    name = filename.partition('://')[2]
    urls = torchvision_model_urls()
    if name not in urls:
        raise KeyError(f'{filename!r}: unknown torchvision model name {name!r} (known e.g. '
                       f'{sorted(urls)[:8]} ...)')
    try:
        return mmengine_checkpoint.load_from_http(urls[name], map_location=map_location)
    except NETWORK_ERRORS as e:
        _raise_explained(filename, urls[name], e, config)


def load_from_openmmlab(filename: str, map_location=None,
                        config: Optional[Mapping] = None) -> dict:
    """mmengine's ``open-mmlab://`` loader; network failures: :class:`WeightsDownloadError`."""
    try:
        return mmengine_checkpoint.load_from_openmmlab(filename, map_location=map_location)
    except NETWORK_ERRORS as e:
        _raise_explained(filename, resolve_url(filename), e, config)


def register_offline_weights_loaders(config: Optional[Mapping] = None) -> None:
    """Make the loaders above mmengine's loaders of their URL schemes.

    Args:
        config: The run's config (an mmengine ``Config`` or a dict); the error then names the
            config key that holds the checkpoint. Without it the error names none.
    """
    if hasattr(config, 'to_dict'):  # mmengine Config / ConfigDict: search plain dicts
        config = config.to_dict()
    for prefixes, loader in ((('http://', 'https://'), load_from_http),
                             (('torchvision://', 'modelzoo://'), load_from_torchvision),
                             (('open-mmlab://', 'openmmlab://'), load_from_openmmlab)):
        # mmengine logs the loader's __name__ (``load_from_<backend>``): keep it.
        bound = functools.update_wrapper(functools.partial(loader, config=config), loader)
        CheckpointLoader.register_scheme(prefixes=prefixes, loader=bound, force=True)
