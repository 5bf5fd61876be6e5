/* npz.c — NumPy .npz archives: a zip of .npy members, read (stored or deflated) and written (stored).
 *
 * Read from the central directory at the end (the local headers only give
 * where each member's data start): per member its name, method (0 stored,
 * 8 deflate, inflated with zlib), CRC-32 and sizes, with the zip64 extra
 * field for sizes and offsets written as 0xFFFFFFFF (numpy's savez forces
 * zip64 local headers). Encrypted members, multi-disk archives and zip64
 * end records are refused. Every offset and size is checked against the
 * buffer before use; a member's CRC-32 is checked after it is unpacked.
 */
#include "io/io-impl.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hjdl/limits.h"

#define NPZ_MAX_MEMBERS 4096
#define NPZ_NAME_MAX 256

static uint32_t rd16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const unsigned char *p) { return rd16(p) | rd16(p + 2) << 16; }
static uint64_t rd64(const unsigned char *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

typedef struct npz_member {
    char name[NPZ_NAME_MAX]; /* without ".npy" */
    hj_matrix m;             /* (shape[0], shape[1] * shape[2]) */
    size_t ndim, shape[3];
} npz_member;

typedef struct npz_archive {
    npz_member *mem;
    size_t n;
} npz_archive;

static void archive_free(npz_archive *a)
{
    for (size_t k = 0; k < a->n; k++)
        hj_matrix_free(&a->mem[k].m);
    free(a->mem);
    memset(a, 0, sizeof *a);
}

/* Sizes and offset from a zip64 extra field, for those fields at 0xFFFFFFFF. */
static int zip64_extra(const unsigned char *x, size_t xl, uint64_t *usize, uint64_t *csize,
                       uint64_t *off)
{
    for (size_t i = 0; i + 4 <= xl;) {
        uint32_t id = rd16(x + i), sz = rd16(x + i + 2);
        if (i + 4 + sz > xl)
            return 0;
        if (id == 1) {
            const unsigned char *p = x + i + 4, *e = p + sz;
            uint64_t *f[3] = {usize, csize, off};
            for (int k = 0; k < 3; k++)
                if (*f[k] == 0xFFFFFFFFu) {
                    if (p + 8 > e)
                        return 0;
                    *f[k] = rd64(p);
                    p += 8;
                }
            return 1;
        }
        i += 4 + sz;
    }
    return *usize != 0xFFFFFFFFu && *csize != 0xFFFFFFFFu && *off != 0xFFFFFFFFu;
}

/* Unpack one member's data (method 0 or 8) into a fresh buffer of usize bytes. */
static hj_status unpack(const unsigned char *src, uint64_t csize, uint64_t usize, uint32_t method,
                        uint32_t crc, const char *name, const char *mname, unsigned char **out,
                        hj_error *err)
{
    char what[512];
    snprintf(what, sizeof what, "%s: member %s", name, mname);
    /* sizes the data cannot have are refused before anything is allocated:
     * deflate expands at most 1032:1 */
    if ((method == 0 && csize != usize) || (method == 8 && usize / 1032 > csize + 1))
        return hj_error_set(err, HJ_EFORMAT, "%s: %llu bytes cannot unpack to the %llu claimed",
                            what, (unsigned long long)csize, (unsigned long long)usize);
    hj_status st = hj_memory_check((double)usize, what, err);
    if (st != HJ_OK)
        return st;
    if (usize > SIZE_MAX - 1 || csize > SIZE_MAX)
        return hj_error_set(err, HJ_ENOMEM, "%s: too large", what);
    unsigned char *buf = malloc((size_t)usize ? (size_t)usize : 1);
    if (buf == NULL)
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", what);
    if (method == 0) {
        memcpy(buf, src, (size_t)usize);
    } else {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, -MAX_WBITS) != Z_OK) {
            free(buf);
            return hj_error_set(err, HJ_ENOMEM, "%s: zlib: cannot start inflate", what);
        }
        /* chunks of at most 1 GiB: the zlib counters are 32-bit */
        size_t in_left = (size_t)csize, out_left = (size_t)usize;
        z.next_in = (unsigned char *)(uintptr_t)src;
        z.next_out = buf;
        int zr = Z_OK;
        while (zr == Z_OK) {
            uInt ci = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
            uInt co = out_left > (1u << 30) ? (1u << 30) : (uInt)out_left;
            z.avail_in = ci;
            z.avail_out = co;
            zr = inflate(&z, Z_FINISH);
            in_left -= ci - z.avail_in;
            out_left -= co - z.avail_out;
            if (zr == Z_BUF_ERROR && (in_left > 0 && out_left > 0))
                zr = Z_OK; /* more chunks */
            if (zr == Z_OK && ci == z.avail_in && co == z.avail_out)
                break; /* no progress */
        }
        inflateEnd(&z);
        if (zr != Z_STREAM_END || out_left != 0) {
            free(buf);
            return hj_error_set(err, HJ_EFORMAT, "%s: corrupt deflate data", what);
        }
    }
    uLong c = crc32(0L, Z_NULL, 0);
    for (size_t k = 0; k < (size_t)usize; k += (1u << 30)) {
        size_t n = (size_t)usize - k < (1u << 30) ? (size_t)usize - k : (1u << 30);
        c = crc32(c, buf + k, (uInt)n);
    }
    if ((uint32_t)c != crc) {
        free(buf);
        return hj_error_set(err, HJ_EFORMAT, "%s: CRC-32 mismatch (corrupt archive)", what);
    }
    *out = buf;
    return HJ_OK;
}

