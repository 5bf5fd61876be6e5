/* verify.h — the self-verification suite behind `hjdl verify` (SPEC C1–C6).
 *
 * Every check compares two *different* computations of the same quantity
 * (closed form vs finite differences, network vs grid PDE solver, closed
 * form vs iterative optimiser, tiled vs reference kernel, ...), or measures
 * a proved bound, and records value <= threshold in an hj_check_list.
 */
#ifndef HJDL_VERIFY_H
#define HJDL_VERIFY_H

#include "hjdl/export.h"

#include <stdint.h>

#include "hjdl/check.h"
#include "hjdl/hopf.h"
#include "hjdl/rng.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Optional progress report: called with a short stage name before each group. */
typedef void (*hj_progress_fn)(const char *stage, void *ctx);

typedef struct hj_verify_options {
    uint64_t seed;            /* random problems are drawn from this seed */
    hj_progress_fn progress;  /* may be NULL */
    void *progress_ctx;
} hj_verify_options;

/* Run every check group (C1..C6), appending to checks. Returns HJ_OK when
 * the suite *ran* (failing checks are reported in the list, not as an
 * error); a non-OK status means a check could not be computed at all. */
HJ_API hj_status hj_verify_run(const hj_verify_options *opt, hj_check_list *checks, hj_error *err);

/* ---- the computations behind C1, the tropical bound and C6, for the
 * experiments that measure them at other sizes (src/experiments/) ---- */

/* C1 at one eps: the LSE forward pass of the weights w (N, d), b (N) gives
 * f (n) at the points x (n, d), the Hopf-Cole solution of their atoms
 * (hj_weights_to_atoms at t, metric) gives u (n); *worst receives
 * max_i |f + u - x^T A^{-1} x/(4t)| / max(|q|, |f|, |u|). */
HJ_API hj_status hj_verify_c1_error(const hj_atoms *atoms, const hj_metric *metric, const double *w,
                              const double *b, const double *x, size_t n, double t, double eps,
                              double *f, double *u, double *worst, hj_error *err);

/* The sharp tropical bound f_eps(x) - f_0(x) <= eps log(1 + (N-1) e^{-gap/eps}),
 * gap = difference of the two largest logits w_j.x + b_j (w (N, d), b (N),
 * x (d)), for the measured df = f_eps(x) - f_0(x): 0 when df is within the
 * bound up to rounding (4e-16 max(1, |f0|), for when the bound underflows),
 * else df / bound. */
HJ_API double hj_verify_sharp_gap_ratio(const double *w, const double *b, size_t N, size_t d, const double *x,
                           double eps, double df, double f0);

/* One layer of the LSE transformer of C6 (pre-LayerNorm attention with
 * eps_att = sqrt(D), keys as atoms with b = 0, then a Gibbs feed-forward of
 * M slots at eps_ffn), on T tokens of width D. Buffers are owned by the
 * struct (hj_lse_tf_init / hj_lse_tf_free); after hj_lse_tf_layer, Q, K
 * (T, D) hold the layer's queries and keys and ent_att (T) the Hopf-Cole
 * entropies of the attention rows. */
typedef struct hj_lse_tf {
    size_t T, D, M;
    double t, eps_att, eps_ffn;
    double *Hn, *Q, *K, *V, *A, *lse, *W, *Wf, *bf, *Vf, *y, *g, *zb, *u, *f, *pi, *pih;
    double *ent_att, *ent_ffn;
} hj_lse_tf;

/* What one layer measures: the identities f + u = |q|^2/(4t) (max rel, scale
 * max(|q|, |f|)) of the attention and FFN rows, the attention output against
 * the Hopf-Cole Gibbs average of V (max abs / max|V|), the FFN output against
 * the Gibbs average under the Hopf-Cole weights (max abs), and the mean
 * normalised Gibbs entropies H / log(#atoms) over the tokens. */
typedef struct hj_lse_tf_stats {
    double att_id, att_avg, ffn_id, ffn_avg, h_att, h_ffn;
} hj_lse_tf_stats;

/* Allocate the buffers of tf (zeroed; *tf cleared first); HJ_ENOMEM with
 * everything freed on failure. */
HJ_API hj_status hj_lse_tf_init(hj_lse_tf *tf, size_t T, size_t D, size_t M, double t, double eps_ffn,
                          hj_error *err);
HJ_API void hj_lse_tf_free(hj_lse_tf *tf);

/* Draw the layer's weights from rng (W (3, D, D) scale 1/sqrt(D), Wf (M, D)
 * scale 0.8, bf (M) scale 0.5, Vf (M, D) scale 0.5, in that order), apply the
 * layer to X (T, D) in place (both residual updates) and measure it into *s. */
HJ_API hj_status hj_lse_tf_layer(hj_lse_tf *tf, hj_rng *rng, double *X, hj_lse_tf_stats *s, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_VERIFY_H */
