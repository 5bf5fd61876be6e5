/* test_dataset.c — IDX parsing and reading (raw, gzip), the Fashion-MNIST loader, and preprocessing.
 *
 * Independence: IDX images are encoded byte by byte here from values the test
 * chose; gzip files are written here with zlib's gzopen; the real data set is
 * cross-checked against bytes the test inflates itself and against documented
 * facts (60000/10000 images, 6000/1000 per class); standardisation and PCA
 * are checked against moments, covariances and power iterations computed
 * here in long double, never against the library's own numbers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "hjdl/data.h"
#include "hjdl/dataset.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double unif(uint64_t *s) { return (double)(splitmix64(s) >> 11) * 0x1.0p-53; }

static double normal(uint64_t *s)
{
    double u = unif(s), v = unif(s);
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Big-endian byte writers. */
static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static size_t type_size(unsigned type)
{
    switch (type) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    }
    return 0;
}

/* Encode v (exactly representable in the type) as one big-endian item. */
static void put_item(unsigned char *p, unsigned type, double v)
{
    switch (type) {
    case 0x08: p[0] = (unsigned char)(unsigned)v; break;
    case 0x09: { int8_t s = (int8_t)v; memcpy(p, &s, 1); break; }
    case 0x0B: { int16_t s = (int16_t)v; uint16_t u; memcpy(&u, &s, 2); put16(p, u); break; }
    case 0x0C: { int32_t s = (int32_t)v; uint32_t u; memcpy(&u, &s, 4); put32(p, u); break; }
    case 0x0D: { float f = (float)v; uint32_t u; memcpy(&u, &f, 4); put32(p, u); break; }
    case 0x0E: { uint64_t u; memcpy(&u, &v, 8); put64(p, u); break; }
    }
}

/* An IDX image in a malloc'd buffer of exactly the right size (so ASan sees
 * any read past its end): header for (type, dims[0..ndim)), then count items
 * from vals (vals may be NULL: zero bytes). *len gets the size. */
static unsigned char *make_idx(unsigned type, unsigned ndim, const uint32_t *dims,
                               const double *vals, size_t count, size_t *len)
{
    size_t isz = type_size(type);
    size_t n = 4 + 4 * (size_t)ndim + count * isz;
    unsigned char *b = calloc(n ? n : 1, 1);
    assert_non_null(b);
    b[2] = (unsigned char)type;
    b[3] = (unsigned char)ndim;
    for (unsigned i = 0; i < ndim; i++)
        put32(b + 4 + 4 * i, dims[i]);
    if (vals != NULL)
        for (size_t k = 0; k < count; k++)
            put_item(b + 4 + 4 * ndim + k * isz, type, vals[k]);
    *len = n;
    return b;
}

/* Parse buf and expect failure `code` with a message containing each of the
 * given fragments (NULL-terminated), the output zeroed. */
static void expect_reject(const void *buf, size_t len, const char *name, hj_status code, ...)
{
    hj_matrix m;
    memset(&m, 0xab, sizeof m);
    hj_error e = {0};
    hj_status st = hj_idx_parse(buf, len, name, &m, &e);
    if (st != code)
        print_error("expected status %d, got %d (%s)\n", (int)code, (int)st, e.msg);
    assert_int_equal(st, code);
    assert_int_equal(e.code, code);
    assert_null(m.data);
    assert_int_equal(m.rows, 0);
    assert_int_equal(m.cols, 0);
    va_list ap;
    va_start(ap, code);
    for (const char *frag = va_arg(ap, const char *); frag != NULL; frag = va_arg(ap, const char *))
        if (strstr(e.msg, frag) == NULL) {
            print_error("message \"%s\" lacks \"%s\"\n", e.msg, frag);
            fail();
        }
    va_end(ap);
}

/* A fresh scratch directory (caller frees the string). */
static char *make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    char *d = malloc(strlen(base) + 32);
    assert_non_null(d);
    sprintf(d, "%s/hjdl-ds-XXXXXX", base);
    assert_non_null(mkdtemp(d));
    return d;
}

