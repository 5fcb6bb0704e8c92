"""Writing a file atomically: readers see the old file or the complete new one, never a part."""
import os
import os.path as osp
import tempfile
from contextlib import contextmanager
from typing import IO, Iterator


@contextmanager
def atomic_open(path: str, mode: str = 'w', encoding: str = None) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success rename it onto ``path``.

    The temporary file lives in the same folder (so the rename is atomic) and is removed if
    the ``with`` block raises; ``path`` is then left as it was. The new file gets the mode
    ``open()`` would give it (0666 minus the umask).

    Args:
        path: The file to write; its folder is created if missing.
        mode: ``'w'`` (text) or ``'wb'`` (binary).
        encoding: Text encoding, for text mode.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + osp.basename(path), suffix='.tmp')
    try:
        with os.fdopen(fd, mode, encoding=encoding) as f:
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
