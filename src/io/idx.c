/* idx.c — IDX files (the MNIST container format): parser, and a reader that gunzips with zlib.
 *
 * Layout: two zero bytes, a type byte, the number of dimensions, then ndim
 * big-endian uint32 sizes, then prod(sizes) big-endian items in C order:
 *   0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
 * The first dimension indexes rows; the others are flattened into columns.
 */
#include "io/io-impl.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "hjdl/dataset.h"
#include "hjdl/limits.h"

/* Largest number of dimensions accepted (MNIST-style files use 1 or 3). */
#define IDX_MAX_NDIM 4
/* Largest decompressed size hj_idx_read accepts from a gzip file: 1 GiB. */
#define IDX_MAX_INFLATED ((size_t)1 << 30)

/* Bytes per item of an IDX type code, 0 for an unknown code. */
static size_t idx_itemsize(unsigned type)
{
    switch (type) {
    case 0x08: return 1;
    case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: return 4;
    case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
    }
}

static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static uint64_t be64(const unsigned char *p)
{
    return ((uint64_t)be32(p) << 32) | (uint64_t)be32(p + 4);
}

/* Item k of type `type` at p (already bounds-checked) as a double. */
static double idx_item(unsigned type, const unsigned char *p)
{
    switch (type) {
    case 0x08: return (double)p[0];
    case 0x09: return (double)(int8_t)p[0];
    case 0x0B: {
        uint16_t u = (uint16_t)(((unsigned)p[0] << 8) | (unsigned)p[1]);
        int16_t v;
        memcpy(&v, &u, sizeof v);
        return (double)v;
    }
    case 0x0C: {
        uint32_t u = be32(p);
        int32_t v;
        memcpy(&v, &u, sizeof v);
        return (double)v;
    }
    case 0x0D: {
        uint32_t u = be32(p);
        float v;
        memcpy(&v, &u, sizeof v);
        return (double)v;
    }
    default: { /* 0x0E */
        uint64_t u = be64(p);
        double v;
        memcpy(&v, &u, sizeof v);
        return v;
    }
    }
}

/* Parse an IDX image. On failure *out is zeroed and err reads "NAME: ...":
 * HJ_EFORMAT for a malformed or truncated file (or one with trailing bytes,
 * or whose dimensions overflow size_t), HJ_ENAN for a NaN or infinite float,
 * HJ_ENOMEM, HJ_EINVAL for NULL arguments (name NULL reads "idx"). Never
 * reads outside buf[0..len). */