/* Every member of the archive, parsed as .npy of at most max_ndim dimensions. */
static hj_status read_archive(const unsigned char *b, size_t len, const char *name, size_t max_ndim,
                              npz_archive *a, hj_error *err)
{
    if (len < 22)
        return hj_error_set(err, HJ_EFORMAT, "%s: not a .npz file (too short for a zip archive)",
                            name);
    size_t eo = SIZE_MAX;
    size_t lo = len > 22 + 65535 ? len - 22 - 65535 : 0;
    for (size_t i = len - 22 + 1; i-- > lo;)
        if (memcmp(b + i, "PK\x05\x06", 4) == 0 && i + 22 + rd16(b + i + 20) == len) {
            eo = i;
            break;
        }
    if (eo == SIZE_MAX)
        return hj_error_set(err, HJ_EFORMAT,
                            "%s: not a .npz file (no zip end record; truncated archive?)", name);
    const unsigned char *e = b + eo;
    uint32_t ndisk = rd16(e + 4), cdisk = rd16(e + 6), nent = rd16(e + 10);
    uint32_t cdsize = rd32(e + 12), cdoff = rd32(e + 16);
    if (nent == 0xFFFF || cdsize == 0xFFFFFFFFu || cdoff == 0xFFFFFFFFu)
        return hj_error_set(err, HJ_EFORMAT, "%s: zip64 archives are not supported", name);
    if (ndisk != 0 || cdisk != 0 || rd16(e + 8) != nent)
        return hj_error_set(err, HJ_EFORMAT, "%s: multi-part zip archives are not supported", name);
    if ((uint64_t)cdoff + cdsize > eo)
        return hj_error_set(err, HJ_EFORMAT, "%s: zip central directory out of bounds", name);
    if (nent == 0)
        return hj_error_set(err, HJ_EFORMAT, "%s: empty archive (no arrays)", name);
    if (nent > NPZ_MAX_MEMBERS)
        return hj_error_set(err, HJ_EFORMAT, "%s: %u members (at most %d)", name, nent,
                            NPZ_MAX_MEMBERS);
    if ((a->mem = calloc(nent, sizeof *a->mem)) == NULL)
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", name);
    size_t p = cdoff, end = (size_t)cdoff + cdsize;
    for (uint32_t k = 0; k < nent; k++) {
        if (p + 46 > end || memcmp(b + p, "PK\x01\x02", 4) != 0)
            return hj_error_set(err, HJ_EFORMAT, "%s: bad zip central directory entry %u", name,
                                k + 1);
        const unsigned char *c = b + p;
        uint32_t flags = rd16(c + 8), method = rd16(c + 10), crc = rd32(c + 16);
        uint64_t csize = rd32(c + 20), usize = rd32(c + 24), off = rd32(c + 42);
        size_t nl = rd16(c + 28), xl = rd16(c + 30), cl = rd16(c + 32);
        if (p + 46 + nl + xl + cl > end)
            return hj_error_set(err, HJ_EFORMAT, "%s: bad zip central directory entry %u", name,
                                k + 1);
        char mname[NPZ_NAME_MAX];
        size_t ml = nl < sizeof mname - 1 ? nl : sizeof mname - 1;
        hj_io_excerpt(mname, sizeof mname, (const char *)c + 46, ml);
        if (!zip64_extra(c + 46 + nl, xl, &usize, &csize, &off))
            return hj_error_set(err, HJ_EFORMAT, "%s: member %s: bad zip64 field", name, mname);
        if (flags & 1u)
            return hj_error_set(err, HJ_EFORMAT, "%s: member %s is encrypted", name, mname);
        if (method != 0 && method != 8)
            return hj_error_set(err, HJ_EFORMAT,
                                "%s: member %s: compression method %u (only stored and deflate)",
                                name, mname, method);
        if (len < 30 || off > len - 30 || memcmp(b + off, "PK\x03\x04", 4) != 0)
            return hj_error_set(err, HJ_EFORMAT, "%s: member %s: bad local header", name, mname);
        uint64_t data = off + 30 + rd16(b + off + 26) + rd16(b + off + 28);
        if (data > len || csize > len - data)
            return hj_error_set(err, HJ_EFORMAT, "%s: member %s: data out of bounds (truncated?)",
                                name, mname);
        if (nl < 4 || memcmp(c + 46 + nl - 4, ".npy", 4) != 0)
            return hj_error_set(err, HJ_EFORMAT, "%s: member %s is not a .npy array", name, mname);
        npz_member *mb = &a->mem[a->n];
        memcpy(mb->name, mname, ml >= 4 ? ml - 4 : 0);
        mb->name[ml >= 4 ? ml - 4 : 0] = '\0';
        for (size_t j = 0; j < a->n; j++)
            if (strcmp(a->mem[j].name, mb->name) == 0)
                return hj_error_set(err, HJ_EFORMAT, "%s: two members are named %s", name, mname);
        unsigned char *raw = NULL;
        hj_status st = unpack(b + data, csize, usize, method, crc, name, mname, &raw, err);
        if (st != HJ_OK)
            return st;
        char full[NPZ_NAME_MAX + 1100];
        snprintf(full, sizeof full, "%s[%s]", name, mb->name);
        st = hj_npy_parse_nd(raw, (size_t)usize, full, max_ndim, &mb->m, mb->shape, &mb->ndim, err);
        free(raw);
        if (st != HJ_OK)
            return st;
        a->n++;
        p += 46 + nl + xl + cl;
    }
    return HJ_OK;
}

