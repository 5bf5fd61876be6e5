/* layers.h — the layer kinds of a model as forward/backward pairs on explicit buffers and
 * parameter pointers (private: src/model, and src/pmp for the shared Gibbs backward).
 *
 * Argument order as in llm.c: outputs, then inputs, then parameters, then dimensions.
 * n rows (points) of row-major matrices; P points at the layer's slice of the flat
 * parameters in the layout of model.h (dP: the same slice of the gradient).
 *   forward:  writes out and the cache the backward pass reads (pre-activations or
 *             Gibbs weights), nothing else.
 *   backward: ADDS into the parameter gradient dP; writes the input gradient din
 *             (n, in) when din != NULL (each is read once, by the layer below, so it
 *             is written rather than accumulated); dz (n, width) is scratch.
 *
 * Adding a layer kind: its pair here and its case in each of the four
 * dispatchers at the end of this header (layers.c); its name, shape and
 * parameter count in arch.c (hj_arch_parse) and its initialisation
 * (hj_model_init). Nothing else dispatches on the kind: model.c runs the
 * stack through the dispatchers, train.c's weight decay reads the ranges.
 */
#ifndef HJDL_MODEL_LAYERS_H
#define HJDL_MODEL_LAYERS_H

#include <stddef.h>

#include "hjdl/model.h"
#include "hjdl/rng.h"

/* ---- dense:H   out = softplus_eps(in A^T + c),  P = [A (H, d), c (H)] ----------- */
/* out (n, H), pre (n, H) the pre-activations; in (n, d). */
void hj__dense_forward(double *out, double *pre, const double *in, const double *P, size_t n,
                       size_t d, size_t H, double eps);
/* dout (n, H) = dL/dout; din (n, d) or NULL; dz (n, H) scratch. */
void hj__dense_backward(double *din, double *dP, double *dz, const double *dout, const double *pre,
                        const double *in, const double *P, size_t n, size_t d, size_t H,
                        double eps);

/* ---- resnet:H  out = in + s softplus_eps(in A^T + c),  P = [A (H, H), c (H)] ----- */
/* s = 1/K for K residual layers (model.c). out, pre, in (n, H). */
void hj__resnet_forward(double *out, double *pre, const double *in, const double *P, size_t n,
                        size_t H, double s, double eps);
void hj__resnet_backward(double *din, double *dP, double *dz, const double *dout,
                         const double *pre, const double *in, const double *P, size_t n,
                         size_t H, double s, double eps);

/* ---- gibbs:M   out = pi V,  pi = softmax((in K^T + beta)/eps) per row,
 *      P = [K (M, d), beta (M), V (M, d)] ----------------------------------------- */
/* out (n, d), pi (n, M) the Gibbs weights; in (n, d). */
void hj__gibbs_forward(double *out, double *pi, const double *in, const double *P, size_t n,
                       size_t d, size_t M, double eps);
void hj__gibbs_backward(double *din, double *dP, double *dz, const double *dout, const double *pi,
                        const double *in, const double *P, size_t n, size_t d, size_t M,
                        double eps);

/* The Gibbs-weight (softmax) backward of one row, in place: g (M) holds dL/dpi on
 * entry and dL/dz on return, z the logits of pi = softmax(z/eps):
 *     dL/dz_j = pi_j (dL/dpi_j - <pi, dL/dpi>) / eps    (0 at eps == 0).
 * The one copy of this step: the gibbs layer, and the feed-forward and attention
 * blocks of the transformer (src/pmp/transformer.c). */
void hj__gibbs_weights_backward(double *g, const double *pi, size_t M, double eps);

/* acc (cols) += the column sums of G (rows, cols; row stride ld), row by row in
 * order (the bias gradients of every layer; layer_math.c). */
void hj__add_column_sums(double *acc, const double *G, size_t rows, size_t cols, size_t ld);

/* ---- readouts: lse:N (C = 1) and lse-class:N (C classes of N neurons each)
 *      out_c = LSE_eps over class c's neurons of in w^T + b,
 *      P = [w (C N, d), b (C N)] ----------------------------------------------------- */
/* out (n, C), pi (n, C N) the Gibbs weights normalised per class; in (n, d). */
void hj__lse_readout_forward(double *out, double *pi, const double *in, const double *P, size_t n,
                             size_t d, size_t N, size_t C, double eps);
/* dout (n, C) = dL/dout (after the output scale's backward); dz (n, C N) scratch. */
void hj__lse_readout_backward(double *din, double *dP, double *dz, const double *dout,
                              const double *pi, const double *in, const double *P, size_t n,
                              size_t d, size_t N, size_t C);

