/* test_seq_data.c — sequence inputs (n, T, d): the 3-D .npy reader (orders, dtypes, hostile
 * headers), hj_sequences_parse/probe, long tables grouped by id, and per-feature standardisation,
 * each against values computed here independently. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hjdl/data.h"
#include "hjdl/dataset.h"

/* The value stored at (i, k, j): distinct for every index. */
static double val(size_t i, size_t k, size_t j) { return 100.0 * (double)i + 10.0 * (double)k + (double)j + 0.25; }

/* A .npy 1.0 image: the dict padded to a 64-byte boundary, then data. */
static unsigned char *npy_image(const char *dict, const void *data, size_t nbytes, size_t *len)
{
    size_t dl = strlen(dict), total = 10 + dl + 1;
    total += (64 - total % 64) % 64;
    unsigned char *b = malloc(total + nbytes + 1);
    assert_non_null(b);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)((total - 10) & 0xff);
    b[9] = (unsigned char)((total - 10) >> 8);
    memcpy(b + 10, dict, dl);
    memset(b + 10 + dl, ' ', total - 10 - dl - 1);
    b[total - 1] = '\n';
    if (nbytes)
        memcpy(b + total, data, nbytes);
    *len = total + nbytes;
    return b;
}

/* (n, T, d) doubles of val() in C order (fortran = 0) or Fortran order. */
static unsigned char *seq_image(size_t n, size_t T, size_t d, int fortran, size_t *len)
{
    double *v = malloc(n * T * d * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < T; k++)
            for (size_t j = 0; j < d; j++)
                v[fortran ? i + n * (k + T * j) : (i * T + k) * d + j] = val(i, k, j);
    char dict[160];
    snprintf(dict, sizeof dict, "{'descr': '<f8', 'fortran_order': %s, 'shape': (%zu, %zu, %zu), }",
             fortran ? "True" : "False", n, T, d);
    unsigned char *img = npy_image(dict, v, n * T * d * sizeof *v, len);
    free(v);
    return img;
}

static void three_d_arrays_read_step_major_in_both_orders(void **state)
{
    (void)state;
    const size_t n = 3, T = 4, d = 2;
    for (int fortran = 0; fortran < 2; fortran++) {
        size_t len, shape[3], nd;
        unsigned char *img = seq_image(n, T, d, fortran, &len);
        hj_matrix m;
        hj_error e = {0};
        assert_int_equal(hj_npy_parse_nd(img, len, "s.npy", 3, &m, shape, &nd, &e), HJ_OK);
        assert_int_equal(nd, 3);
        assert_true(shape[0] == n && shape[1] == T && shape[2] == d);
        assert_true(m.rows == n && m.cols == T * d);
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < T; k++)
                for (size_t j = 0; j < d; j++)
                    assert_true(m.data[i * T * d + k * d + j] == val(i, k, j));
        hj_matrix_free(&m);
        /* the same through hj_sequences_parse */
        hj_sequences s;
        assert_int_equal(hj_sequences_parse(img, len, "s.npy", HJ_FORMAT_AUTO, &s, &e), HJ_OK);
        assert_true(s.steps == T && s.features == d && s.x.rows == n && s.y.rows == 0 && s.y.data == NULL);
        assert_true(s.x.data[1 * T * d + 3 * d + 1] == val(1, 3, 1));
        hj_sequences_free(&s);
        /* the matrix reader still refuses them */
        assert_int_equal(hj_npy_parse(img, len, "s.npy", &m, &e), HJ_EFORMAT);
        assert_non_null(strstr(e.msg, "s.npy: 3-dimensional array (only 1-D and 2-D are supported)"));
        free(img);
    }
}

