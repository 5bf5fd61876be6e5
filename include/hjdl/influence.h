/* influence.h — closed-form attribution of Gibbs predictors: exact
 * leave-one-out changes, exact neuron ablation of LSE layers, and the
 * per-point explain summary (entropy, effective number of atoms, regime,
 * top-K atoms).
 *
 * Every function here works from the logits of one point,
 *   a_j (N),  pi_j = exp((a_j - F)/eps),  F = eps log sum_j exp(a_j/eps),
 * which are  a_j = w_j . x + b_j              for an LSE layer (F = f_eps(x)),
 *            a_j = -(g_j + |x - y_j|^2/(4t))  for Hopf–Cole atoms (F = -u_eps(x,t)).
 * At eps == 0, pi is uniform on the arg-max set (ties share equally), as in lse.h.
 *
 * Leave-one-out (LOO) of a Gibbs predictor P(x) = sum_j pi_j(x) v_j with
 * values v (N, nv): removing atom k renormalises the other weights,
 * pi'_j = pi_j/(1 - pi_k), so exactly
 *     delta_k = P_{-k}(x) - P(x) = pi_k (P(x) - v_k) / (1 - pi_k).
 * Sign convention: delta is "new minus old". Removing an atom moves the
 * prediction away from that atom's value (delta_k has the sign of P - v_k).
 *
 * Ablation of neuron (or atom) k of an LSE: F_{-k} - F = eps log(1 - pi_k) <= 0
 * (for atoms: u_{-k} - u = -eps log(1 - pi_k) >= 0).
 *
 * Numerics: 1 - pi_k is never formed by subtraction. With j1 the first
 * arg-max, m2 the largest logit among j != j1, r = exp((m2 - a_j1)/eps) and
 * f_j = exp((a_j - m2)/eps) (j != j1; the largest is 1), R = sum_{j != j1} f_j:
 *     s = 1 + r R,  pi_j1 = 1/s,  1 - pi_j1 = r R/s,  pi_j = r f_j/s (j != j1),
 *     log(1 - pi_j1) = (m2 - a_j1)/eps + log R - log1p(r R),
 *     P_{-j1} = sum_{j != j1} f_j v_j / R,
 * so the results stay exact when pi_j1 -> 1 (even when r underflows to 0),
 * and pi_j <= 1/2 for j != j1 makes log1p(-pi_j) and s - r f_j well
 * conditioned. eps == 0 is the same formulas with r = [m2 == a_j1] and
 * f_j = [a_j == m2]: the change is 0 for an atom outside the arg-max set;
 * for a member of an arg-max set of size m >= 2 the LOO change is
 * (P - v_k)/(m - 1) and the ablation change 0; for the unique arg-max the
 * LOO change is (mean of v over the second-largest set) - v_k and the
 * ablation change is the gap a_(2) - a_(1) < 0.
 * Cost per point: O(N d) for the logits plus O(N nv), one exp per atom.
 *
 * Explain summary and regime. h = H/log N in [0, 1] is the normalised
 * entropy (h = 0 for N = 1). The regime of a point is fixed as
 *     particle (0)  h <  HJ_REGIME_PARTICLE_MAX = 1/3
 *     mixed    (1)  1/3 <= h <= 2/3
 *     wave     (2)  h >  HJ_REGIME_WAVE_MIN = 2/3.
 * Why these relate to eps* = N^(-1/d) (SPEC §1): a Gaussian kernel of width
 * sqrt(2 t eps) over N atoms spread in a d-dimensional region covers
 * n_eff ~ (2 t eps)^(d/2) N atoms, so at the critical scaling eps ∝ N^(-1/d)
 * n_eff ∝ N^(1/2), i.e. h -> 1/2: the mixed band brackets the critical
 * viscosity, particle (one or a few atoms dominate, h -> 0) lies below it
 * and wave (h -> 1, entropy -> log N) above it. The regime is decided from
 * the entropy at the point, so points of one layer can be in different
 * regimes; eps/eps* is reported separately (hj_critical_eps).
 */
#ifndef HJDL_INFLUENCE_H
#define HJDL_INFLUENCE_H

#include "hjdl/export.h"

#include <stddef.h>

#include "hjdl/hopf.h"
#include "hjdl/lse.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- one point, from its logits ------------------------------------------- */

/* Exact LOO changes of the Gibbs predictor at one point. a (N) logits,
 * N >= 2, eps >= 0 finite; v (N, nv) values, nv >= 1. P (nv) receives
 * P = sum_j pi_j v_j (may be NULL); delta (N, nv) receives
 * delta[k][c] = P_{-k,c} - P_c. Logits and values must be finite. */
HJ_API hj_status hj_influence_loo_logits(const double *a, size_t N, double eps, const double *v,
                                  size_t nv, double *P, double *delta, hj_error *err);

/* Exact ablation changes at one point: F (may be NULL) receives
 * F = eps log sum_j exp(a_j/eps) (max a at eps == 0) and delta (N) receives
 * delta[k] = F_{-k} - F = eps log(1 - pi_k). Same conditions on a and eps. */
HJ_API hj_status hj_influence_ablation_logits(const double *a, size_t N, double eps, double *F,
                                       double *delta, hj_error *err);

