/* inviscid.c — monotone Godunov upwind scheme for d_t u + |grad u|^2 = 0 on a 1-D / 2-D grid. */
#include "hjdl/pde.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pde/pde-impl.h"

/*
 * Scheme (Rouy–Tourin / Godunov for the convex H(p) = |p|^2, whose minimum
 * is at p = 0): with backward and forward differences a = D-u, b = D+u on
 * axis k, the Godunov numerical Hamiltonian of p^2 is
 *     H_k(a, b) = max( max(a, 0)^2, min(b, 0)^2 ),
 * and in 2-D the axes add:  u+ = u - dt * sum_k H_k.
 *
 * Time step: explicit Euler, recomputed every step as
 *     dt = cfl / (2 S),   S = max over nodes of sum_k max(|a_k|, |b_k|) / h_k,
 * i.e. cfl * h / (2 max|grad u|) in 1-D, with |grad u| measured by the l1
 * sum of one-sided slopes in 2-D (each over its own h_k). Then the update is
 * non-decreasing in every node value (monotone) for cfl <= 1, hence stable
 * and convergent to the viscosity solution; cfl <= 0.9 is required. When
 * S = 0 (u constant) nothing moves and the remaining time is one step. The
 * last step is shortened to land exactly on t.
 *
 * Boundary: the missing outer neighbour of a boundary node is supplied by
 * first-order (linear) extrapolation, u_{-1} = 2 u_0 - u_1, so there the
 * one-sided slope is used on both sides. This is exact for affine data and
 * consistent at outflow boundaries (characteristics x + 2 t grad u leaving
 * the box); where data should flow in from outside the box the result near
 * the edge is wrong — choose the box large enough.
 */

/* Step cap: a Lipschitz bound never grows under a monotone scheme, so the
 * step count is about 2 t Lip / (cfl h); this cap only stops absurd calls. */
#define HJ_INVISCID_MAX_STEPS 100000000UL

/* One-sided slopes of u at position i of a line of length n (stride s). */
static void slopes(const double *u, size_t n, size_t s, size_t i, double h, double *a,
                   double *b)
{
    if (i == 0) {
        *a = *b = (u[s] - u[0]) / h;
    } else if (i + 1 == n) {
        *a = *b = (u[i * s] - u[(i - 1) * s]) / h;
    } else {
        *a = (u[i * s] - u[(i - 1) * s]) / h;
        *b = (u[(i + 1) * s] - u[i * s]) / h;
    }
}

static double godunov(double a, double b)
{
    double p = a > 0.0 ? a : 0.0;
    double q = b < 0.0 ? b : 0.0;
    p *= p;
    q *= q;
    return p > q ? p : q;
}

/* Fill ham (N) with sum_k H_k at every node and return S (see above). */
static double hamiltonian(const hj_grid *G, const double *u, const double *h, double *ham)
{
    const size_t n0 = G->n[0], n1 = (G->d == 2) ? G->n[1] : 1;
    double S = 0.0;
    for (size_t i1 = 0; i1 < n1; i1++) {
        const double *row = u + i1 * n0;
        for (size_t i0 = 0; i0 < n0; i0++) {
            double a, b;
            slopes(row, n0, 1, i0, h[0], &a, &b);
            double H = godunov(a, b);
            double s = fmax(fabs(a), fabs(b)) / h[0];
            if (G->d == 2) {
                slopes(u + i0, n1, n0, i1, h[1], &a, &b);
                H += godunov(a, b);
                s += fmax(fabs(a), fabs(b)) / h[1];
            }
            ham[i0 + i1 * n0] = H;
            if (s > S)
                S = s;
        }
    }
    return S;
}

/* Solve d_t u + |grad u|^2 = 0 on G from u(., 0) = g0 (finite on every
 * node) to time t > 0, with 0 < cfl <= 0.9 (see the scheme comment above).
 * u (hj_grid_size(G)) receives u(., t). HJ_ENOMEM when scratch cannot be
 * allocated, HJ_EMAXITER past 1e8 steps, HJ_ERANGE if values overflow. */
hj_status hj_pde_inviscid_solve(const hj_grid *G, hj_scalar_fn g0, void *ctx,
                                double t, double cfl, double *u, hj_error *err)
{
    hj_status st = hj__pde_check_grid(G, "inviscid solve grid", err);
    if (st != HJ_OK)
        return st;
    if (g0 == NULL)
        return hj_error_set(err, HJ_EINVAL, "inviscid solve: initial data g0 is NULL");
    if (u == NULL)
        return hj_error_set(err, HJ_EINVAL, "inviscid solve: output buffer u is NULL");
    if (!isfinite(t) || !(t > 0.0))
        return hj_error_set(err, HJ_EINVAL, "inviscid solve: t must be finite and > 0 (got %g)",
                            t);
    if (!(cfl > 0.0 && cfl <= 0.9))
        return hj_error_set(err, HJ_EINVAL, "inviscid solve: cfl must lie in (0, 0.9] (got %g)",
                            cfl);

    const size_t N = hj_grid_size(G);
    double h[2] = {hj__pde_spacing(G, 0), G->d == 2 ? hj__pde_spacing(G, 1) : 1.0};
    double *ham = malloc(N * sizeof *ham);
    if (ham == NULL)
        return hj_error_set(err, HJ_ENOMEM, "inviscid solve: cannot allocate %zu doubles", N);
    st = hj__pde_sample(G, g0, ctx, "g0", u, err);
    if (st != HJ_OK) {
        free(ham);
        return st;
    }

    double now = 0.0;
    unsigned long steps = 0;
    for (int last = 0; !last;) {
        if (++steps > HJ_INVISCID_MAX_STEPS) {
            free(ham);
            return hj_error_set(err, HJ_EMAXITER,
                                "inviscid solve: more than %lu time steps needed (t = %g)",
                                HJ_INVISCID_MAX_STEPS, t);
        }
        double S = hamiltonian(G, u, h, ham);
        if (!isfinite(S)) {
            free(ham);
            return hj_error_set(err, HJ_ERANGE,
                                "inviscid solve: slopes overflowed at time %g", now);
        }
        double dt = (S > 0.0) ? cfl / (2.0 * S) : t - now;
        if (now + dt >= t) {
            dt = t - now;
            last = 1;
        }
        for (size_t j = 0; j < N; j++)
            u[j] -= dt * ham[j];
        now += dt;
    }
    free(ham);
    return HJ_OK;
}
