"""atomic_open: the target is replaced only when the write completes."""
import pytest

from mmibs.utils import atomic_open


def test_success_replaces_and_failure_keeps_the_old_file(tmp_path):
    path = tmp_path / 'sub' / 'out.json'
    with atomic_open(str(path), 'w', encoding='utf-8') as f:
        f.write('new')
    assert path.read_text() == 'new'
    with pytest.raises(RuntimeError):
        with atomic_open(str(path), 'w', encoding='utf-8') as f:
            f.write('half')
            raise RuntimeError('interrupted')
    assert path.read_text() == 'new'
    assert [p.name for p in path.parent.iterdir()] == ['out.json']


def test_new_file_gets_the_mode_open_would_give(tmp_path):
    import os
    plain, atomic = tmp_path / 'plain.txt', tmp_path / 'atomic.txt'
    plain.write_text('x')
    with atomic_open(str(atomic)) as f:
        f.write('x')
    assert os.stat(atomic).st_mode & 0o777 == os.stat(plain).st_mode & 0o777
