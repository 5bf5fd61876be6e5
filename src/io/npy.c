/* npy.c — NumPy .npy files: parser (format 1.0/2.0/3.0), reader and atomic writer.
 *
 * Layout: "\x93NUMPY", major, minor (0), header length (uint16 LE for 1.0,
 * uint32 LE for 2.0/3.0), then an ASCII/UTF-8 Python dict literal
 *   {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
 * padded with blanks and ending in '\n', then the raw elements. The parser
 * takes the three keys in any order with any spacing, either quote style,
 * a trailing comma and Python 2 "3L" dimensions; anything else in the dict
 * is an error. The data must be exactly prod(shape) * itemsize bytes.
 * Matrices are 1-D or 2-D; sequences (hj_npy_parse_nd) may be 3-D
 * (n, T, d), read into n rows of T*d values, step-major.
 */
#include "io/io-impl.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hjdl/limits.h"

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

typedef struct npy_header {
    int have_descr, have_fortran, have_shape;
    char kind;        /* 'f', 'i' or 'u' */
    size_t itemsize;  /* bytes per element: 1, 4 or 8 */
    int big_endian;
    int fortran;      /* column-major data */
    size_t ndim;
    size_t dims[3];   /* first three dimensions */
} npy_header;

typedef struct npy_lexer {
    const char *s;    /* the header dict, s[0..n) */
    size_t n;
    size_t i;
    const char *name;
    hj_error *err;
} npy_lexer;

static hj_status lex_fail(const npy_lexer *lx, const char *what)
{
    return hj_error_set(lx->err, HJ_EFORMAT, "%s: bad .npy header at byte %zu: %s", lx->name,
                        lx->i, what);
}

static void lex_ws(npy_lexer *lx)
{
    while (lx->i < lx->n && (lx->s[lx->i] == ' ' || lx->s[lx->i] == '\t' ||
                             lx->s[lx->i] == '\n' || lx->s[lx->i] == '\r'))
        lx->i++;
}

static int lex_peek(const npy_lexer *lx) { return lx->i < lx->n ? (unsigned char)lx->s[lx->i] : -1; }

static hj_status lex_expect(npy_lexer *lx, char c, const char *what)
{
    lex_ws(lx);
    if (lex_peek(lx) != (unsigned char)c)
        return lex_fail(lx, what);
    lx->i++;
    return HJ_OK;
}

/* A '...' or "..." literal without escapes -> (*str, *len). */
static hj_status lex_string(npy_lexer *lx, const char **str, size_t *len)
{
    lex_ws(lx);
    int q = lex_peek(lx);
    if (q != '\'' && q != '"')
        return lex_fail(lx, "expected a quoted string");
    size_t a = ++lx->i;
    while (lx->i < lx->n && lx->s[lx->i] != (char)q) {
        if (lx->s[lx->i] == '\\')
            return lex_fail(lx, "escape sequences are not supported");
        lx->i++;
    }
    if (lx->i >= lx->n)
        return lex_fail(lx, "unterminated string");
    *str = lx->s + a;
    *len = lx->i - a;
    lx->i++;
    return HJ_OK;
}

static int word_at(const npy_lexer *lx, const char *w)
{
    size_t wl = strlen(w);
    if (lx->n - lx->i < wl || memcmp(lx->s + lx->i, w, wl) != 0)
        return 0;
    if (lx->i + wl < lx->n) { /* not the start of a longer identifier */
        char c = lx->s[lx->i + wl];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_')
            return 0;
    }
    return 1;
}

static hj_status lex_bool(npy_lexer *lx, int *v)
{
    lex_ws(lx);
    if (word_at(lx, "True")) {
        *v = 1;
        lx->i += 4;
    } else if (word_at(lx, "False")) {
        *v = 0;
        lx->i += 5;
    } else {
        return lex_fail(lx, "fortran_order must be True or False");
    }
    return HJ_OK;
}

