/* test_data.c — data I/O: CSV and .npy parsers, readers, atomic writers.
 *
 * Expected values come from the test itself: doubles are generated here and
 * compared bit for bit after a round trip; .npy images are assembled byte by
 * byte here from values the test chose; error messages are checked for the
 * file name and line the test knows to be wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hjdl/data.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double bits_to_double(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static uint64_t double_to_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

/* A copy of exactly n bytes, so that reading past n trips ASan. */
static char *dup_exact(const void *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, s, n);
    return p;
}

static hj_status parse_csv_n(const char *text, size_t n, const char *name, hj_matrix *m,
                             hj_error *e)
{
    char *b = dup_exact(text, n);
    hj_status st = hj_csv_parse(b, n, name, m, e);
    free(b);
    return st;
}

static hj_status parse_csv(const char *text, const char *name, hj_matrix *m, hj_error *e)
{
    return parse_csv_n(text, strlen(text), name, m, e);
}

static hj_status parse_npy(const unsigned char *buf, size_t n, const char *name, hj_matrix *m,
                           hj_error *e)
{
    char *b = dup_exact(buf, n);
    hj_status st = hj_npy_parse(b, n, name, m, e);
    free(b);
    return st;
}

static void assert_zeroed(const hj_matrix *m)
{
    assert_int_equal(m->rows, 0);
    assert_int_equal(m->cols, 0);
    assert_null(m->data);
    assert_null(m->names);
}

static void assert_failure(hj_status st, const hj_error *e, hj_status code, const char *needle)
{
    if (st != code || e->code != code || strstr(e->msg, needle) == NULL)
        fail_msg("expected status %d with \"%s\"; got %d: \"%s\"", (int)code, needle, (int)st,
                 e->msg);
}

static void make_tmpdir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/hjdl-test-data-XXXXXX");
    assert_non_null(mkdtemp(buf));
}

static void rm_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (d != NULL) {
            struct dirent *de;
            while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                    continue;
                char sub[1024];
                snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
                rm_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 1024, n = 0;
    unsigned char *b = malloc(cap);
    assert_non_null(b);
    size_t got;
    while ((got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap);
            assert_non_null(b);
        }
    }
    fclose(f);
    *len = n;
    return b;
}

static void assert_same_bits(const hj_matrix *a, const hj_matrix *b)
{
    assert_int_equal(a->rows, b->rows);
    assert_int_equal(a->cols, b->cols);
    for (size_t k = 0; k < a->rows * a->cols; k++)
        if (double_to_bits(a->data[k]) != double_to_bits(b->data[k]))
            fail_msg("element %zu: wrote %.17g (0x%016llx), read %.17g (0x%016llx)", k,
                     a->data[k], (unsigned long long)double_to_bits(a->data[k]), b->data[k],
                     (unsigned long long)double_to_bits(b->data[k]));
}

/* Hard cases first (subnormals, extremes, signed zero, short decimals),
 * then random finite bit patterns. */
static void fill_awkward(hj_matrix *m, uint64_t seed)
{
    const double special[] = {0.1,
                              -0.0,
                              0.0,
                              1e308,
                              -1e308,
                              DBL_MAX,
                              -DBL_MAX,
                              DBL_MIN,
                              nextafter(0.0, 1.0),       /* smallest subnormal */
                              -nextafter(0.0, 1.0),
                              nextafter(DBL_MIN, 0.0),   /* largest subnormal */
                              1.0 / 3.0,
                              2.0 / 3.0,
                              9007199254740993.0,        /* 2^53 + 1 rounds */
                              123456789012345678.0,
                              5e-324,
                              1e-310,
                              0.3,
                              -2.5,
                              1.0};
    size_t ns = sizeof special / sizeof special[0];
    uint64_t s = seed;
    for (size_t k = 0; k < m->rows * m->cols; k++) {
        if (k < ns) {
            m->data[k] = special[k];
            continue;
        }
        double v;
        do
            v = bits_to_double(splitmix64(&s));
        while (!isfinite(v));
        m->data[k] = v;
    }
}

/* ---- matrix storage ------------------------------------------------------ */

static void matrix_alloc_should_zero_and_guard_overflow(void **state)
{
    (void)state;
    hj_matrix m;
    hj_error e = {0};
    assert_int_equal(hj_matrix_alloc(&m, 3, 4, &e), HJ_OK);
    assert_int_equal(m.rows, 3);
    assert_int_equal(m.cols, 4);
    assert_null(m.names);
    for (size_t k = 0; k < 12; k++)
        assert_true(m.data[k] == 0.0);
    hj_matrix_free(&m);
    assert_zeroed(&m);
    hj_matrix_free(&m); /* safe on a zeroed matrix */

    assert_int_equal(hj_matrix_alloc(&m, SIZE_MAX / 4, 3, &e), HJ_ENOMEM);
    assert_zeroed(&m);
    assert_int_equal(hj_matrix_alloc(NULL, 1, 1, NULL), HJ_EINVAL);
}

