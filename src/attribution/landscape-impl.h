/* landscape-impl.h — internals shared by the entropy-landscape files (not installed). */
#ifndef HJDL_LANDSCAPE_IMPL_H
#define HJDL_LANDSCAPE_IMPL_H

#include <stddef.h>

/* Solve A z = b in place (A (n, n) destroyed, b (n) becomes z) by Gaussian
 * elimination with partial pivoting. Returns 0, or -1 when a pivot is at
 * most tiny (numerically singular). For the tiny systems of Newton steps and
 * continuation (n <= 2d + 1), where LAPACK's call overhead would dominate. */
int hj__landscape_lu_solve(double *A, double *b, size_t n, double tiny);

#endif /* HJDL_LANDSCAPE_IMPL_H */