/* ---- batches of points ------------------------------------------------------ */

/* LOO changes of the Hopf–Cole Gibbs predictor on atoms (y_j, g_j) at time
 * t > 0 (metric NULL: A = I), at n points x (n, d). v (N, nv), P (n, nv)
 * (may be NULL), delta (n, N, nv): delta[i][k][c] = P_{-k,c}(x_i) - P_c(x_i).
 * Needs N >= 2. Scratch: O(N), never (n, N). */
HJ_API hj_status hj_influence_loo_atoms(const hj_atoms *a, const hj_metric *metric, const double *x,
                                 size_t n, double t, double eps, const double *v, size_t nv,
                                 double *P, double *delta, hj_error *err);

/* The same for the Gibbs weights of an LSE layer (a_j = w_j . x + b_j). */
HJ_API hj_status hj_influence_loo_layer(const hj_lse_layer *L, const double *x, size_t n,
                                 const double *v, size_t nv, double *P, double *delta,
                                 hj_error *err);

/* Neuron ablation of an LSE layer at n points x (n, d): f (n) (may be NULL)
 * the layer's value, delta (n, N): delta[i][k] = f_{-k}(x_i) - f(x_i)
 * = eps log(1 - pi_k(x_i)). Needs N >= 2. */
HJ_API hj_status hj_influence_ablation(const hj_lse_layer *L, const double *x, size_t n, double *f,
                                double *delta, hj_error *err);

/* Atom ablation of the Hopf–Cole solution: u (n) (may be NULL) the plain
 * u_eps, delta (n, N): delta[i][k] = u_{-k}(x_i) - u(x_i) = -eps log(1 - pi_k) >= 0. */
HJ_API hj_status hj_influence_ablation_atoms(const hj_atoms *a, const hj_metric *metric,
                                      const double *x, size_t n, double t, double eps,
                                      double *u, double *delta, hj_error *err);

/* ---- explain summary -------------------------------------------------------- */

typedef enum hj_regime {
    HJ_REGIME_PARTICLE = 0,
    HJ_REGIME_MIXED = 1,
    HJ_REGIME_WAVE = 2
} hj_regime;

#define HJ_REGIME_PARTICLE_MAX (1.0 / 3.0)
#define HJ_REGIME_WAVE_MIN (2.0 / 3.0)

/* "particle", "mixed", "wave" ("?" for anything else). */
HJ_API const char *hj_regime_name(hj_regime r);

/* The regime of entropy H among N atoms by the fixed thresholds above on
 * h = H/log N (N <= 1: particle). */
HJ_API hj_regime hj_regime_classify(double H, size_t N);

/* Critical viscosity eps* = N^(-1/d) (N, d >= 1). */
HJ_API double hj_critical_eps(size_t N, size_t d);

typedef struct hj_explain {
    double entropy;    /* H(pi) = -sum pi_j log pi_j in [0, log N] */
    double n_eff;      /* exp(H) in [1, N]: effective number of atoms */
    hj_regime regime;  /* from h = H/log N, see above */
} hj_explain;

/* Summary of one point from its logits a (N >= 1), eps >= 0: out, and the
 * K <= N largest weights, descending (ties, e.g. the zero weights at
 * eps = 0: larger logit first, then smaller index), with
 * their atom indices: pi_top (K), idx_top (K); both may be NULL when K == 0.
 * Top-K selection is O(N log K); the entropy uses log pi_j = (a_j - F)/eps,
 * so tiny weights contribute exactly. */
HJ_API hj_status hj_explain_logits(const double *a, size_t N, double eps, size_t K, hj_explain *out,
                            double *pi_top, size_t *idx_top, hj_error *err);

/* The same from a probability vector pi (N): entries finite and >= 0,
 * sum within 1e-9 N of 1 (else HJ_EDOM); 0 log 0 = 0; ties in pi: smaller
 * index first. */
HJ_API hj_status hj_explain_pi(const double *pi, size_t N, size_t K, hj_explain *out, double *pi_top,
                        size_t *idx_top, hj_error *err);

/* Summaries at n points x (n, d) of Hopf–Cole atoms at time t > 0:
 * out (n), pi_top (n, K), idx_top (n, K). Streams point by point:
 * scratch O(N), never an (n, N) matrix. */
HJ_API hj_status hj_explain_atoms(const hj_atoms *a, const hj_metric *metric, const double *x,
                           size_t n, double t, double eps, size_t K, hj_explain *out,
                           double *pi_top, size_t *idx_top, hj_error *err);

/* The same for an LSE layer. */
HJ_API hj_status hj_explain_layer(const hj_lse_layer *L, const double *x, size_t n, size_t K,
                           hj_explain *out, double *pi_top, size_t *idx_top, hj_error *err);

/* Explain summaries (entropy, n_eff, regime over N_total atoms) from merged
 * partial states P (n, 3 + dv) of partial.h (only the first 3 columns are
 * read): what hj_explain_atoms gives, for atoms streamed or sharded. */
HJ_API hj_status hj_partial_explain(const double *P, size_t n, size_t dv, double eps, size_t N_total,
                             hj_explain *out, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_INFLUENCE_H */
