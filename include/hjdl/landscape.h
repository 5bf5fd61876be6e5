/* landscape.h — the attribution-entropy landscape H(x; eps) of Hopf–Cole atoms:
 * critical points, their branches in eps by pseudo-arclength continuation,
 * fold bifurcations, gradient-flow basins and landscape maps (SPEC C13).
 *
 * Conventions (SPEC §1). Atoms (y (N, d), g (N)) at time t > 0; for a point
 * x (d) and eps > 0 the Gibbs weights are
 *   pi_j = exp(-c_j/eps) / sum_k exp(-c_k/eps),  c_j = g_j + |x - y_j|^2/(4t)
 * (the same weights as the LSE layer w_j = y_j/(2t), b_j = -g_j - |y_j|^2/(4t)).
 * With l_j = log pi_j, H = -sum_j pi_j l_j, r_j = l_j + H (centred log-weight)
 * and s_j = (y_j - ybar)/(2t), ybar = E_pi[y]:
 *   H(x; eps)              = -sum_j pi_j l_j                  in [0, log N]
 *   grad_x H               = -(1/eps)   sum_j pi_j r_j s_j
 *   hess_x H               = -(1/eps^2) sum_j pi_j (r_j + 1) s_j s_j^T
 *   d/deps grad_x H        =  (1/eps^2) sum_j pi_j r_j (r_j + 2) s_j
 * (derived in landscape.c; the tests check them against entropy.h and finite
 * differences). Continuation works with F(x, s) = eps grad_x H at s = log eps,
 * whose zero set is that of grad H and whose size does not blow up as eps -> 0.
 *
 * Types of critical points are Morse indices: the number of negative
 * eigenvalues of hess H (0 = minimum, d = maximum, in between = saddle; -1 =
 * degenerate). A fold of type k joins a branch of index k with one of index
 * k + 1: type 0 is a minimum–saddle pair (in 1-D minimum–maximum), type d-1 a
 * saddle–maximum pair.
 *
 * A landscape object keeps a copy of the atoms and scratch space: it is not
 * safe to use one object from two threads at once (use one per thread).
 */
#ifndef HJDL_LANDSCAPE_H
#define HJDL_LANDSCAPE_H

#include "hjdl/export.h"

#include <stddef.h>
#include <stdint.h>

#include "hjdl/hopf.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hj_landscape hj_landscape;

/* Copy the atoms (N >= 1, d >= 1, finite) and t (> 0) into a new landscape. */
HJ_API hj_status hj_landscape_alloc(hj_landscape **out, const hj_atoms *atoms, double t,
                             hj_error *err);
HJ_API void hj_landscape_free(hj_landscape *L);

HJ_API size_t hj_landscape_dim(const hj_landscape *L);    /* d */
HJ_API size_t hj_landscape_size(const hj_landscape *L);   /* N */
HJ_API double hj_landscape_time(const hj_landscape *L);   /* t */
/* A view of the landscape's copy of the atoms (valid while L lives). */
HJ_API hj_atoms hj_landscape_atoms(const hj_landscape *L);
/* The critical viscosity eps* = N^{-1/d}. */
HJ_API double hj_landscape_critical_eps(const hj_landscape *L);

/* The default domain: the atoms' bounding box, each side widened by
 * pad * (its longest side) on both ends (a longest side of 0 counts as 1).
 * lo, hi (d). */
HJ_API void hj_landscape_domain(const hj_landscape *L, double pad, double *lo, double *hi);

/* H(x; eps) and, where the pointers are not NULL, grad (d) = grad_x H,
 * hess (d, d) = hess_x H and grad_eps (d) = d/deps grad_x H, all exact.
 * eps > 0 and finite, x (d) finite. */
HJ_API hj_status hj_landscape_eval(hj_landscape *L, double eps, const double *x, double *H,
                            double *grad, double *hess, double *grad_eps, hj_error *err);

/* H at n points x (n, d) into H (n). */
HJ_API hj_status hj_landscape_batch(hj_landscape *L, double eps, const double *x, size_t n,
                             double *H, hj_error *err);

/* The Hessian-vector product hv (d) = hess_x H v and its exact derivatives
 * (third derivatives of H): dx (d, d) with dx[a*d + b] = d/dx_b (hess H v)_a,
 * deps (d) = d/deps (hess H v). Any output may be NULL. v (d). */
HJ_API hj_status hj_landscape_hessvec_deriv(hj_landscape *L, double eps, const double *x,
                                     const double *v, double *hv, double *dx,
                                     double *deps, hj_error *err);

/* What a critical point is. */
typedef struct hj_crit_info {
    double H;        /* H at the point */
    int index;       /* Morse index (-1: degenerate, |lambda| <= 1e-12 * scale) */
    double lam_min;  /* the eigenvalue of eps * hess H of smallest magnitude */
    double lam_rel;  /* |lam_min| / scale, scale = (1/eps) sum pi (|r|+1)|s|^2 >= ||eps hess H|| */
    double grad_rel; /* |eps grad H| / sum pi |r| |s| (0 at an exact critical point) */
} hj_crit_info;

