"""COCO-panoptic PNGs decoded into runs of equal ids.

A panoptic PNG stores the id ``R + 256 G + 256**2 B`` of every pixel; segment maps are long
horizontal runs of one id. :func:`read_id_runs` decodes a PNG straight into those runs
(:class:`IdRuns`): the zlib stream is inflated with libdeflate (the ``deflate`` package) and the
PNG row filters are undone by the small C module ``mmibs.evaluation._png_runs``, which emits one
run per change of id. The evaluation then intersects runs instead of pixels
(:func:`mmibs.evaluation.panoptic_stats.run_intersection_table`).

8-bit RGB and RGBA non-interlaced PNGs (what panopticapi, cityscapesscripts, PIL and OpenCV
write) take that path; any other PNG (interlaced, 16-bit, grey, palette) is decoded by OpenCV as
before, with the same ids.
"""
import struct
import threading
import zlib
from typing import List, Optional, Tuple

import cv2
import deflate
import numpy as np
from mmengine.fileio import get

from .id_runs import IdRuns
from .panoptic_stats import PanopticEvalError

try:
    from ._png_runs import png_runs
except ImportError as e:  # a source checkout used without `pip install -e .`
    raise ImportError(
        'mmibs.evaluation._png_runs (mmibs/evaluation/csrc/png_runs.c) is not compiled: run '
        '`pip install -e .` (or `make env`) in the mmibs checkout') from e

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
#: IHDR colour types decoded by the C module, with their channels (8-bit samples only).
FAST_COLOR_CHANNELS = {2: 3, 6: 4}
#: Larger PNGs are refused before anything is allocated (a Vistas image has ~2**23 pixels).
MAX_PIXELS = 1 << 30


def id_to_rgb(ids: np.ndarray) -> np.ndarray:
    """panopticapi's ``id2rgb``: (H, W) ids -> (H, W, 3) uint8 RGB (``R + 256 G + 256^2 B``)."""
    return np.stack([(ids >> (8 * k)) & 255 for k in range(3)], axis=-1).astype(np.uint8)


def rgb_to_id(bgr: np.ndarray) -> np.ndarray:
    """panopticapi's ``rgb2id`` for a BGR image as OpenCV decodes it.

    Args:
        bgr: (H, W, 3) uint8, channels B, G, R.

    Returns:
        (H, W) int32 ids ``R + 256 * G + 256**2 * B``.
    """
    ids = bgr[..., 0].astype(np.int32) << 16
    ids |= bgr[..., 1].astype(np.int32) << 8
    ids |= bgr[..., 2]
    return ids


def png_chunks(data: bytes, name: str) -> Tuple[bytes, List[bytes]]:
    """The IHDR payload and the IDAT payloads of a PNG; CRCs of both are checked.

    Raises:
        PanopticEvalError: Not a PNG, truncated, or a critical chunk with a wrong CRC.
    """
    if not data.startswith(PNG_SIGNATURE):
        raise PanopticEvalError(f'{name}: not a PNG file')
    pos, header, idat = len(PNG_SIGNATURE), None, []
    while True:
        if pos + 8 > len(data):
            raise PanopticEvalError(f'{name}: truncated PNG (no IEND chunk)')
        length, kind = struct.unpack_from('>I4s', data, pos)
        end = pos + 8 + length
        if end + 4 > len(data):
            raise PanopticEvalError(f'{name}: truncated PNG ({kind!r} chunk cut off)')
        if kind in (b'IHDR', b'IDAT'):
            payload = data[pos + 8:end]
            crc, = struct.unpack_from('>I', data, end)
            if zlib.crc32(payload, zlib.crc32(kind)) != crc:
                raise PanopticEvalError(f'{name}: corrupt PNG ({kind.decode()} CRC mismatch)')
            if kind == b'IHDR':
                header = payload
            else:
                idat.append(payload)
        elif kind == b'IEND':
            break
        pos = end + 4
    if header is None or len(header) != 13 or not idat:
        raise PanopticEvalError(f'{name}: PNG without a valid IHDR or without IDAT')
    return header, idat


_buffers = threading.local()


def _run_buffers(size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Two int64 buffers of at least ``size`` entries for ``png_runs``, reused per thread.

    A map can have up to one run per pixel; reusing the buffers keeps their pages (only the
    runs written touch them) instead of allocating two ``H * W`` arrays per image.
    """
    if getattr(_buffers, 'size', 0) < size:
        _buffers.size = size
        _buffers.starts = np.empty(size, np.int64)
        _buffers.ids = np.empty(size, np.int64)
    return _buffers.starts, _buffers.ids


def decode_id_runs(data: bytes, name: str = 'PNG') -> IdRuns:
    """Decode the bytes of a COCO-panoptic PNG into :class:`IdRuns`.

    Args:
        data: the PNG file's bytes.
        name: named in error messages (the file path).

    Raises:
        PanopticEvalError: The bytes are not a decodable PNG.
    """
    header, idat = png_chunks(data, name)
    width, height, depth, color, _, _, interlace = struct.unpack('>IIBBBBB', header)
    if width * height > MAX_PIXELS:
        raise PanopticEvalError(f'{name}: a PNG of {width} x {height} pixels is larger than the '
                                f'{MAX_PIXELS} pixels mmibs decodes')
    channels = FAST_COLOR_CHANNELS.get(color)
    if depth != 8 or channels is None or interlace:
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise PanopticEvalError(f'{name}: cannot be decoded as an image')
        return IdRuns.from_dense(rgb_to_id(bgr))
    try:
        raw = deflate.zlib_decompress(b''.join(idat), height * (1 + width * channels))
    except deflate.DeflateError as e:
        raise PanopticEvalError(f'{name}: corrupt PNG image data ({e})') from e
    starts, ids = _run_buffers(width * height)
    try:
        count = png_runs(raw, width, height, channels, starts, ids)
    except ValueError as e:
        raise PanopticEvalError(f'{name}: corrupt PNG image data ({e})') from e
    return IdRuns(height, width, starts[:count].copy(), ids[:count].copy())


def read_id_runs(path: str, backend_args: Optional[dict] = None) -> IdRuns:
    """Read a COCO-panoptic PNG (any mmengine file backend) as :class:`IdRuns`."""
    try:
        data = get(path, backend_args=backend_args)
    except FileNotFoundError as e:
        raise FileNotFoundError(f'panoptic PNG {path!r} not found') from e
    return decode_id_runs(data, path)


def read_panoptic_png(path: str, backend_args: Optional[dict] = None) -> np.ndarray:
    """Read a COCO-panoptic PNG (any mmengine file backend) and return its (H, W) int32 ids."""
    return read_id_runs(path, backend_args).to_dense(np.int32)
