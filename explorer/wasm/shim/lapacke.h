/* lapacke.h — the WebAssembly build's stand-in for Debian's LAPACKE (private to
 * explorer/wasm; the native build always uses the real one).
 *
 * There is no LAPACK for wasm32 in Debian, so the explorer build supplies the
 * five entry points libhjdl calls:
 *   LAPACKE_dsyev   implemented (cyclic Jacobi, lapacke_shim.c): the landscape's
 *                   Morse indices and fold null vectors, d <= 3 in the explorer;
 *   LAPACKE_dsyevr, LAPACKE_dstevr, LAPACKE_dpotrf, LAPACKE_dpotri
 *                   refused (return HJ_WASM_LAPACK_MISSING, a negative info):
 *                   PCA preprocessing, Lanczos norms and anisotropic metrics
 *                   then fail with the library's own error status. The
 *                   explorer uses none of them. */
#ifndef HJDL_WASM_LAPACKE_SHIM_H
#define HJDL_WASM_LAPACKE_SHIM_H

typedef int lapack_int;
#define LAPACK_ROW_MAJOR 101
#define LAPACK_COL_MAJOR 102
#define HJ_WASM_LAPACK_MISSING (-1000)

/* a (n, n) symmetric, only the uplo triangle read; w (n) ascending eigenvalues;
 * jobz 'V': a's columns become the orthonormal eigenvectors. */
lapack_int LAPACKE_dsyev(int layout, char jobz, char uplo, lapack_int n, double *a,
                         lapack_int lda, double *w);
lapack_int LAPACKE_dsyevr(int layout, char jobz, char range, char uplo, lapack_int n, double *a,
                          lapack_int lda, double vl, double vu, lapack_int il, lapack_int iu,
                          double abstol, lapack_int *m, double *w, double *z, lapack_int ldz,
                          lapack_int *isuppz);
lapack_int LAPACKE_dstevr(int layout, char jobz, char range, lapack_int n, double *d, double *e,
                          double vl, double vu, lapack_int il, lapack_int iu, double abstol,
                          lapack_int *m, double *w, double *z, lapack_int ldz, lapack_int *isuppz);
lapack_int LAPACKE_dpotrf(int layout, char uplo, lapack_int n, double *a, lapack_int lda);
lapack_int LAPACKE_dpotri(int layout, char uplo, lapack_int n, double *a, lapack_int lda);

#endif