/* '(' [int {',' int} [',']] ')' -> h->ndim, h->dims[0..2]. */
static hj_status lex_shape(npy_lexer *lx, npy_header *h)
{
    hj_status st = lex_expect(lx, '(', "shape must be a tuple");
    if (st != HJ_OK)
        return st;
    h->ndim = 0;
    lex_ws(lx);
    if (lex_peek(lx) == ')') {
        lx->i++;
        return HJ_OK;
    }
    for (;;) {
        lex_ws(lx);
        int c = lex_peek(lx);
        if (c < '0' || c > '9')
            return lex_fail(lx, "expected a dimension (a non-negative integer)");
        size_t v = 0;
        while ((c = lex_peek(lx)) >= '0' && c <= '9') {
            size_t d = (size_t)(c - '0');
            if (v > (SIZE_MAX - d) / 10)
                return lex_fail(lx, "dimension too large");
            v = v * 10 + d;
            lx->i++;
        }
        if (lex_peek(lx) == 'L')
            lx->i++; /* Python 2 long */
        if (h->ndim < 3)
            h->dims[h->ndim] = v;
        h->ndim++;
        lex_ws(lx);
        c = lex_peek(lx);
        if (c == ',') {
            lx->i++;
            lex_ws(lx);
            if (lex_peek(lx) == ')') {
                lx->i++;
                return HJ_OK;
            }
            continue;
        }
        if (c == ')') {
            lx->i++;
            return HJ_OK;
        }
        return lex_fail(lx, "expected ',' or ')' in shape");
    }
}

/* '<f8' and friends -> kind, itemsize, byte order. */
static hj_status parse_descr(const npy_lexer *lx, const char *d, size_t n, npy_header *h)
{
    static const struct {
        char kind;
        size_t size;
    } ok[] = {{'f', 8}, {'f', 4}, {'i', 4}, {'i', 8}, {'u', 1}, {'i', 1}};
    if (n == 3 && d[2] >= '1' && d[2] <= '9') {
        size_t size = (size_t)(d[2] - '0');
        for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
            if (ok[k].kind != d[1] || ok[k].size != size)
                continue;
            int order_ok = size == 1 ? (d[0] == '|' || d[0] == '<' || d[0] == '>')
                                     : (d[0] == '<' || d[0] == '>');
            if (!order_ok)
                break;
            h->kind = d[1];
            h->itemsize = size;
            h->big_endian = d[0] == '>';
            return HJ_OK;
        }
    }
    char ex[40];
    hj_io_excerpt(ex, sizeof ex, d, n);
    return hj_error_set(lx->err, HJ_EFORMAT,
                        "%s: unsupported .npy dtype '%s' (supported: <f8 >f8 <f4 >f4 <i4 >i4 "
                        "<i8 >i8 |u1 |i1)",
                        lx->name, ex);
}