/* Classify the point x (d) at eps by the eigenvalues of its Hessian. */
HJ_API hj_status hj_landscape_classify(hj_landscape *L, double eps, const double *x,
                                hj_crit_info *info, hj_error *err);

/* Damped Newton on grad_x H = 0 from x0 (d) with the exact Hessian and a
 * backtracking line search on |eps grad H|^2 (Levenberg–Marquardt step when
 * the Hessian is singular). Succeeds when the full Newton step (not a
 * Levenberg–Marquardt one) falls below 1e-11 * (domain diameter); x (d)
 * receives the point, *iters (may be NULL) the iterations. HJ_EMAXITER
 * without convergence (or stalled at a singular Hessian), HJ_EDOM when an
 * iterate leaves the box [lo, hi] (lo, hi (d), NULL: no box). */
HJ_API hj_status hj_landscape_newton(hj_landscape *L, double eps, const double *x0, const double *lo,
                              const double *hi, double *x, size_t *iters, hj_error *err);

/* A set of critical points at one eps. */
typedef struct hj_crit_list {
    size_t d, n, cap;
    double *x;        /* (n, d) */
    double *H;        /* (n) */
    int *index;       /* (n) Morse index */
    double *lam_rel;  /* (n) see hj_crit_info */
} hj_crit_list;
HJ_API void hj_crit_list_free(hj_crit_list *c);

typedef struct hj_landscape_options {
    double eps_min, eps_max; /* continuation range; NaN: eps* / 25 and 25 eps* */
    double pad;              /* domain padding (0.5), used when lo/hi are NULL */
    const double *lo, *hi;   /* explicit domain (d each), or NULL */
    double h_max;            /* largest continuation step in (x, log eps) (0.05) */
    double h_min;            /* give up a branch below this step (1e-8) */
    size_t max_steps;        /* per branch and direction (20000) */
    size_t seed_levels;      /* eps levels, log-spaced, where multi-start Newton seeds
                                branches (16; >= 2, the ends included) */
    size_t grid_seeds;       /* seeding grid nodes per dimension over the atoms' box
                                (0: 96, 20, 6 for d = 1, 2, 3, none above); half as
                                many over the whole domain */
    size_t neighbours;       /* also seed at midpoints to this many nearest atoms (8) */
} hj_landscape_options;

HJ_API void hj_landscape_options_default(hj_landscape_options *o);

/* All critical points found at eps by multi-start inside the domain. Seeds:
 * the atoms, the midpoints to their nearest neighbours, a grid of
 * grid_seeds^d nodes over the atoms' box (widened by 10%) and one of
 * (grid_seeds/2)^d over the domain. From each seed: damped Newton (to any
 * critical point), and except from the midpoints a modified-Newton descent
 * and ascent (to the minimum and the maximum whose basins hold the seed).
 * Duplicates (closer than
 * 1e-7 * diameter) merged. out is (re)initialised; free with
 * hj_crit_list_free. Points sorted by x_1. */
HJ_API hj_status hj_landscape_critical_points(hj_landscape *L, double eps,
                                       const hj_landscape_options *o, hj_crit_list *out,
                                       hj_error *err);

/* One fold bifurcation (a branch turning in eps where hess H is singular). */
typedef struct hj_fold {
    double eps;
    double *x;            /* (d), owned */
    double H;
    int type;             /* lower Morse index k of the joined pair (k, k+1) */
    int dir;              /* -1: the pair exists for eps below the fold (annihilates as
                             eps grows); +1: it exists above (is born as eps grows) */
    double lam_rel;       /* |smallest eigenvalue| / scale at the fold (~ 0) */
    double lam_side[2];   /* that eigenvalue (relative) on the two sides of the fold */
    int index_side[2];    /* Morse index on the two sides */
    int ok;               /* eigenvalue check: lam_rel <= 1e-6, opposite signs on the two
                             sides, indices differing by one, both sides on one side in eps */
    int method;           /* 0: extended-system Newton, 1: bisection fallback */
} hj_fold;

/* The traced branches and their folds. */
typedef struct hj_bifurcation {
    size_t d;
    double eps_min, eps_max;
    double *lo, *hi;      /* (d) the domain */
    size_t n_points, cap_points;
    double *eps;          /* (n_points) branch points, branch after branch, in order */
    double *x;            /* (n_points, d) */
    double *H;            /* (n_points) */
    int *index;           /* (n_points) Morse index */
    size_t *branch;       /* (n_points) branch id 0..n_branches-1 */
    size_t n_branches;
    size_t n_incomplete;  /* branch ends that stopped early (step underflow, step budget) */
    size_t n_min_exits;   /* branch ends where a minimum crosses the domain's edge: the
                             number of minima inside then changes without a fold (widen
                             the domain, o->pad, until this is 0) */
    size_t n_folds, cap_folds;
    hj_fold *folds;       /* sorted by eps */
} hj_bifurcation;