static char *join(const char *dir, const char *file)
{
    char *p = malloc(strlen(dir) + strlen(file) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", dir, file);
    return p;
}

/* Write buf as a single-member gzip file with zlib's gzFile API. */
static void write_gz(const char *path, const void *buf, size_t len, const char *mode)
{
    gzFile g = gzopen(path, mode);
    assert_non_null(g);
    if (len > 0)
        assert_int_equal(gzwrite(g, buf, (unsigned)len), (int)len);
    assert_int_equal(gzclose(g), Z_OK);
}

static void write_raw(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    unsigned char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* The first `want` inflated bytes of a gzip file, read with gzread. */
static unsigned char *gz_head(const char *path, size_t want)
{
    gzFile g = gzopen(path, "rb");
    assert_non_null(g);
    unsigned char *b = malloc(want);
    assert_non_null(b);
    size_t got = 0;
    while (got < want) {
        int r = gzread(g, b + got, (unsigned)(want - got > (1u << 30) ? (1u << 30) : want - got));
        assert_true(r > 0);
        got += (size_t)r;
    }
    gzclose(g);
    return b;
}

static void assert_bits_equal(double a, double b)
{
    if (memcmp(&a, &b, sizeof a) != 0) {
        print_error("%.17g != %.17g (bitwise)\n", a, b);
        fail();
    }
}

/* ---- IDX parsing -------------------------------------------------------- */

static void idx_parse_should_decode_every_type_big_endian(void **state)
{
    (void)state;
    static const double v_u8[] = {0, 1, 127, 128, 255};
    static const double v_i8[] = {-128, -1, 0, 1, 127};
    static const double v_i16[] = {-32768, -2, 0, 258, 32767};
    static const double v_i32[] = {-2147483648.0, -65536, 0, 16909060, 2147483647.0};
    const double v_f32[] = {-0.5, 0.0, 1.25, (double)FLT_MAX, (double)FLT_TRUE_MIN};
    const double v_f64[] = {-DBL_MAX, 0.1, 3.141592653589793, DBL_TRUE_MIN, -0.0};
    const struct {
        unsigned type;
        const double *v;
    } cases[] = {{0x08, v_u8}, {0x09, v_i8}, {0x0B, v_i16}, {0x0C, v_i32}, {0x0D, v_f32},
                 {0x0E, v_f64}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint32_t dims[1] = {5};
        size_t len;
        unsigned char *b = make_idx(cases[c].type, 1, dims, cases[c].v, 5, &len);
        hj_matrix m;
        hj_error e = {0};
        assert_int_equal(hj_idx_parse(b, len, "t.idx", &m, &e), HJ_OK);
        assert_int_equal(m.rows, 5);
        assert_int_equal(m.cols, 1);
        assert_null(m.names);
        for (size_t k = 0; k < 5; k++)
            assert_bits_equal(m.data[k], cases[c].v[k]);
        hj_matrix_free(&m);
        free(b);
    }
    /* One byte order check by hand: i16 0x0102 = 258, i32 0x01020304 = 16909060. */
    unsigned char h[] = {0, 0, 0x0B, 1, 0, 0, 0, 1, 0x01, 0x02};
    hj_matrix m;
    assert_int_equal(hj_idx_parse(h, sizeof h, "h", &m, NULL), HJ_OK);
    assert_true(m.data[0] == 258.0);
    hj_matrix_free(&m);
    unsigned char h2[] = {0, 0, 0x0C, 1, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFE};
    assert_int_equal(hj_idx_parse(h2, sizeof h2, "h2", &m, NULL), HJ_OK);
    assert_true(m.data[0] == -2.0);
    hj_matrix_free(&m);
}

static void idx_parse_should_flatten_trailing_dimensions_in_c_order(void **state)
{
    (void)state;
    /* ndim 3: (2, 3, 4) int16, value 100 i + 10 j + k - 150. */
    uint32_t d3[3] = {2, 3, 4};
    double v3[24];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                v3[(i * 3 + j) * 4 + k] = 100 * i + 10 * j + k - 150;
    size_t len;
    unsigned char *b = make_idx(0x0B, 3, d3, v3, 24, &len);
    assert_int_equal(len, 4 + 12 + 48);
    hj_matrix m;
    hj_error e = {0};
    assert_int_equal(hj_idx_parse(b, len, "img.idx", &m, &e), HJ_OK);
    assert_int_equal(m.rows, 2);
    assert_int_equal(m.cols, 12);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                assert_true(m.data[i * 12 + j * 4 + k] == 100 * i + 10 * j + k - 150);
    hj_matrix_free(&m);
    free(b);

    /* ndim 4: (3, 1, 2, 2) uint8; ndim 2: (2, 5) float64. */
    uint32_t d4[4] = {3, 1, 2, 2};
    double v4[12];
    for (int t = 0; t < 12; t++)
        v4[t] = 20 * t + 7;
    b = make_idx(0x08, 4, d4, v4, 12, &len);
    assert_int_equal(hj_idx_parse(b, len, "four.idx", &m, &e), HJ_OK);
    assert_int_equal(m.rows, 3);
    assert_int_equal(m.cols, 4);
    for (int t = 0; t < 12; t++)
        assert_true(m.data[t] == v4[t]);
    hj_matrix_free(&m);
    free(b);

    uint32_t d2[2] = {2, 5};
    double v2[10];
    uint64_t s = 7;
    for (int t = 0; t < 10; t++)
        v2[t] = normal(&s) * 1e5;
    b = make_idx(0x0E, 2, d2, v2, 10, &len);
    assert_int_equal(hj_idx_parse(b, len, "two.idx", &m, &e), HJ_OK);
    assert_int_equal(m.rows, 2);
    assert_int_equal(m.cols, 5);
    for (int t = 0; t < 10; t++)
        assert_bits_equal(m.data[t], v2[t]);
    hj_matrix_free(&m);
    free(b);
}

static void idx_parse_should_reject_malformed_buffers_with_messages(void **state)
{
    (void)state;
    size_t len;
    unsigned char *b;

    /* Header shorter than 4 bytes, and an empty buffer. */
    unsigned char tiny[3] = {0, 0, 8};
    expect_reject(tiny, 3, "tiny.idx", HJ_EFORMAT, "tiny.idx: truncated", NULL);
    expect_reject(tiny, 0, "empty.idx", HJ_EFORMAT, "empty.idx: truncated", NULL);

    /* Truncated labels: the brief's message format, exactly. */
    uint32_t d1[1] = {5};
    double lab[5] = {1, 2, 3, 4, 5};
    b = make_idx(0x08, 1, d1, lab, 5, &len);
    hj_matrix m;
    hj_error e = {0};
    assert_int_equal(hj_idx_parse(b, len - 1, "lab.idx", &m, &e), HJ_EFORMAT);
    assert_string_equal(e.msg, "lab.idx: truncated: header says 5 items, file has 4");
    assert_null(m.data);
    /* ... and one byte too many. */
    unsigned char *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, b, len);
    longer[len] = 9;
    expect_reject(longer, len + 1, "lab.idx", HJ_EFORMAT, "lab.idx: trailing data: 1 bytes", NULL);
    free(longer);
    free(b);

    /* Truncated images (3, 2, 2) uint8 missing one byte; i32 labels cut mid-item. */
    uint32_t d3[3] = {3, 2, 2};
    b = make_idx(0x08, 3, d3, NULL, 12, &len);
    expect_reject(b, len - 1, "img.idx", HJ_EFORMAT, "img.idx: truncated", "header says 3 items",
                  "file has 2", NULL);
    /* header cut inside the dimensions */
    expect_reject(b, 4 + 4 + 2, "img.idx", HJ_EFORMAT, "img.idx: truncated", NULL);
    free(b);
    b = make_idx(0x0C, 1, d1, lab, 5, &len);
    expect_reject(b, len - 2, "i32.idx", HJ_EFORMAT, "header says 5 items, file has 4", NULL);
    free(b);

    /* Bad magic, unknown type, ndim 0 and 5. */
    unsigned char bad[8] = {1, 0, 8, 1, 0, 0, 0, 0};
    expect_reject(bad, 8, "m1", HJ_EFORMAT, "m1: bad magic", NULL);
    bad[0] = 0;
    bad[1] = 0x08;
    expect_reject(bad, 8, "m2", HJ_EFORMAT, "m2: bad magic", NULL);
    unsigned char typ[9] = {0, 0, 0x0A, 1, 0, 0, 0, 1, 0};
    expect_reject(typ, 9, "ty", HJ_EFORMAT, "ty: unknown IDX data type 0x0a", NULL);
    unsigned char nd0[4] = {0, 0, 8, 0};
    expect_reject(nd0, 4, "nd0", HJ_EFORMAT, "nd0: 0 dimensions", NULL);
    uint32_t d5[5] = {1, 1, 1, 1, 1};
    b = make_idx(0x08, 5, d5, NULL, 1, &len);
    expect_reject(b, len, "nd5", HJ_EFORMAT, "nd5: 5 dimensions", NULL);
    free(b);

    /* A zero dimension. */
    uint32_t dz[3] = {2, 0, 3};
    b = make_idx(0x08, 3, dz, NULL, 0, &len);
    expect_reject(b, len, "zero", HJ_EFORMAT, "zero: dimension 2 of 2 x 0 x 3 is 0", NULL);
    free(b);

    /* Dimension products that overflow size_t (and so must not be allocated). */
    uint32_t big4[4] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu};
    b = make_idx(0x0E, 4, big4, NULL, 0, &len);
    expect_reject(b, len, "ov4", HJ_EFORMAT, "ov4: dimensions", "overflow", NULL);
    free(b);
    uint32_t pow4[4] = {0x10000, 0x10000, 0x10000, 0x10000};
    b = make_idx(0x08, 4, pow4, NULL, 0, &len);
    expect_reject(b, len, "ovp", HJ_EFORMAT, "overflow", NULL);
    free(b);
    uint32_t big2[2] = {0xFFFFFFFFu, 0xFFFFFFFFu};
    b = make_idx(0x08, 2, big2, NULL, 0, &len);
    expect_reject(b, len, "ov2", HJ_EFORMAT, "overflow", NULL);
    free(b);
    /* 2^32 items would fit but are absent: truncated, not an allocation. */
    uint32_t huge[2] = {0x10000000u, 0x10};
    b = make_idx(0x08, 2, huge, NULL, 0, &len);
    expect_reject(b, len, "huge", HJ_EFORMAT, "huge: truncated", "header says 268435456 items",
                  NULL);
    free(b);

    /* NaN and infinities in float data. */
    uint32_t d2[1] = {2};
    unsigned char f32[4 + 4 + 8] = {0, 0, 0x0D, 1, 0, 0, 0, 2, 0x3f, 0x80, 0, 0, 0x7f, 0xc0, 0, 0};
    expect_reject(f32, sizeof f32, "f32", HJ_ENAN, "f32: item 2", "NaN", NULL);
    f32[12] = 0xff;
    f32[13] = 0x80; /* -inf */
    expect_reject(f32, sizeof f32, "f32", HJ_ENAN, "infinite", NULL);
    const double two[2] = {1.0, 0.0};
    b = make_idx(0x0E, 1, d2, two, 2, &len);
    put64(b + 8 + 8, 0x7ff0000000000000ull); /* +inf as item 2 */
    expect_reject(b, len, "f64", HJ_ENAN, "f64: item 2", "infinite", NULL);
    put64(b + 8 + 8, 0x7ff8000000000001ull);
    expect_reject(b, len, "f64", HJ_ENAN, "NaN", NULL);
    free(b);

    /* NULL arguments. */
    assert_int_equal(hj_idx_parse(NULL, 4, "x", &m, NULL), HJ_EINVAL);
    assert_int_equal(hj_idx_parse(tiny, 3, "x", NULL, NULL), HJ_EINVAL);
}