static hj_status parse_dict(npy_lexer *lx, npy_header *h)
{
    hj_status st = lex_expect(lx, '{', "expected '{'");
    if (st != HJ_OK)
        return st;
    for (;;) {
        lex_ws(lx);
        if (lex_peek(lx) == '}') {
            lx->i++;
            break;
        }
        const char *key;
        size_t kl;
        if ((st = lex_string(lx, &key, &kl)) != HJ_OK)
            return st;
        if ((st = lex_expect(lx, ':', "expected ':' after a key")) != HJ_OK)
            return st;
        lex_ws(lx);
        int *seen;
        if (kl == 5 && memcmp(key, "descr", 5) == 0) {
            seen = &h->have_descr;
            if (*seen)
                return lex_fail(lx, "duplicate key 'descr'");
            int c = lex_peek(lx);
            if (c == '[' || c == '(' || c == '{')
                return hj_error_set(lx->err, HJ_EFORMAT,
                                    "%s: structured .npy dtypes are not supported", lx->name);
            const char *d;
            size_t dl;
            if ((st = lex_string(lx, &d, &dl)) != HJ_OK)
                return st;
            if ((st = parse_descr(lx, d, dl, h)) != HJ_OK)
                return st;
        } else if (kl == 13 && memcmp(key, "fortran_order", 13) == 0) {
            seen = &h->have_fortran;
            if (*seen)
                return lex_fail(lx, "duplicate key 'fortran_order'");
            if ((st = lex_bool(lx, &h->fortran)) != HJ_OK)
                return st;
        } else if (kl == 5 && memcmp(key, "shape", 5) == 0) {
            seen = &h->have_shape;
            if (*seen)
                return lex_fail(lx, "duplicate key 'shape'");
            if ((st = lex_shape(lx, h)) != HJ_OK)
                return st;
        } else {
            char ex[40];
            hj_io_excerpt(ex, sizeof ex, key, kl);
            return hj_error_set(lx->err, HJ_EFORMAT, "%s: unexpected key '%s' in the .npy header",
                                lx->name, ex);
        }
        *seen = 1;
        lex_ws(lx);
        int c = lex_peek(lx);
        if (c == ',') {
            lx->i++;
            continue;
        }
        if (c == '}') {
            lx->i++;
            break;
        }
        return lex_fail(lx, "expected ',' or '}'");
    }
    lex_ws(lx);
    if (lx->i != lx->n)
        return lex_fail(lx, "unexpected text after the dict");
    if (!h->have_descr)
        return hj_error_set(lx->err, HJ_EFORMAT, "%s: .npy header lacks 'descr'", lx->name);
    if (!h->have_fortran)
        return hj_error_set(lx->err, HJ_EFORMAT, "%s: .npy header lacks 'fortran_order'",
                            lx->name);
    if (!h->have_shape)
        return hj_error_set(lx->err, HJ_EFORMAT, "%s: .npy header lacks 'shape'", lx->name);
    return HJ_OK;
}

/* One element of the given dtype at p, as a double (int64 rounds to nearest). */
double hj_io_npy_decode(const unsigned char *p, char kind, size_t itemsize, int big_endian)
{
    uint64_t v = 0;
    if (big_endian)
        for (size_t k = 0; k < itemsize; k++)
            v = (v << 8) | p[k];
    else
        for (size_t k = itemsize; k-- > 0;)
            v = (v << 8) | p[k];
    switch (itemsize) {
    case 1:
        if (kind == 'u')
            return (double)(uint8_t)v;
        else {
            uint8_t u = (uint8_t)v;
            int8_t s;
            memcpy(&s, &u, 1);
            return (double)s;
        }
    case 4: {
        uint32_t u = (uint32_t)v;
        if (kind == 'f') {
            float f;
            memcpy(&f, &u, 4);
            return (double)f;
        }
        int32_t s;
        memcpy(&s, &u, 4);
        return (double)s;
    }
    default: {
        if (kind == 'f') {
            double d;
            memcpy(&d, &v, 8);
            return d;
        }
        int64_t s;
        memcpy(&s, &v, 8);
        return (double)s;
    }
    }
}

hj_status hj_io_npy_header(const void *buf, size_t avail, size_t len, const char *name,
                           hj_io_npy_info *info, hj_error *err)
{
    return hj_io_npy_header_nd(buf, avail, len, name, 2, info, err);
}

