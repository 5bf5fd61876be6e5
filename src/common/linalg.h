/* linalg.h — the few dense linear-algebra kernels the models need (private).
 * With HJDL_HAVE_CBLAS they call OpenBLAS; otherwise plain loops. */
#ifndef HJDL_COMMON_LINALG_H
#define HJDL_COMMON_LINALG_H

#include <stddef.h>

/* C (m, n) = alpha * op(A) op(B) + beta * C, row-major.
 * op(A) is (m, k): A (m, k) when ta == 0, A (k, m) transposed when ta == 1.
 * op(B) is (k, n): B (k, n) when tb == 0, B (n, k) transposed when tb == 1.
 * lda/ldb/ldc are the row strides of A, B, C as stored. */
void hj__gemm(int ta, int tb, size_t m, size_t n, size_t k, double alpha, const double *A,
              size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc);

#endif /* HJDL_COMMON_LINALG_H */
