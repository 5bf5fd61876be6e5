/* test_formats.c — the table formats of data.h: format names and extensions,
 * content checks, TSV and headerless CSV, .npz archives, libsvm text, and
 * the shortest exact number text. Expected matrices are written out by hand
 * from the file contents; archives are damaged byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/data.h"

static void assert_matrix(const hj_matrix *m, size_t rows, size_t cols, const double *want)
{
    assert_int_equal(m->rows, rows);
    assert_int_equal(m->cols, cols);
    for (size_t k = 0; k < rows * cols; k++)
        assert_memory_equal(&m->data[k], &want[k], sizeof(double));
}

static void formats_should_follow_names_and_extensions(void **state)
{
    (void)state;
    hj_format f;
    hj_error e = {0};
    assert_int_equal(hj_format_of_path("a/b.CSV"), HJ_FORMAT_CSV);
    assert_int_equal(hj_format_of_path("x.tsv"), HJ_FORMAT_TSV);
    assert_int_equal(hj_format_of_path("x.npz"), HJ_FORMAT_NPZ);
    assert_int_equal(hj_format_of_path("train.svmlight"), HJ_FORMAT_LIBSVM);
    assert_int_equal(hj_format_of_path("dir.npy/x"), HJ_FORMAT_AUTO);
    assert_int_equal(hj_format_of_path(".npy"), HJ_FORMAT_AUTO); /* a hidden file, no extension */
    assert_int_equal(hj_format_parse("svmlight", &f, &e), HJ_OK);
    assert_int_equal(f, HJ_FORMAT_LIBSVM);
    assert_int_equal(hj_format_parse("xlsx", &f, &e), HJ_EINVAL);
    assert_non_null(strstr(e.msg, "csv, tsv, npy, npz or libsvm"));
    assert_int_equal(hj_format_for_write("out.txt", HJ_FORMAT_AUTO, &f, &e), HJ_EINVAL);
    assert_non_null(strstr(e.msg, "out.txt: '.txt' is not a table format"));
    assert_int_equal(hj_format_for_write("o.svm", HJ_FORMAT_AUTO, &f, &e), HJ_EINVAL);
    assert_int_equal(hj_format_for_write("noext", HJ_FORMAT_AUTO, &f, &e), HJ_OK);
    assert_int_equal(f, HJ_FORMAT_CSV);
    assert_int_equal(hj_format_for_write("-", HJ_FORMAT_AUTO, &f, &e), HJ_OK);
    assert_int_equal(hj_format_for_write("o.txt", HJ_FORMAT_TSV, &f, &e), HJ_OK);
    assert_int_equal(f, HJ_FORMAT_TSV);
    assert_int_equal(hj_format_sniff("\x93NUMPY\x01", 7), HJ_FORMAT_NPY);
    assert_int_equal(hj_format_sniff("PK\x03\x04", 4), HJ_FORMAT_NPZ);
    assert_int_equal(hj_format_sniff("a\tb\n1\t2\n", 8), HJ_FORMAT_TSV);
    assert_int_equal(hj_format_sniff("# c\n1\n-1 3:2\n", 13), HJ_FORMAT_LIBSVM);
    assert_int_equal(hj_format_sniff("a,b\n1,2\n", 8), HJ_FORMAT_CSV);
}

static void text_formats_should_parse_tabs_and_missing_headers(void **state)
{
    (void)state;
    hj_matrix m;
    hj_error e = {0};
    const char tsv[] = "a b\t c\n1\t-2.5\n 3 \t4e-1\n";
    assert_int_equal(hj_matrix_parse(tsv, strlen(tsv), "t.tsv", NULL, &m, &e), HJ_OK);
    const double want[] = {1, -2.5, 3, 0.4};
    assert_matrix(&m, 2, 2, want);
    assert_string_equal(m.names[0], "a b");
    assert_string_equal(m.names[1], "c");
    hj_matrix_free(&m);
    const char csv[] = "1,-2.5\n3,0.4\n";
    hj_read_options o = {HJ_FORMAT_AUTO, 1, 0};
    assert_int_equal(hj_matrix_parse(csv, strlen(csv), "n.csv", &o, &m, &e), HJ_OK);
    assert_matrix(&m, 2, 2, want);
    assert_null(m.names);
    hj_matrix_free(&m);
    /* without --no-header the first line is taken for names and refused */
    assert_int_equal(hj_matrix_parse(csv, strlen(csv), "n.csv", NULL, &m, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, "needs --no-header"));
    /* content of another format under a name */
    assert_int_equal(hj_matrix_parse(tsv, strlen(tsv), "t.csv", NULL, &m, &e), HJ_EFORMAT);
    assert_string_equal(e.msg, "t.csv: holds tab-separated text (TSV), not comma-separated text (CSV) "
                               "(name it *.tsv or give --format tsv)");
    assert_int_equal(hj_matrix_parse("PK\x03\x04zz", 6, "z.csv", NULL, &m, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, "z.csv: holds a zip archive (.npz), not comma-separated"));
    assert_null(m.data);
}

