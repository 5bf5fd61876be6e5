/* test_modelfile.c — .hjm model files: bit-exact round trips, atomic writes and refusal of every corruption. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "hjdl/model.h"

/* ---- helpers ------------------------------------------------------------ */

typedef struct fixture {
    char dir[64]; /* scratch directory */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    strcpy(f->dir, "/tmp/hjdl-test-modelfile-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    DIR *d = opendir(f->dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void path_in(const fixture *f, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", f->dir, name);
}

/* Names in the scratch directory, joined with '|' (sorted order not needed:
 * the tests look for one name and for any temp file). */
static int dir_entries(const fixture *f, char *out, size_t len)
{
    out[0] = '\0';
    int n = 0;
    DIR *d = opendir(f->dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        strncat(out, e->d_name, len - strlen(out) - 1);
        strncat(out, "|", len - strlen(out) - 1);
        n++;
    }
    closedir(d);
    return n;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t cap = 1024, n = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    size_t got;
    while ((got = fread(b + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap);
            assert_non_null(b);
        }
    }
    fclose(fp);
    *len = n;
    return b;
}

/* Independent parameter count of an architecture given as layer lists. */
typedef struct lspec {
    const char *kind;
    size_t width;
} lspec;

static size_t count_params(const lspec *L, size_t nl, size_t d_in, size_t classes, int oscale)
{
    size_t in = d_in, total = 0;
    for (size_t i = 0; i < nl; i++) {
        size_t w = L[i].width;
        if (strcmp(L[i].kind, "dense") == 0) {
            total += w * in + w;
            in = w;
        } else if (strcmp(L[i].kind, "resnet") == 0) {
            total += w * w + w;
        } else if (strcmp(L[i].kind, "gibbs") == 0) {
            total += w * in + w + w * in; /* K, beta, V */
        } else if (strcmp(L[i].kind, "lse") == 0) {
            total += w * in + w;
        } else { /* lse-class */
            total += classes * w * in + classes * w;
        }
    }
    return total + (oscale ? 2 : 0);
}

/* Awkward values for bit-exact round trips. */
static double special(size_t i)
{
    switch (i % 12) {
    case 0: return 0.1;
    case 1: return 1e-300;
    case 2: return -1e300;
    case 3: return 1.0 / 3.0;
    case 4: return -0.0;
    case 5: return nextafter(0.0, 1.0); /* smallest subnormal */
    case 6: return DBL_MAX;
    case 7: return -DBL_MIN;
    case 8: return nextafter(1.0, 2.0);
    case 9: return 4.0 * atan(1.0);
    case 10: return -2.5e-310;
    default: return sin((double)i) * 1e5;
    }
}

static void fill(double *p, size_t n, size_t shift)
{
    for (size_t i = 0; i < n; i++)
        p[i] = special(i + shift);
}

static double *dup_special(size_t n, size_t shift, int positive)
{
    double *a = malloc(n * sizeof *a);
    assert_non_null(a);
    fill(a, n, shift);
    if (positive)
        for (size_t i = 0; i < n; i++)
            a[i] = fabs(a[i]) + 0.5; /* scales must be > 0 */
    return a;
}

static void make_model(hj_model *m, const char *spec, size_t d_in, size_t classes, int oscale,
                       double eps, double t)
{
    hj_arch a;
    hj_error e = {0};
    assert_int_equal(hj_arch_parse(spec, d_in, classes, oscale, &a, &e), HJ_OK);
    assert_int_equal(hj_model_init(m, &a, eps, t, 42, &e), HJ_OK);
    fill(m->params, a.n_params, 0);
}

static void assert_zeroed(const hj_model *m)
{
    static const hj_model zero;
    assert_memory_equal(m, &zero, sizeof zero);
}

static void assert_same_model(const hj_model *a, const hj_model *b)
{
    assert_int_equal(a->arch.n_layers, b->arch.n_layers);
    assert_int_equal(a->arch.d_in, b->arch.d_in);
    assert_int_equal(a->arch.n_classes, b->arch.n_classes);
    assert_int_equal(a->arch.output_scale, b->arch.output_scale);
    assert_int_equal(a->arch.n_params, b->arch.n_params);
    for (size_t l = 0; l < a->arch.n_layers; l++) {
        const hj_layer *x = &a->arch.layers[l], *y = &b->arch.layers[l];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->width, y->width);
        assert_int_equal(x->in, y->in);
        assert_int_equal(x->out, y->out);
        assert_int_equal(x->offset, y->offset);
        assert_int_equal(x->count, y->count);
    }
    assert_memory_equal(&a->eps, &b->eps, sizeof a->eps);
    assert_memory_equal(&a->t, &b->t, sizeof a->t);
    assert_memory_equal(a->params, b->params, a->arch.n_params * sizeof(double));
    assert_int_equal(a->pre.kind, b->pre.kind);
    assert_int_equal(a->pre.d_raw, b->pre.d_raw);
    assert_int_equal(a->pre.d_out, b->pre.d_out);
    if (a->pre.kind != HJ_PRE_NONE) {
        assert_memory_equal(a->pre.mean, b->pre.mean, a->pre.d_raw * sizeof(double));
        assert_memory_equal(a->pre.scale, b->pre.scale, a->pre.d_out * sizeof(double));
    } else {
        assert_null(b->pre.mean);
        assert_null(b->pre.scale);
    }
    if (a->pre.kind == HJ_PRE_PCA)
        assert_memory_equal(a->pre.components, b->pre.components,
                            a->pre.d_out * a->pre.d_raw * sizeof(double));
    else
        assert_null(b->pre.components);
}