/* ---- CSV round trips -------------------------------------------------------- */

static void csv_round_trip_should_be_bit_exact(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.csv", dir);

    hj_matrix m, r;
    hj_error e = {0};
    assert_int_equal(hj_matrix_alloc(&m, 60, 7, &e), HJ_OK);
    fill_awkward(&m, 42);
    const char *names[7] = {"x", "a,b", "say \"hi\"", " padded ", "1.5", "y z", "\xce\xb5"};

    assert_int_equal(hj_csv_write(path, &m, names, &e), HJ_OK);
    assert_int_equal(hj_csv_read(path, &r, &e), HJ_OK);
    assert_same_bits(&m, &r);
    assert_non_null(r.names);
    for (size_t j = 0; j < 7; j++)
        assert_string_equal(r.names[j], names[j]);
    assert_true(signbit(r.data[1]) && r.data[1] == 0.0); /* -0.0 kept */
    hj_matrix_free(&r);

    /* Through a stream and the in-memory parser, with default names. */
    char *text = NULL;
    size_t tlen = 0;
    FILE *f = open_memstream(&text, &tlen);
    assert_non_null(f);
    assert_int_equal(hj_csv_write_stream(f, &m, NULL, &e), HJ_OK);
    fclose(f);
    assert_int_equal(parse_csv_n(text, tlen, "mem.csv", &r, &e), HJ_OK);
    assert_same_bits(&m, &r);
    char want[16];
    for (size_t j = 0; j < 7; j++) {
        snprintf(want, sizeof want, "c%zu", j + 1);
        assert_string_equal(r.names[j], want);
    }
    /* r now carries names: writing r without explicit names reuses them. */
    free(text);
    text = NULL;
    f = open_memstream(&text, &tlen);
    assert_non_null(f);
    assert_int_equal(hj_csv_write_stream(f, &r, NULL, &e), HJ_OK);
    fclose(f);
    assert_true(strncmp(text, "c1,c2,c3,c4,c5,c6,c7\n", 21) == 0);
    free(text);
    hj_matrix_free(&r);
    hj_matrix_free(&m);
    rm_tree(dir);
}

/* Numbers printed by the test in assorted styles with random spacing parse
 * back to the doubles the test started from. */
static void csv_parse_should_recover_generated_values(void **state)
{
    (void)state;
    const size_t rows = 300, cols = 5;
    uint64_t s = 7;
    double *want = malloc(rows * cols * sizeof *want); /* (rows, cols) */
    size_t cap = rows * cols * 64 + 256, n = 0;
    char *text = malloc(cap);
    assert_non_null(want);
    assert_non_null(text);
    n += (size_t)snprintf(text + n, cap - n, "a, b ,\tc,d,e\r\n");
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++) {
            uint64_t r = splitmix64(&s);
            double v;
            const char *pad = (r & 1) ? " " : ((r & 2) ? "\t" : "");
            if (j > 0)
                text[n++] = ',';
            switch ((r >> 8) % 3) {
            case 0: /* any finite double, shortest exact form */
                do
                    v = bits_to_double(splitmix64(&s));
                while (!isfinite(v));
                n += (size_t)snprintf(text + n, cap - n, "%s%.17g%s", pad, v, pad);
                break;
            case 1: { /* small integers, printed with a '+' or trailing '.' */
                long k = (long)(splitmix64(&s) % 2001) - 1000;
                v = (double)k;
                n += (size_t)snprintf(text + n, cap - n, (r & 4) ? "%+ld" : "%ld.", k);
                break;
            }
            default: { /* dyadic fractions are exact in %e with enough digits */
                long k = (long)(splitmix64(&s) % 2001) - 1000;
                v = (double)k / 1024.0;
                n += (size_t)snprintf(text + n, cap - n, "%s%.10E", pad, v);
                break;
            }
            }
            want[i * cols + j] = v;
        }
        n += (size_t)snprintf(text + n, cap - n, (i % 2) ? "\n" : "\r\n");
    }
    hj_matrix m;
    hj_error e = {0};
    assert_int_equal(parse_csv_n(text, n, "gen.csv", &m, &e), HJ_OK);
    assert_int_equal(m.rows, rows);
    assert_int_equal(m.cols, cols);
    assert_string_equal(m.names[1], "b");
    assert_string_equal(m.names[2], "c");
    for (size_t k = 0; k < rows * cols; k++)
        assert_true(double_to_bits(m.data[k]) == double_to_bits(want[k]));
    hj_matrix_free(&m);
    free(text);
    free(want);
}

