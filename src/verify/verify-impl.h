/* verify-impl.h — shared context and helpers of the verification suite (not installed). */
#ifndef HJDL_VERIFY_IMPL_H
#define HJDL_VERIFY_IMPL_H

#include <stddef.h>

#include "hjdl/check.h"
#include "hjdl/hopf.h"
#include "hjdl/rng.h"
#include "hjdl/status.h"
#include "hjdl/verify.h"

typedef struct vctx {
    hj_rng rng;
    hj_check_list *checks;
    hj_error *err;
} vctx;

/* Bail out of a check function on a non-OK status (frees nothing: callers
 * use a single cleanup label `done`). */
#define VTRY(expr)                         \
    do {                                   \
        if ((st = (expr)) != HJ_OK)        \
            goto done;                     \
    } while (0)

/* Append a check, value <= threshold. */
hj_status vcheck(vctx *c, const char *claim, double value, double threshold,
                 const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* calloc of n doubles, or NULL with HJ_ENOMEM recorded. */
double *vnew(vctx *c, size_t n);
/* Fill v (n) with uniform draws on [lo, hi) / standard normal draws. */
void vfill_uniform(vctx *c, double *v, size_t n, double lo, double hi);
void vfill_normal(vctx *c, double *v, size_t n, double scale);
/* |a - b| / max(scale, tiny). */
double vrel(double a, double b, double scale);

/* ---- computations shared with the experiments (src/experiments/) ---- */

/* C1 at one eps: the LSE forward pass of the weights w (N, d), b (N) gives
 * f (n) at the points x (n, d), the Hopf-Cole solution of their atoms
 * (hj_weights_to_atoms at t, metric) gives u (n); *worst receives
 * max_i |f + u - x^T A^{-1} x/(4t)| / max(|q|, |f|, |u|). */
hj_status hj__c1_identity_err(const hj_atoms *atoms, const hj_metric *metric, const double *w,
                              const double *b, const double *x, size_t n, double t, double eps,
                              double *f, double *u, double *worst, hj_error *err);

/* The sharp tropical bound f_eps(x) - f_0(x) <= eps log(1 + (N-1) e^{-gap/eps}),
 * gap = difference of the two largest logits w_j.x + b_j (w (N, d), b (N),
 * x (d)), for the measured df = f_eps(x) - f_0(x): 0 when df is within the
 * bound up to rounding (4e-16 max(1, |f0|), for when the bound underflows),
 * else df / bound. */
double hj__sharp_gap_ratio(const double *w, const double *b, size_t N, size_t d, const double *x,
                           double eps, double df, double f0);

/* One layer of the LSE transformer of C6 (pre-LayerNorm attention with
 * eps_att = sqrt(D), keys as atoms with b = 0, then a Gibbs feed-forward of
 * M slots at eps_ffn), on T tokens of width D. Buffers are owned by the
 * struct (hj__lse_tf_init / hj__lse_tf_free); after hj__lse_tf_layer, Q, K
 * (T, D) hold the layer's queries and keys and ent_att (T) the Hopf-Cole
 * entropies of the attention rows. */
typedef struct hj__lse_tf {
    size_t T, D, M;
    double t, eps_att, eps_ffn;
    double *Hn, *Q, *K, *V, *A, *lse, *W, *Wf, *bf, *Vf, *y, *g, *zb, *u, *f, *pi, *pih;
    double *ent_att, *ent_ffn;
} hj__lse_tf;

/* What one layer measures: the identities f + u = |q|^2/(4t) (max rel, scale
 * max(|q|, |f|)) of the attention and FFN rows, the attention output against
 * the Hopf-Cole Gibbs average of V (max abs / max|V|), the FFN output against
 * the Gibbs average under the Hopf-Cole weights (max abs), and the mean
 * normalised Gibbs entropies H / log(#atoms) over the tokens. */
typedef struct hj__lse_tf_stats {
    double att_id, att_avg, ffn_id, ffn_avg, h_att, h_ffn;
} hj__lse_tf_stats;

/* Allocate the buffers of tf (zeroed; *tf cleared first); HJ_ENOMEM with
 * everything freed on failure. */
hj_status hj__lse_tf_init(hj__lse_tf *tf, size_t T, size_t D, size_t M, double t, double eps_ffn,
                          hj_error *err);
void hj__lse_tf_free(hj__lse_tf *tf);

/* Draw the layer's weights from rng (W (3, D, D) scale 1/sqrt(D), Wf (M, D)
 * scale 0.8, bf (M) scale 0.5, Vf (M, D) scale 0.5, in that order), apply the
 * layer to X (T, D) in place (both residual updates) and measure it into *s. */
hj_status hj__lse_tf_layer(hj__lse_tf *tf, hj_rng *rng, double *X, hj__lse_tf_stats *s, hj_error *err);

/* The check groups, one per SPEC claim (or pair). */
hj_status hj__verify_identity(vctx *c);   /* C1 */
hj_status hj__verify_residual(vctx *c);   /* C2 */
hj_status hj__verify_diagram(vctx *c);    /* C3 */
hj_status hj__verify_semigroup(vctx *c);  /* C4 */
hj_status hj__verify_relu(vctx *c);       /* C5 */
hj_status hj__verify_attention(vctx *c);  /* C6 */

#endif /* HJDL_VERIFY_IMPL_H */
