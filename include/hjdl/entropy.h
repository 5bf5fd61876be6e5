/* entropy.h — the attribution-entropy landscape x -> H(x; eps) of a Gibbs layer.
 *
 * For an LSE layer (w (N,d), b (N), eps > 0) with Gibbs weights pi(x) and
 * l_j = log pi_j, s_j = w_j - wbar, wbar = E_pi[w], C = Cov_pi(w):
 *   H(x)      = -sum_j pi_j l_j                      in [0, log N]
 *   grad H    = Cov_pi(w, -l) / eps = -E_pi[l s] / eps
 *   hess H    = -( E_pi[(l + H) s s^T] + C ) / eps^2
 * The Hopf–Cole landscape of atoms (y, g) at time t is the same with the
 * mapped weights w_j = y_j/(2t) (see hopf.h): grad H = Cov_pi(y, -l)/(2 t eps).
 * At eps == 0, pi is uniform on the arg-max set, H = log |argmax| and the
 * derivatives are 0 (H is piecewise constant).
 */
#ifndef HJDL_ENTROPY_H
#define HJDL_ENTROPY_H

#include "hjdl/export.h"

#include <stddef.h>

#include "hjdl/lse.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Entropy of a probability vector p (N), with 0 log 0 = 0. */
HJ_API double hj_entropy_vec(const double *p, size_t N);

/* H, grad H (d) and hess H (d, d) at one point x (d); grad/hess may be NULL. */
HJ_API hj_status hj_entropy_eval(const hj_lse_layer *L, const double *x, double *H,
                          double *grad, double *hess, hj_error *err);

/* H at n points (H: n). */
HJ_API hj_status hj_entropy_batch(const hj_lse_layer *L, const double *x, size_t n,
                           double *H, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_ENTROPY_H */
