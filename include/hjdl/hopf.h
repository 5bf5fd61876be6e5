/* hopf.h — Hopf–Cole and Hopf–Lax solutions of the HJ equation
 *
 *     d_t u + |grad u|^2 = eps Lap u,   x in R^d, t > 0,
 *
 * with initial data given by atoms (y_j, g_j), and the exact map between
 * LSE-layer weights and initial data at time t (SPEC §1).
 *
 * Shapes: y (N, d) atom positions, g (N) atom heights, x (n, d) points.
 *
 * Hopf–Cole (eps > 0):
 *   u_eps(x,t) = -eps log sum_j exp(-(g_j + |x - y_j|^2/(4t))/eps)
 * with Gibbs weights pi_j proportional to exp(-(g_j + |x-y_j|^2/(4t))/eps),
 * ybar = E_pi[y]:
 *   grad u = (x - ybar)/(2t),  d_t u = -E_pi|x-y|^2/(4t^2),
 *   hess u = I/(2t) - Cov_pi(y)/(4 t^2 eps).
 * This "plain" u satisfies d_t u + |grad u|^2 - eps Lap u = -eps d/(2t)
 * exactly, because the heat kernel's normalising constant is dropped; the
 * "normalised" u~ = u + (eps d/2) log(4 pi eps t) is an exact solution.
 * Hopf–Lax (eps = 0): u_0(x,t) = min_j { g_j + |x - y_j|^2/(4t) }.
 *
 * Anisotropic Hamiltonian H(p) = p^T A p (A SPD), viscosity eps tr(A hess u):
 * |x-y|^2 becomes (x-y)^T A^{-1} (x-y) everywhere (pass an hj_metric);
 * grad u = A^{-1}(x - ybar)/(2t), hess u = A^{-1}/(2t) - A^{-1} Cov_pi(y) A^{-1}/(4t^2 eps),
 * normalised u~ = u + (eps d/2) log(4 pi eps t) + (eps/2) log det A.
 *
 * Weights <-> initial data at time t:
 *   w_j = A^{-1} y_j/(2t),  b_j = -g_j - y_j^T A^{-1} y_j/(4t);
 *   y_j = 2t A w_j,         g_j = -b_j - t w_j^T A w_j.
 * Then f_eps(x) + u_eps(x,t) = x^T A^{-1} x/(4t) for every eps >= 0.
 */
#ifndef HJDL_HOPF_H
#define HJDL_HOPF_H

#include "hjdl/export.h"

#include <stddef.h>

#include "hjdl/atoms.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which quantities hj_hopf_cole_eval writes; each pointer may be NULL. */
typedef struct hj_hc_out {
    double *u;        /* (n)       plain Hopf–Cole u_eps */
    double *u_norm;   /* (n)       normalised u~ (equals u at eps = 0) */
    double *grad;     /* (n, d)    grad_x u */
    double *dudt;     /* (n)       d_t u (of the plain u) */
    double *hess;     /* (n, d, d) hess_x u (+inf/-inf entries at eps = 0 kinks) */
    double *lap;      /* (n)       Lap u = tr hess (anisotropic: tr(A hess u)) */
    double *entropy;  /* (n)       H(pi) = -sum pi log pi, in [0, log N] */
    double *pi;       /* (n, N)    Gibbs weights */
} hj_hc_out;

/* Evaluate the Hopf–Cole solution (Hopf–Lax when eps == 0) at n points and
 * time t > 0. metric may be NULL (A = I). */
HJ_API hj_status hj_hopf_cole_eval(const hj_atoms *a, const hj_metric *metric,
                            const double *x, size_t n, double t, double eps,
                            const hj_hc_out *out, hj_error *err);

/* Hopf–Lax u_0(x_i, t) = min_j {g_j + |x_i - y_j|^2_A^{-1}/(4t)} and the
 * minimising atom index (argmin may be NULL; ties: smallest index). */
HJ_API hj_status hj_hopf_lax_eval(const hj_atoms *a, const hj_metric *metric,
                           const double *x, size_t n, double t,
                           double *u, size_t *argmin, hj_error *err);

/* Weights (w (N,d), b (N)) -> atoms (y (N,d), g (N)) at time t > 0. */
HJ_API hj_status hj_weights_to_atoms(const double *w, const double *b, size_t N, size_t d,
                              double t, const hj_metric *metric,
                              double *y, double *g, hj_error *err);

/* Atoms (y, g) -> weights (w, b) at time t > 0. */
HJ_API hj_status hj_atoms_to_weights(const double *y, const double *g, size_t N, size_t d,
                              double t, const hj_metric *metric,
                              double *w, double *b, hj_error *err);

/* x^T A^{-1} x / (4t): the quadratic that links f and u (f + u = this). */
HJ_API double hj_hopf_quadratic(const hj_metric *metric, const double *x, size_t d, double t);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_HOPF_H */
