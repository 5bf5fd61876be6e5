/* lapacke_shim.c — see shim/lapacke.h: dsyev by cyclic Jacobi rotations, the
 * other LAPACKE entry points refused. WebAssembly build only. */
#include "lapacke.h"

#include <math.h>
#include <stdlib.h>

static double *at(double *a, int layout, lapack_int lda, lapack_int i, lapack_int j)
{
    return layout == LAPACK_ROW_MAJOR ? a + (size_t)i * lda + j : a + (size_t)j * lda + i;
}

lapack_int LAPACKE_dsyev(int layout, char jobz, char uplo, lapack_int n, double *a,
                         lapack_int lda, double *w)
{
    if (n < 0 || lda < n || (layout != LAPACK_ROW_MAJOR && layout != LAPACK_COL_MAJOR))
        return -1;
    if (n == 0)
        return 0;
    const size_t nn = (size_t)n;
    double *S = malloc(2 * nn * nn * sizeof *S);
    if (S == NULL)
        return HJ_WASM_LAPACK_MISSING;
    double *V = S + nn * nn;
    const int upper = uplo == 'U' || uplo == 'u';
    for (lapack_int i = 0; i < n; i++)
        for (lapack_int j = 0; j < n; j++) {
            const int mine = upper ? j >= i : j <= i;
            S[i * nn + j] = mine ? *at(a, layout, lda, i, j) : *at(a, layout, lda, j, i);
            V[i * nn + j] = i == j ? 1.0 : 0.0;
        }
    /* cyclic Jacobi: rotate each off-diagonal pair to zero until they vanish */
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0, diag = 0.0;
        for (size_t i = 0; i < nn; i++) {
            diag += S[i * nn + i] * S[i * nn + i];
            for (size_t j = i + 1; j < nn; j++)
                off += S[i * nn + j] * S[i * nn + j];
        }
        if (off == 0.0 || off <= 1e-36 * diag)
            break;
        for (size_t p = 0; p < nn; p++)
            for (size_t q = p + 1; q < nn; q++) {
                const double apq = S[p * nn + q];
                if (apq == 0.0)
                    continue;
                const double theta = (S[q * nn + q] - S[p * nn + p]) / (2.0 * apq);
                const double tt = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                const double c = 1.0 / sqrt(tt * tt + 1.0), s = tt * c;
                for (size_t k = 0; k < nn; k++) { /* columns p, q */
                    const double skp = S[k * nn + p], skq = S[k * nn + q];
                    S[k * nn + p] = c * skp - s * skq;
                    S[k * nn + q] = s * skp + c * skq;
                }
                for (size_t k = 0; k < nn; k++) { /* rows p, q */
                    const double spk = S[p * nn + k], sqk = S[q * nn + k];
                    S[p * nn + k] = c * spk - s * sqk;
                    S[q * nn + k] = s * spk + c * sqk;
                }
                for (size_t k = 0; k < nn; k++) {
                    const double vkp = V[k * nn + p], vkq = V[k * nn + q];
                    V[k * nn + p] = c * vkp - s * vkq;
                    V[k * nn + q] = s * vkp + c * vkq;
                }
            }
    }
    /* ascending order (selection sort: n is tiny) */
    size_t *ord = malloc(nn * sizeof *ord);
    if (ord == NULL) {
        free(S);
        return HJ_WASM_LAPACK_MISSING;
    }
    for (size_t i = 0; i < nn; i++)
        ord[i] = i;
    for (size_t i = 0; i < nn; i++)
        for (size_t j = i + 1; j < nn; j++)
            if (S[ord[j] * nn + ord[j]] < S[ord[i] * nn + ord[i]]) {
                const size_t tmp = ord[i];
                ord[i] = ord[j], ord[j] = tmp;
            }
    for (size_t k = 0; k < nn; k++) {
        w[k] = S[ord[k] * nn + ord[k]];
        if (jobz == 'V' || jobz == 'v')
            for (size_t i = 0; i < nn; i++)
                *at(a, layout, lda, (lapack_int)i, (lapack_int)k) = V[i * nn + ord[k]];
    }
    free(ord);
    free(S);
    return 0;
}

lapack_int LAPACKE_dsyevr(int layout, char jobz, char range, char uplo, lapack_int n, double *a,
                          lapack_int lda, double vl, double vu, lapack_int il, lapack_int iu,
                          double abstol, lapack_int *m, double *w, double *z, lapack_int ldz,
                          lapack_int *isuppz)
{
    (void)layout, (void)jobz, (void)range, (void)uplo, (void)n, (void)a, (void)lda, (void)vl;
    (void)vu, (void)il, (void)iu, (void)abstol, (void)w, (void)z, (void)ldz, (void)isuppz;
    *m = 0;
    return HJ_WASM_LAPACK_MISSING;
}

lapack_int LAPACKE_dstevr(int layout, char jobz, char range, lapack_int n, double *d, double *e,
                          double vl, double vu, lapack_int il, lapack_int iu, double abstol,
                          lapack_int *m, double *w, double *z, lapack_int ldz, lapack_int *isuppz)
{
    (void)layout, (void)jobz, (void)range, (void)n, (void)d, (void)e, (void)vl, (void)vu;
    (void)il, (void)iu, (void)abstol, (void)w, (void)z, (void)ldz, (void)isuppz;
    *m = 0;
    return HJ_WASM_LAPACK_MISSING;
}

lapack_int LAPACKE_dpotrf(int layout, char uplo, lapack_int n, double *a, lapack_int lda)
{
    (void)layout, (void)uplo, (void)n, (void)a, (void)lda;
    return HJ_WASM_LAPACK_MISSING;
}

lapack_int LAPACKE_dpotri(int layout, char uplo, lapack_int n, double *a, lapack_int lda)
{
    (void)layout, (void)uplo, (void)n, (void)a, (void)lda;
    return HJ_WASM_LAPACK_MISSING;
}