static void libsvm_should_give_dense_features_then_the_label(void **state)
{
    (void)state;
    hj_matrix m;
    hj_error e = {0};
    const char s[] = "# header comment\n+1 2:3 # tail\n\n-1 qid:7 1:0.5\t3:2\n0.25\n";
    assert_int_equal(hj_libsvm_parse(s, strlen(s), "d.svm", 0, &m, &e), HJ_OK);
    const double want[] = {0, 3, 0, 1, 0.5, 0, 2, -1, 0, 0, 0, 0.25};
    assert_matrix(&m, 3, 4, want);
    assert_null(m.names);
    hj_matrix_free(&m);
    assert_int_equal(hj_libsvm_parse(s, strlen(s), "d.svm", 5, &m, &e), HJ_OK);
    assert_int_equal(m.cols, 6);
    assert_true(m.data[5] == 1.0 && m.data[4] == 0.0);
    hj_matrix_free(&m);
    const struct { const char *text, *msg; } bad[] = {
        {"1 3:1 2:1\n", "b.svm:1:3: index 2 after 3 (indices must increase)"},
        {"1 0:1\n", "b.svm:1:2: index 0 (indices start at 1)"},
        {"1 1:nan\n", "b.svm:1:2: 'nan' is not a number"},
        {"1 2\n", "b.svm:1:2: '2' is not INDEX:VALUE"},
        {"1,2 1:1\n", "b.svm:1:1: a list of labels (multi-label data is not supported)"},
        {"1 1:1\n2 4:1\n", "b.svm:2:2: index 4 beyond the 3 features"},
        {"\n# only\n", "b.svm: no data lines"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        size_t width = k == 5 ? 3 : 0;
        assert_int_equal(hj_libsvm_parse(bad[k].text, strlen(bad[k].text), "b.svm", width, &m, &e), HJ_EFORMAT);
        assert_string_equal(e.msg, bad[k].msg);
        assert_null(m.data);
    }
}

/* Little-endian 16/32-bit fields of a zip image. */
static unsigned rd16(const unsigned char *p) { return p[0] | (unsigned)p[1] << 8; }

static void npz_should_round_trip_and_refuse_damage(void **state)
{
    (void)state;
    hj_matrix m, r;
    hj_error e = {0};
    assert_int_equal(hj_matrix_alloc(&m, 3, 2, &e), HJ_OK);
    const double v[] = {0.1, -0.0, 1.0 / 3.0, 5e-324, 1e300, -7.25};
    memcpy(m.data, v, sizeof v);
    const char *names[] = {"u", "grad_u_1"};
    char *img = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&img, &len);
    assert_int_equal(hj_npz_write_stream(f, &m, names, &e), HJ_OK);
    fclose(f);
    /* two stored members named by the columns, then the end record */
    assert_memory_equal(img, "PK\x03\x04", 4);
    assert_int_equal(rd16((unsigned char *)img + 8), 0); /* method: stored */
    assert_memory_equal(img + 30, "u.npy", 5);
    assert_memory_equal(img + len - 22, "PK\x05\x06", 4);
    assert_int_equal(rd16((unsigned char *)img + len - 12), 2);
    assert_int_equal(hj_npz_parse(img, len, "w.npz", &r, &e), HJ_OK);
    assert_matrix(&r, 3, 2, v);
    assert_string_equal(r.names[0], "u");
    assert_string_equal(r.names[1], "grad_u_1");
    hj_matrix_free(&r);
    /* a flipped data byte: the CRC-32 says so */
    img[30 + 5 + 128 + 3] ^= 0x40;
    assert_int_equal(hj_npz_parse(img, len, "w.npz", &r, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, "CRC-32 mismatch"));
    img[30 + 5 + 128 + 3] ^= 0x40;
    /* cut short: no end record */
    assert_int_equal(hj_npz_parse(img, len - 30, "w.npz", &r, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, "w.npz: not a .npz file"));
    free(img);
    /* without names: one 2-D array X, read back whole */
    f = open_memstream(&img, &len);
    assert_int_equal(hj_npz_write_stream(f, &m, NULL, &e), HJ_OK);
    fclose(f);
    assert_int_equal(hj_npz_parse(img, len, "x.npz", &r, &e), HJ_OK);
    assert_matrix(&r, 3, 2, v);
    assert_null(r.names);
    hj_matrix_free(&r);
    free(img);
    hj_matrix_free(&m);
}

static void double_text_should_be_shortest_and_exact(void **state)
{
    (void)state;
    const struct { double v; const char *text; } cases[] = {
        {0.1, "0.1"}, {1.0, "1"}, {0.5, "0.5"}, {1.0 / 3.0, "0.3333333333333333"},
        {0.1 + 0.2, "0.30000000000000004"}, {1e-300, "1e-300"}, {5e-324, "5e-324"},
        {-2.5e17, "-2.5e+17"}, {123456789.0, "123456789"}, {0.0, "0"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char buf[32];
        assert_string_equal(hj_double_text(cases[k].v, buf, sizeof buf), cases[k].text);
        assert_true(strtod(buf, NULL) == cases[k].v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats_should_follow_names_and_extensions),
        cmocka_unit_test(text_formats_should_parse_tabs_and_missing_headers),
        cmocka_unit_test(libsvm_should_give_dense_features_then_the_label),
        cmocka_unit_test(npz_should_round_trip_and_refuse_damage),
        cmocka_unit_test(double_text_should_be_shortest_and_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
