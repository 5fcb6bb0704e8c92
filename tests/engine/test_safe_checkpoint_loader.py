"""Local mmengine checkpoints load through mmengine with torch's safe loader; nothing else
changes."""
import os
import pickle
import re
import subprocess
import sys

import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

from mmibs.engine import (
    MMENGINE_CHECKPOINT_GLOBALS,
    install_checkpoint_loaders,
    load_from_local_with_mmengine_globals,
)

install_checkpoint_loaders()  # what tools/train.py and tools/test.py do


class _Payload:
    """An arbitrary class: the safe loader must keep refusing it."""

    def __reduce__(self):
        return (os.system, ('echo owned',))


def _mmengine_like_checkpoint() -> dict:
    """What mmengine's Runner.save_checkpoint writes: message hub with numpy-backed buffers."""
    hub = MessageHub.get_instance('test_checkpoint_safe_globals')
    for step in range(3):
        hub.update_scalar('train/loss', 0.5 / (step + 1))
        hub.update_scalar('train/lr', 1e-4)
    hub.update_info('iter', 3)
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    return dict(
        meta=dict(epoch=0, iter=3, seed=0, mmengine_version='0.10.7',
                  dataset_meta=dict(classes=('person', 'car'), palette=[(1, 2, 3)])),
        state_dict=model.state_dict(),
        optimizer=optimizer.state_dict(),
        message_hub=hub.state_dict(),
        param_schedulers=[dict(last_epoch=3, base_values=[1e-4], _step_count=4)])


def test_local_scheme_uses_the_safe_loader_and_remote_schemes_keep_torch_defaults():
    assert CheckpointLoader._get_checkpoint_loader('/x/iter_4.pth') is \
        load_from_local_with_mmengine_globals
    # Remote schemes go through mmengine's download (torch's default allow-list); mmibs only
    # wraps them to raise WeightsDownloadError offline (tests/engine/test_offline_weights.py).
    assert CheckpointLoader._get_checkpoint_loader('https://x/y.pth').__module__ == \
        'mmibs.engine.offline_weights'
    assert HistoryBuffer in MMENGINE_CHECKPOINT_GLOBALS


def test_importing_mmibs_installs_nothing():
    """``import mmibs`` (what custom_imports does) registers components only: mmengine's
    checkpoint loaders are replaced by install_checkpoint_loaders, not by the import."""
    code = ('from mmengine.runner.checkpoint import CheckpointLoader as C; '
            'before = dict(C._schemes); import mmibs; '
            'assert dict(C._schemes) == before, "import mmibs changed the loaders"; '
            'from mmibs.engine import install_checkpoint_loaders; install_checkpoint_loaders(); '
            'assert dict(C._schemes) != before')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_checkpoint_round_trip_through_mmengine(tmp_path):
    path = tmp_path / 'ckpt.pth'
    checkpoint = _mmengine_like_checkpoint()
    torch.save(checkpoint, path)
    loaded = _load_checkpoint(str(path), map_location='cpu')
    assert loaded['meta']['iter'] == 3
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.current() == pytest.approx(0.5 / 3)
    assert buffer.mean() == pytest.approx((0.5 + 0.25 + 0.5 / 3) / 3)
    torch.testing.assert_close(loaded['state_dict']['weight'], checkpoint['state_dict']['weight'])
    assert loaded['optimizer']['state'][0]['step'] == checkpoint['optimizer']['state'][0]['step']


def test_allow_list_is_scoped_to_the_mmengine_load(tmp_path):
    """Plain torch.load keeps torch's default allow-list (the same file is refused)."""
    path = tmp_path / 'ckpt.pth'
    torch.save(_mmengine_like_checkpoint(), path)
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        torch.load(path, map_location='cpu')


def test_same_checkpoint_fails_in_mmengine_without_mmibs(tmp_path):
    """Without the loaders (also after ``import mmibs``), mmengine's own loader fails under
    torch >= 2.6: the fix is needed."""
    path = tmp_path / 'ckpt.pth'
    torch.save(_mmengine_like_checkpoint(), path)
    code = ('import mmibs; from mmengine.runner.checkpoint import _load_checkpoint; '
            f'_load_checkpoint({str(path)!r}, map_location="cpu")')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'Weights only load failed' in proc.stderr


def test_untrusted_globals_are_still_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, payload=_Payload()), path)
    with pytest.raises(pickle.UnpicklingError, match='posix.system|os.system'):
        _load_checkpoint(str(path), map_location='cpu')


def test_refused_global_is_named_without_suggesting_weights_only_false(tmp_path):
    from mmibs.engine.safe_checkpoint_loader import CheckpointRefusedError
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, payload=_Payload()), path)
    with pytest.raises(CheckpointRefusedError) as info:
        _load_checkpoint(str(path), map_location='cpu')
    message = str(info.value)
    assert str(path) in message and 'refused on purpose' in message
    assert re.search(r'global (posix|os)\.system', message)
    assert 'add_safe_globals' in message and 'weights_only=False' not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize('damage', ['truncated', 'empty'])
def test_unreadable_checkpoint_names_the_file(tmp_path, damage):
    from mmibs.engine.safe_checkpoint_loader import CheckpointReadError
    path = tmp_path / 'iter_10.pth'
    torch.save(dict(state_dict={'w': torch.ones(1000)}), path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2] if damage == 'truncated' else b'')
    with pytest.raises(CheckpointReadError, match=rf'checkpoint {re.escape(str(path))} cannot be '
                       r'read as a torch checkpoint .*truncated'):
        _load_checkpoint(str(path), map_location='cpu')