static void csv_parse_should_accept_crlf_quotes_bom_and_trailing_blank_lines(void **state)
{
    (void)state;
    const char *texts[] = {
        "\xEF\xBB\xBF \"x, pos\" ,\"say \"\"hi\"\"\",\t z \r\n 1.5 , -2e3,\t.25\r\n"
        "3,4.,+5e-1\r\n\r\n\n  \n",
        "\"x, pos\",\"say \"\"hi\"\"\",z\n1.5,-2e3,.25\n3,4.,+5e-1",
        "\"x, pos\",\"say \"\"hi\"\"\",z\r\n1.5,-2E+3,0.25e0\r\n3e0,4,0.5\r\n",
    };
    const double want[6] = {1.5, -2000.0, 0.25, 3.0, 4.0, 0.5};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        hj_matrix m;
        hj_error e = {0};
        hj_status st = parse_csv(texts[t], "ok.csv", &m, &e);
        if (st != HJ_OK)
            fail_msg("text %zu: %s", t, e.msg);
        assert_int_equal(m.rows, 2);
        assert_int_equal(m.cols, 3);
        assert_string_equal(m.names[0], "x, pos");
        assert_string_equal(m.names[1], "say \"hi\"");
        assert_string_equal(m.names[2], "z");
        for (size_t k = 0; k < 6; k++)
            assert_true(m.data[k] == want[k]);
        hj_matrix_free(&m);
    }
    /* Subnormal and underflowing inputs are values, not errors. */
    hj_matrix m;
    hj_error e = {0};
    assert_int_equal(parse_csv("v\n4.9406564584124654e-324\n1e-400\n-0\n", "u.csv", &m, &e),
                     HJ_OK);
    assert_true(m.data[0] == nextafter(0.0, 1.0));
    assert_true(m.data[1] == 0.0);
    assert_true(m.data[2] == 0.0 && signbit(m.data[2]));
    hj_matrix_free(&m);
}

typedef struct csv_bad {
    const char *text;
    size_t len; /* 0: strlen(text) */
    hj_status code;
    const char *msg;
} csv_bad;

static void csv_parse_should_reject_bad_input_naming_file_and_line(void **state)
{
    (void)state;
    static const char nul_text[] = "a,b\n1,2\n3,\0\n";
    const csv_bad cases[] = {
        {"a,b,c\n1,2,3\n4,5,6\n7,8,9\n1,1,1\n2,2,2\n3,3\n4,4,4\n", 0, HJ_EFORMAT,
         "atoms.csv:7: expected 3 fields, found 2"},
        {"a,b\n1,2,3\n", 0, HJ_EFORMAT, "atoms.csv:2: expected 2 fields, found 3"},
        {"x,y\n1,2\n3,abc\n", 0, HJ_EFORMAT, "atoms.csv:3:2: 'abc' is not a number"},
        {"x\n1.2x\n", 0, HJ_EFORMAT, "atoms.csv:2:1: '1.2x' is not a number"},
        {"x,y\n1,\n", 0, HJ_EFORMAT, "atoms.csv:2:2: empty field"},
        {"x,y\n ,1\n", 0, HJ_EFORMAT, "atoms.csv:2:1: empty field"},
        {"x,y\n1,2\n3,nan\n", 0, HJ_ENAN, "atoms.csv:3:2:"},
        {"x\n-Inf\n", 0, HJ_ENAN, "atoms.csv:2:1:"},
        {"x\ninfinity\n", 0, HJ_ENAN, "atoms.csv:2:1:"},
        {"x\nNaN(123)\n", 0, HJ_ENAN, "atoms.csv:2:1:"},
        {"x\n1e999\n", 0, HJ_EFORMAT, "atoms.csv:2:1: '1e999' is out of the range"},
        {"x,y\n1,-1e400\n", 0, HJ_EFORMAT, "atoms.csv:2:2:"},
        {"x\n0x1p3\n", 0, HJ_EFORMAT, "atoms.csv:2:1: '0x1p3' is not a number"},
        {"x\n1 2\n", 0, HJ_EFORMAT, "atoms.csv:2:1:"},
        {"x\n\"1\"\n", 0, HJ_EFORMAT, "atoms.csv:2:1:"},
        {"x\n1e\n", 0, HJ_EFORMAT, "atoms.csv:2:1:"},
        {"x\n.\n", 0, HJ_EFORMAT, "atoms.csv:2:1:"},
        {"a,b\n", 0, HJ_EFORMAT, "atoms.csv:1: header but no data rows"},
        {"a,b\r\n\r\n  \n", 0, HJ_EFORMAT, "atoms.csv:1: header but no data rows"},
        {"", 0, HJ_EFORMAT, "atoms.csv:1: empty file"},
        {"\n \n\t\r\n", 0, HJ_EFORMAT, "atoms.csv:1: empty file"},
        {nul_text, sizeof nul_text - 1, HJ_EFORMAT, "atoms.csv:3: NUL byte"},
        {"a\n1\n\n2\n", 0, HJ_EFORMAT, "atoms.csv:3: blank line"},
        {"\na\n1\n", 0, HJ_EFORMAT, "atoms.csv:1: blank first line"},
        {"\"abc,d\n1,2\n", 0, HJ_EFORMAT, "atoms.csv:1:1: unterminated"},
        {"a,\"b\"c\n1,2\n", 0, HJ_EFORMAT, "atoms.csv:1:2:"},
        {"a,b\"c\n1,2\n", 0, HJ_EFORMAT, "atoms.csv:1:2:"},
        {"a,,b\n1,2,3\n", 0, HJ_EFORMAT, "atoms.csv:1:2: empty column name"},
        {"a,b,\n1,2,3\n", 0, HJ_EFORMAT, "atoms.csv:1:3: empty column name"},
        {"a,\"\"\n1,2\n", 0, HJ_EFORMAT, "atoms.csv:1:2: empty column name"},
        {"1,2\n3,4\n", 0, HJ_EFORMAT, "atoms.csv:1: the first line must name the columns"},
        {"a,b\r1,2\r", 0, HJ_EFORMAT, "atoms.csv:1: carriage return"},
        {"a,b\n1,2\r3\n", 0, HJ_EFORMAT, "atoms.csv:2: carriage return"},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        hj_matrix m;
        hj_error e = {0};
        size_t n = cases[t].len ? cases[t].len : strlen(cases[t].text);
        hj_status st = parse_csv_n(cases[t].text, n, "atoms.csv", &m, &e);
        if (st != cases[t].code || e.code != cases[t].code || strstr(e.msg, cases[t].msg) == NULL)
            fail_msg("case %zu: expected status %d with \"%s\"; got %d: \"%s\"", t,
                     (int)cases[t].code, cases[t].msg, (int)st, e.msg);
        assert_zeroed(&m);
    }

    /* A 300-digit number is refused, not fed to strtod. */
    char big[400];
    memcpy(big, "x\n", 2);
    memset(big + 2, '7', 300);
    big[302] = '\n';
    hj_matrix m;
    hj_error e = {0};
    assert_failure(parse_csv_n(big, 303, "atoms.csv", &m, &e), &e, HJ_EFORMAT, "atoms.csv:2:1:");

    /* Argument checks; err may be NULL. */
    assert_int_equal(hj_csv_parse(NULL, 3, "n.csv", &m, NULL), HJ_EINVAL);
    assert_int_equal(hj_csv_parse("a\n1\n", 4, "n.csv", NULL, NULL), HJ_EINVAL);
}