/* ---- IDX files ---------------------------------------------------------- */

static void idx_read_should_round_trip_gzip_and_raw_files(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    uint64_t s = 99;
    uint32_t dims[3] = {40, 3, 7};
    double vals[840];
    for (int t = 0; t < 840; t++)
        vals[t] = normal(&s) * exp(10.0 * normal(&s));
    size_t len;
    unsigned char *b = make_idx(0x0E, 3, dims, vals, 840, &len);

    char *gz = join(dir, "a-idx3.gz"), *raw = join(dir, "a-idx3"), *two = join(dir, "two.gz");
    write_gz(gz, b, len, "wb9");
    write_raw(raw, b, len);
    /* Two gzip members, as `cat x.gz y.gz` makes. */
    write_gz(two, b, 100, "wb");
    write_gz(two, b + 100, len - 100, "ab");

    const char *paths[3] = {gz, raw, two};
    for (int p = 0; p < 3; p++) {
        hj_matrix m;
        hj_error e = {0};
        hj_status st = hj_idx_read(paths[p], &m, &e);
        if (st != HJ_OK)
            print_error("%s\n", e.msg);
        assert_int_equal(st, HJ_OK);
        assert_int_equal(m.rows, 40);
        assert_int_equal(m.cols, 21);
        for (int t = 0; t < 840; t++)
            assert_bits_equal(m.data[t], vals[t]);
        hj_matrix_free(&m);
    }

    /* Truncated gzip, corrupted gzip, garbage after the gzip data. */
    size_t glen;
    unsigned char *g = slurp(gz, &glen);
    char *bad = join(dir, "bad.gz");
    hj_matrix m;
    hj_error e = {0};
    write_raw(bad, g, glen - 12);
    assert_int_equal(hj_idx_read(bad, &m, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, bad));
    assert_non_null(strstr(e.msg, "truncated gzip"));
    assert_null(m.data);
    unsigned char *g2 = malloc(glen + 3);
    assert_non_null(g2);
    memcpy(g2, g, glen);
    for (size_t k = 20; k < glen - 8; k += 7)
        g2[k] ^= 0x5a;
    write_raw(bad, g2, glen);
    assert_int_equal(hj_idx_read(bad, &m, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, bad));
    memcpy(g2, g, glen);
    memcpy(g2 + glen, "xyz", 3);
    write_raw(bad, g2, glen + 3);
    assert_int_equal(hj_idx_read(bad, &m, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, "3 bytes of garbage"));
    free(g2);
    free(g);

    /* A well-formed gzip whose IDX content is truncated names the file. */
    write_gz(bad, b, len - 1, "wb");
    assert_int_equal(hj_idx_read(bad, &m, &e), HJ_EFORMAT);
    char want[600];
    snprintf(want, sizeof want, "%s: truncated: header says 40 items", bad);
    assert_non_null(strstr(e.msg, want));

    /* Missing file: HJ_EIO with strerror. */
    char *missing = join(dir, "nope.gz");
    assert_int_equal(hj_idx_read(missing, &m, &e), HJ_EIO);
    snprintf(want, sizeof want, "%s: No such file or directory", missing);
    assert_string_equal(e.msg, want);
    assert_int_equal(hj_idx_read(NULL, &m, &e), HJ_EINVAL);

    unlink(gz);
    unlink(raw);
    unlink(two);
    unlink(bad);
    rmdir(dir);
    free(gz);
    free(raw);
    free(two);
    free(bad);
    free(missing);
    free(dir);
    free(b);
}