static void small_dtypes_and_lower_dimensions(void **state)
{
    (void)state;
    /* |u1 of shape (2, 3, 1): bytes 0..5 */
    unsigned char u[6] = {0, 1, 2, 3, 4, 250};
    size_t len, shape[3], nd;
    unsigned char *img = npy_image("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3, 1)}", u, 6, &len);
    hj_matrix m;
    hj_error e = {0};
    assert_int_equal(hj_npy_parse_nd(img, len, "u.npy", 3, &m, shape, &nd, &e), HJ_OK);
    assert_true(nd == 3 && m.rows == 2 && m.cols == 3 && m.data[5] == 250.0);
    hj_matrix_free(&m);
    free(img);
    /* 1-D and 2-D arrays: the same as hj_npy_parse, missing dimensions 1 */
    double v[6] = {1, 2, 3, 4, 5, 6};
    img = npy_image("{'descr': '<f8', 'fortran_order': False, 'shape': (6,)}", v, sizeof v, &len);
    assert_int_equal(hj_npy_parse_nd(img, len, "v.npy", 3, &m, shape, &nd, &e), HJ_OK);
    assert_true(nd == 1 && shape[0] == 6 && shape[1] == 1 && shape[2] == 1 && m.rows == 6 && m.cols == 1);
    hj_matrix_free(&m);
    hj_sequences s;
    assert_int_equal(hj_sequences_parse(img, len, "v.npy", HJ_FORMAT_NPY, &s, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, "v.npy: a 1-D array of shape 6 x 1, but sequences need a 3-D array (n, T, d)"));
    assert_null(s.x.data);
    free(img);
    img = npy_image("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}", v, sizeof v, &len);
    assert_int_equal(hj_sequences_parse(img, len, "w.npy", HJ_FORMAT_AUTO, &s, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, "w.npy: a 2-D array of shape 2 x 3, but sequences need a 3-D array"));
    free(img);
    /* a table is not sequences */
    assert_int_equal(hj_sequences_parse("a,b\n1,2\n", 8, "t.csv", HJ_FORMAT_AUTO, &s, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, "t.csv: csv is a table, not sequences"));
}

static void hostile_headers_are_refused_before_any_allocation(void **state)
{
    (void)state;
    static const struct {
        const char *shape;
        size_t max_ndim;
        const char *needle;
    } cases[] = {
        {"(4611686018427387904, 4611686018427387904, 4)", 3, "is too large"},
        {"(2, 4611686018427387904, 4611686018427387904)", 3, "is too large"},
        {"(3, 2305843009213693952, 2)", 3, "is too large"},
        {"(1, 1, 1, 1)", 3, "4-dimensional array (only 1-D, 2-D and 3-D are supported)"},
        {"(2, 2, 2, 2, 2)", 3, "5-dimensional array"},
        {"(3, 0, 2)", 3, "empty array (shape 3 x 0 x 2)"},
        {"(0, 5, 2)", 3, "empty array (shape 0 x 5 x 2)"},
        {"(3, 5, 0)", 3, "empty array (shape 3 x 5 x 0)"},
        {"(2, 3, 4)", 3, "truncated .npy data (shape 2 x 3 x 4 needs 192 bytes, 16 present)"},
        {"(2, 3, 4)", 2, "3-dimensional array (only 1-D and 2-D are supported)"},
        {"(99999999999999999999999, 1, 1)", 3, "dimension too large"},
    };
    double two[2] = {1, 2};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char dict[200];
        snprintf(dict, sizeof dict, "{'descr': '<f8', 'fortran_order': False, 'shape': %s}", cases[c].shape);
        size_t len, shape[3] = {7, 7, 7}, nd = 7;
        unsigned char *img = npy_image(dict, two, sizeof two, &len);
        hj_matrix m;
        hj_error e = {0};
        hj_status st = hj_npy_parse_nd(img, len, "h.npy", cases[c].max_ndim, &m, shape, &nd, &e);
        if (st != HJ_EFORMAT || strstr(e.msg, cases[c].needle) == NULL) {
            print_error("shape %s: status %d '%s', wanted '%s'\n", cases[c].shape, (int)st, e.msg, cases[c].needle);
            fail();
        }
        assert_true(m.data == NULL && m.rows == 0 && m.cols == 0);
        assert_true(nd == 7 && shape[0] == 7); /* untouched on failure */
        free(img);
    }
}

