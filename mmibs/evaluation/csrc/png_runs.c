/*
 * mmibs.evaluation._png_runs: the runs of equal panoptic ids of an inflated 8-bit RGB(A) PNG.
 *
 * A COCO-panoptic PNG stores the id R + 256 G + 256^2 B of each pixel. Segment maps consist of
 * long horizontal runs of one id, so the evaluation works on runs instead of pixels
 * (mmibs/evaluation/panoptic_png.py). This module undoes the PNG row filters (PNG
 * specification, section 9: None, Sub, Up, Average, Paeth) row by row and emits one run per
 * change of id; the zlib stream is inflated in Python beforehand.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The Paeth predictor of the PNG specification (section 9.4). */
static inline uint8_t paeth(int a, int b, int c)
{
    int p = a + b - c;
    int pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    if (pa <= pb && pa <= pc)
        return (uint8_t)a;
    return (uint8_t)(pb <= pc ? b : c);
}

/* The panoptic id R + 256 G + 65536 B of the pixel at p. */
static inline uint32_t pixel_id(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
}

/* Byte-wise sum modulo 256 of the low three bytes of a and b (SIMD within a register). */
static inline uint32_t add_bytes(uint32_t a, uint32_t b)
{
    return (((a & 0x7f7f7fu) + (b & 0x7f7f7fu)) ^ ((a ^ b) & 0x808080u)) & 0xffffffu;
}

/* Reconstruct one row in place: cur (the filtered bytes) becomes the image row. prev is the
 * previous image row (all zero for the first row). None (0) and Sub (1) need no previous row
 * and are handled by the caller. */
static void unfilter_row(int filter, uint8_t *cur, const uint8_t *prev, Py_ssize_t stride,
                         Py_ssize_t bpp)
{
    Py_ssize_t i;
    switch (filter) {
    case 2:
        for (i = 0; i < stride; i++)
            cur[i] = (uint8_t)(cur[i] + prev[i]);
        break;
    case 3:
        for (i = 0; i < bpp; i++)
            cur[i] = (uint8_t)(cur[i] + (prev[i] >> 1));
        for (i = bpp; i < stride; i++)
            cur[i] = (uint8_t)(cur[i] + ((cur[i - bpp] + prev[i]) >> 1));
        break;
    case 4:
        for (i = 0; i < bpp; i++)
            cur[i] = (uint8_t)(cur[i] + prev[i]);
        for (i = bpp; i < stride; i++)
            cur[i] = (uint8_t)(cur[i] + paeth(cur[i - bpp], prev[i], prev[i - bpp]));
        break;
    }
}

/* The first index i >= from and < len at which a[i] != b[i] (b == NULL: a[i] != 0), or len.
 * Compares eight bytes at a time: runs are long, so most words are equal. */
static inline Py_ssize_t first_difference(const uint8_t *a, const uint8_t *b, Py_ssize_t from,
                                          Py_ssize_t len)
{
    static const uint8_t zeros[8] = {0};
    Py_ssize_t i = from;
    for (; i + 8 <= len; i += 8) {
        uint64_t wa, wb;
        memcpy(&wa, a + i, 8);
        memcpy(&wb, b ? b + i : zeros, 8);
        if (wa != wb)
            break;
    }
    for (; i < len; i++)
        if (a[i] != (b ? b[i] : 0))
            return i;
    return len;
}

/* Emit the runs of an image row (bpp bytes per pixel); returns how many. */
static Py_ssize_t row_runs(const uint8_t *row, Py_ssize_t width, Py_ssize_t bpp, int64_t offset,
                           int64_t *starts, int64_t *ids)
{
    Py_ssize_t n = 0, len = (width - 1) * bpp;
    uint32_t last = pixel_id(row);
    starts[n] = offset;
    ids[n++] = last;
    /* Byte j of row + bpp differs from byte j of row: pixel j / bpp + 1 may start a run. */
    for (Py_ssize_t j = first_difference(row + bpp, row, 0, len); j < len;) {
        Py_ssize_t x = j / bpp + 1;
        uint32_t id = pixel_id(row + x * bpp);
        if (id != last) { /* not just an alpha change */
            starts[n] = offset + x;
            ids[n++] = last = id;
        }
        j = first_difference(row + bpp, row, x * bpp, len);
    }
    return n;
}

/* Emit the runs of a Sub-filtered row (each byte adds the byte bpp to its left) without
 * reconstructing it: the id changes exactly where a filtered pixel's R, G, B are not all zero. */
static Py_ssize_t sub_runs(const uint8_t *line, Py_ssize_t width, Py_ssize_t bpp, int64_t offset,
                           int64_t *starts, int64_t *ids)
{
    Py_ssize_t n = 0, len = width * bpp;
    uint32_t left = pixel_id(line);
    starts[n] = offset;
    ids[n++] = left;
    for (Py_ssize_t i = first_difference(line, NULL, bpp, len); i < len;) {
        Py_ssize_t x = i / bpp;
        uint32_t delta = pixel_id(line + x * bpp);
        if (delta) {
            starts[n] = offset + x;
            ids[n++] = left = add_bytes(left, delta);
        }
        i = first_difference(line, NULL, (x + 1) * bpp, len);
    }
    return n;
}

