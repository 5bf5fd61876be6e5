/* sequences.c — sequence inputs (n, T, d): from .npy and .npz files, and
 * from long tables of one row per step (see data.h). */
#include "io/io-impl.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/limits.h"

void hj_sequences_free(hj_sequences *s)
{
    if (s == NULL)
        return;
    hj_matrix_free(&s->x);
    hj_matrix_free(&s->y);
    memset(s, 0, sizeof *s);
}

/* s->x just read from a .npy array of ndim dimensions: refused unless 3-D. */
static hj_status npy_shape_check(hj_sequences *s, const size_t shape[3], size_t ndim, const char *name,
                                 hj_error *err)
{
    if (ndim != 3) {
        const size_t r = s->x.rows, c = s->x.cols;
        hj_matrix_free(&s->x);
        return hj_error_set(err, HJ_EFORMAT,
                            "%s: a %zu-D array of shape %zu x %zu, but sequences need a 3-D array "
                            "(n, T, d)",
                            name, ndim, r, c);
    }
    s->steps = shape[1], s->features = shape[2];
    return HJ_OK;
}

/* A 3-D .npy image into s. */
static hj_status npy_sequences(const void *buf, size_t len, const char *name, hj_sequences *s,
                               hj_error *err)
{
    size_t shape[3], ndim;
    hj_status st = hj_npy_parse_nd(buf, len, name, 3, &s->x, shape, &ndim, err);
    return st == HJ_OK ? npy_shape_check(s, shape, ndim, name, err) : st;
}

/* A 3-D .npy file into s. */
static hj_status npy_sequences_file(const char *path, hj_sequences *s, hj_error *err)
{
    size_t shape[3], ndim;
    hj_status st = hj_npy_read_nd(path, 3, &s->x, shape, &ndim, err);
    return st == HJ_OK ? npy_shape_check(s, shape, ndim, path, err) : st;
}

hj_status hj_sequences_parse(const void *buf, size_t len, const char *name, hj_format f,
                             hj_sequences *s, hj_error *err)
{
    if (s == NULL || (buf == NULL && len > 0))
        return hj_error_set(err, HJ_EINVAL, "hj_sequences_parse: NULL buffer or output");
    memset(s, 0, sizeof *s);
    if (name == NULL)
        name = "<sequences>";
    if (f == HJ_FORMAT_AUTO)
        f = hj_format_of_path(name);
    if (f == HJ_FORMAT_AUTO)
        f = hj_format_sniff(buf, len);
    hj_status st;
    switch (f) {
    case HJ_FORMAT_NPY: st = npy_sequences(buf, len, name, s, err); break;
    case HJ_FORMAT_NPZ: st = hj_io_npz_sequences(buf, len, name, s, err); break;
    default:
        return hj_error_set(err, HJ_EFORMAT,
                            "%s: %s is a table, not sequences: give an (n, T, d) .npy or an .npz with "
                            "X (n, T, d) (or one row per step with --sequence-id COL)",
                            name, hj_format_name(f));
    }
    if (st != HJ_OK)
        hj_sequences_free(s);
    return st;
}