static void a_non_finite_element_names_sequence_step_and_feature(void **state)
{
    (void)state;
    const size_t n = 3, T = 4, d = 2;
    for (int fortran = 0; fortran < 2; fortran++) {
        size_t len;
        unsigned char *img = seq_image(n, T, d, fortran, &len);
        /* element (2, 1, 0) := NaN, at its place in the order */
        const size_t at = fortran ? 2 + n * (1 + T * 0) : (2 * T + 1) * d + 0;
        double nan = NAN;
        memcpy(img + len - n * T * d * 8 + at * 8, &nan, 8);
        hj_matrix m;
        hj_error e = {0};
        assert_int_equal(hj_npy_parse_nd(img, len, "n.npy", 3, &m, NULL, NULL, &e), HJ_ENAN);
        assert_string_equal(e.msg, "n.npy: element [2, 1, 0] (0-based) is NaN: sequence 3, step 2, feature 1");
        assert_null(m.data);
        free(img);
    }
}

static void files_are_probed_by_their_header_and_read(void **state)
{
    (void)state;
    char dir[] = "/tmp/hjdl-test-seq-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/s.npy", dir);
    size_t len, shape[3], nd;
    unsigned char *img = seq_image(5, 3, 2, 0, &len);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, len, f), len);
    fclose(f);
    hj_error e = {0};
    assert_int_equal(hj_sequences_probe(path, HJ_FORMAT_AUTO, shape, &nd, &e), HJ_OK);
    assert_true(nd == 3 && shape[0] == 5 && shape[1] == 3 && shape[2] == 2);
    hj_sequences s;
    assert_int_equal(hj_sequences_read(path, HJ_FORMAT_AUTO, &s, &e), HJ_OK);
    assert_true(s.x.rows == 5 && s.steps == 3 && s.features == 2 && s.x.data[4 * 6 + 2 * 2 + 1] == val(4, 2, 1));
    hj_sequences_free(&s);
    /* a header claiming 2^40 sequences on a small file: refused from the header, nothing read */
    free(img);
    char dict[128];
    snprintf(dict, sizeof dict, "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 3, 2)}");
    img = npy_image(dict, NULL, 0, &len);
    f = fopen(path, "wb");
    assert_int_equal(fwrite(img, 1, len, f), len);
    fclose(f);
    assert_int_equal(hj_sequences_read(path, HJ_FORMAT_AUTO, &s, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, "truncated .npy data (shape 1099511627776 x 3 x 2"));
    assert_int_equal(hj_sequences_probe(path, HJ_FORMAT_AUTO, shape, &nd, &e), HJ_EFORMAT);
    free(img);
    unlink(path);
    rmdir(dir);
}

static void long_tables_group_consecutive_ids_and_refuse_ragged_ones(void **state)
{
    (void)state;
    /* columns: feature a, id, target, feature b; 3 sequences of 2 steps (ids 7, 9, 7 again) */
    const double rows[6][4] = {{1, 7, 0, 2}, {3, 7, 0, 4}, {5, 9, 1, 6}, {7, 9, 1, 8}, {9, 7, 0, 10}, {11, 7, 0, 12}};
    hj_matrix M;
    hj_error e = {0};
    assert_int_equal(hj_matrix_alloc(&M, 6, 4, &e), HJ_OK);
    memcpy(M.data, rows, sizeof rows);
    hj_sequences s;
    size_t *first = NULL;
    assert_int_equal(hj_sequences_from_long(&M, 1, 2, "l.csv", 1, &s, &first, &e), HJ_OK);
    assert_true(s.x.rows == 3 && s.steps == 2 && s.features == 2 && s.y.rows == 0);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(first[i], 2 * i);
        for (size_t k = 0; k < 2; k++) { /* step k of sequence i is row 2i + k: (a, b) */
            assert_true(s.x.data[i * 4 + k * 2 + 0] == rows[2 * i + k][0]);
            assert_true(s.x.data[i * 4 + k * 2 + 1] == rows[2 * i + k][3]);
        }
    }
    free(first);
    hj_sequences_free(&s);
    /* without a skipped column the target is a feature */
    assert_int_equal(hj_sequences_from_long(&M, 1, SIZE_MAX, "l.csv", 1, &s, NULL, &e), HJ_OK);
    assert_true(s.features == 3 && s.x.data[0 * 6 + 1 * 3 + 1] == 0.0 && s.x.data[2 * 6 + 1 * 3 + 2] == 12.0);
    hj_sequences_free(&s);
    /* ragged: row 5 (line 6 with the header) gets its own id, so sequence 3 has 1 row */
    M.data[4 * 4 + 1] = 8;
    assert_int_equal(hj_sequences_from_long(&M, 1, 2, "l.csv", 1, &s, &first, &e), HJ_EFORMAT);
    assert_string_equal(e.msg, "l.csv:6: sequence 3 (id 8) has 1 rows, but sequence 1 has 2 (every sequence "
                               "must have the same number of steps)");
    assert_null(first);
    assert_null(s.x.data);
    hj_matrix_free(&M);
}

