/* test_rows.c — streaming row readers: tiles of every size and seeks vs the whole-file readers, bad files vs their messages. */
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
#include "naive_ref.h"

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
    return buf;
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* Reads in tiles of 1..7 rows from the start and after random seeks equal
 * the whole-file read, bit for bit. */
static void check_tiles(const char *path, uint64_t seed)
{
    hj_matrix m;
    hj_error e = {0};
    hj_status st = hj_matrix_read(path, &m, &e);
    if (st != HJ_OK)
        fprintf(stderr, "%s\n", e.msg);
    assert_int_equal(st, HJ_OK);
    hj_rows *r;
    assert_int_equal(hj_rows_open(path, &r, &e), HJ_OK);
    assert_int_equal(hj_rows_count(r), m.rows);
    assert_int_equal(hj_rows_cols(r), m.cols);
    if (m.names != NULL)
        for (size_t j = 0; j < m.cols; j++)
            assert_string_equal(hj_rows_names(r)[j], m.names[j]);
    else
        assert_null(hj_rows_names(r));
    double *buf = nr_xmalloc(7 * m.cols * sizeof *buf);
    for (size_t R = 1; R <= 7; R++) {
        assert_int_equal(hj_rows_seek(r, 0, &e), HJ_OK);
        size_t at = 0, got;
        for (;;) {
            assert_int_equal(hj_rows_read(r, buf, R, &got, &e), HJ_OK);
            if (got == 0)
                break;
            assert_true(got == R || at + got == m.rows);
            assert_memory_equal(buf, m.data + at * m.cols, got * m.cols * sizeof *buf);
            at += got;
            assert_int_equal(hj_rows_tell(r), at);
        }
        assert_int_equal(at, m.rows);
    }
    nr_rng g;
    nr_seed(&g, seed);
    for (int k = 0; k < 40; k++) {
        size_t s = (size_t)nr_int(&g, 0, (long)m.rows), R = (size_t)nr_int(&g, 1, 7), got;
        assert_int_equal(hj_rows_seek(r, s, &e), HJ_OK);
        assert_int_equal(hj_rows_read(r, buf, R, &got, &e), HJ_OK);
        assert_int_equal(got, m.rows - s < R ? m.rows - s : R);
        if (got)
            assert_memory_equal(buf, m.data + s * m.cols, got * m.cols * sizeof *buf);
    }
    assert_int_equal(hj_rows_seek(r, m.rows + 1, &e), HJ_EINVAL);
    /* a range read equals the same rows */
    if (m.rows >= 3) {
        hj_matrix part;
        assert_int_equal(hj_rows_read_range(path, 1, m.rows - 1, &part, &e), HJ_OK);
        assert_int_equal(part.rows, m.rows - 2);
        assert_memory_equal(part.data, m.data + m.cols, part.rows * m.cols * sizeof(double));
        hj_matrix_free(&part);
    }
    free(buf);
    hj_rows_close(r);
    hj_matrix_free(&m);
}

static void random_matrix(hj_matrix *m, size_t rows, size_t cols, uint64_t seed)
{
    nr_rng g;
    nr_seed(&g, seed);
    assert_int_equal(hj_matrix_alloc(m, rows, cols, NULL), HJ_OK);
    for (size_t k = 0; k < rows * cols; k++)
        m->data[k] = nr_normal(&g) * pow(10.0, (double)nr_int(&g, -30, 30));
}

static void test_csv_tiles(void **state)
{
    (void)state;
    const size_t rows_list[] = {1, 2, 13, 2500};
    for (size_t k = 0; k < 4; k++) {
        hj_matrix m;
        random_matrix(&m, rows_list[k], 3, 10 + k);
        const char *p = tmp_path("a.csv");
        assert_int_equal(hj_csv_write(p, &m, NULL, NULL), HJ_OK);
        check_tiles(p, 20 + k);
        hj_matrix_free(&m);
    }
    /* CRLF, BOM, quoted header, blanks around fields, trailing blank lines and blanks */
    const char txt[] = "\xEF\xBB\xBF\"x, 1\", y\r\n 1.5 ,\t-2e3\r\n3,4\r\n.5,+6.\r\n7 , 8   \r\n\n  \n\r\n";
    write_bytes(tmp_path("b.csv"), txt, sizeof txt - 1);
    check_tiles(tmp_path("b.csv"), 30);
    /* no final newline, last line with trailing blanks */
    const char txt2[] = "a\n1\n2\n3 \t";
    write_bytes(tmp_path("c.csv"), txt2, sizeof txt2 - 1);
    check_tiles(tmp_path("c.csv"), 31);
}

