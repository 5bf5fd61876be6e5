/* quadrature.c — trapezoid discretisation of continuous initial data: quadrature atoms and the viscous propagator by direct quadrature. */
#include "hjdl/pde.h"

#include <math.h>
#include <stdlib.h>

#include "pde/pde-impl.h"

/* Atoms of g0 on Q (see pde.h): y (N, d) = the nodes of Q, g (N) =
 * g0(y_j) - eps log(omega_j) with omega_j the trapezoid weight (product rule
 * in 2-D; sum over j = box volume). eps >= 0 and finite; at eps = 0 the
 * weights drop out, g_j = g0(y_j). g0 must be finite on every node. Then
 *   sum_j exp(-(g_j + |x - y_j|^2/(4t))/eps)
 *     = sum_j omega_j exp(-(g0(y_j) + |x - y_j|^2/(4t))/eps),
 * the trapezoid rule for the Hopf–Cole integral. */
hj_status hj_pde_quadrature_atoms(const hj_grid *Q, hj_scalar_fn g0, void *ctx,
                                  double eps, double *y, double *g, hj_error *err)
{
    hj_status st = hj__pde_check_grid(Q, "quadrature grid Q", err);
    if (st != HJ_OK)
        return st;
    if (g0 == NULL)
        return hj_error_set(err, HJ_EINVAL, "quadrature atoms: initial data g0 is NULL");
    if (y == NULL || g == NULL)
        return hj_error_set(err, HJ_EINVAL, "quadrature atoms: output buffer y or g is NULL");
    if (!isfinite(eps) || !(eps >= 0.0))
        return hj_error_set(err, HJ_EINVAL,
                            "quadrature atoms: eps must be finite and >= 0 (got %g)", eps);
    st = hj__pde_sample(Q, g0, ctx, "g0", g, err);
    if (st != HJ_OK)
        return st;
    const size_t N = hj_grid_size(Q), d = Q->d;
    for (size_t j = 0; j < N; j++) {
        hj_grid_point(Q, j, y + j * d);
        if (eps > 0.0)
            g[j] -= eps * log(hj__pde_trap_weight(Q, j));
    }
    return HJ_OK;
}

/* Viscous propagator by trapezoid quadrature over Q (see pde.h):
 *   out_i = -eps log sum_j omega_j (4 pi eps s)^{-d/2}
 *                          exp(-(phi(y_j) + |x_i - y_j|^2/(4s))/eps),
 * evaluated as -eps (m + log sum_j omega_j exp(e_j - m)) + (eps d/2)
 * log(4 pi eps s) with e_j the exponents and m = max_j e_j, so it never
 * overflows or underflows to log 0. eps > 0, s > 0 finite; phi finite on
 * Q's nodes; x (n, d) finite, n >= 1; out (n). The integral is over Q's box
 * only: it approximates the propagator on R^d when the integrand is
 * negligible at the box edge. HJ_ENOMEM if phi's node values (N doubles)
 * cannot be allocated; HJ_ERANGE if (phi + |x - y|^2/(4s))/eps overflows. */
hj_status hj_pde_heat_propagate(const hj_grid *Q, hj_scalar_fn phi, void *ctx,
                                const double *x, size_t n, double s, double eps,
                                double *out, hj_error *err)
{
    hj_status st = hj__pde_check_grid(Q, "quadrature grid Q", err);
    if (st != HJ_OK)
        return st;
    if (phi == NULL)
        return hj_error_set(err, HJ_EINVAL, "heat propagate: function phi is NULL");
    if (out == NULL)
        return hj_error_set(err, HJ_EINVAL, "heat propagate: output buffer out is NULL");
    if (!isfinite(eps) || !(eps > 0.0))
        return hj_error_set(err, HJ_EINVAL,
                            "heat propagate: eps must be finite and > 0 (got %g)", eps);
    if (!isfinite(s) || !(s > 0.0))
        return hj_error_set(err, HJ_EINVAL,
                            "heat propagate: time s must be finite and > 0 (got %g)", s);
    const size_t d = Q->d;
    if ((st = hj__pde_check_points(x, n, d, err)) != HJ_OK)
        return st;

    const size_t N = hj_grid_size(Q);
    double *buf = malloc(3 * N * sizeof *buf);
    if (buf == NULL)
        return hj_error_set(err, HJ_ENOMEM, "heat propagate: cannot allocate %zu doubles",
                            3 * N);
    double *ph = buf;        /* (N) phi at the nodes */
    double *lw = buf + N;    /* (N) log of the trapezoid weights */
    double *e = buf + 2 * N; /* (N) exponents for one x */
    if ((st = hj__pde_sample(Q, phi, ctx, "phi", ph, err)) != HJ_OK) {
        free(buf);
        return st;
    }
    for (size_t j = 0; j < N; j++)
        lw[j] = log(hj__pde_trap_weight(Q, j));

    const double norm = 0.5 * eps * (double)d * log(4.0 * HJ_PDE_PI * eps * s);
    const double inv4s = 1.0 / (4.0 * s);
    for (size_t i = 0; i < n; i++) {
        const double *xi = x + i * d;
        double m = -INFINITY, y[2];
        for (size_t j = 0; j < N; j++) {
            hj_grid_point(Q, j, y);
            double r2 = 0.0;
            for (size_t k = 0; k < d; k++)
                r2 += (xi[k] - y[k]) * (xi[k] - y[k]);
            e[j] = lw[j] - (ph[j] + r2 * inv4s) / eps;
            if (e[j] > m)
                m = e[j];
        }
        if (!isfinite(m)) {
            free(buf);
            return hj_error_set(err, HJ_ERANGE,
                                "heat propagate: exponents overflow at x[%zu] (phi/eps too large)",
                                i);
        }
        double sum = 0.0;
        for (size_t j = 0; j < N; j++)
            sum += exp(e[j] - m);
        out[i] = -eps * (m + log(sum)) + norm;
    }
    free(buf);
    return HJ_OK;
}