static const npz_member *find(const npz_archive *a, const char *nm)
{
    for (size_t k = 0; k < a->n; k++)
        if (strcmp(a->mem[k].name, nm) == 0)
            return &a->mem[k];
    return NULL;
}

/* The members (at most ~400 bytes) for a message. */
static void member_list(const npz_archive *a, char *buf, size_t len)
{
    size_t k = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < a->n && k + 100 < len && k < 400; j++) {
        const npz_member *m = &a->mem[j];
        if (m->ndim == 3)
            k += (size_t)snprintf(buf + k, len - k, "%s%s (%zu x %zu x %zu)", j ? ", " : "", m->name,
                                  m->shape[0], m->shape[1], m->shape[2]);
        else
            k += (size_t)snprintf(buf + k, len - k, "%s%s (%zu x %zu)", j ? ", " : "", m->name,
                                  m->m.rows, m->m.cols);
    }
}

hj_status hj_npz_parse(const void *buf, size_t len, const char *name, hj_matrix *out,
                       hj_error *err)
{
    if (out == NULL || (buf == NULL && len > 0))
        return hj_error_set(err, HJ_EINVAL, "hj_npz_parse: NULL buffer or output");
    memset(out, 0, sizeof *out);
    if (name == NULL)
        name = "<npz>";
    npz_archive a = {0};
    hj_status st = read_archive(buf, len, name, 2, &a, err);
    if (st != HJ_OK) {
        archive_free(&a);
        return st;
    }
    const npz_member *X = find(&a, "X"), *y = find(&a, "y");
    char list[512];
    member_list(&a, list, sizeof list);
    if (X != NULL) {
        if (y != NULL && (y->m.cols != 1 || y->m.rows != X->m.rows)) {
            archive_free(&a);
            return hj_error_set(err, HJ_EFORMAT,
                                "%s: y must be one column with a value per row of X; the "
                                "arrays are %s",
                                name, list);
        }
        const size_t n = X->m.rows, d = X->m.cols, c = d + (y != NULL);
        st = hj_matrix_alloc(out, n, c, err);
        for (size_t i = 0; st == HJ_OK && i < n; i++) {
            memcpy(out->data + i * c, X->m.data + i * d, d * sizeof(double));
            if (y != NULL)
                out->data[i * c + d] = y->m.data[i];
        }
    } else if (a.n == 1) {
        *out = a.mem[0].m;
        memset(&a.mem[0].m, 0, sizeof a.mem[0].m);
    } else {
        const size_t n = a.mem[0].m.rows;
        for (size_t k = 0; k < a.n; k++)
            if (a.mem[k].m.cols != 1 || a.mem[k].m.rows != n) {
                archive_free(&a);
                return hj_error_set(err, HJ_EFORMAT,
                                    "%s: expected arrays X [and y], one array, or columns of one "
                                    "length; the arrays are %s",
                                    name, list);
            }
        st = hj_matrix_alloc(out, n, a.n, err);
        if (st == HJ_OK && (out->names = calloc(a.n, sizeof *out->names)) == NULL)
            st = hj_error_set(err, HJ_ENOMEM, "%s: out of memory", name);
        for (size_t k = 0; st == HJ_OK && k < a.n; k++) {
            for (size_t i = 0; i < n; i++)
                out->data[i * a.n + k] = a.mem[k].m.data[i];
            if ((out->names[k] = malloc(strlen(a.mem[k].name) + 1)) == NULL)
                st = hj_error_set(err, HJ_ENOMEM, "%s: out of memory", name);
            else
                strcpy(out->names[k], a.mem[k].name);
        }
        for (size_t k = 0; st == HJ_OK && k < a.n; k++)
            if (out->names[k][0] == '\0')
                st = hj_error_set(err, HJ_EFORMAT, "%s: an array has an empty name", name);
    }
    archive_free(&a);
    if (st != HJ_OK)
        hj_matrix_free(out);
    return st;
}

