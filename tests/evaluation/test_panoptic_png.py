"""Panoptic PNGs decoded into runs of ids (C module + libdeflate) equal OpenCV's decoding.

PNGs are written three ways: by a reference encoder in this file that applies a chosen PNG
filter to every row (all five filters, alone and mixed; RGB and RGBA; Adam7 interlacing), by
Pillow (adaptive filters, what panopticapi and cityscapesscripts write) and by OpenCV (Sub
filter, what mmcv writes). Every decoding is compared with the ids the PNG was made from and with
OpenCV's ``imdecode``.
"""
import io
import struct
import zlib
from typing import Sequence

import cv2
import numpy as np
import pytest
from PIL import Image

from mmibs.evaluation import PanopticEvalError
from mmibs.evaluation.id_runs import IdRuns
from mmibs.evaluation.panoptic_png import decode_id_runs, id_to_rgb, read_id_runs, rgb_to_id

ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2))


def chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack('>I', len(payload)) + kind + payload +
            struct.pack('>I', zlib.crc32(payload, zlib.crc32(kind))))


def png_file(header: bytes, filtered: bytes, compress: bool = True) -> bytes:
    data = zlib.compress(filtered) if compress else filtered
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', data[:40]) +
            chunk(b'IDAT', data[40:]) + chunk(b'IEND', b''))


def filter_rows(pixels: np.ndarray, filters: Sequence[int]) -> bytes:
    """The filtered scanlines of an (H, W, C) uint8 image, row y with filter ``filters[y]``."""
    height, width, channels = pixels.shape
    prev = np.zeros(width * channels, np.int16)
    out = []
    for y in range(height):
        cur = pixels[y].reshape(-1).astype(np.int16)
        left = np.r_[np.zeros(channels, np.int16), cur[:-channels]]
        upleft = np.r_[np.zeros(channels, np.int16), prev[:-channels]]
        predictor = {
            0: 0,
            1: left,
            2: prev,
            3: (left + prev) // 2,
            4: paeth(left, prev, upleft),
        }[filters[y]]
        out.append(bytes([filters[y]]) + ((cur - predictor) % 256).astype(np.uint8).tobytes())
        prev = cur
    return b''.join(out)


def paeth(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def encode(ids: np.ndarray, filters: Sequence[int], alpha: np.ndarray = None) -> bytes:
    """An 8-bit RGB (or RGBA) PNG of ``ids`` with the given per-row filters."""
    pixels = id_to_rgb(ids)
    color = 2
    if alpha is not None:
        pixels, color = np.concatenate([pixels, alpha[..., None]], -1), 6
    height, width = ids.shape
    header = struct.pack('>IIBBBBB', width, height, 8, color, 0, 0, 0)
    return png_file(header, filter_rows(pixels, filters))


def encode_interlaced(ids: np.ndarray) -> bytes:
    """An Adam7-interlaced 8-bit RGB PNG of ``ids`` (filter None)."""
    pixels = id_to_rgb(ids)
    passes = []
    for x0, y0, dx, dy in ADAM7:
        sub = pixels[y0::dy, x0::dx]
        if sub.size:
            passes.append(filter_rows(sub, [0] * sub.shape[0]))
    height, width = ids.shape
    return png_file(struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 1), b''.join(passes))