/* Trace every branch of critical points over [eps_min, eps_max] with s = log eps
 * as natural parameter: multi-start Newton at o->seed_levels eps levels
 * seeds the branches (a seed already on a traced branch is skipped), each is
 * followed in both directions by pseudo-arclength continuation (tangent from
 * the null vector of [F_x | F_s], predictor-corrector with step control)
 * until it leaves the eps range or the domain or closes. Folds are detected
 * where the eps-component of the tangent changes sign and refined (to the
 * accuracy of the Newton solve, far below 1e-8 in eps) by Newton on the
 * extended system {F = 0, F_x v = 0, v0.v = 1}; bisection on the tangent sign
 * is the fallback. out is (re)initialised; free with hj_bifurcation_free. */
HJ_API hj_status hj_landscape_continue(hj_landscape *L, const hj_landscape_options *o,
                                hj_bifurcation *out, hj_error *err);
HJ_API void hj_bifurcation_free(hj_bifurcation *b);

/* Number of critical points of Morse index `index` (any index when -2) on
 * the traced branches at eps (each crossing corrected by Newton and
 * classified). */
HJ_API hj_status hj_bifurcation_count(hj_landscape *L, const hj_bifurcation *b, double eps, int index,
                               size_t *count, hj_error *err);

/* Write the branch points as CSV (eps,x_1..x_d,H,type,branch) to crit_path
 * and the folds (eps,x_1..x_d,type,H,direction,lambda_rel,check) to
 * folds_path, atomically; either path may be NULL. */
HJ_API hj_status hj_bifurcation_write(const hj_bifurcation *b, const char *crit_path,
                               const char *folds_path, hj_error *err);

/* Basins of the gradient flow dx/dtau = -grad H on a grid (d = 1 or 2),
 * discretised as steepest descent on the grid graph: each node points to the
 * neighbour (2 in 1-D, 8 in 2-D) with the steepest strict descent; nodes
 * with none are sinks. A sink on the grid's edge, or where H underflows to 0,
 * drains to the outside (H -> 0 = inf H far from the atoms): all such nodes
 * form one "outside" basin. An interior sink is a grid local minimum; it is
 * refined by Newton and kept when it converges, within two grid cells, to a
 * minimum (index 0); sinks refining to the same minimum share a basin; a
 * sink that does not refine (the grid descent can stop in a valley narrower
 * than a cell that runs between grid directions) is followed downhill by a
 * modified Newton descent (steps of at most half a cell, each decreasing H)
 * to a minimum or out of the grid; one that reaches neither is an
 * unresolved basin of its own. */
typedef struct hj_basins {
    size_t d;
    size_t n;             /* nodes per dimension */
    double lo[2], hi[2];
    double *H;            /* (n) or (n, n): H at node (i, j) is H[i*n + j], x_1 along i */
    int *label;           /* same shape: 0 = outside, 1..n_minima the minima,
                             n_minima+1.. unresolved sinks */
    size_t n_minima;
    double *minima;       /* (n_minima, d) refined minima */
    size_t n_unresolved;
    int outside;          /* 1 when some node drains to the outside */
    size_t n_basins;      /* n_minima + n_unresolved + outside */
} hj_basins;

/* Compute the basins at eps on the grid of n >= 3 nodes per dimension over
 * [lo, hi] (d each). out is (re)initialised; free with hj_basins_free. */
HJ_API hj_status hj_landscape_basins(hj_landscape *L, double eps, const double *lo, const double *hi,
                              size_t n, hj_basins *out, hj_error *err);
HJ_API void hj_basins_free(hj_basins *b);

/* A landscape map at eps for d = 1 or 2, written into dir: NAME.csv (grid:
 * x,H in 1-D; x1,x2,H in 2-D), NAME_atoms.csv, NAME_crit.csv (critical
 * points with their type; from crit, which may be NULL), NAME.gp and, via
 * gnuplot, NAME.png and NAME.svg (2-D: a heat map of H with the atoms and the
 * critical points on top; 1-D: the curve H(x) with its critical points).
 * HJ_EIO when gnuplot is missing or fails: the CSV files and the script are
 * kept. n >= 2 grid nodes per dimension over [lo, hi]. */
HJ_API hj_status hj_landscape_map_render(hj_landscape *L, double eps, const double *lo,
                                  const double *hi, size_t n, const hj_crit_list *crit,
                                  const char *dir, const char *name, const char *title,
                                  hj_error *err);

/* SPEC C13's synthetic set-up: two clusters of n atoms in 2-D around
 * (-1, -1) (g = 0) and (1, 1) (g = 1), each coordinate drawn as centre +
 * spread * N(0, 1) (Gaussian, hj_rng seeded with `seed`). y (2n, 2), g (2n):
 * the first n atoms are the first cluster. */
HJ_API void hj_landscape_two_clusters(size_t n, double spread, uint64_t seed, double *y, double *g);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_LANDSCAPE_H */
