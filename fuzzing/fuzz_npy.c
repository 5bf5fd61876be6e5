/* fuzz_npy.c — libFuzzer harness for hj_npy_parse: arbitrary bytes must never
 * crash it, a rejection must leave the output zeroed with a message naming
 * the input, and whatever it accepts must survive the .npy writer + parser
 * bit for bit. The 3-D reader (hj_npy_parse_nd) is held to the same
 * contract, its shape must describe the matrix it returns, and on 1-D and
 * 2-D arrays it must agree with hj_npy_parse. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/data.h"
#include "io/io-impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_npy: property violated: %s\n", what);
        abort();
    }
}

static void check_nd(const uint8_t *data, size_t size)
{
    hj_matrix q, m;
    hj_error e = {0};
    size_t shape[3] = {0, 0, 0}, nd = 0;
    hj_status st = hj_npy_parse_nd(data, size, "fuzz.npy", 3, &q, shape, &nd, &e);
    hj_status st2 = hj_npy_parse(data, size, "fuzz.npy", &m, &e);
    if (st != HJ_OK) {
        check(st == HJ_EFORMAT || st == HJ_ENAN, "nd: only format/NaN errors for bytes");
        check(q.data == NULL && q.rows == 0 && q.cols == 0, "nd: output zeroed on failure");
        check(st2 != HJ_OK, "nd refuses only what the 2-D reader refuses");
        return;
    }
    check(nd >= 1 && nd <= 3 && q.rows == shape[0] && q.cols == shape[1] * shape[2], "nd: shape");
    check(nd == 3 || shape[2] == 1, "nd: missing dimensions are 1");
    for (size_t k = 0; k < q.rows * q.cols; k++)
        check(isfinite(q.data[k]), "nd: values finite");
    check((st2 == HJ_OK) == (nd <= 2), "2-D reader accepts exactly the 1-D and 2-D arrays");
    if (st2 == HJ_OK) {
        check(m.rows == q.rows && m.cols == q.cols, "nd agrees with the 2-D reader: shape");
        check(memcmp(m.data, q.data, q.rows * q.cols * sizeof(double)) == 0, "nd agrees: bits");
        hj_matrix_free(&m);
    }
    hj_matrix_free(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_nd(data, size);
    hj_matrix m;
    hj_error e = {0};
    hj_status st = hj_npy_parse(data, size, "fuzz.npy", &m, &e);
    if (st != HJ_OK) {
        check(st == e.code, "status recorded in err");
        check(st == HJ_EFORMAT || st == HJ_ENAN, "only format/NaN errors for bytes");
        check(strncmp(e.msg, "fuzz.npy: ", 10) == 0, "message names the file");
        check(m.data == NULL && m.names == NULL && m.rows == 0 && m.cols == 0,
              "output zeroed on failure");
        return 0;
    }
    check(m.rows >= 1 && m.cols >= 1 && m.data != NULL && m.names == NULL, "shape");
    for (size_t k = 0; k < m.rows * m.cols; k++)
        check(isfinite(m.data[k]), "values finite");

    char *img = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&img, &len);
    check(f != NULL, "open_memstream");
    st = hj_io_npy_write_stream(f, &m, &e);
    fclose(f);
    check(st == HJ_OK, "accepted matrix can be written");
    check(len % 8 == 0 && len > 10 && (len - 8 * m.rows * m.cols) % 64 == 0, "64-byte header");
    hj_matrix r;
    st = hj_npy_parse(img, len, "again.npy", &r, &e);
    check(st == HJ_OK, "written .npy parses");
    check(r.rows == m.rows && r.cols == m.cols, "round trip shape");
    check(memcmp(r.data, m.data, m.rows * m.cols * sizeof(double)) == 0, "round trip bits");
    hj_matrix_free(&r);
    hj_matrix_free(&m);
    free(img);
    return 0;
}