hj_status hj_sequences_read(const char *path, hj_format f, hj_sequences *s, hj_error *err)
{
    if (s != NULL)
        memset(s, 0, sizeof *s);
    if (path == NULL || s == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_sequences_read: NULL path or output");
    const int std_in = strcmp(path, "-") == 0;
    hj_format g = f != HJ_FORMAT_AUTO ? f : std_in ? HJ_FORMAT_AUTO : hj_format_of_path(path);
    if (g == HJ_FORMAT_NPY && !std_in) /* header and size checked before the data are read */
        return npy_sequences_file(path, s, err);
    char *buf;
    size_t len;
    hj_status st = hj_io_read_file(path, &buf, &len, err);
    if (st != HJ_OK)
        return st;
    if (g == HJ_FORMAT_AUTO)
        g = hj_format_sniff(buf, len);
    st = hj_sequences_parse(buf, len, std_in ? "<stdin>" : path, g, s, err);
    free(buf);
    return st;
}

hj_status hj_sequences_probe(const char *path, hj_format f, size_t shape[3], size_t *ndim,
                             hj_error *err)
{
    if (path == NULL || shape == NULL || ndim == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_sequences_probe: NULL argument");
    hj_format g = f != HJ_FORMAT_AUTO ? f : hj_format_of_path(path);
    if (g != HJ_FORMAT_NPY && g != HJ_FORMAT_NPZ)
        return hj_error_set(err, HJ_EINVAL, "%s: not a .npy or .npz file", path);
    if (g == HJ_FORMAT_NPY && strcmp(path, "-") != 0) {
        FILE *fp = fopen(path, "rb");
        if (fp == NULL)
            return hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(errno));
        unsigned char head[1 << 16];
        size_t got = fread(head, 1, sizeof head, fp);
        int ok = fseek(fp, 0, SEEK_END) == 0;
        long total = ok ? ftell(fp) : -1;
        fclose(fp);
        if (total < 0)
            return hj_error_set(err, HJ_EIO, "%s: cannot tell its size", path);
        hj_io_npy_info info;
        hj_status st = hj_io_npy_header_nd(head, got, (size_t)total, path, 3, &info, err);
        if (st == HJ_OK) {
            memcpy(shape, info.dims, sizeof info.dims);
            *ndim = info.ndim;
        }
        return st;
    }
    char *buf;
    size_t len;
    hj_status st = hj_io_read_file(path, &buf, &len, err);
    if (st != HJ_OK)
        return st;
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    if (g == HJ_FORMAT_NPY) {
        hj_matrix m;
        st = hj_npy_parse_nd(buf, len, name, 3, &m, shape, ndim, err);
        hj_matrix_free(&m);
    } else {
        st = hj_io_npz_probe(buf, len, name, shape, ndim, err);
    }
    free(buf);
    return st;
}

hj_status hj_sequences_from_long(const hj_matrix *M, size_t id_col, size_t skip_col, const char *name,
                                 size_t header_lines, hj_sequences *s, size_t **first, hj_error *err)
{
    if (s != NULL)
        memset(s, 0, sizeof *s);
    if (first != NULL)
        *first = NULL;
    if (M == NULL || s == NULL || M->data == NULL || M->rows == 0 || id_col >= M->cols)
        return hj_error_set(err, HJ_EINVAL, "hj_sequences_from_long: no table rows or no id column");
    if (name == NULL)
        name = "<table>";
    const size_t rows = M->rows, cols = M->cols;
    const size_t d = cols - 1 - (skip_col < cols && skip_col != id_col ? 1 : 0);
    if (d == 0)
        return hj_error_set(err, HJ_EFORMAT, "%s: no feature column besides the id%s", name,
                            skip_col < cols ? " and the target" : "");
    /* T = the length of the first run of equal ids */
    size_t T = 1;
    while (T < rows && M->data[T * cols + id_col] == M->data[id_col])
        T++;
    size_t n = 0;
    for (size_t r = 0; r < rows; n++) {
        size_t e = r + 1;
        while (e < rows && M->data[e * cols + id_col] == M->data[r * cols + id_col])
            e++;
        if (e - r != T)
            return hj_error_set(err, HJ_EFORMAT,
                                "%s:%zu: sequence %zu (id %.17g) has %zu rows, but sequence 1 has %zu "
                                "(every sequence must have the same number of steps)",
                                name, r + 1 + header_lines, n + 1, M->data[r * cols + id_col], e - r, T);
        r = e;
    }
    hj_status st = hj_matrix_alloc(&s->x, n, T * d, err);
    size_t *f0 = st == HJ_OK ? malloc(n * sizeof *f0) : NULL;
    if (st == HJ_OK && f0 == NULL)
        st = hj_error_set(err, HJ_ENOMEM, "%s: out of memory", name);
    if (st != HJ_OK) {
        hj_matrix_free(&s->x);
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        f0[i] = i * T;
        double *dst = s->x.data + i * T * d;
        for (size_t k = 0; k < T; k++) {
            const double *row = M->data + (i * T + k) * cols;
            for (size_t c = 0; c < cols; c++)
                if (c != id_col && c != skip_col)
                    *dst++ = row[c];
        }
    }
    s->steps = T, s->features = d;
    if (first != NULL)
        *first = f0;
    else
        free(f0);
    return HJ_OK;
}