/* Line k (1-based) of buf as a fresh string, or NULL. */
static char *get_line(const char *buf, size_t len, size_t k)
{
    size_t line = 1, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || buf[i] == '\n') {
            if (line == k) {
                char *s = malloc(i - start + 1);
                memcpy(s, buf + start, i - start);
                s[i - start] = '\0';
                return s;
            }
            line++;
            start = i + 1;
        }
    }
    return NULL;
}

static void assert_line(const char *buf, size_t len, size_t k, const char *want)
{
    char *l = get_line(buf, len, k);
    assert_non_null(l);
    assert_string_equal(l, want);
    free(l);
}

static size_t count_newlines(const char *buf, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += buf[i] == '\n';
    return n;
}

/* Offset of the final "crc32 " line (the file ends "crc32 XXXXXXXX\n"). */
static size_t crc_offset(const char *buf, size_t len)
{
    assert_true(len >= 15);
    assert_memory_equal(buf + len - 15, "crc32 ", 6);
    return len - 15;
}

/* The file with line k replaced by `text` (NULL: deleted); when fix_crc,
 * the crc32 line is recomputed with zlib so only the structure is wrong. */
static char *edit(const char *buf, size_t len, size_t k, const char *text, int fix_crc, size_t *outlen)
{
    size_t body = fix_crc ? crc_offset(buf, len) : len;
    char *out = malloc(len + (text ? strlen(text) : 0) + 64);
    assert_non_null(out);
    size_t n = 0, line = 1, start = 0;
    for (size_t i = 0; i < body; i++) {
        if (buf[i] != '\n')
            continue;
        if (line == k) {
            if (text != NULL) {
                memcpy(out + n, text, strlen(text));
                n += strlen(text);
                out[n++] = '\n';
            }
        } else {
            memcpy(out + n, buf + start, i + 1 - start);
            n += i + 1 - start;
        }
        line++;
        start = i + 1;
    }
    memcpy(out + n, buf + start, body - start);
    n += body - start;
    if (fix_crc) {
        uLong c = crc32(0L, (const Bytef *)out, (uInt)n);
        n += (size_t)sprintf(out + n, "crc32 %08lx\n", c & 0xffffffffUL);
    }
    *outlen = n;
    return out;
}

/* Parse an exact-size copy (no NUL after it) and expect a refusal with
 * `code` whose message starts "NAME:LINE: " (line 0: any) and contains
 * `needle`. Checks *m is left zeroed. */
static void expect_refused(const char *buf, size_t len, hj_status code, size_t line, const char *needle)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, buf, len);
    hj_model m;
    memset(&m, 0xab, sizeof m);
    hj_error e = {0};
    hj_status st = hj_model_parse(&m, copy, len, "x.hjm", &e);
    free(copy);
    if (st == HJ_OK || (code != HJ_OK && st != code) || (needle && strstr(e.msg, needle) == NULL)) {
        print_error("status %d, message '%s'; wanted status %d with '%s'\n", (int)st, e.msg, (int)code,
                    needle ? needle : "");
        if (st == HJ_OK)
            hj_model_free(&m);
        fail();
    }
    assert_int_equal(e.code, st);
    if (line > 0) {
        char head[64];
        snprintf(head, sizeof head, "x.hjm:%zu: ", line);
        if (strncmp(e.msg, head, strlen(head)) != 0) {
            print_error("message '%s' should start with '%s'\n", e.msg, head);
            fail();
        }
    } else {
        assert_true(strncmp(e.msg, "x.hjm:", 6) == 0);
    }
    assert_zeroed(&m);
}

static void expect_ok(const char *buf, size_t len, hj_model *out)
{
    char *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, buf, len);
    hj_error e = {0};
    hj_status st = hj_model_parse(out, copy, len, "x.hjm", &e);
    free(copy);
    if (st != HJ_OK) {
        print_error("unexpected refusal: %s\n", e.msg);
        fail();
    }
}

static const lspec REG[] = {{"dense", 5}, {"resnet", 5}, {"gibbs", 3}, {"lse", 4}};
#define REG_SPEC "dense:5,resnet:5,gibbs:3,lse:4"

/* Save the regression model used by the corruption tests; return its bytes. */
static char *saved_regression(const fixture *f, hj_model *m, size_t *len)
{
    make_model(m, REG_SPEC, 3, 0, 0, 0.35, 1.5);
    char path[256];
    path_in(f, "reg.hjm", path, sizeof path);
    hj_error e = {0};
    assert_int_equal(hj_model_save(m, path, &e), HJ_OK);
    return read_all(path, len);
}

/* ---- round trips -------------------------------------------------------- */

