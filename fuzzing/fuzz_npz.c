/* fuzz_npz.c — libFuzzer harness for hj_npz_parse: arbitrary bytes must never
 * crash it; a rejection must leave the output zeroed with a message naming
 * the input; whatever it accepts must survive the .npz writer + parser bit
 * for bit, with the same column names. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_npz: property violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hj_matrix m;
    hj_error e = {0};
    hj_status st = hj_npz_parse(data, size, "fuzz.npz", &m, &e);
    if (st != HJ_OK) {
        check(st == e.code, "status recorded in err");
        check(st == HJ_EFORMAT || st == HJ_ENAN || st == HJ_ENOMEM, "only format/NaN/size errors for bytes");
        check(strncmp(e.msg, "fuzz.npz", 8) == 0, "message names the file");
        check(m.data == NULL && m.names == NULL && m.rows == 0 && m.cols == 0, "output zeroed on failure");
        return 0;
    }
    check(m.rows >= 1 && m.cols >= 1 && m.data != NULL, "shape");
    for (size_t k = 0; k < m.rows * m.cols; k++)
        check(isfinite(m.data[k]), "values finite");
    int slash = 0;
    for (size_t j = 0; m.names && j < m.cols; j++)
        slash |= strchr(m.names[j], '/') != NULL || strlen(m.names[j]) >= 250;

    char *img = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&img, &len);
    check(f != NULL, "open_memstream");
    st = hj_npz_write_stream(f, &m, NULL, &e);
    fclose(f);
    if (slash) { /* a member name the writer cannot give an array */
        check(st == HJ_EINVAL, "names with '/' refused by the writer");
    } else {
        check(st == HJ_OK, "accepted matrix can be written");
        hj_matrix r;
        st = hj_npz_parse(img, len, "again.npz", &r, &e);
        check(st == HJ_OK, "written .npz parses");
        check(r.rows == m.rows && r.cols == m.cols, "round trip shape");
        check(memcmp(r.data, m.data, m.rows * m.cols * sizeof(double)) == 0, "round trip bits");
        check((r.names == NULL) == (m.names == NULL), "names kept");
        for (size_t j = 0; m.names && j < m.cols; j++)
            check(strcmp(r.names[j], m.names[j]) == 0, "round trip names");
        hj_matrix_free(&r);
    }
    hj_matrix_free(&m);
    free(img);
    return 0;
}
