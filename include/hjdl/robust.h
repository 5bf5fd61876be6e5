/* robust.h — input-space robustness of HJ models: exact curvature, certified bounds, certified radii, attacks.
 *
 * For an LSE layer f(x) = eps log sum_j exp((w_j.x + b_j)/eps) the input
 * Hessian is exact, hess f = Cov_pi(w)/eps, so its size is known at every
 * point. This module measures it without forming d x d matrices (Lanczos),
 * bounds it globally (the paper's max_j|w_j|^2/eps, and the tighter
 * minimum-enclosing-ball and diameter bounds), propagates it through deep
 * stacks (the composition rule, as exact Hessian-vector products), turns it
 * into certified l2 radii for lse-class classifiers, and attacks models with
 * FGSM and PGD built on the exact input gradient.
 *
 * Why the bounds hold. For any distribution pi over the rows w_j and any
 * centre c, Cov_pi(w) <= E_pi[(w - c)(w - c)^T] <= max_j |w_j - c|^2 I, so
 * lambda_max(Cov_pi(w)) <= max_j |w_j - c|^2 for every c: with c = 0 this is
 * the paper's bound, with c the (approximate) centre of the minimum
 * enclosing ball it is R^2 with R the radius this module reports (always the
 * true maximum distance from the centre it returns, hence an upper bound of
 * the exact MEB radius). For a unit vector v, v.w is a random variable with
 * range at most D = max_jk |w_j - w_k|, so its variance is <= D^2/4
 * (Popoviciu): the diameter bound. Every bound here is multiplied by
 * (1 + HJ_ROBUST_ROUNDING) so that floating-point rounding in its evaluation
 * cannot make it fall below the quantity it bounds.
 *
 * Shapes (row-major): w (N, d) neuron weights, pi (N) Gibbs weights,
 * x (n, d) points, v (d) directions.
 */
#ifndef HJDL_ROBUST_H
#define HJDL_ROBUST_H

#include "hjdl/export.h"

#include <stddef.h>
#include <stdint.h>

#include "hjdl/lse.h"
#include "hjdl/model.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Relative allowance added to every certified bound for rounding. */
#define HJ_ROBUST_ROUNDING 1e-12

/* ---- matrix-free spectral computations ------------------------------------ */

/* A symmetric linear operator on R^d: out (d) = A v (d). Must not fail. */
typedef void (*hj_symop_fn)(void *ctx, const double *v, double *out);

/* Extreme eigenvalues of a symmetric operator by Lanczos with full
 * reorthogonalisation, from a pseudo-random start vector drawn from seed.
 * Stops when both extreme Ritz values have residual <= tol * max|Ritz value|
 * (tol <= 0: 1e-10), when the Krylov space becomes invariant, or after
 * min(max_iter, d) steps (max_iter 0: d). After d steps the Krylov space is
 * all of R^d and the Ritz values are the extreme eigenvalues (to rounding),
 * so with max_iter 0 the call always succeeds. lmin, lmax receive the
 * extreme Ritz values; iters (may be NULL) the steps taken. HJ_EMAXITER when
 * max_iter < d steps did not converge (lmin, lmax then hold the estimates). */
HJ_API hj_status hj_lanczos_extreme(hj_symop_fn op, void *ctx, size_t d, size_t max_iter, double tol,
                             uint64_t seed, double *lmin, double *lmax, size_t *iters,
                             hj_error *err);

/* lambda_max(Cov_pi(w)) for rows w (N, d) and weights pi (N, summing to 1),
 * matrix-free: Cov_pi(w) v = sum_j pi_j (w_j - wbar)((w_j - wbar).v), O(N d)
 * per product, never the d x d matrix. *lmax >= 0. */
HJ_API hj_status hj_cov_max_eig(const double *w, const double *pi, size_t N, size_t d, double *lmax,
                         hj_error *err);

/* Spectral norm of hess f = Cov_pi(w)/eps at n points x (n, d) of an LSE
 * layer, by hj_cov_max_eig: the matrix-free counterpart of
 * hj_lse_hessian_norm (same eps = 0 convention: 0 where Cov_pi(w) = 0, the
 * layer being locally affine, +inf at a kink). norm (n). */
HJ_API hj_status hj_robust_lse_hessian_norm(const hj_lse_layer *L, const double *x, size_t n,
                                     double *norm, hj_error *err);