/* Emit the runs of a Paeth-filtered RGB row without reconstructing it. Where a filtered byte is
 * zero and the byte above equals the byte above-left (b == c), the predictor is the left byte:
 * the pixel repeats its left neighbour. Only pixels at other bytes are computed. */
static Py_ssize_t paeth_runs(const uint8_t *line, const uint8_t *prev, Py_ssize_t width,
                             int64_t offset, int64_t *starts, int64_t *ids)
{
    const Py_ssize_t len = width * 3;
    Py_ssize_t n = 0;
    /* Pixel 0 has no left neighbour: its predictor is the byte above. */
    uint8_t r = (uint8_t)(line[0] + prev[0]), g = (uint8_t)(line[1] + prev[1]),
            b = (uint8_t)(line[2] + prev[2]);
    uint32_t last = (uint32_t)r | ((uint32_t)g << 8) | ((uint32_t)b << 16);
    starts[n] = offset;
    ids[n++] = last;
    Py_ssize_t raw_at = first_difference(line, NULL, 3, len);
    Py_ssize_t above_at = first_difference(prev + 3, prev, 0, len - 3) + 3;
    for (;;) {
        Py_ssize_t i = raw_at < above_at ? raw_at : above_at;
        if (i >= len)
            break;
        Py_ssize_t x = i / 3;
        const uint8_t *f = line + 3 * x, *up = prev + 3 * x, *upleft = up - 3;
        r = (uint8_t)(f[0] + paeth(r, up[0], upleft[0]));
        g = (uint8_t)(f[1] + paeth(g, up[1], upleft[1]));
        b = (uint8_t)(f[2] + paeth(b, up[2], upleft[2]));
        uint32_t id = (uint32_t)r | ((uint32_t)g << 8) | ((uint32_t)b << 16);
        if (id != last) {
            starts[n] = offset + x;
            ids[n++] = last = id;
        }
        Py_ssize_t next = 3 * (x + 1);
        if (raw_at < next)
            raw_at = first_difference(line, NULL, next, len);
        if (above_at < next)
            above_at = first_difference(prev + 3, prev, next - 3, len - 3) + 3;
    }
    return n;
}

/* Write an RGB row from its runs (for the next row's filter to read): each run's pixel is
 * written once and then doubled by memcpy. */
static void paint_runs(uint8_t *row, Py_ssize_t width, int64_t offset, const int64_t *starts,
                       const int64_t *ids, Py_ssize_t count)
{
    for (Py_ssize_t k = 0; k < count; k++) {
        Py_ssize_t x0 = (Py_ssize_t)(starts[k] - offset);
        Py_ssize_t x1 = k + 1 < count ? (Py_ssize_t)(starts[k + 1] - offset) : width;
        uint8_t *dst = row + 3 * x0;
        Py_ssize_t total = 3 * (x1 - x0), filled = 3;
        dst[0] = (uint8_t)ids[k];
        dst[1] = (uint8_t)(ids[k] >> 8);
        dst[2] = (uint8_t)(ids[k] >> 16);
        while (filled < total) {
            Py_ssize_t chunk = filled < total - filled ? filled : total - filled;
            memcpy(dst + filled, dst, (size_t)chunk); /* the pattern repeats every 3 bytes */
            filled += chunk;
        }
    }
}

/* Runs of one RGB row (bpp 3). None, Sub and Paeth rows are decoded into runs directly; Up and
 * Average rows are reconstructed in cur first. Sets *in_cur when cur holds the row. */
static Py_ssize_t rgb_row_runs(const uint8_t *line, uint8_t *cur, const uint8_t *prev,
                               Py_ssize_t width, int64_t offset, int64_t *starts, int64_t *ids,
                               int *in_cur)
{
    Py_ssize_t stride = 3 * width;
    *in_cur = 0;
    switch (line[0]) {
    case 0:
        return row_runs(line + 1, width, 3, offset, starts, ids);
    case 1:
        return sub_runs(line + 1, width, 3, offset, starts, ids);
    case 4:
        return paeth_runs(line + 1, prev, width, offset, starts, ids);
    default:
        memcpy(cur, line + 1, (size_t)stride);
        unfilter_row(line[0], cur, prev, stride, 3);
        *in_cur = 1;
        return row_runs(cur, width, 3, offset, starts, ids);
    }
}