hj_status hj_io_npy_header_nd(const void *buf, size_t avail, size_t len, const char *name,
                              size_t max_ndim, hj_io_npy_info *info, hj_error *err)
{
    const unsigned char *b = buf;
    if (len < sizeof npy_magic || memcmp(b, npy_magic, sizeof npy_magic) != 0)
        return hj_error_set(err, HJ_EFORMAT, "%s: not a .npy file (bad magic string)", name);
    if (len < 8)
        return hj_error_set(err, HJ_EFORMAT, "%s: truncated .npy preamble", name);
    unsigned major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0)
        return hj_error_set(err, HJ_EFORMAT, "%s: unsupported .npy format version %u.%u", name,
                            major, minor);
    size_t pre = major == 1 ? 10 : 12;
    if (len < pre)
        return hj_error_set(err, HJ_EFORMAT, "%s: truncated .npy preamble", name);
    size_t hlen = (size_t)b[8] | (size_t)b[9] << 8;
    if (major >= 2)
        hlen |= (size_t)b[10] << 16 | (size_t)b[11] << 24;
    if (hlen > len - pre)
        return hj_error_set(err, HJ_EFORMAT,
                            "%s: truncated .npy header (%zu bytes announced, %zu present)", name,
                            hlen, len - pre);
    if (avail < pre + hlen)
        return hj_error_set(err, HJ_EINVAL, "%s: .npy header not in the buffer (internal)", name);

    npy_header h = {0};
    npy_lexer lx = {(const char *)b + pre, hlen, 0, name, err};
    hj_status st = parse_dict(&lx, &h);
    if (st != HJ_OK)
        return st;
    if (h.ndim == 0 || h.ndim > max_ndim)
        return hj_error_set(err, HJ_EFORMAT, "%s: %zu-dimensional array (only %s are supported)",
                            name, h.ndim, max_ndim >= 3 ? "1-D, 2-D and 3-D" : "1-D and 2-D");
    size_t dims[3] = {h.dims[0], h.ndim >= 2 ? h.dims[1] : 1, h.ndim >= 3 ? h.dims[2] : 1};
    if (dims[0] == 0 || dims[1] == 0 || dims[2] == 0) {
        if (h.ndim == 3)
            return hj_error_set(err, HJ_EFORMAT, "%s: empty array (shape %zu x %zu x %zu)", name,
                                dims[0], dims[1], dims[2]);
        return hj_error_set(err, HJ_EFORMAT, "%s: empty array (shape %zu x %zu)", name, dims[0],
                            dims[1]);
    }
    char shape[96];
    if (h.ndim == 3)
        snprintf(shape, sizeof shape, "%zu x %zu x %zu", dims[0], dims[1], dims[2]);
    else
        snprintf(shape, sizeof shape, "%zu x %zu", dims[0], dims[1]);
    if (dims[1] > SIZE_MAX / dims[2])
        return hj_error_set(err, HJ_EFORMAT, "%s: shape %s is too large", name, shape);
    size_t rows = dims[0], cols = dims[1] * dims[2];
    if (rows > SIZE_MAX / cols || rows * cols > SIZE_MAX / h.itemsize)
        return hj_error_set(err, HJ_EFORMAT, "%s: shape %s is too large", name, shape);
    size_t need = rows * cols * h.itemsize, have = len - pre - hlen;
    if (have < need)
        return hj_error_set(err, HJ_EFORMAT,
                            "%s: truncated .npy data (shape %s needs %zu bytes, %zu present)",
                            name, shape, need, have);
    if (have > need)
        return hj_error_set(err, HJ_EFORMAT, "%s: %zu unexpected bytes after the .npy data", name,
                            have - need);
    info->kind = h.kind;
    info->itemsize = h.itemsize;
    info->big_endian = h.big_endian;
    info->fortran = h.fortran;
    info->rows = rows;
    info->cols = cols;
    info->ndim = h.ndim;
    memcpy(info->dims, dims, sizeof dims);
    info->data_offset = pre + hlen;
    return HJ_OK;
}

/* Parse a .npy image of at most max_ndim dimensions (see data.h). Messages
 * read "NAME: ...". On success *out owns its data (names NULL); on failure
 * *out is zeroed. */
