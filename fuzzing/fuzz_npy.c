/* fuzz_npy.c — libFuzzer harness for hj_npy_parse: arbitrary bytes must never
 * crash it, a rejection must leave the output zeroed with a message naming
 * the input, and whatever it accepts must survive the .npy writer + parser
 * bit for bit. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