/* More than 1 GiB inflated is refused: 17 gzip members of 64 MiB of zeros. */
static void idx_read_should_cap_the_inflated_size(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char *one = join(dir, "one.gz"), *bomb = join(dir, "bomb.gz");
    size_t zlen = (size_t)64 << 20;
    unsigned char *zeros = calloc(zlen, 1);
    assert_non_null(zeros);
    write_gz(one, zeros, zlen, "wb1");
    free(zeros);
    size_t mlen;
    unsigned char *member = slurp(one, &mlen);
    FILE *f = fopen(bomb, "wb");
    assert_non_null(f);
    for (int r = 0; r < 17; r++)
        assert_int_equal(fwrite(member, 1, mlen, f), mlen);
    fclose(f);
    free(member);
    hj_matrix m;
    hj_error e = {0};
    assert_int_equal(hj_idx_read(bomb, &m, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, bomb));
    assert_non_null(strstr(e.msg, "1024 MiB"));
    assert_null(m.data);
    unlink(one);
    unlink(bomb);
    rmdir(dir);
    free(one);
    free(bomb);
    free(dir);
}

/* ---- the loader on a fabricated directory ------------------------------ */

/* Write the four Fashion-MNIST files into dir: n_img images of h x 28
 * pixels with grey level (7 i + 3 j) mod 256 and n_lab labels (i mod 10, or
 * bad_label at the last). */
static void write_fake_set(const char *dir, uint32_t n_img, uint32_t h, uint32_t n_lab,
                           double bad_label)
{
    static const char *const img_names[2] = {"train-images-idx3-ubyte.gz",
                                             "t10k-images-idx3-ubyte.gz"};
    static const char *const lab_names[2] = {"train-labels-idx1-ubyte.gz",
                                             "t10k-labels-idx1-ubyte.gz"};
    for (int part = 0; part < 2; part++) {
        size_t npix = (size_t)n_img * h * 28;
        double *pix = malloc(npix * sizeof *pix);
        assert_non_null(pix);
        for (size_t i = 0; i < n_img; i++)
            for (size_t j = 0; j < (size_t)h * 28; j++)
                pix[i * h * 28 + j] = (double)((7 * i + 3 * j + (size_t)part) % 256);
        uint32_t dims[3] = {n_img, h, 28};
        size_t len;
        unsigned char *b = make_idx(0x08, 3, dims, pix, npix, &len);
        char *p = join(dir, img_names[part]);
        write_gz(p, b, len, "wb");
        free(p);
        free(b);
        free(pix);
        double lab[64];
        for (uint32_t i = 0; i < n_lab; i++)
            lab[i] = (double)(i % 10);
        if (bad_label >= 0)
            lab[n_lab - 1] = bad_label;
        uint32_t ld[1] = {n_lab};
        b = make_idx(0x08, 1, ld, lab, n_lab, &len);
        p = join(dir, lab_names[part]);
        write_gz(p, b, len, "wb");
        free(p);
        free(b);
    }
}

static void remove_fake_set(const char *dir)
{
    const char *names[4] = {"train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                            "train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    for (int i = 0; i < 4; i++) {
        char *p = join(dir, names[i]);
        unlink(p);
        free(p);
    }
}

static void dataset_load_should_scale_check_and_report(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    hj_dataset ds;
    hj_error e = {0};

    write_fake_set(dir, 12, 28, 12, -1);
    hj_status st = hj_dataset_load("fashion-mnist", dir, &ds, &e);
    if (st != HJ_OK)
        print_error("%s\n", e.msg);
    assert_int_equal(st, HJ_OK);
    assert_int_equal(ds.n_classes, 10);
    assert_int_equal(ds.x_train.rows, 12);
    assert_int_equal(ds.x_train.cols, 784);
    assert_int_equal(ds.y_test.rows, 12);
    assert_int_equal(ds.y_test.cols, 1);
    for (size_t i = 0; i < 12; i++) {
        for (size_t j = 0; j < 784; j++) {
            assert_true(ds.x_train.data[i * 784 + j] == (double)((7 * i + 3 * j) % 256) / 255.0);
            assert_true(ds.x_test.data[i * 784 + j] == (double)((7 * i + 3 * j + 1) % 256) / 255.0);
        }
        assert_true(ds.y_train.data[i] == (double)(i % 10));
        assert_true(ds.y_test.data[i] == (double)(i % 10));
    }
    hj_dataset_free(&ds);
    hj_dataset_free(&ds); /* zeroed: safe again */

    /* Label count differs from image count. */
    write_fake_set(dir, 12, 28, 11, -1);
    assert_int_equal(hj_dataset_load("fashion-mnist", dir, &ds, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, "train-labels-idx1-ubyte.gz: 11 labels for 12 images"));
    assert_null(ds.x_train.data);
    /* A label out of range. */
    write_fake_set(dir, 5, 28, 5, 10);
    assert_int_equal(hj_dataset_load("fashion-mnist", dir, &ds, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, "label 5 is 10"));
    /* Wrong image size. */
    write_fake_set(dir, 4, 27, 4, -1);
    assert_int_equal(hj_dataset_load("fashion-mnist", dir, &ds, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, "756 pixels, expected 784"));
    /* A missing file. */
    remove_fake_set(dir);
    assert_int_equal(hj_dataset_load("fashion-mnist", dir, &ds, &e), HJ_EIO);
    assert_non_null(strstr(e.msg, "train-images-idx3-ubyte.gz: No such file or directory"));
    rmdir(dir);

    /* A missing directory names the Debian package. */
    assert_int_equal(hj_dataset_load("fashion-mnist", dir, &ds, &e), HJ_EIO);
    assert_non_null(strstr(e.msg, dir));
    assert_non_null(strstr(e.msg, "install the Debian package dataset-fashion-mnist"));
    assert_non_null(strstr(e.msg, "(scripts/setup does)"));
    /* Unknown names list the known ones. */
    assert_int_equal(hj_dataset_load("mnist-digits", NULL, &ds, &e), HJ_EINVAL);
    assert_non_null(strstr(e.msg, "mnist-digits"));
    assert_non_null(strstr(e.msg, "known: fashion-mnist"));
    assert_int_equal(hj_dataset_load(NULL, NULL, &ds, &e), HJ_EINVAL);
    free(dir);
}

/* ---- preprocessing: references written here ------------------------------ */

/* Column means and population variances of A (n, d) in long double. */
static void ref_moments(const double *A, size_t n, size_t d, long double *mean, long double *var)
{
    for (size_t j = 0; j < d; j++) {
        long double s = 0;
        for (size_t i = 0; i < n; i++)
            s += A[i * d + j];
        mean[j] = s / (long double)n;
        long double q = 0;
        for (size_t i = 0; i < n; i++) {
            long double c = A[i * d + j] - mean[j];
            q += c * c;
        }
        var[j] = q / (long double)n;
    }
}

/* Covariance (1/n) of A (n, d) into C (d, d), long double, two-pass. */
static void ref_cov(const double *A, size_t n, size_t d, long double *C)
{
    long double *mean = malloc(d * sizeof *mean), *var = malloc(d * sizeof *var);
    assert_non_null(mean);
    assert_non_null(var);
    ref_moments(A, n, d, mean, var);
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++) {
            long double s = 0;
            for (size_t i = 0; i < n; i++)
                s += (A[i * d + a] - mean[a]) * (A[i * d + b] - mean[b]);
            C[a * d + b] = s / (long double)n;
        }
    free(mean);
    free(var);
}