def segment_map(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Rectangles of random 24-bit ids (most > 255) over a few bands, some single pixels."""
    ids = np.zeros((height, width), np.int64)
    for x0 in sorted(rng.integers(0, width, 3)):
        ids[:, x0:] = rng.integers(1, 1 << 24)
    for _ in range(12):
        y, x = rng.integers(0, height), rng.integers(0, width)
        h, w = rng.integers(1, height // 2 + 2), rng.integers(1, width // 2 + 2)
        ids[y:y + h, x:x + w] = rng.integers(0, 1 << 24)
    ids[rng.integers(0, height, 5), rng.integers(0, width, 5)] = rng.integers(0, 1 << 24, 5)
    return ids


def opencv_ids(data: bytes) -> np.ndarray:
    return rgb_to_id(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))


def assert_maximal_runs(runs: IdRuns) -> None:
    """Runs start every row, increase, and neighbouring runs of one row differ in id."""
    starts, width = runs.starts, runs.width
    assert starts[0] == 0 and (np.diff(starts) > 0).all()
    assert set(range(0, runs.height * width, width)) <= set(starts.tolist())
    same_row = (starts[1:] % width) != 0
    assert (runs.ids[1:][same_row] != runs.ids[:-1][same_row]).all()


@pytest.mark.parametrize('filters', ['none', 'sub', 'up', 'average', 'paeth', 'mixed'])
@pytest.mark.parametrize('with_alpha', [False, True])
def test_every_png_filter_decodes_to_the_ids(filters, with_alpha):
    rng = np.random.default_rng(len(filters) + 10 * with_alpha)
    for height, width in ((37, 53), (1, 9), (6, 1), (24, 40)):
        ids = segment_map(rng, height, width)
        if filters == 'mixed':
            row_filters = rng.integers(0, 5, height)
        else:
            row_filters = [['none', 'sub', 'up', 'average', 'paeth'].index(filters)] * height
        alpha = rng.integers(0, 256, ids.shape).astype(np.uint8) if with_alpha else None
        data = encode(ids, row_filters, alpha)
        runs = decode_id_runs(data)
        assert runs.shape == ids.shape
        np.testing.assert_array_equal(runs.to_dense(), ids)
        np.testing.assert_array_equal(opencv_ids(data), ids)  # the encoder is a valid PNG
        assert_maximal_runs(runs)  # alpha noise does not split runs


def test_runs_equal_those_of_the_dense_map():
    rng = np.random.default_rng(3)
    ids = segment_map(rng, 30, 70)
    runs = decode_id_runs(encode(ids, rng.integers(0, 5, 30)))
    dense = IdRuns.from_dense(ids)
    np.testing.assert_array_equal(runs.starts, dense.starts)
    np.testing.assert_array_equal(runs.ids, dense.ids)
    np.testing.assert_array_equal(runs.lengths.sum(), ids.size)


@pytest.mark.parametrize('writer', ['pillow', 'pillow-optimize', 'opencv'])
def test_pngs_of_pillow_and_opencv(writer):
    rng = np.random.default_rng(5)
    ids = segment_map(rng, 120, 200)
    rgb = id_to_rgb(ids)
    # A noisy band makes Pillow's adaptive filtering choose every filter type.
    rgb[40:60] = rng.integers(0, 256, (20, 200, 3))
    ids = rgb_to_id(rgb[..., ::-1])
    if writer == 'opencv':
        data = cv2.imencode('.png', rgb[..., ::-1])[1].tobytes()
    else:
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format='PNG', optimize=writer == 'pillow-optimize')
        data = buffer.getvalue()
    np.testing.assert_array_equal(decode_id_runs(data).to_dense(), ids)
    if writer == 'pillow-optimize':
        raw = zlib.decompress(b''.join(
            data[p + 8:p + 8 + struct.unpack('>I', data[p:p + 4])[0]]
            for p in idat_positions(data)))
        assert set(raw[::1 + 3 * 200]) == {0, 1, 2, 3, 4}


def idat_positions(data: bytes) -> list:
    positions, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack_from('>I4s', data, pos)
        if kind == b'IDAT':
            positions.append(pos)
        pos += 12 + length
    return positions


@pytest.mark.parametrize('kind', ['interlaced', '16-bit', 'grey', 'palette'])
def test_other_pngs_decode_as_opencv_does(kind):
    rng = np.random.default_rng(11)
    ids = segment_map(rng, 21, 34)
    if kind == 'interlaced':
        data = encode_interlaced(ids)
        np.testing.assert_array_equal(decode_id_runs(data).to_dense(), ids)
    else:
        if kind == '16-bit':
            image = (rng.integers(0, 1 << 16, (21, 34, 3))).astype(np.uint16)
            data = cv2.imencode('.png', image)[1].tobytes()
        elif kind == 'grey':
            data = cv2.imencode('.png', (ids & 255).astype(np.uint8))[1].tobytes()
        else:
            buffer = io.BytesIO()
            Image.fromarray((ids % 7).astype(np.uint8), 'P').save(buffer, format='PNG')
            data = buffer.getvalue()
        np.testing.assert_array_equal(decode_id_runs(data).to_dense(), opencv_ids(data))


def corrupt(data: bytes, how: str) -> bytes:
    ids = np.arange(24).reshape(4, 6) * 1000
    if how == 'not a PNG':
        return b'GIF89a' + data[6:]
    if how == 'truncated':
        return data[:len(data) // 2]
    if how == 'crc':
        pos = idat_positions(data)[0] + 8
        return data[:pos] + bytes([data[pos] ^ 1]) + data[pos + 1:]
    header = struct.pack('>IIBBBBB', 6, 4, 8, 2, 0, 0, 0)
    if how == 'huge':
        return png_file(struct.pack('>IIBBBBB', 1 << 16, 1 << 16, 8, 2, 0, 0, 0), b'')
    if how == 'zlib':
        return png_file(header, b'\x78\x9c' + b'\xff' * 60, compress=False)
    if how == 'short':
        return png_file(header, filter_rows(np.zeros((3, 6, 3), np.uint8), [0, 0, 0]))
    if how == 'filter':
        rows = bytearray(filter_rows(id_to_rgb(ids), [0, 1, 0, 0]))
        rows[2 * (1 + 6 * 3)] = 5  # row 2's filter byte
        return png_file(header, bytes(rows))
    raise ValueError(how)


@pytest.mark.parametrize('how, message', [
    ('not a PNG', 'not a PNG file'),
    ('truncated', 'truncated PNG'),
    ('crc', 'IDAT CRC mismatch'),
    ('huge', '65536 x 65536 pixels is larger than'),
    ('zlib', 'corrupt PNG image data'),
    ('short', 'corrupt PNG image data'),
    ('filter', 'row 2 has PNG filter type 5'),
])
def test_broken_pngs_raise_naming_the_file(tmp_path, how, message):
    good = encode(np.arange(24).reshape(4, 6) * 1000, [0, 1, 2, 4])
    path = tmp_path / 'img_7.png'
    path.write_bytes(corrupt(good, how))
    with pytest.raises(PanopticEvalError, match=rf'img_7\.png.*{message}'):
        read_id_runs(str(path))


def test_missing_png_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.png'):
        read_id_runs(str(tmp_path / 'nope.png'))