hj_status hj_io_npz_probe(const void *buf, size_t len, const char *name, size_t shape[3], size_t *ndim,
                          hj_error *err)
{
    npz_archive a = {0};
    hj_status st = read_archive(buf, len, name, 3, &a, err);
    if (st == HJ_OK) {
        const npz_member *X = find(&a, "X");
        if (X == NULL && a.n == 1)
            X = &a.mem[0];
        if (X != NULL) {
            memcpy(shape, X->shape, 3 * sizeof *shape);
            *ndim = X->ndim;
        } else { /* columns: a table */
            shape[0] = a.mem[0].m.rows, shape[1] = a.n, shape[2] = 1;
            *ndim = 2;
        }
    }
    archive_free(&a);
    return st;
}

hj_status hj_io_npz_sequences(const void *buf, size_t len, const char *name, hj_sequences *s,
                              hj_error *err)
{
    memset(s, 0, sizeof *s);
    npz_archive a = {0};
    hj_status st = read_archive(buf, len, name, 3, &a, err);
    if (st != HJ_OK) {
        archive_free(&a);
        return st;
    }
    npz_member *X = NULL, *y = NULL;
    for (size_t k = 0; k < a.n; k++) {
        if (strcmp(a.mem[k].name, "X") == 0)
            X = &a.mem[k];
        else if (strcmp(a.mem[k].name, "y") == 0)
            y = &a.mem[k];
    }
    char list[512];
    member_list(&a, list, sizeof list);
    if (X == NULL)
        st = hj_error_set(err, HJ_EFORMAT,
                          "%s: sequences need an array X of shape (n, T, d) (and optionally y); the "
                          "arrays are %s",
                          name, list);
    else if (X->ndim != 3)
        st = hj_error_set(err, HJ_EFORMAT,
                          "%s: X is a %zu-D array of shape %zu x %zu, but sequences need a 3-D array "
                          "(n, T, d)",
                          name, X->ndim, X->m.rows, X->m.cols);
    else if (y != NULL && (y->ndim > 2 || y->m.cols != 1 || y->m.rows != X->m.rows))
        st = hj_error_set(err, HJ_EFORMAT,
                          "%s: y must hold one value per sequence of X (shape (%zu,) or (%zu, 1)); the "
                          "arrays are %s",
                          name, X->m.rows, X->m.rows, list);
    if (st == HJ_OK) {
        s->x = X->m, s->steps = X->shape[1], s->features = X->shape[2];
        memset(&X->m, 0, sizeof X->m);
        if (y != NULL) {
            s->y = y->m;
            memset(&y->m, 0, sizeof y->m);
        }
    }
    archive_free(&a);
    return st;
}

/* ---- writer ------------------------------------------------------------- */

static void wr16(unsigned char *p, uint32_t v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }
static void wr32(unsigned char *p, uint32_t v) { wr16(p, v & 0xffff), wr16(p + 2, v >> 16); }

typedef struct npz_out {
    char name[NPZ_NAME_MAX + 4]; /* with ".npy" */
    const double *src;           /* first element; stride between elements */
    size_t n, stride, cols;      /* 2-D: cols > 0 and stride 1 */
    uint32_t crc, size, offset;
} npz_out;