/* Top eigenvector of symmetric C (d, d) by power iteration (iters steps),
 * normalised with its largest-|entry| positive; returns the eigenvalue. */
static long double power_iteration(const long double *C, size_t d, int iters, long double *v)
{
    long double *w = malloc(d * sizeof *w);
    assert_non_null(w);
    for (size_t j = 0; j < d; j++)
        v[j] = 1.0L + 0.01L * (long double)j;
    long double lam = 0;
    for (int it = 0; it < iters; it++) {
        long double nrm = 0;
        for (size_t a = 0; a < d; a++) {
            long double s = 0;
            for (size_t b = 0; b < d; b++)
                s += C[a * d + b] * v[b];
            w[a] = s;
            nrm += s * s;
        }
        nrm = sqrtl(nrm);
        for (size_t a = 0; a < d; a++)
            v[a] = w[a] / nrm;
        lam = nrm;
    }
    size_t jm = 0;
    for (size_t j = 1; j < d; j++)
        if (fabsl(v[j]) > fabsl(v[jm]))
            jm = j;
    if (v[jm] < 0)
        for (size_t j = 0; j < d; j++)
            v[j] = -v[j];
    free(w);
    return lam;
}

/* Random correlated data (n, d): rows z A + mu with z standard normal and A
 * random with row r scaled by sc[r]. */
static double *correlated_data(size_t n, size_t d, uint64_t seed, const double *sc)
{
    uint64_t s = seed;
    double *A = malloc(d * d * sizeof *A), *mu = malloc(d * sizeof *mu);
    double *X = malloc(n * d * sizeof *X), *z = malloc(d * sizeof *z);
    assert_true(A && mu && X && z);
    for (size_t r = 0; r < d; r++) {
        mu[r] = 10.0 * normal(&s);
        for (size_t c = 0; c < d; c++)
            A[r * d + c] = sc[r] * normal(&s);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t r = 0; r < d; r++)
            z[r] = normal(&s);
        for (size_t c = 0; c < d; c++) {
            double v = mu[c];
            for (size_t r = 0; r < d; r++)
                v += z[r] * A[r * d + c];
            X[i * d + c] = v;
        }
    }
    free(A);
    free(mu);
    free(z);
    return X;
}

/* Outputs (n, k) have mean ~0 and covariance ~I (tolerance tol). */
static void assert_whitened(const double *Y, size_t n, size_t k, double tol)
{
    long double *C = malloc(k * k * sizeof *C), *mean = malloc(k * sizeof *mean),
                *var = malloc(k * sizeof *var);
    assert_true(C && mean && var);
    ref_moments(Y, n, k, mean, var);
    ref_cov(Y, n, k, C);
    double worst = 0;
    for (size_t a = 0; a < k; a++) {
        worst = fmax(worst, (double)fabsl(mean[a]));
        for (size_t b = 0; b < k; b++)
            worst = fmax(worst, (double)fabsl(C[a * k + b] - (a == b ? 1.0L : 0.0L)));
    }
    if (worst > tol)
        print_error("outputs: worst |mean| or |cov - I| = %g > %g\n", worst, tol);
    assert_true(worst <= tol);
    free(C);
    free(mean);
    free(var);
}

/* Rows of V (k, d) are orthonormal, with largest-|entry| positive. */
static void assert_orthonormal_signed(const double *V, size_t k, size_t d, double tol)
{
    double worst = 0;
    for (size_t a = 0; a < k; a++) {
        for (size_t b = 0; b < k; b++) {
            long double s = 0;
            for (size_t j = 0; j < d; j++)
                s += (long double)V[a * d + j] * V[b * d + j];
            worst = fmax(worst, (double)fabsl(s - (a == b ? 1.0L : 0.0L)));
        }
        size_t jm = 0;
        for (size_t j = 1; j < d; j++)
            if (fabs(V[a * d + j]) > fabs(V[a * d + jm]))
                jm = j;
        assert_true(V[a * d + jm] > 0);
    }
    if (worst > tol)
        print_error("components: worst |V V^T - I| = %g > %g\n", worst, tol);
    assert_true(worst <= tol);
}

static void standardize_should_give_zero_mean_unit_variance(void **state)
{
    (void)state;
    const size_t n = 3000, d = 6;
    uint64_t s = 5;
    double *X = malloc(n * d * sizeof *X), *Y = malloc(n * d * sizeof *Y);
    assert_true(X && Y);
    const double loc[6] = {1e3, -2.0, 0.3, 0.0, 5.0, 1e-3};
    const double spread[6] = {1e-2, 3.0, 0.0, 0.0, 1e4, 1e-6};
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            X[i * d + j] = loc[j] + spread[j] * (j == 4 ? unif(&s) : normal(&s));
    hj_preprocess p;
    hj_error e = {0};
    assert_int_equal(hj_preprocess_fit(&p, HJ_PRE_STANDARDIZE, X, n, d, 0, &e), HJ_OK);
    assert_int_equal(p.kind, HJ_PRE_STANDARDIZE);
    assert_int_equal(p.d_raw, d);
    assert_int_equal(p.d_out, d);
    assert_null(p.components);
    long double mean[6], var[6];
    ref_moments(X, n, d, mean, var);
    for (size_t j = 0; j < d; j++) {
        assert_true(fabs(p.mean[j] - (double)mean[j]) <=
                    1e-12 * fabs((double)mean[j]) + 1e-12 * spread[j]);
        if (spread[j] == 0.0)
            assert_true(p.scale[j] == 1.0); /* constant feature */
        else
            assert_true(fabsl(p.scale[j] - sqrtl(var[j])) <= 1e-12L * sqrtl(var[j]));
    }
    assert_int_equal(hj_preprocess_apply(&p, X, n, Y, &e), HJ_OK);
    long double ym[6], yv[6];
    ref_moments(Y, n, d, ym, yv);
    for (size_t j = 0; j < d; j++) {
        if (spread[j] == 0.0) {
            for (size_t i = 0; i < n; i++)
                assert_true(fabs(Y[i * d + j]) <= 1e-12);
            continue;
        }
        if (fabsl(ym[j]) > 1e-9 || fabsl(yv[j] - 1) > 1e-9)
            print_error("column %zu: mean %Lg, variance %Lg\n", j, ym[j], yv[j]);
        assert_true(fabsl(ym[j]) <= 1e-9);
        assert_true(fabsl(yv[j] - 1) <= 1e-9);
    }
    /* In place gives the same result. */
    assert_int_equal(hj_preprocess_apply(&p, X, n, X, &e), HJ_OK);
    assert_memory_equal(X, Y, n * d * sizeof *X);
    hj_preprocess_free(&p);
    free(X);
    free(Y);
}

