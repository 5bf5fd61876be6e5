/* fuzz_csv.c — libFuzzer harness for hj_csv_parse: arbitrary bytes must never
 * crash it, a rejection must leave the output zeroed with a message naming
 * the input, and whatever it accepts must survive hj_csv_write_stream +
 * hj_csv_parse bit for bit (values and column names). */
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
        fprintf(stderr, "fuzz_csv: property violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hj_matrix m;
    hj_error e = {0};
    hj_status st = hj_csv_parse((const char *)data, size, "fuzz.csv", &m, &e);
    if (st != HJ_OK) {
        check(st == e.code, "status recorded in err");
        check(st == HJ_EFORMAT || st == HJ_ENAN, "only format/NaN errors for text");
        check(strncmp(e.msg, "fuzz.csv:", 9) == 0, "message names the file and line");
        check(m.data == NULL && m.names == NULL && m.rows == 0 && m.cols == 0,
              "output zeroed on failure");
        return 0;
    }
    check(m.rows >= 1 && m.cols >= 1 && m.data != NULL && m.names != NULL, "shape");
    for (size_t k = 0; k < m.rows * m.cols; k++)
        check(isfinite(m.data[k]), "values finite");
    for (size_t j = 0; j < m.cols; j++)
        check(m.names[j] != NULL && m.names[j][0] != '\0', "names non-empty");

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    check(f != NULL, "open_memstream");
    st = hj_csv_write_stream(f, &m, NULL, &e);
    fclose(f);
    check(st == HJ_OK, "accepted matrix can be written");
    hj_matrix r;
    st = hj_csv_parse(text, len, "again.csv", &r, &e);
    if (st != HJ_OK)
        fprintf(stderr, "re-parse failed: %s\n", e.msg);
    check(st == HJ_OK, "written CSV parses");
    check(r.rows == m.rows && r.cols == m.cols, "round trip shape");
    check(memcmp(r.data, m.data, m.rows * m.cols * sizeof(double)) == 0, "round trip bits");
    for (size_t j = 0; j < m.cols; j++)
        check(strcmp(r.names[j], m.names[j]) == 0, "round trip names");
    hj_matrix_free(&r);
    hj_matrix_free(&m);
    free(text);
    return 0;
}