/* ---- output scale (regression): y = a f + c, P = [a, c] ------------------------ */
/* y (n) in place: f (n) receives the readout values f before scaling. */
void hj__output_scale_forward(double *y, double *f, const double *P, size_t n);
/* g (n) in place: dL/dy on entry, dL/df = a dL/dy on return; dP (2) += the gradient
 * of (a, c), f (n) from the forward pass. */
void hj__output_scale_backward(double *g, double *dP, const double *f, const double *P, size_t n);

/* ---- sequence layers (seq_*.c): rnn, lstm, ssm, attn ---------------------------
 * Shapes: in (n, T, d) and out (n, T, H) row-major per point (step-major within a
 * point: in[i][k][j] = in[i*T*d + k*d + j]); the cell equations and parameter
 * layouts in model.h; T = L->steps, d = L->step_in, H = L->width. Each kind has
 *   forward:  out and its cache (n, cache width), nothing else;
 *   backward: dP += the parameter gradient (backprop through time), din (n, T, d)
 *             written when != NULL, dz (n, cache width) scratch;
 * on the same contract as the vector layers above. Deterministic for a given
 * thread count. */
size_t hj__rnn_cache_width(const hj_layer *L);
void hj__rnn_forward(const hj_layer *L, double *out, double *cache, const double *in, const double *P,
                     size_t n, double eps);
void hj__rnn_backward(const hj_layer *L, double *din, double *dP, double *dz, const double *dout,
                      const double *cache, const double *in, const double *P, size_t n, double eps);
size_t hj__lstm_cache_width(const hj_layer *L);
void hj__lstm_forward(const hj_layer *L, double *out, double *cache, const double *in, const double *P,
                      size_t n);
void hj__lstm_backward(const hj_layer *L, double *din, double *dP, double *dz, const double *dout,
                       const double *cache, const double *in, const double *P, size_t n);
size_t hj__ssm_cache_width(const hj_layer *L);
void hj__ssm_forward(const hj_layer *L, double *out, double *cache, const double *in, const double *P,
                     size_t n, double eps);
void hj__ssm_backward(const hj_layer *L, double *din, double *dP, double *dz, const double *dout,
                      const double *cache, const double *in, const double *P, size_t n, double eps);
size_t hj__attn_cache_width(const hj_layer *L);
void hj__attn_forward(const hj_layer *L, double *out, double *cache, const double *in, const double *P,
                      size_t n, double eps);
void hj__attn_backward(const hj_layer *L, double *din, double *dP, double *dz, const double *dout,
                       const double *cache, const double *in, const double *P, size_t n, double eps);
/* Initial parameters P (L->count) of each kind from rng, and the dispatch on the
 * kind (hj_model_init). */
void hj__rnn_init(const hj_layer *L, double *P, hj_rng *rng);
void hj__lstm_init(const hj_layer *L, double *P, hj_rng *rng);
void hj__ssm_init(const hj_layer *L, double *P, hj_rng *rng);
void hj__attn_init(const hj_layer *L, double *P, hj_rng *rng);
void hj__sequence_layer_init(const hj_layer *L, double *P, hj_rng *rng);

/* ---- pools: last and mean over the T steps; in (n, T, H), out (n, H) ---------- */
void hj__pool_forward(const hj_layer *L, double *out, const double *in, size_t n);
/* din (n, T, H) = the pool's backward of dout (n, H). */
void hj__pool_backward(const hj_layer *L, double *din, const double *dout, size_t n);

/* ---- the kinds, dispatched --------------------------------------------------- */
/* Width per point of layer L's cache (pre-activations or Gibbs weights). */
size_t hj__layer_cache_width(const hj_layer *L);
/* Layer L's forward on n points: out (n, L->out), cache (n, cache width),
 * in (n, L->in), P its parameters; s the residual step (model.c). */
void hj__layer_forward(const hj_layer *L, double *out, double *cache, const double *in,
                       const double *P, size_t n, double s, double eps);
/* Its backward: dP += the parameter gradient; din (n, L->in) when not NULL;
 * dz (n, cache width) scratch. */
void hj__layer_backward(const hj_layer *L, double *din, double *dP, double *dz,
                        const double *dout, const double *cache, const double *in,
                        const double *P, size_t n, double s, double eps);
/* The weight matrices of L as up to HJ_MAX_WEIGHT_RANGES ranges [b[k], e[k]) of
 * the flat parameters (biases, the ssm's a and log_dt, the attention's
 * positions and the output scale are not weights); returns how many. */
#define HJ_MAX_WEIGHT_RANGES 4
size_t hj__layer_weight_ranges(const hj_layer *L, size_t b[HJ_MAX_WEIGHT_RANGES],
                               size_t e[HJ_MAX_WEIGHT_RANGES]);

#endif /* HJDL_MODEL_LAYERS_H */