/* .npy header + data for a given descr and order. */
static void write_npy(const char *path, const char *descr, int fortran, size_t rows, size_t cols,
                      const void *data, size_t nbytes)
{
    char dict[200];
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': (%zu, %zu), }",
                      descr, fortran ? "True" : "False", rows, cols);
    size_t total = 10 + (size_t)dl + 1, pad = (64 - total % 64) % 64;
    unsigned char *b = nr_xmalloc(total + pad + nbytes);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    size_t hlen = (size_t)dl + pad + 1;
    b[8] = (unsigned char)(hlen & 0xff);
    b[9] = (unsigned char)(hlen >> 8);
    memcpy(b + 10, dict, (size_t)dl);
    memset(b + 10 + dl, ' ', pad);
    b[10 + (size_t)dl + pad] = '\n';
    memcpy(b + total + pad, data, nbytes);
    write_bytes(path, b, total + pad + nbytes);
    free(b);
}

static void test_npy_tiles(void **state)
{
    (void)state;
    const size_t rows_list[] = {1, 17, 300};
    for (size_t k = 0; k < 3; k++) {
        hj_matrix m;
        random_matrix(&m, rows_list[k], 4, 40 + k);
        assert_int_equal(hj_npy_write(tmp_path("a.npy"), &m, NULL), HJ_OK);
        check_tiles(tmp_path("a.npy"), 50 + k);
        hj_matrix_free(&m);
    }
    /* float32, int32, int64 C order; float64 and int32 Fortran order */
    const size_t R = 23, C = 3;
    float f4[23 * 3];
    int32_t i4[23 * 3];
    int64_t i8[23 * 3];
    double f8[23 * 3];
    nr_rng g;
    nr_seed(&g, 60);
    for (size_t k = 0; k < R * C; k++) {
        f4[k] = (float)nr_normal(&g);
        i4[k] = (int32_t)nr_int(&g, -100000, 100000);
        i8[k] = (int64_t)nr_int(&g, -100000, 100000) * 1000003;
        f8[k] = nr_normal(&g);
    }
    write_npy(tmp_path("f4.npy"), "<f4", 0, R, C, f4, sizeof f4);
    check_tiles(tmp_path("f4.npy"), 61);
    write_npy(tmp_path("i4.npy"), "<i4", 0, R, C, i4, sizeof i4);
    check_tiles(tmp_path("i4.npy"), 62);
    write_npy(tmp_path("i8.npy"), "<i8", 0, R, C, i8, sizeof i8);
    check_tiles(tmp_path("i8.npy"), 63);
    write_npy(tmp_path("ff.npy"), "<f8", 1, R, C, f8, sizeof f8);
    check_tiles(tmp_path("ff.npy"), 64);
    write_npy(tmp_path("fi.npy"), "<i4", 1, R, C, i4, sizeof i4);
    check_tiles(tmp_path("fi.npy"), 65);
}

/* The streaming error equals the whole reader's error; and it comes from
 * the read that reaches the bad row, not before. */
static void expect_same_error(const char *path, size_t tile, size_t bad_row)
{
    hj_matrix m;
    hj_error ew = {0}, es = {0};
    hj_status sw = hj_matrix_read(path, &m, &ew);
    assert_int_not_equal(sw, HJ_OK);
    hj_rows *r;
    hj_status ss = hj_rows_open(path, &r, &es);
    if (ss == HJ_OK) {
        size_t cols = hj_rows_cols(r), at = 0, got = 0;
        double *buf = nr_xmalloc(tile * cols * sizeof *buf);
        for (;;) {
            ss = hj_rows_read(r, buf, tile, &got, &es);
            if (ss != HJ_OK || got == 0)
                break;
            at += got;
        }
        assert_true(at <= bad_row && bad_row < at + tile);
        assert_int_equal(got, 0);
        free(buf);
        hj_rows_close(r);
    } else {
        assert_null(r);
    }
    assert_int_equal(ss, sw);
    if (strcmp(es.msg, ew.msg) != 0) {
        fprintf(stderr, "stream: %s\nwhole:  %s\n", es.msg, ew.msg);
        fail();
    }
    assert_non_null(strstr(es.msg, path));
}