static void sequence_standardisation_is_per_feature_over_all_steps(void **state)
{
    (void)state;
    const size_t n = 4, T = 3, d = 2;
    double X[4 * 3 * 2];
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < T; k++)
            for (size_t j = 0; j < d; j++)
                X[(i * T + k) * d + j] = j == 0 ? (double)(i + k) : 5.0 * (double)(i * k) - 1.0;
    hj_preprocess p;
    hj_error e = {0};
    assert_int_equal(hj_preprocess_fit_sequence(&p, HJ_PRE_STANDARDIZE, X, n, T, d, &e), HJ_OK);
    assert_true(p.d_raw == T * d && p.d_out == T * d);
    for (size_t j = 0; j < d; j++) { /* naive mean and population sd over the n*T values of feature j */
        double s = 0, s2 = 0;
        for (size_t r = 0; r < n * T; r++)
            s += X[r * d + j];
        const double mu = s / (double)(n * T);
        for (size_t r = 0; r < n * T; r++)
            s2 += (X[r * d + j] - mu) * (X[r * d + j] - mu);
        const double sd = sqrt(s2 / (double)(n * T));
        for (size_t k = 0; k < T; k++) {
            assert_true(fabs(p.mean[k * d + j] - mu) <= 1e-14 * (1 + fabs(mu)));
            assert_true(fabs(p.scale[k * d + j] - sd) <= 1e-14 * sd);
        }
    }
    double out[4 * 3 * 2];
    assert_int_equal(hj_preprocess_apply(&p, X, n, out, &e), HJ_OK);
    for (size_t j = 0; j < d; j++) { /* each feature: mean 0 and variance 1 over all steps */
        double s = 0, s2 = 0;
        for (size_t r = 0; r < n * T; r++)
            s += out[r * d + j], s2 += out[r * d + j] * out[r * d + j];
        assert_true(fabs(s) < 1e-12 && fabs(s2 / (double)(n * T) - 1.0) < 1e-12);
    }
    hj_preprocess_free(&p);
    assert_int_equal(hj_preprocess_fit_sequence(&p, HJ_PRE_NONE, X, n, T, d, &e), HJ_OK);
    assert_true(p.kind == HJ_PRE_NONE && p.d_raw == T * d && p.d_out == T * d && p.mean == NULL);
    assert_int_equal(hj_preprocess_fit_sequence(&p, HJ_PRE_PCA, X, n, T, d, &e), HJ_EINVAL);
    assert_non_null(strstr(e.msg, "PCA"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_d_arrays_read_step_major_in_both_orders),
        cmocka_unit_test(small_dtypes_and_lower_dimensions),
        cmocka_unit_test(hostile_headers_are_refused_before_any_allocation),
        cmocka_unit_test(a_non_finite_element_names_sequence_step_and_feature),
        cmocka_unit_test(files_are_probed_by_their_header_and_read),
        cmocka_unit_test(long_tables_group_consecutive_ids_and_refuse_ragged_ones),
        cmocka_unit_test(sequence_standardisation_is_per_feature_over_all_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