/* Very wide input must parse in one linear pass (quadratic would time out). */
static void csv_parse_should_handle_wide_rows(void **state)
{
    (void)state;
    const size_t cols = 200000;
    size_t cap = cols * 16 + 16, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (size_t j = 0; j < cols; j++)
        n += (size_t)snprintf(text + n, cap - n, j % 2 ? "\"q%zu\"," : "c%zu,", j);
    text[n - 1] = '\n';
    for (size_t j = 0; j < cols; j++)
        n += (size_t)snprintf(text + n, cap - n, "%zu,", j % 10);
    text[n - 1] = '\n';
    hj_matrix m;
    hj_error e = {0};
    assert_int_equal(parse_csv_n(text, n, "wide.csv", &m, &e), HJ_OK);
    assert_int_equal(m.rows, 1);
    assert_int_equal(m.cols, cols);
    assert_string_equal(m.names[1], "q1");
    for (size_t j = 0; j < cols; j += 997)
        assert_true(m.data[j] == (double)(j % 10));
    hj_matrix_free(&m);
    free(text);
}

/* With a comma-decimal locale in the calling thread the library still
 * reads and writes '.' decimals (skipped where no such locale exists). */
static void csv_should_ignore_the_callers_numeric_locale(void **state)
{
    (void)state;
    const char *cands[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "de_DE"};
    locale_t loc = (locale_t)0;
    for (size_t k = 0; k < sizeof cands / sizeof cands[0] && loc == (locale_t)0; k++)
        loc = newlocale(LC_NUMERIC_MASK, cands[k], (locale_t)0);
    if (loc == (locale_t)0)
        skip();
    locale_t old = uselocale(loc);
    hj_matrix m;
    hj_error e = {0};
    hj_status st = parse_csv("x\n0.5\n", "loc.csv", &m, &e);
    char *text = NULL;
    size_t tlen = 0;
    if (st == HJ_OK) {
        FILE *f = open_memstream(&text, &tlen);
        hj_csv_write_stream(f, &m, NULL, &e);
        fclose(f);
    }
    uselocale(old);
    freelocale(loc);
    assert_int_equal(st, HJ_OK);
    assert_true(m.data[0] == 0.5);
    assert_string_equal(text, "x\n0.5\n");
    free(text);
    hj_matrix_free(&m);
}

/* ---- .npy ------------------------------------------------------------------ */

/* Preamble + dict (padded with blanks and '\n' to a 64-byte boundary) +
 * data, for format version `major`. */
static unsigned char *build_npy(int major, const char *dict, const unsigned char *data,
                                size_t dlen, size_t *outlen)
{
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
    size_t pad = (64 - (pre + dl + 1) % 64) % 64, hlen = dl + pad + 1;
    unsigned char *b = malloc(pre + hlen + dlen + 1);
    assert_non_null(b);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    for (size_t k = 0; k < pre - 8; k++)
        b[8 + k] = (unsigned char)(hlen >> (8 * k));
    memcpy(b + pre, dict, dl);
    memset(b + pre + dl, ' ', pad);
    b[pre + dl + pad] = '\n';
    if (dlen)
        memcpy(b + pre + hlen, data, dlen);
    *outlen = pre + hlen + dlen;
    return b;
}