hj_status hj_idx_parse(const void *buf, size_t len, const char *name, hj_matrix *out,
                       hj_error *err)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (name == NULL)
        name = "idx";
    if (out == NULL || (buf == NULL && len > 0))
        return hj_error_set(err, HJ_EINVAL, "%s: hj_idx_parse: NULL buffer or output", name);
    const unsigned char *b = buf;

    if (len < 4)
        return hj_error_set(err, HJ_EFORMAT,
                            "%s: truncated: %zu bytes, an IDX header needs at least 4", name, len);
    if (b[0] != 0 || b[1] != 0)
        return hj_error_set(err, HJ_EFORMAT,
                            "%s: bad magic 0x%02x%02x%02x%02x: an IDX file starts with two zero "
                            "bytes",
                            name, b[0], b[1], b[2], b[3]);
    unsigned type = b[2], ndim = b[3];
    size_t isz = idx_itemsize(type);
    if (isz == 0)
        return hj_error_set(err, HJ_EFORMAT,
                            "%s: unknown IDX data type 0x%02x (known: 0x08 u8, 0x09 i8, 0x0B i16, "
                            "0x0C i32, 0x0D f32, 0x0E f64)",
                            name, type);
    if (ndim == 0 || ndim > IDX_MAX_NDIM)
        return hj_error_set(err, HJ_EFORMAT, "%s: %u dimensions; supported: 1 to %d", name, ndim,
                            IDX_MAX_NDIM);
    size_t hdr = 4 + 4 * (size_t)ndim;
    if (len < hdr)
        return hj_error_set(err, HJ_EFORMAT,
                            "%s: truncated: header of %u dimensions needs %zu bytes, file has %zu",
                            name, ndim, hdr, len);

    /* rows = dims[0], cols = prod(dims[1..]); guard every product. */
    size_t dims[IDX_MAX_NDIM];
    char shape[IDX_MAX_NDIM * 12];
    size_t sl = 0;
    for (unsigned i = 0; i < ndim; i++) {
        dims[i] = (size_t)be32(b + 4 + 4 * i);
        int w = snprintf(shape + sl, sizeof shape - sl, i ? " x %zu" : "%zu", dims[i]);
        sl += (w > 0) ? (size_t)w : 0;
        if (sl >= sizeof shape)
            sl = sizeof shape - 1;
    }
    for (unsigned i = 0; i < ndim; i++)
        if (dims[i] == 0)
            return hj_error_set(err, HJ_EFORMAT, "%s: dimension %u of %s is 0", name, i + 1,
                                shape);
    size_t rows = dims[0], cols = 1;
    for (unsigned i = 1; i < ndim; i++) {
        if (cols > SIZE_MAX / dims[i])
            return hj_error_set(err, HJ_EFORMAT, "%s: dimensions %s overflow size_t", name, shape);
        cols *= dims[i];
    }
    /* The matrix holds rows*cols doubles, at least as wide as any item. */
    if (rows > SIZE_MAX / sizeof(double) / cols)
        return hj_error_set(err, HJ_EFORMAT, "%s: dimensions %s overflow size_t", name, shape);
    size_t count = rows * cols;
    size_t need = count * isz;   /* cannot overflow: isz <= sizeof(double) */
    size_t have = len - hdr;
    size_t rowbytes = cols * isz;
    if (have < need) {
        if (ndim == 1)
            return hj_error_set(err, HJ_EFORMAT,
                                "%s: truncated: header says %zu items, file has %zu%s", name,
                                rows, have / isz, (have % isz) ? " and a partial one" : "");
        return hj_error_set(err, HJ_EFORMAT,
                            "%s: truncated: header says %zu items (shape %s, %zu bytes of data), "
                            "file has %zu (%zu bytes of data)",
                            name, rows, shape, need, have / rowbytes, have);
    }
    if (have > need)
        return hj_error_set(err, HJ_EFORMAT,
                            "%s: trailing data: %zu bytes after the %zu items the header announces "
                            "(shape %s)",
                            name, have - need, rows, shape);

    /* the doubles, not only the bytes they come from, are bounded */
    if ((unsigned long long)count * sizeof(double) > HJ_MAX_MATRIX_BYTES)
        return hj_error_set(err, HJ_ENOMEM,
                            "%s: shape %s makes a matrix of %.3g GB of doubles, more than the "
                            "%llu MiB an IDX file may make (limits.h)",
                            name, shape, (double)count * 8e-9, HJ_MAX_MATRIX_BYTES >> 20);
    char what[1200];
    snprintf(what, sizeof what, "%s: the %s matrix", name, shape);
    hj_status st = hj_memory_check((double)count * sizeof(double), what, err);
    if (st != HJ_OK)
        return st;
    hj_matrix m;
    st = hj_matrix_alloc(&m, rows, cols, err);
    if (st != HJ_OK) {
        hj_error_prefix(err, "%s: ", name);
        return st;
    }
    const unsigned char *p = b + hdr;
    if (type == 0x08) {
        for (size_t k = 0; k < count; k++)
            m.data[k] = (double)p[k];
    } else {
        for (size_t k = 0; k < count; k++) {
            double v = idx_item(type, p + k * isz);
            if (!isfinite(v)) {
                hj_matrix_free(&m);
                return hj_error_set(err, HJ_ENAN, "%s: item %zu, value %zu is %s", name,
                                    k / cols + 1, k % cols + 1, isnan(v) ? "NaN" : "infinite");
            }
            m.data[k] = v;
        }
    }
    *out = m;
    return HJ_OK;
}

/* Inflate the gzip stream src[0..n) (one or more concatenated members) into
 * a fresh buffer *dst (*dlen bytes), at most IDX_MAX_INFLATED. */