static void pca_should_match_power_iteration_and_whiten(void **state)
{
    (void)state;
    const size_t n = 2000, d = 8;
    const double sc[8] = {5, 3, 2, 1.5, 1, 0.7, 0.5, 0.3};
    double *X = correlated_data(n, d, 11, sc);
    long double C[64], v[8], Cd[64], v2[8];
    ref_cov(X, n, d, C);
    long double lam1 = power_iteration(C, d, 3000, v);

    hj_preprocess p;
    hj_error e = {0};
    const size_t k = 3;
    assert_int_equal(hj_preprocess_fit(&p, HJ_PRE_PCA, X, n, d, k, &e), HJ_OK);
    assert_int_equal(p.kind, HJ_PRE_PCA);
    assert_int_equal(p.d_raw, d);
    assert_int_equal(p.d_out, k);
    assert_orthonormal_signed(p.components, k, d, 1e-12);
    for (size_t j = 0; j < d; j++)
        assert_true(fabsl(p.components[j] - v[j]) <= 1e-8);
    assert_true(fabsl((long double)p.scale[0] * p.scale[0] - lam1) <= 1e-10 * lam1);
    /* Second axis: power iteration on C deflated by the first pair. */
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++)
            Cd[a * d + b] = C[a * d + b] - lam1 * v[a] * v[b];
    long double lam2 = power_iteration(Cd, d, 3000, v2);
    for (size_t j = 0; j < d; j++)
        assert_true(fabsl(p.components[d + j] - v2[j]) <= 1e-7);
    assert_true(fabsl((long double)p.scale[1] * p.scale[1] - lam2) <= 1e-9 * lam2);
    assert_true(p.scale[0] >= p.scale[1] && p.scale[1] >= p.scale[2]);

    double *Y = malloc(n * k * sizeof *Y);
    assert_non_null(Y);
    assert_int_equal(hj_preprocess_apply(&p, X, n, Y, &e), HJ_OK);
    assert_whitened(Y, n, k, 1e-9);
    /* Output 1 of row i by hand: v1 . (x_i - mean) / sqrt(lambda1). */
    long double mean[8], var[8];
    ref_moments(X, n, d, mean, var);
    for (size_t i = 0; i < n; i += 97) {
        long double s = 0;
        for (size_t j = 0; j < d; j++)
            s += v[j] * (X[i * d + j] - mean[j]);
        assert_true(fabsl(Y[i * k] - s / sqrtl(lam1)) <= 1e-7);
    }

    /* The full basis: eigenvalues sum to the trace, distances are kept. */
    hj_preprocess full;
    assert_int_equal(hj_preprocess_fit(&full, HJ_PRE_PCA, X, n, d, d, &e), HJ_OK);
    assert_orthonormal_signed(full.components, d, d, 1e-12);
    long double tr = 0, sum = 0;
    for (size_t j = 0; j < d; j++) {
        tr += var[j];
        sum += (long double)full.scale[j] * full.scale[j];
    }
    assert_true(fabsl(tr - sum) <= 1e-11 * tr);
    double *Yf = malloc(n * d * sizeof *Yf);
    assert_non_null(Yf);
    assert_int_equal(hj_preprocess_apply(&full, X, n, Yf, &e), HJ_OK);
    assert_whitened(Yf, n, d, 1e-8);
    for (size_t i = 0; i < n; i += 53) {
        long double r2 = 0, q2 = 0;
        for (size_t j = 0; j < d; j++) {
            long double c = X[i * d + j] - mean[j], y = (long double)Yf[i * d + j] * full.scale[j];
            r2 += c * c;
            q2 += y * y;
        }
        assert_true(fabsl(r2 - q2) <= 1e-10 * (r2 + 1));
    }

    /* Refits are identical (fixed signs). */
    hj_preprocess again;
    assert_int_equal(hj_preprocess_fit(&again, HJ_PRE_PCA, X, n, d, k, &e), HJ_OK);
    assert_memory_equal(again.components, p.components, k * d * sizeof(double));
    hj_preprocess_free(&again);
    hj_preprocess_free(&full);
    hj_preprocess_free(&p);
    free(Yf);
    free(Y);
    free(X);
}

static void pca_should_give_unit_scale_to_null_directions(void **state)
{
    (void)state;
    /* Column 3 duplicates column 0 and column 4 is constant: rank d - 2. */
    const size_t n = 500, d = 5;
    const double sc[5] = {2, 1, 0.5, 0.25, 0.125};
    double *X = correlated_data(n, d, 3, sc);
    for (size_t i = 0; i < n; i++) {
        X[i * d + 3] = X[i * d + 0];
        X[i * d + 4] = 0.7;
    }
    hj_preprocess p;
    hj_error e = {0};
    assert_int_equal(hj_preprocess_fit(&p, HJ_PRE_PCA, X, n, d, d, &e), HJ_OK);
    assert_orthonormal_signed(p.components, d, d, 1e-12);
    assert_true(p.scale[3] == 1.0 && p.scale[4] == 1.0);
    assert_true(p.scale[2] > 0.01);
    double *Y = malloc(n * d * sizeof *Y);
    assert_non_null(Y);
    assert_int_equal(hj_preprocess_apply(&p, X, n, Y, &e), HJ_OK);
    /* The first three outputs are whitened, the null directions give ~0. */
    double *Y3 = malloc(n * 3 * sizeof *Y3);
    assert_non_null(Y3);
    for (size_t i = 0; i < n; i++) {
        memcpy(Y3 + i * 3, Y + i * d, 3 * sizeof *Y3);
        assert_true(fabs(Y[i * d + 3]) <= 1e-12 && fabs(Y[i * d + 4]) <= 1e-12);
    }
    assert_whitened(Y3, n, 3, 1e-9);
    free(Y3);
    hj_preprocess_free(&p);

    /* n < d: more features than points (as for 2-D plots of 120 images). */
    assert_int_equal(hj_preprocess_fit(&p, HJ_PRE_PCA, X, 3, d, 2, &e), HJ_OK);
    assert_int_equal(hj_preprocess_apply(&p, X, 3, Y, &e), HJ_OK);
    assert_whitened(Y, 3, 2, 1e-9);
    hj_preprocess_free(&p);
    free(Y);
    free(X);
}