static void put_bytes(unsigned char *p, uint64_t v, size_t size, int big)
{
    for (size_t k = 0; k < size; k++)
        p[big ? size - 1 - k : k] = (unsigned char)(v >> (8 * k));
}

typedef struct dtype_case {
    const char *descr;
    char kind;
    size_t size;
} dtype_case;

/* The value the test stores at logical index k for a dtype, and its bits. */
static double chosen_value(const dtype_case *d, size_t k, uint64_t *bits, uint64_t *rng)
{
    long long ik = (long long)k;
    if (d->kind == 'f' && d->size == 8) {
        double v;
        do
            v = bits_to_double(splitmix64(rng));
        while (!isfinite(v));
        if (k == 0)
            v = -0.0;
        if (k == 1)
            v = nextafter(0.0, 1.0);
        *bits = double_to_bits(v);
        return v;
    }
    if (d->kind == 'f') {
        float f = (float)((double)ik - 5.5) * 0.25f;
        if (k == 0)
            f = FLT_MAX;
        uint32_t u;
        memcpy(&u, &f, 4);
        *bits = u;
        return (double)f;
    }
    long long v;
    if (d->kind == 'u') {
        v = k == 0 ? 255 : (ik * 37) % 256;
    } else if (d->size == 1) {
        v = k == 0 ? -128 : (k == 1 ? 127 : (ik * 37) % 256 - 128);
    } else if (d->size == 4) {
        v = k == 0 ? INT32_MIN : (k == 1 ? INT32_MAX : (ik - 6) * 123457);
    } else {
        v = k == 0 ? INT64_MIN : (k == 1 ? INT64_MAX : (ik - 6) * (1LL << 40) + ik);
    }
    *bits = (uint64_t)v; /* two's complement, truncated by put_bytes */
    return (double)v;
}

static void npy_parse_should_read_every_dtype_order_version_and_spelling(void **state)
{
    (void)state;
    const dtype_case dtypes[] = {{"<f8", 'f', 8}, {">f8", 'f', 8}, {"<f4", 'f', 4},
                                 {">f4", 'f', 4}, {"<i4", 'i', 4}, {">i4", 'i', 4},
                                 {"<i8", 'i', 8}, {">i8", 'i', 8}, {"|u1", 'u', 1},
                                 {"|i1", 'i', 1}};
    uint64_t rng = 99;
    size_t variant = 0;
    for (size_t t = 0; t < sizeof dtypes / sizeof dtypes[0]; t++)
        for (int fortran = 0; fortran <= 1; fortran++)
            for (int major = 1; major <= 3; major++)
                for (int ndim = 1; ndim <= 2; ndim++, variant++) {
                    const dtype_case *d = &dtypes[t];
                    size_t rows = ndim == 1 ? 5 : 3, cols = ndim == 1 ? 1 : 4;
                    double want[20];       /* (rows, cols) */
                    unsigned char raw[160]; /* file order */
                    for (size_t i = 0; i < rows; i++)
                        for (size_t j = 0; j < cols; j++) {
                            uint64_t bits;
                            size_t k = i * cols + j;
                            want[k] = chosen_value(d, k, &bits, &rng);
                            size_t pos = fortran ? j * rows + i : k;
                            put_bytes(raw + pos * d->size, bits, d->size, d->descr[0] == '>');
                        }
                    char shape[32], dict[256];
                    const char *fo = fortran ? "True" : "False";
                    if (ndim == 1)
                        snprintf(shape, sizeof shape, variant % 2 ? "(5,)" : "( 5L , )");
                    else
                        snprintf(shape, sizeof shape, variant % 2 ? "(3, 4)" : "(3L,4,)");
                    switch (variant % 3) {
                    case 0:
                        snprintf(dict, sizeof dict,
                                 "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", d->descr,
                                 fo, shape);
                        break;
                    case 1:
                        snprintf(dict, sizeof dict,
                                 "{\"shape\":%s,\"fortran_order\":%s,\"descr\":\"%s\"}", shape,
                                 fo, d->descr);
                        break;
                    default:
                        snprintf(dict, sizeof dict,
                                 "{  'fortran_order' :%s ,\n 'descr':'%s','shape' :  %s  }", fo,
                                 d->descr, shape);
                        break;
                    }
                    size_t len;
                    unsigned char *img = build_npy(major, dict, raw, rows * cols * d->size, &len);
                    hj_matrix m;
                    hj_error e = {0};
                    hj_status st = parse_npy(img, len, "hand.npy", &m, &e);
                    if (st != HJ_OK)
                        fail_msg("%s fortran=%d v%d ndim=%d: %s", d->descr, fortran, major, ndim,
                                 e.msg);
                    assert_int_equal(m.rows, rows);
                    assert_int_equal(m.cols, cols);
                    assert_null(m.names);
                    for (size_t k = 0; k < rows * cols; k++)
                        if (double_to_bits(m.data[k]) != double_to_bits(want[k]))
                            fail_msg("%s fortran=%d v%d ndim=%d element %zu: %.17g != %.17g",
                                     d->descr, fortran, major, ndim, k, m.data[k], want[k]);
                    hj_matrix_free(&m);
                    free(img);
                }
}