/* The .npy bytes of member o: fn(bytes, len, arg) per chunk; crc and size filled. */
static void emit(npz_out *o, FILE *f)
{
    unsigned char head[HJ_IO_NPY_HEAD_MAX], chunk[8 * 512];
    size_t hl = o->cols ? hj_io_npy_head(head, o->n / o->cols, o->cols, 0)
                        : hj_io_npy_head(head, o->n, 1, 1);
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, head, (uInt)hl);
    if (f)
        fwrite(head, 1, hl, f);
    for (size_t k = 0; k < o->n; k += 512) {
        size_t m = o->n - k < 512 ? o->n - k : 512;
        hj_io_npy_le(o->src + k * o->stride, m, o->stride, chunk);
        c = crc32(c, chunk, (uInt)(8 * m));
        if (f)
            fwrite(chunk, 1, 8 * m, f);
    }
    o->crc = (uint32_t)c;
    o->size = (uint32_t)(hl + 8 * o->n);
}

static void put_header(FILE *f, const npz_out *o, int central)
{
    unsigned char h[46];
    size_t nl = strlen(o->name);
    memset(h, 0, sizeof h);
    memcpy(h, central ? "PK\x01\x02" : "PK\x03\x04", 4);
    unsigned char *p = central ? h + 6 : h + 4; /* "version needed" onwards */
    if (central)
        wr16(h + 4, 20);
    wr16(p, 20);
    wr16(p + 6, 0);      /* time */
    wr16(p + 8, 0x21);   /* date: 1980-01-01 */
    wr32(p + 10, o->crc);
    wr32(p + 14, o->size);
    wr32(p + 18, o->size);
    wr16(p + 22, (uint32_t)nl);
    if (central)
        wr32(h + 42, o->offset);
    fwrite(h, 1, central ? 46 : 30, f);
    fwrite(o->name, 1, nl, f);
}

hj_status hj_npz_write_stream(FILE *f, const hj_matrix *m, const char *const *names,
                              hj_error *err)
{
    if (f == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_npz_write: NULL stream");
    hj_status st = hj_io_check_writable(m, "hj_npz_write", err);
    if (st != HJ_OK)
        return st;
    if (names == NULL)
        names = (const char *const *)m->names;
    const size_t k = names ? m->cols : 1;
    if ((double)m->rows * (double)m->cols * 8.0 + 128.0 * (double)k > 4.0e9 || k > 0xFFFF)
        return hj_error_set(err, HJ_EINVAL, "hj_npz_write: %zu x %zu is too large for a zip without zip64",
                            m->rows, m->cols);
    npz_out *o = calloc(k, sizeof *o);
    if (o == NULL)
        return hj_error_set(err, HJ_ENOMEM, "hj_npz_write: out of memory");
    for (size_t j = 0; j < k; j++) {
        const char *nm = names ? names[j] : "X";
        if (nm == NULL || nm[0] == '\0' || strlen(nm) >= NPZ_NAME_MAX || strchr(nm, '/')) {
            free(o);
            return hj_error_set(err, HJ_EINVAL,
                                "hj_npz_write: column %zu: a name of 1 to %d bytes without '/' is "
                                "needed for an array",
                                j + 1, NPZ_NAME_MAX - 1);
        }
        for (size_t i = 0; i < j; i++)
            if (strcmp(names[i], nm) == 0) {
                free(o);
                return hj_error_set(err, HJ_EINVAL, "hj_npz_write: columns %zu and %zu are both named '%s'",
                                    i + 1, j + 1, nm);
            }
        snprintf(o[j].name, sizeof o[j].name, "%s.npy", nm);
        o[j].src = names ? m->data + j : m->data;
        o[j].n = names ? m->rows : m->rows * m->cols;
        o[j].stride = names ? m->cols : 1;
        o[j].cols = names ? 0 : m->cols;
    }
    uint32_t at = 0;
    for (size_t j = 0; j < k; j++) {
        emit(&o[j], NULL); /* CRC and size first: the local header precedes the data */
        o[j].offset = at;
        put_header(f, &o[j], 0);
        emit(&o[j], f);
        at += 30 + (uint32_t)strlen(o[j].name) + o[j].size;
    }
    uint32_t cd = at;
    for (size_t j = 0; j < k; j++) {
        put_header(f, &o[j], 1);
        at += 46 + (uint32_t)strlen(o[j].name);
    }
    unsigned char e[22];
    memset(e, 0, sizeof e);
    memcpy(e, "PK\x05\x06", 4);
    wr16(e + 8, (uint32_t)k);
    wr16(e + 10, (uint32_t)k);
    wr32(e + 12, at - cd);
    wr32(e + 16, cd);
    fwrite(e, 1, sizeof e, f);
    free(o);
    if (fflush(f) != 0 || ferror(f))
        return hj_error_set(err, HJ_EIO, "write error: %s", strerror(errno));
    return HJ_OK;
}
