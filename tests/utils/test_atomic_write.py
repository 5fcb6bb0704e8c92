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


def test_sigterm_during_the_write_leaves_no_temporary_file(tmp_path):
    """A CLI killed by SIGTERM (e.g. a job scheduler's timeout) while writing keeps the old
    file and removes its temporary file; without the handler the process died in the block."""
    import signal
    import subprocess
    import sys
    path = tmp_path / 'scores.json'
    path.write_text('old')
    child = subprocess.Popen(
        [sys.executable, '-c', 'import sys, time\n'
         'from mmibs.utils import atomic_open\n'
         f'with atomic_open({str(path)!r}) as f:\n'
         '    f.write("half")\n'
         '    print("ready", flush=True)\n'
         '    time.sleep(60)\n'],
        stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == 'ready'
    assert len(list(tmp_path.iterdir())) == 2  # the old file and the temporary one
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=30) == 128 + signal.SIGTERM
    assert [p.name for p in tmp_path.iterdir()] == ['scores.json']
    assert path.read_text() == 'old'
