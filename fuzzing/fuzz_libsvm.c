/* fuzz_libsvm.c — libFuzzer harness for hj_libsvm_parse: arbitrary bytes must
 * never crash it; a rejection must leave the output zeroed with a message
 * naming the input; an accepted matrix (features, then the label) is the
 * same at a fixed width of 4096 and at its own (the largest index), finite,
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

/* Dense width of the first parse: wide enough for any short input, small
 * enough for the fuzzer's memory (4096 bytes make at most ~2000 rows). */
#define WIDE 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hj_matrix m, w;
    hj_error e = {0};
    /* first at a fixed width: an index beyond it is refused, and the input
     * is not tried at its own width (which could need gigabytes) */
    hj_status st = hj_libsvm_parse((const char *)data, size, "fuzz.svm", WIDE, &w, &e);
    if (st == HJ_OK) {
        hj_status s0 = hj_libsvm_parse((const char *)data, size, "fuzz.svm", 0, &m, &e);
        if (s0 != HJ_OK) { /* its own width is 0: labels only */
            check(strstr(e.msg, "no feature on any line") != NULL, "accepted at a fixed width, accepted at its own");
            hj_matrix_free(&w);
            return 0;
        }
        check(m.rows == w.rows && m.cols <= w.cols, "its own width is the largest index");
        for (size_t i = 0; i < m.rows; i++) {
            check(memcmp(m.data + i * m.cols, w.data + i * w.cols, (m.cols - 1) * sizeof(double)) == 0,
                  "same features at either width");
            check(memcmp(m.data + i * m.cols + m.cols - 1, w.data + i * w.cols + w.cols - 1, sizeof(double)) == 0,
                  "same label at either width");
            for (size_t k = m.cols - 1; k < w.cols - 1; k++)
                check(w.data[i * w.cols + k] == 0.0 && !signbit(w.data[i * w.cols + k]), "absent features are +0");
        }
        hj_matrix_free(&w);
    } else if (strstr(e.msg, "beyond the 4096 features") != NULL) {
        return 0;
    } else {
        m = w;
    }
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
