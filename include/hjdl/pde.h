/* pde.h — grid-based solvers used as independent cross-checks of the
 * closed-form Hopf–Cole / Hopf–Lax solutions (SPEC C2–C4).
 *
 * Nothing here calls the closed-form kernels of hopf.h / lse.h: these are
 * separate computations of the same objects, so agreement is evidence.
 *
 * Grids are uniform on a box in d = 1 or 2 dimensions. A grid value array
 * has hj_grid_size(G) entries, index i0 + n[0]*i1 (axis 0 fastest); node
 * (i0, i1) sits at (lo[0] + i0*h0, lo[1] + i1*h1), h_k = (hi[k]-lo[k])/(n[k]-1).
 */
#ifndef HJDL_PDE_H
#define HJDL_PDE_H

#include "hjdl/export.h"

#include <stddef.h>

#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hj_grid {
    size_t d;        /* 1 or 2 */
    size_t n[2];     /* nodes per axis (>= 3); n[1] ignored when d == 1 */
    double lo[2];    /* box lower corner */
    double hi[2];    /* box upper corner (hi > lo) */
} hj_grid;

/* A scalar function of x (d), e.g. initial data g0(y). */
typedef double (*hj_scalar_fn)(const double *x, size_t d, void *ctx);

HJ_API hj_status hj_grid_check(const hj_grid *G, hj_error *err);
HJ_API size_t hj_grid_size(const hj_grid *G);
/* Coordinates (d) of node idx. */
HJ_API void hj_grid_point(const hj_grid *G, size_t idx, double *x);
/* Linear (1-D) / bilinear (2-D) interpolation of grid values at x (d);
 * HJ_EDOM when x lies outside the box. */
HJ_API hj_status hj_grid_interp(const hj_grid *G, const double *values, const double *x,
                         double *out, hj_error *err);

/* Viscous HJ  d_t u + |grad u|^2 = eps Lap u,  u(.,0) = g0, eps > 0, solved
 * on G through the heat equation w_t = eps Lap w for w = exp(-(u - c)/eps)
 * (c = min g0 on the grid, so w <= 1): Crank–Nicolson in 1-D,
 * Peaceman–Rachford ADI in 2-D, nsteps equal steps up to time t.
 * Boundary: homogeneous Neumann (documented in the source); choose a box
 * large enough that the boundary does not reach the region you compare.
 * u (hj_grid_size(G)) receives the solution at time t; nodes where w
 * underflowed to 0 get +inf. This is the *exact* (normalised) solution, to
 * be compared with hopf.h's u_norm. */
HJ_API hj_status hj_pde_viscous_solve(const hj_grid *G, hj_scalar_fn g0, void *ctx,
                               double eps, double t, size_t nsteps,
                               double *u, hj_error *err);

/* Inviscid HJ  d_t u + |grad u|^2 = 0,  u(.,0) = g0: monotone Godunov
 * upwind scheme (numerical Hamiltonian of the convex H(p) = |p|^2), forward
 * Euler with time step cfl * h / (2 * max |grad u|) (cfl <= 0.9),
 * first-order extrapolation at the boundary. u (grid size) at time t. */
HJ_API hj_status hj_pde_inviscid_solve(const hj_grid *G, hj_scalar_fn g0, void *ctx,
                                double t, double cfl, double *u, hj_error *err);

/* Atoms that discretise continuous initial data g0 by trapezoid quadrature
 * on Q: y_j = node j, g_j = g0(y_j) - eps log(omega_j) (omega_j the
 * trapezoid weight; at eps = 0 g_j = g0(y_j)). With these atoms hopf.h's
 * normalised u~ approximates the Hopf–Cole solution of g0. y (N, d), g (N),
 * N = hj_grid_size(Q). */
HJ_API hj_status hj_pde_quadrature_atoms(const hj_grid *Q, hj_scalar_fn g0, void *ctx,
                                  double eps, double *y, double *g, hj_error *err);

/* Viscous propagator by its own trapezoid quadrature over Q:
 *   out_i = -eps log  int_Q (4 pi eps s)^{-d/2} exp(-(phi(y) + |x_i - y|^2/(4s))/eps) dy
 * (max-shifted; eps > 0, s > 0). x (n, d), out (n). */
HJ_API hj_status hj_pde_heat_propagate(const hj_grid *Q, hj_scalar_fn phi, void *ctx,
                                const double *x, size_t n, double s, double eps,
                                double *out, hj_error *err);

/* Hopf–Lax propagator by numerical minimisation:
 *   out_i = min over y in Q's box of [ phi(y) + |x_i - y|^2/(4s) ]
 * found by scanning Q's nodes and refining the best few locally (golden
 * section / coordinate search) — no closed form. x (n, d), out (n). */
HJ_API hj_status hj_pde_inf_convolution(const hj_grid *Q, hj_scalar_fn phi, void *ctx,
                                 const double *x, size_t n, double s,
                                 double *out, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_PDE_H */