static void regression_model_round_trips_bit_exact(void **state)
{
    fixture *f = *state;
    hj_model m, back;
    size_t len;
    char *buf = saved_regression(f, &m, &len);
    size_t np = count_params(REG, 4, 3, 0, 0);
    assert_int_equal(m.arch.n_params, np);

    /* the text, read independently of the parser */
    char *l;
    assert_line(buf, len, 1, "HJDL-MODEL 2");
    assert_line(buf, len, 2, "arch " REG_SPEC);
    assert_line(buf, len, 3, "d_in 3");
    assert_line(buf, len, 4, "classes 0");
    assert_line(buf, len, 5, "output_scale 0");
    assert_line(buf, len, 8, "preprocess none");
    char want[64];
    snprintf(want, sizeof want, "params %zu", np);
    assert_line(buf, len, 9, want);
    l = get_line(buf, len, 6);
    assert_true(strncmp(l, "eps ", 4) == 0 && strtod(l + 4, NULL) == 0.35);
    free(l);
    for (size_t i = 0; i < np; i++) {
        l = get_line(buf, len, 10 + i);
        double v = strtod(l, NULL), w = special(i);
        assert_memory_equal(&v, &w, sizeof v);
        free(l);
    }
    /* format 2: the metadata block of a model without names (no target scaling) */
    static const char *const meta[] = {"target_shift 0", "target_scale 1", "target_name 0",
                                       "feature_names 0", "class_labels 0", "eps_curve 0"};
    for (size_t k = 0; k < 6; k++)
        assert_line(buf, len, 10 + np + k, meta[k]);
    assert_int_equal(count_newlines(buf, len), 9 + np + 6 + 1);
    size_t at = crc_offset(buf, len);
    snprintf(want, sizeof want, "crc32 %08lx", crc32(0L, (const Bytef *)buf, (uInt)at) & 0xffffffffUL);
    assert_line(buf, len, 10 + np + 6, want);

    char path[256];
    path_in(f, "reg.hjm", path, sizeof path);
    hj_error e = {0};
    memset(&back, 0xab, sizeof back);
    assert_int_equal(hj_model_load(&back, path, &e), HJ_OK);
    assert_same_model(&m, &back);
    assert_int_equal(back.pre.kind, HJ_PRE_NONE);
    assert_int_equal(back.pre.d_raw, 3);
    assert_int_equal(back.pre.d_out, 3);
    hj_model_free(&back);

    /* the buffer entry point on an exact-size copy (no NUL terminator) */
    expect_ok(buf, len, &back);
    assert_same_model(&m, &back);
    hj_model_free(&back);
    /* the final newline is optional */
    expect_ok(buf, len - 1, &back);
    assert_same_model(&m, &back);
    hj_model_free(&back);
    free(buf);
    hj_model_free(&m);
}

static void classifier_with_pca_round_trips_bit_exact(void **state)
{
    fixture *f = *state;
    hj_model m, back;
    static const lspec L[] = {{"dense", 4}, {"lse-class", 3}};
    make_model(&m, "dense:4,lse-class:3", 3, 4, 0, 0.0, 0.5);
    assert_int_equal(m.arch.n_params, count_params(L, 2, 3, 4, 0));
    m.pre.kind = HJ_PRE_PCA;
    m.pre.d_raw = 5;
    m.pre.d_out = 3;
    m.pre.mean = dup_special(5, 3, 0);
    m.pre.scale = dup_special(3, 5, 1);
    m.pre.components = dup_special(15, 7, 0);
    char path[256];
    path_in(f, "cls.hjm", path, sizeof path);
    hj_error e = {0};
    assert_int_equal(hj_model_save(&m, path, &e), HJ_OK);

    size_t len;
    char *buf = read_all(path, &len);
    char *l;
    assert_line(buf, len, 4, "classes 4");
    assert_line(buf, len, 8, "preprocess pca");
    assert_line(buf, len, 9, "d_raw 5");
    assert_line(buf, len, 10, "d_out 3");
    /* components: 15 values separated by single spaces, each exact */
    l = get_line(buf, len, 13);
    assert_true(strncmp(l, "components ", 11) == 0);
    char *s = l + 11;
    for (size_t i = 0; i < 15; i++) {
        char *end;
        double v = strtod(s, &end), w = m.pre.components[i];
        assert_memory_equal(&v, &w, sizeof v);
        assert_true(*end == (i + 1 < 15 ? ' ' : '\0'));
        s = end;
    }
    free(l);

    memset(&back, 0, sizeof back);
    assert_int_equal(hj_model_load(&back, path, &e), HJ_OK);
    assert_same_model(&m, &back);
    hj_model_free(&back);

    /* NaN in the preprocessing is refused too (CRC fixed so it is the value) */
    size_t n2;
    char *bad = edit(buf, len, 12, "scale 1 nan 2", 1, &n2);
    expect_refused(bad, n2, HJ_ENAN, 12, "value 2 of scale is NaN");
    free(bad);
    bad = edit(buf, len, 12, "scale 1 0 2", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 12, "scale");
    free(bad);
    bad = edit(buf, len, 12, "scale 1 2", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 12, "expected 3 values, found 2");
    free(bad);
    bad = edit(buf, len, 12, "scale 1 2 3 4", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 12, "more than 3 values");
    free(bad);
    bad = edit(buf, len, 12, "scale 1  2", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 12, NULL);
    free(bad);
    bad = edit(buf, len, 10, "d_out 2", 1, &n2); /* the model takes 3 inputs */
    expect_refused(bad, n2, HJ_EFORMAT, 10, "d_in 3");
    free(bad);
    bad = edit(buf, len, 13, NULL, 1, &n2); /* pca without components */
    expect_refused(bad, n2, HJ_EFORMAT, 13, "expected 'components");
    free(bad);
    free(buf);
    hj_model_free(&m);
}