static void preprocess_should_validate_copy_and_free(void **state)
{
    (void)state;
    const size_t n = 50, d = 4;
    uint64_t s = 17;
    double X[200], Y[200], Z[200];
    for (size_t t = 0; t < n * d; t++)
        X[t] = normal(&s) + (double)(t % d);
    hj_preprocess p, q;
    hj_error e = {0};

    /* fit validation */
    assert_int_equal(hj_preprocess_fit(&p, HJ_PRE_PCA, X, n, d, 0, &e), HJ_EINVAL);
    assert_non_null(strstr(e.msg, "k = 0"));
    assert_int_equal(hj_preprocess_fit(&p, HJ_PRE_PCA, X, n, d, 5, &e), HJ_EINVAL);
    assert_int_equal(hj_preprocess_fit(&p, HJ_PRE_STANDARDIZE, NULL, n, d, 0, &e), HJ_EINVAL);
    assert_int_equal(hj_preprocess_fit(&p, HJ_PRE_STANDARDIZE, X, 0, d, 0, &e), HJ_EINVAL);
    assert_int_equal(hj_preprocess_fit(&p, (hj_preprocess_kind)7, X, n, d, 0, &e), HJ_EINVAL);
    assert_int_equal(hj_preprocess_fit(NULL, HJ_PRE_NONE, X, n, d, 0, &e), HJ_EINVAL);
    double keep = X[9];
    X[9] = NAN;
    assert_int_equal(hj_preprocess_fit(&p, HJ_PRE_PCA, X, n, d, 2, &e), HJ_ENAN);
    assert_non_null(strstr(e.msg, "row 3, column 2"));
    X[9] = keep;
    assert_null(p.mean);

    /* NONE copies, in place too. */
    assert_int_equal(hj_preprocess_fit(&p, HJ_PRE_NONE, X, n, d, 0, &e), HJ_OK);
    assert_int_equal(p.d_out, d);
    assert_int_equal(hj_preprocess_apply(&p, X, n, Y, &e), HJ_OK);
    assert_memory_equal(X, Y, sizeof X);
    assert_int_equal(hj_preprocess_apply(&p, Y, n, Y, &e), HJ_OK);
    assert_memory_equal(X, Y, sizeof X);
    assert_int_equal(hj_preprocess_copy(&q, &p, &e), HJ_OK);
    assert_int_equal(q.kind, HJ_PRE_NONE);
    hj_preprocess_free(&q);
    hj_preprocess_free(&p);

    /* apply validation */
    hj_preprocess zero;
    memset(&zero, 0, sizeof zero);
    assert_int_equal(hj_preprocess_apply(&zero, X, n, Y, &e), HJ_EINVAL);
    assert_int_equal(hj_preprocess_apply(NULL, X, n, Y, &e), HJ_EINVAL);
    hj_preprocess_free(&zero); /* safe on a zeroed struct */
    hj_preprocess_free(NULL);
    assert_int_equal(hj_preprocess_fit(&p, HJ_PRE_PCA, X, n, d, 2, &e), HJ_OK);
    assert_int_equal(hj_preprocess_apply(&p, NULL, n, Y, &e), HJ_EINVAL);
    assert_int_equal(hj_preprocess_apply(&p, X, n, NULL, &e), HJ_EINVAL);
    assert_int_equal(hj_preprocess_apply(&p, X, n, X, &e), HJ_EINVAL);
    assert_non_null(strstr(e.msg, "overlaps"));
    assert_int_equal(hj_preprocess_apply(&p, X, 0, NULL, &e), HJ_OK);
    hj_preprocess bad = p;
    bad.d_out = d + 1;
    assert_int_equal(hj_preprocess_apply(&bad, X, n, Y, &e), HJ_EINVAL);
    bad = p;
    bad.components = NULL;
    assert_int_equal(hj_preprocess_apply(&bad, X, n, Y, &e), HJ_EINVAL);
    bad = p;
    bad.kind = HJ_PRE_STANDARDIZE; /* d_out 2 != d_raw 4 */
    assert_int_equal(hj_preprocess_apply(&bad, X, n, Y, &e), HJ_EINVAL);
    bad.kind = (hj_preprocess_kind)9;
    assert_int_equal(hj_preprocess_apply(&bad, X, n, Y, &e), HJ_EINVAL);

    /* Deep copy: still works, with the same bits, after the original is freed. */
    assert_int_equal(hj_preprocess_apply(&p, X, n, Y, &e), HJ_OK);
    assert_int_equal(hj_preprocess_copy(&q, &p, &e), HJ_OK);
    assert_true(q.mean != p.mean && q.components != p.components && q.scale != p.scale);
    hj_preprocess_free(&p);
    assert_null(p.components);
    assert_int_equal(hj_preprocess_apply(&q, X, n, Z, &e), HJ_OK);
    assert_memory_equal(Y, Z, n * 2 * sizeof(double));
    assert_int_equal(hj_preprocess_copy(&p, &zero, &e), HJ_EINVAL);
    assert_int_equal(hj_preprocess_copy(NULL, &q, &e), HJ_EINVAL);
    hj_preprocess_free(&q);
    hj_preprocess_free(&q);
}

/* ---- the real data set -------------------------------------------------- */

