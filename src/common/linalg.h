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

/* Layer normalisation without affine part, row by row: Y (T, D) =
 * (X - mean) / sqrt(var + eps) per row of X (T, D); rstd (T), if not NULL,
 * receives 1/sqrt(var + eps) (what the backward pass needs). */
void hj__layer_norm(const double *X, size_t T, size_t D, double eps, double *Y, double *rstd);
/* Its backward: dX (T, D) += the gradient through the normalisation of dY (T, D),
 * given the normalised output Y (T, D) and rstd (T) of the forward pass:
 *     dX_t += rstd_t (dY_t - mean(dY_t) - Y_t mean(dY_t . Y_t)). */
void hj__layer_norm_backward(double *dX, const double *dY, const double *Y, const double *rstd,
                             size_t T, size_t D);

/* out (T, D) = X (T, D) W (D, D): the square projections of attention layers. */
static inline void hj__matmul_square(const double *X, const double *W, size_t T, size_t D,
                                     double *out)
{
    hj__gemm(0, 0, T, D, D, 1.0, X, D, W, D, 0.0, out, D);
}

#endif /* HJDL_COMMON_LINALG_H */
