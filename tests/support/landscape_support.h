/* landscape_support.h — naive references for the entropy-landscape tests (test_landscape.c, test_exp_landscape.c), written from the definition, not from the library. */
#ifndef HJDL_TEST_LANDSCAPE_SUPPORT_H
#define HJDL_TEST_LANDSCAPE_SUPPORT_H

#include <stddef.h>

/* The most atoms ls_naive_H takes (its weights live on the stack). */
#define LS_MAX_ATOMS 256

/* H(x; eps) of atoms (y (N, d), g (N)) at time t straight from the
 * definition, in long double: a_j = -(g_j + |x - y_j|^2/(4t))/eps,
 * log pi_j = a_j - max a - log Z, H = -sum pi log pi. N <= LS_MAX_ATOMS
 * (more fails the running cmocka test). x: (d). */
long double ls_naive_H(const double *y, const double *g, size_t N, size_t d, double t, double eps,
                       const double *x);

/* Central differences of ls_naive_H in 2-D (d = 2) at x (2) with step h, on
 * the 3x3 stencil in long double: grad (2) and the Hessian as
 * hess (3) = (d2/dx1^2, d2/dx1dx2, d2/dx2^2). */
void ls_naive_fd_2d(const double *y, const double *g, size_t N, double t, double eps,
                    const double *x, double h, double *grad, double *hess);

#endif /* HJDL_TEST_LANDSCAPE_SUPPORT_H */