static void fashion_mnist_should_load_with_documented_shape_and_classes(void **state)
{
    (void)state;
    struct stat sb;
    if (stat(HJ_FASHION_MNIST_DIR, &sb) != 0) {
        print_message("skipping: %s is absent (install the Debian package "
                      "dataset-fashion-mnist)\n", HJ_FASHION_MNIST_DIR);
        skip();
    }
    hj_dataset ds;
    hj_error e = {0};
    double t0 = now_seconds();
    hj_status st = hj_dataset_load("fashion-mnist", NULL, &ds, &e);
    double t_load = now_seconds() - t0;
    if (st != HJ_OK)
        print_error("%s\n", e.msg);
    assert_int_equal(st, HJ_OK);
    print_message("loaded Fashion-MNIST in %.2f s\n", t_load);
    assert_int_equal(ds.n_classes, 10);
    assert_int_equal(ds.x_train.rows, 60000);
    assert_int_equal(ds.x_train.cols, 784);
    assert_int_equal(ds.y_train.rows, 60000);
    assert_int_equal(ds.y_train.cols, 1);
    assert_int_equal(ds.x_test.rows, 10000);
    assert_int_equal(ds.x_test.cols, 784);
    assert_int_equal(ds.y_test.rows, 10000);

    /* Pixels are k / 255 in [0, 1], with both ends present. */
    const hj_matrix *xs[2] = {&ds.x_train, &ds.x_test};
    for (int t = 0; t < 2; t++) {
        double lo = 1, hi = 0;
        size_t nn = xs[t]->rows * xs[t]->cols;
        for (size_t q = 0; q < nn; q += 1) {
            double v = xs[t]->data[q];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            if (q % 4099 == 0) {
                double k = v * 255.0;
                assert_true(fabs(k - nearbyint(k)) <= 1e-9);
            }
        }
        assert_true(lo == 0.0 && hi == 1.0);
    }
    /* 6000 training and 1000 test images per class (documented). */
    size_t count_tr[10] = {0}, count_te[10] = {0};
    for (size_t i = 0; i < 60000; i++) {
        double y = ds.y_train.data[i];
        assert_true(y >= 0 && y <= 9 && y == floor(y));
        count_tr[(int)y]++;
    }
    for (size_t i = 0; i < 10000; i++) {
        double y = ds.y_test.data[i];
        assert_true(y >= 0 && y <= 9 && y == floor(y));
        count_te[(int)y]++;
    }
    for (int c = 0; c < 10; c++) {
        assert_int_equal(count_tr[c], 6000);
        assert_int_equal(count_te[c], 1000);
    }

    /* Against bytes inflated here with gzread: headers, all labels, two images. */
    char *lp = join(HJ_FASHION_MNIST_DIR, "train-labels-idx1-ubyte.gz");
    unsigned char *lab = gz_head(lp, 8 + 60000);
    assert_memory_equal(lab, "\x00\x00\x08\x01\x00\x00\xea\x60", 8);
    for (size_t i = 0; i < 60000; i++)
        assert_true(ds.y_train.data[i] == (double)lab[8 + i]);
    free(lab);
    free(lp);
    char *ip = join(HJ_FASHION_MNIST_DIR, "t10k-images-idx3-ubyte.gz");
    unsigned char *img = gz_head(ip, 16 + 2 * 784);
    assert_memory_equal(img, "\x00\x00\x08\x03\x00\x00\x27\x10\x00\x00\x00\x1c\x00\x00\x00\x1c",
                        16);
    for (size_t j = 0; j < 2 * 784; j++)
        assert_true(ds.x_test.data[j] * 255.0 == (double)img[16 + j] ||
                    fabs(ds.x_test.data[j] * 255.0 - img[16 + j]) <= 1e-12);
    free(img);
    free(ip);

    /* PCA-50 of the first 10000 training images: orthonormal, whitening,
     * and each of the first five axes an eigenvector of the covariance
     * (residual |C v - lambda v| from two passes over the data, done here). */
    const size_t n = 10000, d = 784, k = 50;
    hj_preprocess p;
    t0 = now_seconds();
    st = hj_preprocess_fit(&p, HJ_PRE_PCA, ds.x_train.data, n, d, k, &e);
    double t_fit = now_seconds() - t0;
    assert_int_equal(st, HJ_OK);
    print_message("PCA-%zu fit on %zu x %zu in %.3f s\n", k, n, d, t_fit);
    /* (speed is measured by benchmarks, not asserted in tests) */
    assert_orthonormal_signed(p.components, k, d, 1e-10);
    double *Y = malloc(n * k * sizeof *Y);
    assert_non_null(Y);
    assert_int_equal(hj_preprocess_apply(&p, ds.x_train.data, n, Y, &e), HJ_OK);
    assert_whitened(Y, n, k, 1e-7);

    long double *mean = calloc(d, sizeof *mean);
    double *cv = malloc(d * sizeof *cv);
    assert_true(mean && cv);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            mean[j] += ds.x_train.data[i * d + j];
    for (size_t j = 0; j < d; j++)
        mean[j] /= (long double)n;
    for (size_t r = 0; r < 5; r++) {
        const double *v = p.components + r * d;
        memset(cv, 0, d * sizeof *cv);
        for (size_t i = 0; i < n; i++) {
            const double *x = ds.x_train.data + i * d;
            double proj = 0;
            for (size_t j = 0; j < d; j++)
                proj += (x[j] - (double)mean[j]) * v[j];
            for (size_t j = 0; j < d; j++)
                cv[j] += proj * (x[j] - (double)mean[j]);
        }
        double lam = p.scale[r] * p.scale[r], res = 0, rq = 0;
        for (size_t j = 0; j < d; j++) {
            cv[j] /= (double)n;
            res += (cv[j] - lam * v[j]) * (cv[j] - lam * v[j]);
            rq += cv[j] * v[j];
        }
        if (sqrt(res) > 1e-8 * lam || fabs(rq - lam) > 1e-9 * lam)
            print_error("axis %zu: residual %g, Rayleigh %g vs %g\n", r, sqrt(res), rq, lam);
        assert_true(sqrt(res) <= 1e-8 * lam);
        assert_true(fabs(rq - lam) <= 1e-9 * lam);
        if (r > 0)
            assert_true(p.scale[r] <= p.scale[r - 1]);
    }
    free(mean);
    free(cv);
    free(Y);
    hj_preprocess_free(&p);
    hj_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idx_parse_should_decode_every_type_big_endian),
        cmocka_unit_test(idx_parse_should_flatten_trailing_dimensions_in_c_order),
        cmocka_unit_test(idx_parse_should_reject_malformed_buffers_with_messages),
        cmocka_unit_test(idx_read_should_round_trip_gzip_and_raw_files),
        cmocka_unit_test(idx_read_should_cap_the_inflated_size),
        cmocka_unit_test(dataset_load_should_scale_check_and_report),
        cmocka_unit_test(standardize_should_give_zero_mean_unit_variance),
        cmocka_unit_test(pca_should_match_power_iteration_and_whiten),
        cmocka_unit_test(pca_should_give_unit_scale_to_null_directions),
        cmocka_unit_test(preprocess_should_validate_copy_and_free),
        cmocka_unit_test(fashion_mnist_should_load_with_documented_shape_and_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