static hj_status npy_parse(const void *buf, size_t len, const char *name, size_t max_ndim,
                           hj_matrix *out, size_t shape[3], size_t *ndim, hj_error *err)
{
    if (out == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_npy_parse: NULL output");
    memset(out, 0, sizeof *out);
    if (name == NULL)
        name = "<npy>";
    if (buf == NULL && len > 0)
        return hj_error_set(err, HJ_EINVAL, "%s: NULL buffer", name);
    if (max_ndim < 1 || max_ndim > 3)
        return hj_error_set(err, HJ_EINVAL, "%s: at most 1 to 3 dimensions can be read", name);
    hj_io_npy_info h;
    hj_status st = hj_io_npy_header_nd(buf, len, len, name, max_ndim, &h, err);
    if (st != HJ_OK)
        return st;
    const size_t rows = h.rows, cols = h.cols, T = h.dims[1], d = h.dims[2];
    st = hj_matrix_alloc(out, rows, cols, err);
    if (st != HJ_OK)
        return st;
    const unsigned char *p = (const unsigned char *)buf + h.data_offset;
    for (size_t k = 0; k < rows * cols; k++, p += h.itemsize) {
        /* element k sits at (i, j) = C order: (k / cols, k % cols),
         * Fortran order: i = k % rows, then the other indices from the
         * first fastest: (step, feature) = ((k / rows) % T, k / (rows T)),
         * column j = step * d + feature (step-major rows) */
        size_t i = h.fortran ? k % rows : k / cols;
        size_t j = h.fortran ? ((k / rows) % T) * d + k / rows / T : k % cols;
        double v = hj_io_npy_decode(p, h.kind, h.itemsize, h.big_endian);
        if (!isfinite(v)) {
            hj_matrix_free(out);
            if (h.ndim == 3)
                return hj_error_set(err, HJ_ENAN,
                                    "%s: element [%zu, %zu, %zu] (0-based) is %s: sequence %zu, "
                                    "step %zu, feature %zu",
                                    name, i, j / d, j % d, isnan(v) ? "NaN" : "infinite", i + 1,
                                    j / d + 1, j % d + 1);
            return hj_error_set(err, HJ_ENAN, "%s: element [%zu, %zu] (0-based) is %s", name, i,
                                j, isnan(v) ? "NaN" : "infinite");
        }
        out->data[i * cols + j] = v;
    }
    if (shape)
        memcpy(shape, h.dims, sizeof h.dims);
    if (ndim)
        *ndim = h.ndim;
    return HJ_OK;
}

hj_status hj_npy_parse(const void *buf, size_t len, const char *name, hj_matrix *out,
                       hj_error *err)
{
    return npy_parse(buf, len, name, 2, out, NULL, NULL, err);
}

hj_status hj_npy_parse_nd(const void *buf, size_t len, const char *name, size_t max_ndim,
                          hj_matrix *out, size_t shape[3], size_t *ndim, hj_error *err)
{
    return npy_parse(buf, len, name, max_ndim, out, shape, ndim, err);
}

/* Validate the header of the .npy file at path (first 1 MiB at most) and
 * the memory its matrix needs, without reading the data. */
static hj_status npy_precheck(const char *path, size_t max_ndim, hj_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return HJ_OK; /* not a regular file: no size to check against; parsed as read */
    }
    const size_t len = (size_t)sb.st_size, cap = (size_t)1 << 20;
    const size_t want = len < cap ? len : cap;
    unsigned char *head = malloc(want ? want : 1);
    if (head == NULL) {
        fclose(f);
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", path);
    }
    size_t got = fread(head, 1, want, f);
    fclose(f);
    hj_io_npy_info info;
    hj_status st = hj_io_npy_header_nd(head, got, len, path, max_ndim, &info, err);
    free(head);
    if (st != HJ_OK)
        return st;
    char what[64 + 1024];
    snprintf(what, sizeof what, "%s: a %zu x %zu matrix", path, info.rows, info.cols);
    return hj_memory_check(8.0 * (double)info.rows * (double)info.cols, what, err);
}

/* Read and parse a .npy file; messages are named by `path`. */
static hj_status npy_read(const char *path, size_t max_ndim, hj_matrix *out, size_t shape[3],
                          size_t *ndim, hj_error *err)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (path == NULL || out == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_npy_read: NULL path or output");
    /* the header first: a file claiming more than fits is refused before
     * its data are read */
    hj_status st = npy_precheck(path, max_ndim, err);
    if (st != HJ_OK)
        return st;
    char *buf;
    size_t len;
    st = hj_io_read_file(path, &buf, &len, err);
    if (st != HJ_OK)
        return st;
    st = npy_parse(buf, len, path, max_ndim, out, shape, ndim, err);
    free(buf);
    return st;
}

