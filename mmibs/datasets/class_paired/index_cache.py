"""On-disk cache of the per-class segment index, keyed by a hash of the annotation file."""
import hashlib
import os.path as osp
from typing import Callable, Optional

from .segment_index import INDEX_FORMAT_VERSION, SegmentIndex


def file_sha256(path: str, chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(chunk_size), b''):
            digest.update(chunk)
    return digest.hexdigest()


def cache_key(ann_file: str, *extra) -> str:
    """Cache key: hash of the annotation file's bytes, the index format and ``extra``."""
    digest = hashlib.sha256(file_sha256(ann_file).encode())
    digest.update(repr((INDEX_FORMAT_VERSION, ) + extra).encode())
    return digest.hexdigest()[:32]


def load_or_build(cache_dir: Optional[str], key: str,
                  build: Callable[[], SegmentIndex]) -> SegmentIndex:
    """Load ``<cache_dir>/segment_index_<key>.npz`` or build the index and write it there.

    Without ``cache_dir`` just build. A corrupt cache file is rebuilt and overwritten.
    """
    if not cache_dir:
        return build()
    path = osp.join(cache_dir, f'segment_index_{key}.npz')
    if osp.isfile(path):
        try:
            return SegmentIndex.load(path)
        except Exception:  # noqa: BLE001 - an unreadable cache is rebuilt
            pass
    index = build()
    index.save(path)
    return index