static void output_scale_with_standardisation_round_trips_bit_exact(void **state)
{
    fixture *f = *state;
    hj_model m, back;
    static const lspec L[] = {{"lse", 6}};
    make_model(&m, "lse:6", 2, 0, 1, 1e-3, 2.75);
    size_t np = count_params(L, 1, 2, 0, 1);
    assert_int_equal(m.arch.n_params, np);
    m.params[np - 2] = -1e300; /* a */
    m.params[np - 1] = 1.0 / 3.0; /* c */
    m.pre.kind = HJ_PRE_STANDARDIZE;
    m.pre.d_raw = m.pre.d_out = 2;
    m.pre.mean = dup_special(2, 1, 0);
    m.pre.scale = dup_special(2, 9, 1);
    char path[256];
    path_in(f, "os.hjm", path, sizeof path);
    hj_error e = {0};
    assert_int_equal(hj_model_save(&m, path, &e), HJ_OK);
    assert_int_equal(hj_model_load(&back, path, &e), HJ_OK);
    assert_same_model(&m, &back);
    assert_true(back.arch.output_scale);
    hj_model_free(&back);

    /* output_scale must be 0 or 1, and the arch must account for it */
    size_t len, n2;
    char *buf = read_all(path, &len);
    char *bad = edit(buf, len, 5, "output_scale 2", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 5, "output_scale 2 exceeds");
    free(bad);
    bad = edit(buf, len, 5, "output_scale 0", 1, &n2);
    char want[64];
    snprintf(want, sizeof want, "has %zu parameters", np - 2);
    expect_refused(bad, n2, HJ_EFORMAT, 0, want);
    free(bad);
    free(buf);
    hj_model_free(&m);
}

/* ---- atomic writes ------------------------------------------------------ */

static void save_is_atomic_and_leaves_no_temp_file(void **state)
{
    fixture *f = *state;
    hj_model a, b, back;
    make_model(&a, "lse:3", 2, 0, 0, 0.5, 1.0);
    make_model(&b, "lse:3", 2, 0, 0, 0.25, 1.0);
    fill(b.params, b.arch.n_params, 5);
    char path[256], names[1024];
    path_in(f, "m.hjm", path, sizeof path);
    hj_error e = {0};
    assert_int_equal(hj_model_save(&a, path, &e), HJ_OK);
    assert_int_equal(dir_entries(f, names, sizeof names), 1);
    assert_string_equal(names, "m.hjm|");
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);

    /* overwriting replaces the content, still one file */
    assert_int_equal(hj_model_save(&b, path, &e), HJ_OK);
    assert_int_equal(dir_entries(f, names, sizeof names), 1);
    assert_int_equal(hj_model_load(&back, path, &e), HJ_OK);
    assert_same_model(&b, &back);
    hj_model_free(&back);

    /* a missing directory: HJ_EIO naming the path, nothing created */
    char nodir[256], target[300];
    path_in(f, "no-such-dir", nodir, sizeof nodir);
    snprintf(target, sizeof target, "%s/m.hjm", nodir);
    hj_error_clear(&e);
    assert_int_equal(hj_model_save(&a, target, &e), HJ_EIO);
    assert_non_null(strstr(e.msg, target));
    assert_int_equal(stat(nodir, &sb), -1);
    assert_int_equal(stat(target, &sb), -1);
    assert_int_equal(dir_entries(f, names, sizeof names), 1);

    /* a model that could not be loaded back is not written at all */
    char p2[256];
    path_in(f, "nan.hjm", p2, sizeof p2);
    a.params[1] = NAN;
    assert_int_equal(hj_model_save(&a, p2, &e), HJ_ENAN);
    assert_non_null(strstr(e.msg, "parameter 2"));
    a.params[1] = INFINITY;
    assert_int_equal(hj_model_save(&a, p2, &e), HJ_ENAN);
    a.params[1] = 0.0;
    a.eps = -1.0;
    assert_int_equal(hj_model_save(&a, p2, &e), HJ_EINVAL);
    a.eps = 0.5;
    a.t = 0.0;
    assert_int_equal(hj_model_save(&a, p2, &e), HJ_EINVAL);
    assert_int_equal(stat(p2, &sb), -1);
    assert_int_equal(dir_entries(f, names, sizeof names), 1);
    hj_model_free(&a);
    hj_model_free(&b);
}

static void loading_a_missing_file_is_an_io_error_naming_it(void **state)
{
    fixture *f = *state;
    char path[256];
    path_in(f, "absent.hjm", path, sizeof path);
    hj_model m;
    memset(&m, 0xab, sizeof m);
    hj_error e = {0};
    assert_int_equal(hj_model_load(&m, path, &e), HJ_EIO);
    assert_int_equal(e.code, HJ_EIO);
    assert_non_null(strstr(e.msg, path));
    assert_zeroed(&m);
}

/* ---- corruption --------------------------------------------------------- */

static void any_flipped_byte_is_refused_and_body_flips_fail_the_checksum(void **state)
{
    fixture *f = *state;
    hj_model m;
    size_t len;
    char *buf = saved_regression(f, &m, &len);
    size_t at = crc_offset(buf, len);
    size_t crc_line = count_newlines(buf, at) + 1;
    static const unsigned char masks[] = {0x01, 0x20, 0x80, 0xff};
    char *copy = malloc(len);
    for (size_t pos = 0; pos < len; pos++)
        for (size_t k = 0; k < sizeof masks; k++) {
            memcpy(copy, buf, len);
            copy[pos] = (char)(copy[pos] ^ masks[k]);
            /* the body: after the magic, before the crc line (named by its
             * line number in the damaged file: a flipped '\n' shifts it) */
            if (pos >= strlen("HJDL-MODEL 1") && pos < at)
                expect_refused(copy, len, HJ_EFORMAT, count_newlines(copy, at) + 1,
                               "checksum mismatch: the file is corrupted");
            else
                expect_refused(copy, len, HJ_OK /* any code */, 0, NULL);
        }
    /* another valid hex digit in the stored checksum: a mismatch too */
    memcpy(copy, buf, len);
    copy[at + 6] = copy[at + 6] == '0' ? '1' : '0';
    expect_refused(copy, len, HJ_EFORMAT, crc_line, "checksum mismatch");
    free(copy);
    free(buf);
    hj_model_free(&m);
}

