/* entropic.h — the convex-optimisation vertex of the commutative diagram.
 *
 *   f_eps(z) = max over pi in the simplex of [ sum_j pi_j z_j + eps H(pi) ],
 *   H(pi) = -sum_j pi_j log pi_j,
 * solved iteratively, never by calling the closed-form softmax / LSE of
 * lse.h: agreement with hj_lse_vec is then a real check (SPEC C3).
 */
#ifndef HJDL_ENTROPIC_H
#define HJDL_ENTROPIC_H

#include "hjdl/export.h"

#include <stddef.h>

#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hj_entropic_result {
    double value;        /* sum pi z + eps H(pi) at the returned pi */
    double kkt_residual; /* |sum pi - 1| or stationarity residual at exit */
    size_t iterations;   /* iterations used */
} hj_entropic_result;

/* Newton's method on the one-dimensional dual (the multiplier lambda of
 * sum pi = 1; stationarity gives pi_j(lambda) = exp((z_j - lambda)/eps - 1)),
 * safeguarded by bisection on a bracket, to |sum pi - 1| <= tol.
 * eps == 0 is the linear programme: value max z, pi uniform on the ties.
 * z (N), pi (N) output (may be NULL). HJ_EMAXITER if max_iter is exhausted. */
HJ_API hj_status hj_entropic_dual_newton(const double *z, size_t N, double eps, double tol,
                                  size_t max_iter, double *pi,
                                  hj_entropic_result *res, hj_error *err);

/* Entropic mirror descent (exponentiated gradient) on the primal, step
 * eta = 1/(2 eps), from the uniform distribution, until the change in pi
 * (l1) is <= tol. eps > 0. Same outputs. */
HJ_API hj_status hj_entropic_mirror_descent(const double *z, size_t N, double eps, double tol,
                                     size_t max_iter, double *pi,
                                     hj_entropic_result *res, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_ENTROPIC_H */