/* Runs of one RGBA row (bpp 4), always reconstructed in cur (alpha is ignored by the ids). */
static Py_ssize_t rgba_row_runs(const uint8_t *line, uint8_t *cur, const uint8_t *prev,
                                Py_ssize_t width, int64_t offset, int64_t *starts, int64_t *ids)
{
    Py_ssize_t stride = 4 * width;
    memcpy(cur, line + 1, (size_t)stride);
    if (line[0] == 1) {
        for (Py_ssize_t i = 4; i < stride; i++)
            cur[i] = (uint8_t)(cur[i] + cur[i - 4]);
    } else {
        unfilter_row(line[0], cur, prev, stride, 4);
    }
    return row_runs(cur, width, 4, offset, starts, ids);
}

PyDoc_STRVAR(png_runs_doc,
"png_runs(raw, width, height, channels, starts, ids) -> int\n"
"\n"
"Runs of equal ids, row by row, of an inflated 8-bit non-interlaced PNG.\n"
"\n"
"raw: the inflated IDAT stream, height * (1 + width * channels) bytes (a filter byte per row).\n"
"channels: 3 (RGB) or 4 (RGBA; alpha is ignored, as panopticapi's rgb2id does).\n"
"starts, ids: writable int64 buffers of at least height * width entries. Run k begins at the\n"
"    flat pixel index starts[k] (y * width + x) and holds the id ids[k] = R + 256 G + 65536 B;\n"
"    every row begins a run.\n"
"Returns the number of runs. Raises ValueError for a wrong raw size or an unknown filter.");

static PyObject *png_runs(PyObject *self, PyObject *args)
{
    Py_buffer raw, starts_buf, ids_buf;
    Py_ssize_t width, height, channels;
    if (!PyArg_ParseTuple(args, "y*nnnw*w*", &raw, &width, &height, &channels, &starts_buf,
                          &ids_buf))
        return NULL;

    PyObject *result = NULL;
    uint8_t *rows = NULL;
    Py_ssize_t stride = width * channels;
    Py_ssize_t pixels = width * height;
    if (width <= 0 || height <= 0 || (channels != 3 && channels != 4)) {
        PyErr_Format(PyExc_ValueError, "invalid PNG geometry %zd x %zd x %zd", width, height,
                     channels);
        goto done;
    }
    if (raw.len != height * (stride + 1)) {
        PyErr_Format(PyExc_ValueError,
                     "inflated PNG data has %zd bytes, expected %zd for %zd rows of %zd pixels",
                     raw.len, height * (stride + 1), height, width);
        goto done;
    }
    if (starts_buf.len < pixels * (Py_ssize_t)sizeof(int64_t) ||
        ids_buf.len < pixels * (Py_ssize_t)sizeof(int64_t)) {
        PyErr_SetString(PyExc_ValueError, "starts and ids need height * width int64 entries");
        goto done;
    }
    rows = (uint8_t *)calloc(2 * (size_t)stride, 1); /* previous and current row */
    if (rows == NULL) {
        PyErr_NoMemory();
        goto done;
    }

    const uint8_t *src = (const uint8_t *)raw.buf;
    int64_t *starts = (int64_t *)starts_buf.buf;
    int64_t *ids = (int64_t *)ids_buf.buf;
    Py_ssize_t n = 0, bad_row = -1;
    int bad_filter = 0;
    Py_BEGIN_ALLOW_THREADS
    /* prev holds the previous image row whenever the current row's filter reads it. */
    uint8_t *prev = rows, *cur = rows + stride;
    for (Py_ssize_t y = 0; y < height; y++) {
        const uint8_t *line = src + y * (stride + 1);
        int64_t offset = (int64_t)y * width;
        if (line[0] > 4) {
            bad_row = y;
            bad_filter = line[0];
            break;
        }
        Py_ssize_t count;
        if (channels == 4) {
            count = rgba_row_runs(line, cur, prev, width, offset, starts + n, ids + n);
        } else {
            int in_cur;
            count = rgb_row_runs(line, cur, prev, width, offset, starts + n, ids + n, &in_cur);
            /* Up, Average and Paeth rows read the row above. */
            if (!in_cur && y + 1 < height && line[stride + 1] >= 2)
                paint_runs(cur, width, offset, starts + n, ids + n, count);
        }
        n += count;
        uint8_t *swap = prev;
        prev = cur;
        cur = swap;
    }
    Py_END_ALLOW_THREADS
    if (bad_row >= 0)
        PyErr_Format(PyExc_ValueError, "row %zd has PNG filter type %d (valid: 0 to 4)", bad_row,
                     bad_filter);
    else
        result = PyLong_FromSsize_t(n);

done:
    free(rows);
    PyBuffer_Release(&raw);
    PyBuffer_Release(&starts_buf);
    PyBuffer_Release(&ids_buf);
    return result;
}

static PyMethodDef methods[] = {
    {"png_runs", png_runs, METH_VARARGS, png_runs_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_png_runs",
    "Runs of equal panoptic ids of an inflated PNG (see png_runs).", -1, methods,
};

PyMODINIT_FUNC PyInit__png_runs(void)
{
    return PyModule_Create(&module);
}