static void truncation_at_every_offset_names_the_line(void **state)
{
    fixture *f = *state;
    hj_model m;
    size_t len;
    char *buf = saved_regression(f, &m, &len);
    for (size_t cut = 0; cut + 1 < len; cut++) {
        size_t line = count_newlines(buf, cut) + 1;
        char want[64];
        snprintf(want, sizeof want, "truncated at line %zu", line);
        expect_refused(buf, cut, HJ_EFORMAT, line, want);
    }
    free(buf);
    hj_model_free(&m);

    /* the long preprocessing lines of a PCA model too */
    hj_model p;
    make_model(&p, "lse:2", 2, 0, 0, 0.1, 1.0);
    p.pre.kind = HJ_PRE_PCA;
    p.pre.d_raw = 4;
    p.pre.d_out = 2;
    p.pre.mean = dup_special(4, 0, 0);
    p.pre.scale = dup_special(2, 0, 1);
    p.pre.components = dup_special(8, 0, 0);
    char path[256];
    path_in(f, "pca.hjm", path, sizeof path);
    hj_error e = {0};
    assert_int_equal(hj_model_save(&p, path, &e), HJ_OK);
    buf = read_all(path, &len);
    for (size_t cut = 0; cut + 1 < len; cut += 3) {
        size_t line = count_newlines(buf, cut) + 1;
        char want[64];
        snprintf(want, sizeof want, "truncated at line %zu", line);
        expect_refused(buf, cut, HJ_EFORMAT, line, want);
    }
    free(buf);
    hj_model_free(&p);
}

/* A format-1 file (no metadata block) is still read: the same parameters,
 * no names, no target scaling. Built from a format-2 save by hand: line 1
 * rewritten, the 6 metadata lines dropped, the checksum recomputed. */
static void format_1_files_are_still_read(void **state)
{
    fixture *f = *state;
    hj_model m, back;
    size_t len;
    char *buf = saved_regression(f, &m, &len);
    const size_t np = m.arch.n_params, keep_lines = 9 + np;
    size_t cut = 0;
    for (size_t k = 0; k < keep_lines; k++)
        cut = (size_t)((const char *)memchr(buf + cut, '\n', len - cut) - buf) + 1;
    char *v1 = malloc(cut + 32);
    assert_non_null(v1);
    memcpy(v1, buf, cut);
    v1[strlen("HJDL-MODEL ")] = '1';
    int k = snprintf(v1 + cut, 32, "crc32 %08lx\n", crc32(0L, (const Bytef *)v1, (uInt)cut) & 0xffffffffUL);
    hj_error e = {0};
    assert_int_equal(hj_model_parse(&back, v1, cut + (size_t)k, "v1.hjm", &e), HJ_OK);
    assert_int_equal(back.arch.n_params, np);
    assert_memory_equal(back.params, m.params, np * sizeof *m.params);
    assert_null(back.feature_names);
    assert_null(back.target_name);
    assert_true(back.y_shift == 0.0 && back.y_scale == 1.0);
    hj_model_free(&back);
    hj_model_free(&m);
    free(v1);
    free(buf);
}

/* Names, labels, target scaling and the eps curve survive a save and load. */
static void metadata_round_trips(void **state)
{
    fixture *f = *state;
    hj_model m, back;
    make_model(&m, "lse-class:2", 2, 3, 0, 0.35, 1.0);
    const char *feat[] = {"petal width", "x,y"}, *lab[] = {"cat", "dog", "5"};
    hj_error e = {0};
    assert_int_equal(hj_model_set_names(&m, feat, "species", lab, &e), HJ_OK);
    const double grid[] = {0.1, 1.0}, val[] = {0.5, 0.25};
    m.eps_grid = malloc(sizeof grid), m.eps_val_loss = malloc(sizeof val);
    memcpy(m.eps_grid, grid, sizeof grid), memcpy(m.eps_val_loss, val, sizeof val);
    m.n_eps_curve = 2;
    char path[256];
    path_in(f, "meta.hjm", path, sizeof path);
    assert_int_equal(hj_model_save(&m, path, &e), HJ_OK);
    assert_int_equal(hj_model_load(&back, path, &e), HJ_OK);
    assert_string_equal(back.feature_names[0], "petal width");
    assert_string_equal(back.feature_names[1], "x,y");
    assert_string_equal(back.target_name, "species");
    for (size_t c = 0; c < 3; c++)
        assert_string_equal(back.class_labels[c], lab[c]);
    assert_int_equal(back.n_eps_curve, 2);
    assert_true(back.eps_grid[1] == 1.0 && back.eps_val_loss[1] == 0.25);
    hj_model_free(&back);
    /* two equal labels cannot be stored */
    free(m.class_labels[2]);
    m.class_labels[2] = malloc(4);
    strcpy(m.class_labels[2], "cat");
    assert_int_equal(hj_model_save(&m, path, &e), HJ_EINVAL);
    assert_non_null(strstr(e.msg, "both 'cat'"));
    hj_model_free(&m);
}