typedef struct npy_bad {
    int major, minor;
    const char *dict;
    size_t dlen;     /* data bytes appended (zeros) */
    hj_status code;
    const char *msg;
} npy_bad;

static void npy_parse_should_reject_bad_files(void **state)
{
    (void)state;
    const char *good = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
    const npy_bad cases[] = {
        {1, 0, good, 47, HJ_EFORMAT, "bad.npy: truncated .npy data"},
        {1, 0, good, 49, HJ_EFORMAT, "bad.npy: 1 unexpected bytes"},
        {4, 0, good, 48, HJ_EFORMAT, "unsupported .npy format version 4.0"},
        {1, 1, good, 48, HJ_EFORMAT, "unsupported .npy format version 1.1"},
        {1, 0, "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", 12, HJ_EFORMAT,
         "bad.npy: unsupported .npy dtype '<f2'"},
        {1, 0, "{'descr': '<c16', 'fortran_order': False, 'shape': (2, 3), }", 96, HJ_EFORMAT,
         "unsupported .npy dtype"},
        {1, 0, "{'descr': '<u4', 'fortran_order': False, 'shape': (2, 3), }", 24, HJ_EFORMAT,
         "unsupported .npy dtype"},
        {1, 0, "{'descr': '|f8', 'fortran_order': False, 'shape': (2, 3), }", 48, HJ_EFORMAT,
         "unsupported .npy dtype"},
        {1, 0, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", 16,
         HJ_EFORMAT, "structured"},
        {1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", 0, HJ_EFORMAT,
         "bad.npy: empty array"},
        {1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }", 0, HJ_EFORMAT,
         "empty array"},
        {1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 4), }", 192, HJ_EFORMAT,
         "3-dimensional"},
        {1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8, HJ_EFORMAT,
         "0-dimensional"},
        {1, 0, "{'descr': '<f8', 'shape': (2, 3), }", 48, HJ_EFORMAT, "lacks 'fortran_order'"},
        {1, 0, "{'descr': '<f8', 'fortran_order': False}", 48, HJ_EFORMAT, "lacks 'shape'"},
        {1, 0, "{'fortran_order': False, 'shape': (2, 3)}", 48, HJ_EFORMAT, "lacks 'descr'"},
        {1, 0, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}", 48,
         HJ_EFORMAT, "duplicate key"},
        {1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", 48,
         HJ_EFORMAT, "unexpected key 'x'"},
        {1, 0, "{'descr': '<f8', 'fortran_order': maybe, 'shape': (2, 3)}", 48, HJ_EFORMAT,
         "True or False"},
        {1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3)}", 48, HJ_EFORMAT,
         "bad.npy: bad .npy header"},
        {1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)} x", 48, HJ_EFORMAT,
         "after the dict"},
        {1, 0, "{'descr': '<f8' 'fortran_order': False, 'shape': (2, 3)}", 48, HJ_EFORMAT,
         "expected ',' or '}'"},
        {1, 0, "{'descr: '<f8', 'fortran_order': False, 'shape': (2, 3)}", 48, HJ_EFORMAT,
         "bad .npy header"},
        {1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999, 3)}",
         48, HJ_EFORMAT, "dimension too large"},
        {1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4)}", 48,
         HJ_EFORMAT, "too large"},
        {1, 0, "['descr', '<f8']", 48, HJ_EFORMAT, "expected '{'"},
    };
    unsigned char zeros[256] = {0};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        size_t len;
        unsigned char *img = build_npy(cases[t].major, cases[t].dict, zeros, cases[t].dlen, &len);
        img[7] = (unsigned char)cases[t].minor;
        hj_matrix m;
        hj_error e = {0};
        hj_status st = parse_npy(img, len, "bad.npy", &m, &e);
        if (st != cases[t].code || strstr(e.msg, cases[t].msg) == NULL ||
            strstr(e.msg, "bad.npy") == NULL)
            fail_msg("case %zu: expected status %d with \"%s\"; got %d: \"%s\"", t,
                     (int)cases[t].code, cases[t].msg, (int)st, e.msg);
        assert_zeroed(&m);
        free(img);
    }

    /* Non-finite payloads: NaN in <f8, +Inf in >f4 (at row 1, col 2). */
    unsigned char raw[48] = {0};
    put_bytes(raw + 8 * 4, 0x7FF8000000000000ull, 8, 0);
    size_t len;
    unsigned char *img = build_npy(1, good, raw, 48, &len);
    hj_matrix m;
    hj_error e = {0};
    assert_failure(parse_npy(img, len, "bad.npy", &m, &e), &e, HJ_ENAN,
                   "bad.npy: element [1, 1] (0-based) is NaN");
    free(img);
    memset(raw, 0, sizeof raw);
    put_bytes(raw + 4 * 5, 0x7F800000u, 4, 1);
    img = build_npy(2, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3)}", raw, 24,
                    &len);
    assert_failure(parse_npy(img, len, "bad.npy", &m, &e), &e, HJ_ENAN, "[1, 2] (0-based) is inf");
    free(img);

    /* Bad magic, announced header longer than the file, tiny files. */
    img = build_npy(1, good, zeros, 48, &len);
    unsigned char h8 = img[8], h9 = img[9];
    img[1] = 'n';
    assert_failure(parse_npy(img, len, "bad.npy", &m, &e), &e, HJ_EFORMAT, "bad.npy: not a .npy");
    img[1] = 'N';
    img[8] = 0xff;
    img[9] = 0xff;
    assert_failure(parse_npy(img, len, "bad.npy", &m, &e), &e, HJ_EFORMAT,
                   "bad.npy: truncated .npy header");
    img[8] = h8; /* a valid length again: every proper prefix must fail */
    img[9] = h9;
    assert_int_equal(parse_npy(img, len, "bad.npy", &m, &e), HJ_OK);
    hj_matrix_free(&m);
    for (size_t cut = 0; cut < len; cut++) {
        hj_status st = parse_npy(img, cut, "bad.npy", &m, &e);
        if (st != HJ_EFORMAT)
            fail_msg("prefix of %zu bytes: status %d (%s)", cut, (int)st, e.msg);
        assert_zeroed(&m);
    }
    free(img);
    assert_int_equal(hj_npy_parse(NULL, 4, "n.npy", &m, NULL), HJ_EINVAL);
}