/* ---- certified curvature bounds -------------------------------------------- */

/* Minimum enclosing ball of the rows of p (N, d) by Frank–Wolfe with away
 * steps on its dual (maximise Var_u(p) over distributions u): centre (d)
 * receives the centre c, *radius = max_j |p_j - c| (a ball that provably
 * holds every point, so an upper bound of the exact MEB radius), *lower =
 * sqrt(Var_u(p)) (a certified lower bound of it: Var_u(p) <= E_u|p - c'|^2
 * <= r*^2 for every centre c'). Iterates until radius <= (1 + tol) lower
 * (tol <= 0: 1e-9) or 100000 steps; either way radius is valid. centre and
 * lower may be NULL. */
HJ_API hj_status hj_meb(const double *p, size_t N, size_t d, double tol, double *centre, double *radius,
                 double *lower, hj_error *err);

/* max_{j,k} |p_j - p_k| over the rows of p (N, d) (exhaustive, O(N^2 d)). */
HJ_API double hj_point_diameter(const double *p, size_t N, size_t d);

/* Global bounds on ||hess f(x)||_2 = lambda_max(Cov_pi(w))/eps of an LSE
 * layer, valid at every x (each inflated by 1 + HJ_ROBUST_ROUNDING; +inf at
 * eps = 0). */
typedef struct hj_curvature_bounds {
    double paper;        /* max_j |w_j|^2 / eps (the paper's Corollary 8.2) */
    double meb;          /* R^2 / eps, R the minimum-enclosing-ball radius of {w_j} */
    double diameter;     /* max_jk |w_j - w_k|^2 / (4 eps) */
    double best;         /* min(meb, diameter): the tightest of the three */
    double max_norm;     /* max_j |w_j| */
    double meb_radius;   /* R (an upper bound of the exact MEB radius) */
    double meb_lower;    /* a certified lower bound of the exact MEB radius */
    double diam;         /* max_jk |w_j - w_k| */
} hj_curvature_bounds;

HJ_API hj_status hj_lse_curvature_bounds(const hj_lse_layer *L, hj_curvature_bounds *b, hj_error *err);

/* View of block `block` of a model's readout: the LSE over class block's
 * neurons for lse-class (block < n_classes), the whole readout for lse
 * (block 0). Its input is the readout's input (the last hidden layer's
 * output, or the preprocessed input for single-readout models); a learned
 * output scale (y = a f + c) is not part of the view. */
HJ_API hj_status hj_model_readout_layer(const hj_model *m, size_t block, hj_lse_layer *L, hj_error *err);

/* ---- exact Hessians of whole models (the composition rule) ----------------- */

/* Hessian-vector product, exact to rounding, of the scalar
 * S(x) = sum_c gout[c] out_c(x) with respect to the preprocessed input
 * x (d_in): hv (d_in) = hess S(x) v, v (d_in), gout (n_out).
 * Computed forward-over-reverse through the stack. At each LSE readout this
 * is the composition rule: for z_j(x) = w_j.h(x) + b_j,
 *   hess f = sum_j pi_j hess z_j + (1/eps) Cov_pi(grad z_j),
 * the first term arising as the second-order terms of the hidden layers
 * contracted with E_pi[w], the second as J^T Cov_pi(w) J / eps. Requires
 * eps > 0 (HJ_EDOM otherwise: a max-plus stack is piecewise linear, its
 * Hessian 0 almost everywhere and undefined at kinks). */
HJ_API hj_status hj_model_hvp(const hj_model *m, const double *x, const double *gout, const double *v,
                       double *hv, hj_error *err);

/* Spectral norm ||hess S(x_i)||_2 = max(|lambda_min|, |lambda_max|) of the
 * same scalar at n points x (n, d_in): Lanczos on hj_model_hvp. norm (n).
 * At eps = 0, single-readout models follow the hj_lse_hessian_norm
 * convention (0 where every block with gout[c] != 0 is locally affine, +inf
 * at a kink); stacks are refused (HJ_EDOM). */
HJ_API hj_status hj_model_hessian_norm(const hj_model *m, const double *x, size_t n, const double *gout,
                                double *norm, hj_error *err);

/* ---- certified radius -------------------------------------------------------- */

typedef struct hj_certificate {
    size_t cls;          /* predicted class y = arg-max F_c (lowest index on ties) */
    size_t runner_up;    /* the class c != y whose bound gave the radius */
    double margin;       /* F_y - max_{c != y} F_c (>= 0) */
    double radius;       /* certified l2 radius in the model's raw input space */
} hj_certificate;