static void foreign_and_future_files_are_refused_by_their_first_line(void **state)
{
    fixture *f = *state;
    hj_model m;
    size_t len, n2;
    char *buf = saved_regression(f, &m, &len);
    char *bad = edit(buf, len, 1, "HJDL-MODEX 1", 0, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 1, "not an hjdl model file");
    free(bad);
    bad = edit(buf, len, 1, "HJDL-MODEL 4", 0, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 1,
                   "written by a newer hjdl (format 4); this build reads format 3");
    free(bad);
    bad = edit(buf, len, 1, "HJDL-MODEL 4", 1, &n2); /* even with a valid checksum */
    expect_refused(bad, n2, HJ_EFORMAT, 1, "written by a newer hjdl (format 4)");
    free(bad);
    static const char csv[] = "x,y\n1,2\n";
    expect_refused(csv, sizeof csv - 1, HJ_EFORMAT, 1, "not an hjdl model file");
    static const char npy[] = "\x93NUMPY\x01\x00v\x00{'descr': '<f8'}";
    expect_refused(npy, sizeof npy - 1, HJ_EFORMAT, 1, "not an hjdl model file");
    expect_refused("", 0, HJ_EFORMAT, 1, "truncated at line 1");
    free(buf);
    hj_model_free(&m);
}

/* Issue 22: a model whose eps or t would overflow every output is refused
 * at load, naming the parameter and its line (the checksum is valid); the
 * limit itself (HJ_MAX_SCALE = 1e100) loads. */
static void huge_eps_or_t_is_refused_at_load_naming_the_parameter(void **state)
{
    fixture *f = *state;
    hj_model m;
    size_t len, n2;
    char *buf = saved_regression(f, &m, &len);
    assert_line(buf, len, 6, "eps 0.34999999999999998");
    char *bad = edit(buf, len, 6, "eps 1e308", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 6, "model parameter eps = 1e+308 is outside [0, 1e+100]");
    free(bad);
    bad = edit(buf, len, 7, "t 1e308", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 7, "model parameter t = 1e+308 is outside (0, 1e+100]");
    free(bad);
    bad = edit(buf, len, 7, "t 1e100", 1, &n2);
    hj_model ok;
    hj_error e = {0};
    assert_int_equal(hj_model_parse(&ok, bad, n2, "x.hjm", &e), HJ_OK);
    assert_true(ok.t == 1e100);
    hj_model_free(&ok);
    free(bad);
    /* the writer refuses what the reader would */
    m.eps = 1e308;
    char path[256];
    path_in(f, "never.hjm", path, sizeof path);
    assert_int_equal(hj_model_save(&m, path, &e), HJ_EINVAL);
    assert_non_null(strstr(e.msg, "eps must be in [0, 1e+100]"));
    free(buf);
    hj_model_free(&m);
}

static void structural_errors_with_a_valid_checksum_are_refused(void **state)
{
    fixture *f = *state;
    hj_model m;
    size_t len, n2;
    char *buf = saved_regression(f, &m, &len);
    size_t np = count_params(REG, 4, 3, 0, 0);
    char *bad;

    /* arch inconsistent with n_params */
    static const lspec L5[] = {{"dense", 5}, {"resnet", 5}, {"gibbs", 3}, {"lse", 5}};
    char want[128];
    bad = edit(buf, len, 2, "arch dense:5,resnet:5,gibbs:3,lse:5", 1, &n2);
    snprintf(want, sizeof want, "has %zu parameters, but the file says params %zu",
             count_params(L5, 4, 3, 0, 0), np);
    expect_refused(bad, n2, HJ_EFORMAT, 9, want);
    free(bad);
    snprintf(want, sizeof want, "params %zu", np + 1);
    bad = edit(buf, len, 9, want, 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 9, "but the file says params");
    free(bad);
    /* the same arch for another input width */
    bad = edit(buf, len, 3, "d_in 4", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 9, "parameters, but the file says");
    free(bad);
    /* an arch that does not parse: named at its own line */
    bad = edit(buf, len, 2, "arch dense:5,resnet:4,lse:4", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 2, "residual");
    free(bad);
    bad = edit(buf, len, 2, "arch dense:5,lse-class:4", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 2, "arch");
    free(bad);

    /* NaN / infinite / overflowing values */
    bad = edit(buf, len, 12, "nan", 1, &n2);
    expect_refused(bad, n2, HJ_ENAN, 12, "parameter 3 is NaN");
    free(bad);
    bad = edit(buf, len, 10, "-Inf", 1, &n2);
    expect_refused(bad, n2, HJ_ENAN, 10, "parameter 1 is infinite");
    free(bad);
    bad = edit(buf, len, 11, "1e999", 1, &n2);
    expect_refused(bad, n2, HJ_ENAN, 11, "parameter 2");
    free(bad);
    bad = edit(buf, len, 7, "t nan", 1, &n2);
    expect_refused(bad, n2, HJ_ENAN, 7, "t is NaN");
    free(bad);
    bad = edit(buf, len, 11, "0x1p3", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 11, "not a decimal number");
    free(bad);
    bad = edit(buf, len, 11, " 1", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 11, "not a decimal number");
    free(bad);

    /* eps >= 0, t > 0 */
    bad = edit(buf, len, 6, "eps -0.5", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 6, "eps must be >= 0");
    free(bad);
    bad = edit(buf, len, 7, "t 0", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 7, "t must be > 0");
    free(bad);
    bad = edit(buf, len, 6, "eps 0", 1, &n2); /* eps = 0 is legal (max-plus) */
    hj_model ok;
    expect_ok(bad, n2, &ok);
    assert_true(ok.eps == 0.0);
    hj_model_free(&ok);
    free(bad);

    /* keys in order, every key present */
    bad = edit(buf, len, 3, "classes 0", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 3, "expected 'd_in ...', found 'classes 0'");
    free(bad);
    bad = edit(buf, len, 8, NULL, 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 8, "expected 'preprocess");
    free(bad);
    bad = edit(buf, len, 8, "preprocess whiten", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 8, "unknown preprocessing");
    free(bad);
    bad = edit(buf, len, 10, NULL, 1, &n2); /* one parameter line missing */
    expect_refused(bad, n2, HJ_EFORMAT, 0, NULL);
    free(bad);
    bad = edit(buf, len, 3, "d_in -3", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 3, "not a non-negative integer");
    free(bad);

    /* size caps, and counts larger than the file can hold */
    bad = edit(buf, len, 9, "params 5000000000", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 9, "exceeds the limit");
    free(bad);
    bad = edit(buf, len, 3, "d_in 99999999999", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 3, "exceeds the limit");
    free(bad);
    bad = edit(buf, len, 2, "arch lse-class:16777216", 1, &n2);
    char *bad2 = edit(bad, n2, 4, "classes 999999999", 1, &n2);
    expect_refused(bad2, n2, HJ_EFORMAT, 2, "more than");
    free(bad2);
    free(bad);

    /* trailing garbage after the crc line (the crc itself still matches) */
    char *g = malloc(len + 8);
    memcpy(g, buf, len);
    size_t total = count_newlines(buf, len);
    memcpy(g + len, "x", 1);
    expect_refused(g, len + 1, HJ_EFORMAT, total + 1, "trailing garbage");
    memcpy(g + len, "\n", 1);
    expect_refused(g, len + 1, HJ_EFORMAT, total + 1, "trailing garbage");
    memcpy(g + len, "crc32 ", 6);
    expect_refused(g, len + 6, HJ_EFORMAT, total + 1, "trailing garbage");
    free(g);
    free(buf);
    hj_model_free(&m);
}

