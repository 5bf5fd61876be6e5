/* linalg.c — GEMM through CBLAS (OpenBLAS) or a plain triple loop; layer normalisation and its backward. */
#include "common/linalg.h"

#include <math.h>

#ifdef HJDL_HAVE_CBLAS
#include <cblas.h>
#endif

void hj__gemm(int ta, int tb, size_t m, size_t n, size_t k, double alpha, const double *A,
              size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc)
{
    if (m == 0 || n == 0)
        return;
#ifdef HJDL_HAVE_CBLAS
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
#else
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t p = 0; p < k; p++) {
                double a = ta ? A[p * lda + i] : A[i * lda + p];
                double b = tb ? B[j * ldb + p] : B[p * ldb + j];
                s += a * b;
            }
            C[i * ldc + j] = alpha * s + (beta == 0.0 ? 0.0 : beta * C[i * ldc + j]);
        }
#endif
}

void hj__layer_norm(const double *X, size_t T, size_t D, double eps, double *Y, double *rstd)
{
    for (size_t t = 0; t < T; t++) {
        const double *x = X + t * D;
        double mu = 0.0, var = 0.0;
        for (size_t k = 0; k < D; k++)
            mu += x[k];
        mu /= (double)D;
        for (size_t k = 0; k < D; k++)
            var += (x[k] - mu) * (x[k] - mu);
        var /= (double)D;
        const double r = 1.0 / sqrt(var + eps);
        if (rstd)
            rstd[t] = r;
        for (size_t k = 0; k < D; k++)
            Y[t * D + k] = (x[k] - mu) * r;
    }
}

void hj__layer_norm_backward(double *dX, const double *dY, const double *Y, const double *rstd,
                             size_t T, size_t D)
{
    for (size_t t = 0; t < T; t++) {
        const double *dy = dY + t * D, *yy = Y + t * D;
        double m1 = 0.0, m2 = 0.0;
        for (size_t k = 0; k < D; k++) {
            m1 += dy[k];
            m2 += dy[k] * yy[k];
        }
        m1 /= (double)D;
        m2 /= (double)D;
        for (size_t k = 0; k < D; k++)
            dX[t * D + k] += rstd[t] * (dy[k] - m1 - yy[k] * m2);
    }
}