/* Certified l2 radii for a single-readout lse-class model (lse-class:N,
 * any preprocessing, any eps >= 0), at n raw points x_raw (n, pre.d_raw):
 * no perturbation with ||delta||_2 < radius changes the predicted class.
 *
 * For each c != y the margin m_c(x) = F_y - F_c satisfies, along any ray
 * x + s u (|u| = 1), d/ds m_c >= -min(G_c + kappa_c s, L_yc), because F_y is
 * convex (its directional derivative cannot fall), F_c has curvature at most
 * kappa_c (its minimum-enclosing-ball or diameter bound, whichever is
 * smaller), and grad m_c = E_pi^y[w] - E_pi^c[w] lies in the hull of
 * {w_j - w_k : j in y, k in c}, of norm <= L_yc = max |w_j - w_k|. Here
 * G_c = ||grad m_c(x)||. The radius of class c is the s at which
 * int_0^s min(G_c + kappa_c t, L_yc) dt reaches m_c(x); the certified
 * radius is the minimum over c. All norms are in the raw input space: for
 * preprocessing x' = A(x - mu) (standardise, or PCA with orthonormal
 * components, then scaling) the weights act as A^T w_j, whose norms are
 * those of w_j / scale. Margins are reduced by a rounding allowance of
 * HJ_ROBUST_ROUNDING (1 + |F_y| + |F_c|).
 *
 * Models with hidden layers are refused (HJ_EINVAL, saying why): a sound
 * radius needs a global curvature bound of the whole stack, which hjdl does
 * not derive. out (n). */
HJ_API hj_status hj_certify(const hj_model *m, const double *x_raw, size_t n, hj_certificate *out,
                     hj_error *err);

/* ---- attacks ------------------------------------------------------------------ */

typedef enum hj_attack_norm {
    HJ_ATTACK_L2 = 0,
    HJ_ATTACK_LINF
} hj_attack_norm;

typedef enum hj_attack_method {
    HJ_ATTACK_PGD = 0,   /* projected gradient ascent */
    HJ_ATTACK_FGSM       /* one step of size radius along the (normalised / sign) gradient */
} hj_attack_method;

typedef enum hj_attack_loss {
    HJ_ATTACK_MARGIN = 0,   /* max_{c != y} F_c - F_y (gradient e_c* - e_y on the class scores) */
    HJ_ATTACK_XENT          /* softmax cross-entropy of the label */
} hj_attack_loss;

typedef struct hj_attack_options {
    hj_attack_method method;
    hj_attack_norm norm;
    hj_attack_loss loss;
    double radius;       /* > 0: the attack stays in ||delta|| <= radius (raw input space) */
    size_t steps;        /* PGD steps per start (default 50) */
    double step_size;    /* PGD step; 0: 2.5 radius / steps (default) */
    size_t restarts;     /* PGD starts: the first from x, the others uniform in the ball (default 1) */
    uint64_t seed;       /* random starts (default 1) */
} hj_attack_options;

/* Defaults above: PGD, l2, margin loss, radius 0 (must be set). */
HJ_API void hj_attack_options_default(hj_attack_options *o);
/* HJ_EINVAL naming the bad option (radius > 0 and finite, steps >= 1,
 * restarts >= 1, step_size >= 0 and finite). */
HJ_API hj_status hj_attack_options_check(const hj_attack_options *o, hj_error *err);

/* Attack a classifier (any architecture) at n raw points x (n, pre.d_raw)
 * with labels (n, class indices as doubles). The gradient is the exact
 * input gradient of the loss (hj_model_input_gradient, through the
 * preprocessing). radii (n) gives per-point radii (NULL: o->radius for
 * all). For each point: x_adv (n, d_raw) receives the first iterate whose
 * predicted class differs from the label (the point itself when it is
 * misclassified already), else the iterate of largest loss; adv_class (n,
 * may be NULL) the predicted class at x_adv (lowest index on ties). Robust
 * accuracy is the fraction with adv_class == label. Deterministic for a
 * given seed. */
HJ_API hj_status hj_attack(const hj_model *m, const double *x, const double *labels, size_t n,
                    const hj_attack_options *o, const double *radii, double *x_adv,
                    size_t *adv_class, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_ROBUST_H */
