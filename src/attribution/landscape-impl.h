/* landscape-impl.h — internals shared by the entropy-landscape files (not installed). */
#ifndef HJDL_LANDSCAPE_IMPL_H
#define HJDL_LANDSCAPE_IMPL_H

#include <stddef.h>

/* Solve A z = b in place (A (n, n) destroyed, b (n) becomes z) by Gaussian
 * elimination with partial pivoting. Returns 0, or -1 when a pivot is at
 * most tiny (numerically singular). For the tiny systems of Newton steps and
 * continuation (n <= 2d + 1), where LAPACK's call overhead would dominate. */
int hj__landscape_lu_solve(double *A, double *b, size_t n, double tiny);

/* Eigen-decomposition of the symmetric (d, d) matrix V in place: lam (d),
 * eigenvectors in the columns of V (V[k*d + i] = component k of vector i).
 * Closed form for d <= 2, LAPACK above. 0 or -1. */
int hj__landscape_sym_eig(double *V, size_t d, double *lam);

/* The modified Newton step p (d) = -sum_i (v_i . g) / max(|lam_i|, lam_floor) v_i
 * for the eigenpairs (lam (d), V (d, d) as from hj__landscape_sym_eig) of a
 * Hessian and the gradient g (d): a descent direction whatever the
 * Hessian's signs. */
void hj__landscape_abs_newton_step(const double *V, const double *lam, const double *g, size_t d,
                                   double lam_floor, double *p);

#endif /* HJDL_LANDSCAPE_IMPL_H */