static void npy_round_trip_should_be_bit_exact_and_match_the_format(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.npy", dir);
    hj_matrix m, r;
    hj_error e = {0};
    assert_int_equal(hj_matrix_alloc(&m, 50, 7, &e), HJ_OK);
    fill_awkward(&m, 5);
    assert_int_equal(hj_npy_write(path, &m, &e), HJ_OK);

    /* The bytes on disk, checked against the format by hand. */
    size_t len;
    unsigned char *b = slurp(path, &len);
    assert_true(len > 10);
    assert_memory_equal(b, "\x93NUMPY\x01\x00", 8);
    size_t hlen = (size_t)b[8] | (size_t)b[9] << 8;
    assert_int_equal((10 + hlen) % 64, 0);
    assert_int_equal(len, 10 + hlen + 50 * 7 * 8);
    assert_int_equal(b[10 + hlen - 1], '\n');
    char *hdr = dup_exact(b + 10, hlen);
    hdr[hlen - 1] = '\0';
    assert_non_null(strstr(hdr, "'descr': '<f8'"));
    assert_non_null(strstr(hdr, "'fortran_order': False"));
    assert_non_null(strstr(hdr, "'shape': (50, 7)"));
    free(hdr);
    unsigned char want[8];
    for (size_t k = 0; k < 50 * 7; k++) {
        put_bytes(want, double_to_bits(m.data[k]), 8, 0);
        assert_memory_equal(b + 10 + hlen + 8 * k, want, 8);
    }
    free(b);

    assert_int_equal(hj_npy_read(path, &r, &e), HJ_OK);
    assert_same_bits(&m, &r);
    assert_null(r.names);
    hj_matrix_free(&r);
    hj_matrix_free(&m);
    rm_tree(dir);
}

/* ---- files, dispatch and atomic writes ------------------------------------ */

static void read_should_report_missing_files_with_strerror(void **state)
{
    (void)state;
    char dir[64], path[128], want[256];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/data.csv", dir);
    snprintf(want, sizeof want, "%s: %s", path, strerror(ENOENT));
    hj_matrix m;
    hj_error e = {0};
    assert_int_equal(hj_csv_read(path, &m, &e), HJ_EIO);
    assert_string_equal(e.msg, want);
    assert_zeroed(&m);
    snprintf(path, sizeof path, "%s/data.npy", dir);
    snprintf(want, sizeof want, "%s: %s", path, strerror(ENOENT));
    assert_int_equal(hj_matrix_read(path, &m, &e), HJ_EIO);
    assert_string_equal(e.msg, want);
    /* A directory is not a readable file either. */
    assert_int_equal(hj_csv_read(dir, &m, &e), HJ_EIO);
    assert_non_null(strstr(e.msg, dir));
    rm_tree(dir);
}

