"""Writing a file atomically: readers see the old file or the complete new one, never a part."""
import os
import os.path as osp
import signal
import tempfile
import threading
from contextlib import contextmanager
from typing import IO, Iterator


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``SystemExit(143)`` instead of killing the process
    outright, so ``finally`` clauses (the temporary file's removal) run. Only in the main thread
    and only where SIGTERM has its default action (a handler someone installed is kept)."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def atomic_open(path: str, mode: str = 'w', encoding: str = None) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success rename it onto ``path``.

    The temporary file lives in the same folder (so the rename is atomic) and is removed if
    the ``with`` block raises, also on Ctrl-C and on SIGTERM (which raises ``SystemExit(143)``
    while the block runs, in the main thread, unless SIGTERM already has a handler); ``path`` is
    then left as it was. Only SIGKILL can leave a ``.<name>*.tmp`` file behind; its name is
    unique, so it never disturbs a later write. The new file gets the mode ``open()`` would
    give it (0666 minus the umask).

    Args:
        path: The file to write; its folder is created if missing.
        mode: ``'w'`` (text) or ``'wb'`` (binary).
        encoding: Text encoding, for text mode.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + osp.basename(path), suffix='.tmp')
    try:
        with _sigterm_raises(), os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
        # mkstemp creates 0600; give the file the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise
