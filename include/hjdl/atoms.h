/* atoms.h — initial data as atoms (y_j, g_j), their metric, validation and
 * the logit kernel shared by Hopf–Cole, the partial reductions, influence,
 * the landscape and the experiments.
 *
 * Shapes: y (N, d) atom positions, g (N) atom heights, x (n, d) points,
 * A and A^{-1} (d, d).
 *
 * The kernel: atom j at point x costs
 *     c_j(x) = g_j + |x - y_j|^2_{A^{-1}} / (4t),
 * |v|^2_{A^{-1}} = v^T A^{-1} v (|v|^2 when A = I); the logit is -c_j/eps.
 * Every caller computes it with the inline functions below, so the same
 * inputs give the same bits everywhere (hj_atom_cost divides by 4t;
 * hj_atom_cost_r multiplies by a hoisted 1/(4t), which differs in the last
 * place and is what the landscape has always used).
 */
#ifndef HJDL_ATOMS_H
#define HJDL_ATOMS_H

#include "hjdl/export.h"

#include <stddef.h>

#include "hjdl/status.h"
#include "hjdl/vec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A view of initial data as N atoms in R^d; it owns nothing. */
typedef struct hj_atoms {
    size_t N;
    size_t d;
    const double *y;   /* (N, d) */
    const double *g;   /* (N) */
} hj_atoms;

/* Validate atoms (N, d >= 1, non-NULL, finite). */
HJ_API hj_status hj_atoms_check(const hj_atoms *a, hj_error *err);

/* Quadratic metric of the anisotropic Hamiltonian H(p) = p^T A p.
 * NULL everywhere below means A = I. */
typedef struct hj_metric hj_metric;

/* A (d, d) symmetric positive definite; refused with HJ_EDOM otherwise. */
HJ_API hj_status hj_metric_alloc(hj_metric **out, const double *A, size_t d, hj_error *err);
HJ_API void hj_metric_free(hj_metric *m);
HJ_API size_t hj_metric_dim(const hj_metric *m);
HJ_API const double *hj_metric_A(const hj_metric *m);      /* (d, d) */
HJ_API const double *hj_metric_Ainv(const hj_metric *m);   /* (d, d) */
HJ_API double hj_metric_logdet(const hj_metric *m);        /* log det A */

/* The checks of an evaluation at points x (n, d) and time t with viscosity
 * eps; each message starts with `who`. Time: finite and > 0. Eps: finite
 * and >= 0. Metric: NULL or d-dimensional. Points: non-NULL when n > 0 and
 * finite. */
HJ_API hj_status hj_check_time(double t, const char *who, hj_error *err);
HJ_API hj_status hj_check_eps(double eps, const char *who, hj_error *err);
HJ_API hj_status hj_metric_check_dim(const hj_metric *metric, size_t d, const char *who, hj_error *err);
HJ_API hj_status hj_points_check(const double *x, size_t n, size_t d, const char *who, hj_error *err);

/* All of them for atoms a: hj_atoms_check, time, eps, metric (a->d) and
 * points, in that order. */
HJ_API hj_status hj_atoms_check_eval(const hj_atoms *a, const hj_metric *metric, const double *x,
                              size_t n, double t, double eps, const char *who, hj_error *err);

/* v^T M v for v (d), M (d, d) row-major; M == NULL means the identity. */
static inline double hj_quad_form(const double *M, const double *v, size_t d)
{
    double s = 0.0;
    if (M == NULL) {
        for (size_t k = 0; k < d; k++)
            s += v[k] * v[k];
        return s;
    }
    for (size_t a = 0; a < d; a++) {
        double r = 0.0;
        for (size_t b = 0; b < d; b++)
            r += M[a * d + b] * v[b];
        s += v[a] * r;
    }
    return s;
}

/* |x - y|^2_{A^{-1}} for x, y (d); Ainv (d, d) or NULL; diff (d) scratch
 * (unused when Ainv == NULL). */
static inline double hj_atoms_sqdist(const double *Ainv, const double *x, const double *y,
                                     size_t d, double *diff)
{
    if (Ainv == NULL)
        return hj_vec_sqdist(x, y, d); /* the operations of hj_quad_form(NULL, x - y) */
    for (size_t k = 0; k < d; k++)
        diff[k] = x[k] - y[k];
    return hj_quad_form(Ainv, diff, d);
}

/* The cost c = g + q/(4t) of an atom of height g at squared distance q. */
static inline double hj_atom_cost(double g, double q, double t) { return g + q / (4.0 * t); }

/* The same with r = 1/(4t) computed once by the caller: g + r q. */
static inline double hj_atom_cost_r(double g, double q, double r) { return g + r * q; }

#ifdef __cplusplus
}
#endif

#endif /* HJDL_ATOMS_H */