static void test_bad_files(void **state)
{
    (void)state;
    char txt[2000];
    size_t len = 0;
    len += (size_t)sprintf(txt + len, "a,b,c\n");
    for (int i = 0; i < 20; i++)
        len += (size_t)sprintf(txt + len, i == 13 ? "%d,%d\n" : "%d,%d,1\n", i, i + 1);
    write_bytes(tmp_path("ragged.csv"), txt, len);
    for (size_t tile = 1; tile <= 7; tile++)
        expect_same_error(tmp_path("ragged.csv"), tile, 13);
    hj_error e = {0};
    hj_rows *r;
    assert_int_equal(hj_rows_open(tmp_path("ragged.csv"), &r, &e), HJ_OK);
    double buf[3 * 8];
    size_t got;
    assert_int_equal(hj_rows_seek(r, 12, &e), HJ_OK);
    assert_int_equal(hj_rows_read(r, buf, 4, &got, &e), HJ_EFORMAT);
    assert_non_null(strstr(e.msg, "ragged.csv:15: expected 3 fields, found 2"));
    assert_int_equal(hj_rows_read(r, buf, 4, &got, &e), HJ_EINVAL); /* position lost */
    assert_int_equal(hj_rows_seek(r, 14, &e), HJ_OK);              /* past the bad row */
    assert_int_equal(hj_rows_read(r, buf, 8, &got, &e), HJ_OK);
    assert_int_equal(got, 6);
    hj_rows_close(r);

    const char nan_csv[] = "x,y\n1,2\n3,4\n5,nan\n7,8\n";
    write_bytes(tmp_path("nan.csv"), nan_csv, sizeof nan_csv - 1);
    expect_same_error(tmp_path("nan.csv"), 2, 2);
    const char blank_csv[] = "x,y\n1,2\n\n5,6\n7,8\n";
    write_bytes(tmp_path("blank.csv"), blank_csv, sizeof blank_csv - 1);
    expect_same_error(tmp_path("blank.csv"), 3, 1);
    const char cr_csv[] = "x,y\n1,2\n3\r,4\n";
    write_bytes(tmp_path("cr.csv"), cr_csv, sizeof cr_csv - 1);
    expect_same_error(tmp_path("cr.csv"), 1, 1);
    const char nul_csv[] = "x,y\n1,2\n3,\0004\n";
    write_bytes(tmp_path("nul.csv"), nul_csv, sizeof nul_csv - 1);
    expect_same_error(tmp_path("nul.csv"), 1, 0);
    const char hdr_csv[] = "x,y\n\n \n";
    write_bytes(tmp_path("hdr.csv"), hdr_csv, sizeof hdr_csv - 1);
    expect_same_error(tmp_path("hdr.csv"), 1, 0);
    write_bytes(tmp_path("empty.csv"), "", 0);
    expect_same_error(tmp_path("empty.csv"), 1, 0);
    const char num_csv[] = "1,2\n3,4\n";
    write_bytes(tmp_path("num.csv"), num_csv, sizeof num_csv - 1);
    expect_same_error(tmp_path("num.csv"), 1, 0);

    /* .npy: truncated data, truncated header, NaN in a later tile */
    double d[10 * 2];
    for (size_t k = 0; k < 20; k++)
        d[k] = (double)k;
    write_npy(tmp_path("trunc.npy"), "<f8", 0, 10, 2, d, sizeof d - 5);
    expect_same_error(tmp_path("trunc.npy"), 3, 0);
    write_bytes(tmp_path("head.npy"), "\x93NUMPY\x01\x00\x40\x00{'descr'", 17);
    expect_same_error(tmp_path("head.npy"), 3, 0);
    write_bytes(tmp_path("magic.npy"), "\x93NUMP", 5);
    expect_same_error(tmp_path("magic.npy"), 3, 0);
    d[2 * 7 + 1] = NAN;
    write_npy(tmp_path("nan.npy"), "<f8", 0, 10, 2, d, sizeof d);
    for (size_t tile = 1; tile <= 7; tile++)
        expect_same_error(tmp_path("nan.npy"), tile, 7);
    assert_int_equal(hj_rows_open(tmp_path("missing.csv"), &r, &e), HJ_EIO);
    assert_non_null(strstr(e.msg, "missing.csv"));
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hjdl_test_rows_XXXXXX");
    return mkdtemp(tmpdir) == NULL;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) != 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_tiles),
        cmocka_unit_test(test_npy_tiles),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