/* ---- sequence models (format 3) ------------------------------------------ */

/* A sequence model of T steps of d features: parameters and a
 * standardisation of d_raw = T*d inputs filled with the special values. */
static void make_sequence_model(hj_model *m, const char *spec, size_t T, size_t d, size_t classes)
{
    hj_arch a;
    hj_error e = {0};
    assert_int_equal(hj_arch_parse_sequence(spec, T, d, classes, 0, &a, &e), HJ_OK);
    assert_int_equal(a.seq_len, T);
    assert_int_equal(hj_model_init(m, &a, 0.25, 1.0, 7, &e), HJ_OK);
    fill(m->params, a.n_params, 3);
    hj_preprocess_free(&m->pre);
    m->pre.kind = HJ_PRE_STANDARDIZE;
    m->pre.d_raw = m->pre.d_out = T * d;
    m->pre.mean = dup_special(T * d, 1, 0);
    m->pre.scale = dup_special(T * d, 2, 1);
}

static void sequence_models_round_trip_as_format_3_with_a_steps_line(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *spec;
        size_t T, d, classes;
    } cases[] = {
        {"rnn:4,last,lse-class:3", 5, 2, 3},
        {"rnn:3:softplus,lstm:4,mean,dense:3,lse-class:2", 6, 3, 2},
        {"ssm:4,attn:4:2,last,lse:3", 4, 1, 0},
        {"attn:6:3,mean,lse-class:4", 28, 28, 4},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        hj_model m, back;
        make_sequence_model(&m, cases[c].spec, cases[c].T, cases[c].d, cases[c].classes);
        char path[256], want[64];
        path_in(f, "seq.hjm", path, sizeof path);
        hj_error e = {0};
        assert_int_equal(hj_model_save(&m, path, &e), HJ_OK);
        size_t len;
        char *buf = read_all(path, &len);
        assert_line(buf, len, 1, "HJDL-MODEL 3");
        snprintf(want, sizeof want, "arch %s", cases[c].spec);
        assert_line(buf, len, 2, want);
        snprintf(want, sizeof want, "d_in %zu", cases[c].T * cases[c].d);
        assert_line(buf, len, 3, want);
        snprintf(want, sizeof want, "steps %zu", cases[c].T);
        assert_line(buf, len, 4, want);
        expect_ok(buf, len, &back);
        assert_same_model(&m, &back);
        assert_int_equal(back.arch.seq_len, cases[c].T);
        for (size_t l = 0; l < m.arch.n_layers; l++) {
            const hj_layer *x = &m.arch.layers[l], *y = &back.arch.layers[l];
            assert_int_equal(x->steps, y->steps);
            assert_int_equal(x->step_in, y->step_in);
            assert_int_equal(x->heads, y->heads);
            assert_int_equal(x->activation, y->activation);
        }
        /* saved again: the same bytes */
        assert_int_equal(hj_model_save(&back, path, &e), HJ_OK);
        size_t len2;
        char *buf2 = read_all(path, &len2);
        assert_int_equal(len, len2);
        assert_memory_equal(buf, buf2, len);
        free(buf2);
        free(buf);
        hj_model_free(&back);
        hj_model_free(&m);
    }
}

