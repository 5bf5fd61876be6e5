/* lse.h — the log-sum-exp (LSE) layer, its Gibbs weights and derivatives.
 *
 * Shapes (row-major, C-contiguous doubles):
 *   x  (n, d)   evaluation points, one per row
 *   w  (N, d)   neuron weights w_j, one per row
 *   b  (N)      neuron biases b_j
 *   z  (N)      logits z_j(x) = w_j . x + b_j
 *   pi (n, N)   Gibbs weights, one row per point
 *
 * f_eps(x) = eps log sum_j exp(z_j / eps), computed max-shifted as
 *   m + eps log sum_j exp((z_j - m) / eps),  m = max_j z_j,
 * so it never overflows. eps = 0 is legal everywhere and gives the tropical
 * (max-plus) layer f_0 = max_j z_j with pi uniform over the arg-max set.
 * pi_j = exp((z_j - f)/eps);  grad f = sum_j pi_j w_j;  hess f = Cov_pi(w)/eps.
 * Stable for eps in [1e-300, 1e300] and logits in [-1e300, 1e300].
 */
#ifndef HJDL_LSE_H
#define HJDL_LSE_H

#include "hjdl/export.h"

#include <stddef.h>

#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- logit-vector primitives (one point; total functions, cannot fail) ---- */

/* LSE_eps of z (N >= 1). If pi != NULL it receives the Gibbs weights (N).
 * Returns f. At eps == 0 returns max z and pi uniform on the ties. */
HJ_API double hj_lse_vec(const double *z, size_t N, double eps, double *pi);

/* softplus_eps(z) = eps log(1 + exp(z/eps)): the N = 2 LSE of (0, z).
 * softplus_0(z) = max(0, z) (ReLU). */
HJ_API double hj_softplus(double z, double eps);

/* d/dz softplus_eps(z) = logistic(z/eps); at eps == 0: 1 for z > 0,
 * 1/2 at z == 0, 0 for z < 0. */
HJ_API double hj_softplus_grad(double z, double eps);

/* ---- the layer ---------------------------------------------------------- */

/* A view of an LSE layer's parameters; it owns nothing. */
typedef struct hj_lse_layer {
    size_t N;          /* neurons */
    size_t d;          /* input dimension */
    const double *w;   /* (N, d) */
    const double *b;   /* (N) */
    double eps;        /* temperature / viscosity, >= 0 */
} hj_lse_layer;

/* Validate a layer (N >= 1, d >= 1, eps >= 0 and finite, non-NULL buffers,
 * finite parameters). Returns HJ_OK or HJ_EINVAL/HJ_ENAN with a message. */
HJ_API hj_status hj_lse_check(const hj_lse_layer *L, hj_error *err);

/* Forward pass on n points. f (n) required; pi (n, N) optional (NULL).
 * grad (n, d) optional: grad f at each point. */
HJ_API hj_status hj_lse_forward(const hj_lse_layer *L, const double *x, size_t n,
                         double *f, double *pi, double *grad, hj_error *err);

/* Exact Hessian at one point x (d): hess (d, d) = Cov_pi(w) / eps.
 * At eps == 0 an entry is 0 where Cov_pi is 0 (unique arg-max: f is locally
 * affine) and +-inf (the sign of the covariance entry) otherwise (a kink). */
HJ_API hj_status hj_lse_hessian(const hj_lse_layer *L, const double *x, double *hess,
                         hj_error *err);

/* Spectral norm ||hess f(x_i)||_2 = lambda_max(Cov_pi(w))/eps for n points
 * (norm: n). Uses LAPACK's symmetric eigensolver on the d x d covariance. */
HJ_API hj_status hj_lse_hessian_norm(const hj_lse_layer *L, const double *x, size_t n,
                              double *norm, hj_error *err);

/* The paper's curvature bound max_j |w_j|^2 / eps (Corollary 8.2); +inf at
 * eps == 0. */
HJ_API double hj_lse_curvature_bound(const hj_lse_layer *L);

/* Lipschitz constant of f_eps for every eps: max_j |w_j|. */
HJ_API double hj_lse_lipschitz(const hj_lse_layer *L);

/* Which LSE kernels run (a constant string; core/kernels.c): "avx512" (the blocked AVX-512
 * kernels with their inline exp; x86-64 CPUs with AVX-512F), "avx2" (the
 * same kernels for AVX2 + FMA), or "portable" (vectorised row-by-row loops;
 * every other CPU). The widest set the CPU runs, unless the environment
 * variable HJDL_KERNELS (avx512, avx2 or portable; read once, at the first
 * kernel call) names a narrower one. They give the same numbers up to
 * rounding; docs/performance.md compares their speed. */
HJ_API const char *hj_kernels(void);
/* HJ_OK, or HJ_EINVAL with a message when HJDL_KERNELS names an unknown set
 * or one this CPU lacks; hj_lse_forward and model losses refuse to run then
 * (hj_kernels() names the set the status-less functions fall back to). */
HJ_API hj_status hj_kernels_check(hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_LSE_H */
