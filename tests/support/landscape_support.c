/* landscape_support.c — naive references for the entropy-landscape tests: H(x; eps) from the definition and its 2-D difference stencil. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "landscape_support.h"

long double ls_naive_H(const double *y, const double *g, size_t N, size_t d, double t, double eps,
                       const double *x)
{
    long double a[LS_MAX_ATOMS], m = -INFINITY, Z = 0.0L, H = 0.0L;
    if (N > LS_MAX_ATOMS)
        fail_msg("ls_naive_H: %zu atoms, at most %d", N, LS_MAX_ATOMS);
    for (size_t j = 0; j < N; j++) {
        long double s2 = 0.0L;
        for (size_t k = 0; k < d; k++)
            s2 += ((long double)x[k] - y[j * d + k]) * ((long double)x[k] - y[j * d + k]);
        a[j] = -((long double)g[j] + s2 / (4.0L * t)) / eps;
        if (a[j] > m)
            m = a[j];
    }
    for (size_t j = 0; j < N; j++)
        Z += expl(a[j] - m);
    for (size_t j = 0; j < N; j++) {
        long double lp = a[j] - m - logl(Z);
        H -= expl(lp) * lp;
    }
    return H;
}

void ls_naive_fd_2d(const double *y, const double *g, size_t N, double t, double eps,
                    const double *x, double h, double *grad, double *hess)
{
    long double f[3][3];
    for (int a = -1; a <= 1; a++)
        for (int b = -1; b <= 1; b++) {
            const double p[2] = {x[0] + a * h, x[1] + b * h};
            f[a + 1][b + 1] = ls_naive_H(y, g, N, 2, t, eps, p);
        }
    grad[0] = (double)((f[2][1] - f[0][1]) / (2 * h));
    grad[1] = (double)((f[1][2] - f[1][0]) / (2 * h));
    hess[0] = (double)((f[2][1] - 2 * f[1][1] + f[0][1]) / (h * h));
    hess[1] = (double)((f[2][2] - f[2][0] - f[0][2] + f[0][0]) / (4 * h * h));
    hess[2] = (double)((f[1][2] - 2 * f[1][1] + f[1][0]) / (h * h));
}
