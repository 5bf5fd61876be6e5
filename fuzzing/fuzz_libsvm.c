/* fuzz_libsvm.c — libFuzzer harness for hj_libsvm_parse: arbitrary bytes must
 * never crash it; a rejection must leave the output zeroed with a message
 * naming the input; an accepted matrix (features, then the label) is finite
 * and, printed again as libsvm text with %.17g (entries whose bits are not
 * +0 only), parses back bit for bit with the same feature count. */
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
        fprintf(stderr, "fuzz_libsvm: property violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hj_matrix m;
    hj_error e = {0};
    hj_status st = hj_libsvm_parse((const char *)data, size, "fuzz.svm", 0, &m, &e);
    if (st != HJ_OK) {
        check(st == e.code, "status recorded in err");
        check(st == HJ_EFORMAT || st == HJ_ENOMEM, "only format/size errors for bytes");
        check(strncmp(e.msg, "fuzz.svm", 8) == 0, "message names the file");
        check(m.data == NULL && m.rows == 0 && m.cols == 0, "output zeroed on failure");
        return 0;
    }
    check(m.rows >= 1 && m.cols >= 2 && m.data != NULL && m.names == NULL, "shape");
    const size_t d = m.cols - 1;
    char *img = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&img, &len);
    check(f != NULL, "open_memstream");
    for (size_t i = 0; i < m.rows; i++) {
        const double *row = m.data + i * m.cols;
        check(isfinite(row[d]), "label finite");
        fprintf(f, "%.17g", row[d]);
        for (size_t k = 0; k < d; k++) {
            check(isfinite(row[k]), "values finite");
            if (row[k] != 0.0 || signbit(row[k]))
                fprintf(f, " %zu:%.17g", k + 1, row[k]);
        }
        fputc('\n', f);
    }
    fclose(f);
    hj_matrix r;
    st = hj_libsvm_parse(img, len, "again.svm", d, &r, &e);
    check(st == HJ_OK, "printed libsvm parses");
    check(r.rows == m.rows && r.cols == m.cols, "round trip shape");
    check(memcmp(r.data, m.data, m.rows * m.cols * sizeof(double)) == 0, "round trip bits");
    hj_matrix_free(&r);
    hj_matrix_free(&m);
    free(img);
    return 0;
}