static hj_status gunzip(const char *path, const unsigned char *src, size_t n, unsigned char **dst,
                        size_t *dlen, hj_error *err)
{
    *dst = NULL;
    *dlen = 0;
    /* The trailer's ISIZE (size mod 2^32 of the last member) is a good first guess. */
    size_t cap = 1 << 16;
    if (n >= 18) {
        size_t hint = (size_t)src[n - 4] | ((size_t)src[n - 3] << 8) |
                      ((size_t)src[n - 2] << 16) | ((size_t)src[n - 1] << 24);
        /* deflate never expands more than about 1032:1, so a larger claim is a lie */
        if (hint >= cap && hint < IDX_MAX_INFLATED && hint / 1032 <= n)
            cap = hint + 1; /* + 1 so that a full buffer means "maybe more" */
    }
    unsigned char *out = malloc(cap);
    if (out == NULL)
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory inflating gzip data", path);

    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK) { /* 15-bit window, gzip wrapper only */
        free(out);
        return hj_error_set(err, HJ_ENOMEM, "%s: cannot initialise zlib", path);
    }
    size_t in_off = 0, used = 0;
    hj_status st = HJ_OK;
    for (;;) {
        if (used == cap) {
            if (cap >= IDX_MAX_INFLATED) {
                st = hj_error_set(err, HJ_EFORMAT,
                                  "%s: gzip data inflate to more than %zu MiB; refusing", path,
                                  IDX_MAX_INFLATED >> 20);
                break;
            }
            size_t ncap = cap * 2 > IDX_MAX_INFLATED ? IDX_MAX_INFLATED : cap * 2;
            unsigned char *nb = realloc(out, ncap);
            if (nb == NULL) {
                st = hj_error_set(err, HJ_ENOMEM, "%s: out of memory inflating gzip data", path);
                break;
            }
            out = nb;
            cap = ncap;
        }
        /* zlib counts in uInt: feed and drain in chunks of at most 1 GiB. */
        size_t in_avail = n - in_off, out_avail = cap - used;
        zs.next_in = (Bytef *)(uintptr_t)(src + in_off);
        zs.avail_in = (uInt)(in_avail > (1u << 30) ? (1u << 30) : in_avail);
        zs.next_out = out + used;
        zs.avail_out = (uInt)(out_avail > (1u << 30) ? (1u << 30) : out_avail);
        uInt in0 = zs.avail_in, out0 = zs.avail_out;
        int zr = inflate(&zs, Z_NO_FLUSH);
        in_off += in0 - zs.avail_in;
        used += out0 - zs.avail_out;
        if (zr == Z_STREAM_END) {
            /* Another member may follow (as `cat a.gz b.gz` makes). */
            if (in_off < n && src[in_off] == 0x1f) {
                if (inflateReset(&zs) != Z_OK) {
                    st = hj_error_set(err, HJ_EFORMAT, "%s: gzip: cannot reset the stream", path);
                    break;
                }
                continue;
            }
            if (in_off < n)
                st = hj_error_set(err, HJ_EFORMAT, "%s: %zu bytes of garbage after the gzip data",
                                  path, n - in_off);
            break;
        }
        if (zr == Z_OK)
            continue;
        if (zr == Z_BUF_ERROR && zs.avail_out == 0)
            continue; /* output full: grow and go on */
        if (zr == Z_BUF_ERROR && in_off == n) {
            st = hj_error_set(err, HJ_EFORMAT,
                              "%s: truncated gzip data (ends after %zu compressed bytes, %zu "
                              "inflated)",
                              path, n, used);
            break;
        }
        if (zr == Z_MEM_ERROR) {
            st = hj_error_set(err, HJ_ENOMEM, "%s: out of memory inflating gzip data", path);
            break;
        }
        st = hj_error_set(err, HJ_EFORMAT, "%s: corrupt gzip data: %s", path,
                          zs.msg != NULL ? zs.msg : "inflate failed");
        break;
    }
    inflateEnd(&zs);
    if (st != HJ_OK) {
        free(out);
        return st;
    }
    *dst = out;
    *dlen = used;
    return HJ_OK;
}

/* Read an IDX file: gzip (magic 1f 8b) is inflated first, anything else is
 * parsed as raw IDX. Errors as hj_idx_parse, named by path, plus HJ_EIO
 * "PATH: No such file or directory" (strerror text) when it cannot be read
 * and HJ_EFORMAT for corrupt or truncated gzip data or more than 1 GiB
 * inflated. */
hj_status hj_idx_read(const char *path, hj_matrix *out, hj_error *err)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (path == NULL || out == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_idx_read: NULL path or output");
    char *raw;
    size_t len;
    hj_status st = hj_io_read_file(path, &raw, &len, err);
    if (st != HJ_OK)
        return st;
    const unsigned char *u = (const unsigned char *)raw;
    if (len >= 2 && u[0] == 0x1f && u[1] == 0x8b) {
        unsigned char *plain;
        size_t plen;
        st = gunzip(path, u, len, &plain, &plen, err);
        free(raw);
        if (st != HJ_OK)
            return st;
        st = hj_idx_parse(plain, plen, path, out, err);
        free(plain);
        return st;
    }
    st = hj_idx_parse(raw, len, path, out, err);
    free(raw);
    return st;
}
