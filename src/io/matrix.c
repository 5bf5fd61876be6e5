/* matrix.c — hj_matrix storage (the file formats are in format.c). */
#include "io/io-impl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Allocate a zeroed rows x cols matrix. rows or cols may be 0; data is then
 * still a valid (1-element) allocation, so data != NULL on success.
 * HJ_EINVAL for m == NULL, HJ_ENOMEM when rows*cols*8 overflows size_t or
 * calloc fails. On failure *m is zeroed. */
hj_status hj_matrix_alloc(hj_matrix *m, size_t rows, size_t cols, hj_error *err)
{
    if (m == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_matrix_alloc: NULL matrix");
    memset(m, 0, sizeof *m);
    if (cols != 0 && rows > SIZE_MAX / sizeof(double) / cols)
        return hj_error_set(err, HJ_ENOMEM, "hj_matrix_alloc: %zu x %zu doubles overflow size_t",
                            rows, cols);
    size_t n = rows * cols;
    double *d = calloc(n ? n : 1, sizeof *d);
    if (d == NULL)
        return hj_error_set(err, HJ_ENOMEM, "hj_matrix_alloc: cannot allocate %zu x %zu doubles",
                            rows, cols);
    m->rows = rows;
    m->cols = cols;
    m->data = d;
    return HJ_OK;
}

/* Free data and the cols names (each, then the array); zero *m. */
void hj_matrix_free(hj_matrix *m)
{
    if (m == NULL)
        return;
    if (m->names != NULL) {
        for (size_t j = 0; j < m->cols; j++)
            free(m->names[j]);
        free(m->names);
    }
    free(m->data);
    memset(m, 0, sizeof *m);
}