static void vector_models_stay_format_2_without_a_steps_line(void **state)
{
    fixture *f = *state;
    hj_model m;
    size_t len;
    char *buf = saved_regression(f, &m, &len);
    assert_line(buf, len, 1, "HJDL-MODEL 2");
    assert_line(buf, len, 3, "d_in 3");
    assert_line(buf, len, 4, "classes 0");
    /* a format-3 file of a vector model says steps 0 and reads the same */
    size_t n2;
    char *v3 = edit(buf, len, 3, "d_in 3\nsteps 0", 1, &n2);
    char *v3b = edit(v3, n2, 1, "HJDL-MODEL 3", 1, &n2);
    hj_model back;
    expect_ok(v3b, n2, &back);
    assert_same_model(&m, &back);
    assert_int_equal(back.arch.seq_len, 0);
    hj_model_free(&back);
    free(v3), free(v3b);
    free(buf);
    hj_model_free(&m);
}

static void bad_steps_lines_are_refused_naming_the_line(void **state)
{
    fixture *f = *state;
    hj_model m;
    make_sequence_model(&m, "rnn:4,last,lse-class:3", 5, 2, 3); /* d_in 10 */
    char path[256];
    path_in(f, "seq.hjm", path, sizeof path);
    hj_error e = {0};
    assert_int_equal(hj_model_save(&m, path, &e), HJ_OK);
    size_t len, n2;
    char *buf = read_all(path, &len);
    static const struct {
        const char *line4;  /* NULL: deleted */
        size_t at;
        const char *needle;
    } cases[] = {
        {"steps x", 4, "steps: 'x' is not a non-negative integer"},
        {"steps -5", 4, "is not a non-negative integer"},
        {"steps 3", 4, "steps 3 does not divide the input width d_in 10"},
        {"steps 20", 4, "steps 20 does not divide the input width d_in 10"},
        {"steps 99999999999", 4, "exceeds the limit"},
        /* divides d_in but another T: d = 5 changes the parameter count */
        {"steps 2", 0, "parameters"},
        /* steps 0 turns the inputs into vectors, which rnn cannot read */
        {"steps 0", 2, "reads sequences, but its input is a vector"},
        {"classes 3", 4, "expected 'steps ...', found 'classes 3'"},
        {NULL, 4, "expected 'steps ...', found 'classes 3'"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char *bad = edit(buf, len, 4, cases[c].line4, 1, &n2);
        expect_refused(bad, n2, HJ_EFORMAT, cases[c].at, cases[c].needle);
        free(bad);
    }
    /* d_in inconsistent with the steps of the arch */
    char *bad = edit(buf, len, 3, "d_in 15", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 0, "d_out 10 does not match the model's input width d_in 15");
    free(bad);
    bad = edit(buf, len, 3, "d_in 11", 1, &n2);
    expect_refused(bad, n2, HJ_EFORMAT, 4, "steps 5 does not divide the input width d_in 11");
    free(bad);
    /* a sequence arch in a format-2 file (no steps line) */
    bad = edit(buf, len, 1, "HJDL-MODEL 2", 1, &n2);
    char *bad2 = edit(bad, n2, 4, NULL, 1, &n2);
    expect_refused(bad2, n2, HJ_EFORMAT, 2, "reads sequences, but its input is a vector");
    free(bad2);
    free(bad);
    /* any flipped byte of the steps line fails the checksum */
    char *flip = malloc(len);
    memcpy(flip, buf, len);
    char *at = strstr(flip, "steps 5");
    assert_non_null(at);
    at[6] = '7';
    expect_refused(flip, len, HJ_EFORMAT, 0, "checksum mismatch");
    free(flip);
    free(buf);
    hj_model_free(&m);
}

static void an_inconsistent_sequence_model_is_not_saved(void **state)
{
    fixture *f = *state;
    hj_model m;
    make_sequence_model(&m, "rnn:4,last,lse-class:3", 5, 2, 3);
    char path[256];
    path_in(f, "never.hjm", path, sizeof path);
    hj_error e = {0};
    m.arch.seq_len = 3; /* 3 does not divide d_in 10 */
    assert_int_equal(hj_model_save(&m, path, &e), HJ_EINVAL);
    assert_non_null(strstr(e.msg, "3 steps do not divide the input width d_in 10"));
    m.arch.seq_len = 2; /* divides, but rnn:4 on d = 5 has other parameters */
    assert_int_equal(hj_model_save(&m, path, &e), HJ_EINVAL);
    assert_non_null(strstr(e.msg, "parameters"));
    assert_int_equal(access(path, F_OK), -1);
    m.arch.seq_len = 5;
    hj_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(regression_model_round_trips_bit_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(classifier_with_pca_round_trips_bit_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(output_scale_with_standardisation_round_trips_bit_exact, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(save_is_atomic_and_leaves_no_temp_file, setup, teardown),
        cmocka_unit_test_setup_teardown(loading_a_missing_file_is_an_io_error_naming_it, setup, teardown),
        cmocka_unit_test_setup_teardown(any_flipped_byte_is_refused_and_body_flips_fail_the_checksum,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(truncation_at_every_offset_names_the_line, setup, teardown),
        cmocka_unit_test_setup_teardown(format_1_files_are_still_read, setup, teardown),
        cmocka_unit_test_setup_teardown(metadata_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(foreign_and_future_files_are_refused_by_their_first_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(huge_eps_or_t_is_refused_at_load_naming_the_parameter, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(sequence_models_round_trip_as_format_3_with_a_steps_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(vector_models_stay_format_2_without_a_steps_line, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_steps_lines_are_refused_naming_the_line, setup, teardown),
        cmocka_unit_test_setup_teardown(an_inconsistent_sequence_model_is_not_saved, setup, teardown),
        cmocka_unit_test_setup_teardown(structural_errors_with_a_valid_checksum_are_refused, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