hj_status hj_npy_read(const char *path, hj_matrix *out, hj_error *err)
{
    return npy_read(path, 2, out, NULL, NULL, err);
}

hj_status hj_npy_read_nd(const char *path, size_t max_ndim, hj_matrix *out, size_t shape[3],
                         size_t *ndim, hj_error *err)
{
    return npy_read(path, max_ndim, out, shape, ndim, err);
}

size_t hj_io_npy_head(unsigned char head[HJ_IO_NPY_HEAD_MAX], size_t rows, size_t cols, int one_d)
{
    memcpy(head, npy_magic, sizeof npy_magic);
    head[6] = 1;
    head[7] = 0;
    char shape[64];
    if (one_d)
        snprintf(shape, sizeof shape, "(%zu,)", rows);
    else
        snprintf(shape, sizeof shape, "(%zu, %zu)", rows, cols);
    int dl = snprintf((char *)head + 10, HJ_IO_NPY_HEAD_MAX - 10,
                      "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }", shape);
    /* pad with blanks so that the data starts on a 64-byte boundary */
    size_t total = 10 + (size_t)dl + 1;
    size_t pad = (64 - total % 64) % 64;
    memset(head + 10 + dl, ' ', pad);
    head[10 + (size_t)dl + pad] = '\n';
    total += pad;
    size_t hlen = total - 10;
    head[8] = (unsigned char)(hlen & 0xff);
    head[9] = (unsigned char)(hlen >> 8);
    return total;
}

void hj_io_npy_le(const double *src, size_t n, size_t stride, unsigned char *dst)
{
    for (size_t k = 0; k < n; k++) {
        uint64_t v;
        memcpy(&v, &src[k * stride], 8);
        for (int byte = 0; byte < 8; byte++)
            dst[8 * k + (size_t)byte] = (unsigned char)(v >> (8 * byte)); /* little-endian */
    }
}

hj_status hj_io_npy_write_stream(FILE *f, const hj_matrix *m, hj_error *err)
{
    if (f == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_npy_write: NULL stream");
    hj_status st = hj_io_check_writable(m, "hj_npy_write", err);
    if (st != HJ_OK)
        return st;
    unsigned char head[HJ_IO_NPY_HEAD_MAX];
    fwrite(head, 1, hj_io_npy_head(head, m->rows, m->cols, 0), f);

    unsigned char chunk[8 * 512];
    size_t n = m->rows * m->cols;
    for (size_t k = 0; k < n; k += 512) {
        size_t c = n - k < 512 ? n - k : 512;
        hj_io_npy_le(m->data + k, c, 1, chunk);
        fwrite(chunk, 1, 8 * c, f);
    }
    if (fflush(f) != 0 || ferror(f))
        return hj_error_set(err, HJ_EIO, "write error: %s", strerror(errno));
    return HJ_OK;
}

static hj_status npy_job_write(FILE *f, const void *ctx, hj_error *err)
{
    return hj_io_npy_write_stream(f, ctx, err);
}

/* Write m as .npy 1.0, '<f8', C order, shape (rows, cols), atomically (see
 * hj_io_write_atomic). HJ_EINVAL for an empty matrix, HJ_ENAN for NaN/Inf. */
hj_status hj_npy_write(const char *path, const hj_matrix *m, hj_error *err)
{
    if (path == NULL || path[0] == '\0')
        return hj_error_set(err, HJ_EINVAL, "hj_npy_write: empty path");
    hj_status st = hj_io_check_writable(m, path, err);
    if (st != HJ_OK)
        return st;
    return hj_io_write_atomic(path, npy_job_write, m, err);
}