static void write_should_leave_nothing_behind_on_failure(void **state)
{
    (void)state;
    char dir[64], path[160], sub[128];
    make_tmpdir(dir, sizeof dir);
    hj_matrix m;
    hj_error e = {0};
    assert_int_equal(hj_matrix_alloc(&m, 2, 2, &e), HJ_OK);
    m.data[0] = 1.0;
    const char *exts[] = {"csv", "npy"};
    for (size_t x = 0; x < 2; x++) {
        /* Target directory does not exist. */
        snprintf(path, sizeof path, "%s/missing/out.%s", dir, exts[x]);
        hj_status st = hj_matrix_write(path, &m, NULL, &e);
        assert_failure(st, &e, HJ_EIO, path);
        assert_int_equal(count_entries(dir), 0);

        /* The target is a directory: refused before any temporary file is
         * made (the output-path policy, data.h), the directory untouched. */
        snprintf(sub, sizeof sub, "%s/sub", dir);
        assert_int_equal(mkdir(sub, 0755), 0);
        snprintf(path, sizeof path, "%s/out.%s", sub, exts[x]);
        assert_int_equal(mkdir(path, 0755), 0);
        st = hj_matrix_write(path, &m, NULL, &e);
        assert_failure(st, &e, HJ_EINVAL, path);
        assert_non_null(strstr(e.msg, "is a directory; refusing to replace it"));
        assert_int_equal(count_entries(sub), 1);
        rm_tree(sub);

        /* A failed write (NaN) keeps the old file and adds nothing. */
        snprintf(path, sizeof path, "%s/keep.%s", dir, exts[x]);
        assert_int_equal(hj_matrix_write(path, &m, NULL, &e), HJ_OK);
        m.data[3] = NAN;
        assert_failure(hj_matrix_write(path, &m, NULL, &e), &e, HJ_ENAN, path);
        m.data[3] = 0.0;
        assert_int_equal(count_entries(dir), 1);
        hj_matrix r;
        assert_int_equal(hj_matrix_read(path, &r, &e), HJ_OK);
        assert_same_bits(&m, &r);
        hj_matrix_free(&r);
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0644);
        unlink(path);
    }
    /* A stream that fails (full device) is reported, not ignored. */
    FILE *full = fopen("/dev/full", "w");
    if (full != NULL) {
        assert_failure(hj_csv_write_stream(full, &m, NULL, &e), &e, HJ_EIO, "write error");
        fclose(full);
    }
    /* Empty matrices and unwritable names are refused before any file. */
    snprintf(path, sizeof path, "%s/x.csv", dir);
    const char *bad_names[2] = {"a", "b\nc"};
    assert_int_equal(hj_csv_write(path, &m, bad_names, &e), HJ_EINVAL);
    hj_matrix empty = {0, 2, m.data, NULL};
    assert_int_equal(hj_csv_write(path, &empty, NULL, &e), HJ_EINVAL);
    assert_int_equal(hj_npy_write(path, &empty, &e), HJ_EINVAL);
    assert_int_equal(count_entries(dir), 0);
    hj_matrix_free(&m);
    rm_tree(dir);
}

static void matrix_write_should_dispatch_by_extension_and_replace(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    hj_matrix m, r;
    hj_error e = {0};
    assert_int_equal(hj_matrix_alloc(&m, 3, 2, &e), HJ_OK);
    fill_awkward(&m, 11);
    const char *names[2] = {"p", "q"};
    const char *files[] = {"a.npy", "b.NPY", "c.csv", "d.txt"};
    for (size_t t = 0; t < 4; t++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[t]);
        /* write twice: the second replaces the first atomically */
        m.data[0] = 1.0;
        assert_int_equal(hj_matrix_write(path, &m, names, &e), HJ_OK);
        m.data[0] = 0.1;
        assert_int_equal(hj_matrix_write(path, &m, names, &e), HJ_OK);
        size_t len;
        unsigned char *b = slurp(path, &len);
        if (t < 2)
            assert_memory_equal(b, "\x93NUMPY", 6);
        else
            assert_memory_equal(b, "p,q\n", 4);
        free(b);
        assert_int_equal(hj_matrix_read(path, &r, &e), HJ_OK);
        assert_same_bits(&m, &r);
        if (t >= 2)
            assert_string_equal(r.names[1], "q");
        hj_matrix_free(&r);
    }
    assert_int_equal(count_entries(dir), 4);
    hj_matrix_free(&m);
    rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matrix_alloc_should_zero_and_guard_overflow),
        cmocka_unit_test(csv_round_trip_should_be_bit_exact),
        cmocka_unit_test(csv_parse_should_recover_generated_values),
        cmocka_unit_test(csv_parse_should_accept_crlf_quotes_bom_and_trailing_blank_lines),
        cmocka_unit_test(csv_parse_should_reject_bad_input_naming_file_and_line),
        cmocka_unit_test(csv_parse_should_handle_wide_rows),
        cmocka_unit_test(csv_should_ignore_the_callers_numeric_locale),
        cmocka_unit_test(npy_parse_should_read_every_dtype_order_version_and_spelling),
        cmocka_unit_test(npy_parse_should_reject_bad_files),
        cmocka_unit_test(npy_round_trip_should_be_bit_exact_and_match_the_format),
        cmocka_unit_test(read_should_report_missing_files_with_strerror),
        cmocka_unit_test(write_should_leave_nothing_behind_on_failure),
        cmocka_unit_test(matrix_write_should_dispatch_by_extension_and_replace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
