/* model.h — trainable models built from HJ layers, with exact hand-written
 * gradients, and their files (.hjm).
 *
 * An architecture is a comma-separated list of layers, e.g.
 *     dense:12,resnet:12,gibbs:16,lse:16
 * ending in exactly one readout:
 *   lse:N        regression: y = f_eps(h) = eps log sum_j exp((w_j.h + b_j)/eps)
 *                (y = a f + c with learned a, c when output_scale is on);
 *   lse-class:N  classifier: one LSE over its own N neurons per class,
 *                F_c(h) = LSE_eps over class c's neurons, softmax
 *                cross-entropy across the classes.
 * Hidden layers (any number, before the readout):
 *   dense:H      h' = softplus_eps(A h + c)                  A (H, in), c (H)
 *   resnet:H     h' = h + s softplus_eps(A h + c), in == H   A (H, H), c (H)
 *                (s = 1/K for K residual layers: a time-1 Euler discretisation)
 *   gibbs:M      h' = sum_j pi_j(h) v_j, pi = softmax((k_j.h + beta_j)/eps)
 *                over M learned slots                        K (M, in), beta (M), V (M, in)
 * Sequence models (hj_arch_parse_sequence: inputs are sequences of T steps
 * of d features, stored flat as rows of T*d = d_in, step-major) start with
 * one or more sequence layers, each mapping a sequence of T steps to a
 * sequence of T steps of width H (state h_0 = 0, u_k the k-th input step):
 *   rnn:H[:tanh|:softplus]  h_{k+1} = phi(W h_k + U u_k + b)
 *                W (H, H), U (H, d), b (H); phi tanh (default) or softplus_eps
 *   lstm:H       a = Wg [h_k; u_k] + bg, gates i, f, o = sigmoid, g = tanh
 *                (rows of Wg in that order: i, f, g, o), c_{k+1} = f c_k + i g,
 *                h_{k+1} = o tanh(c_{k+1});          Wg (4H, H + d), bg (4H)
 *   ssm:H        diagonal linear state space, zero-order hold (S4D real):
 *                A_n = -exp(a_n), Delta = exp(log_dt), Abar = exp(Delta A),
 *                Bbar = diag((Abar - 1)/A) B, h_{k+1} = Abar h_k + Bbar u_k,
 *                output softplus_eps(C h_{k+1} + c)
 *                a (H), B (H, d), C (H, H), log_dt (1), c (H)
 *   attn:H[:heads]  x_k = E u_k + e + pos_k, then a pre-LayerNorm block
 *                x += Attn(LN x) (causal, heads of width H/heads, softmax
 *                temperature sqrt(H/heads), output projection Wo), then
 *                x += G(LN x), G(z) = sum_j pi_j(z) v_j with pi the Gibbs
 *                weights of (K z + beta)/eps over H slots (LN without affine
 *                part: (x - mean)/sqrt(var + 1e-5))
 *                E (H, d), e (H), pos (T, H), Wq, Wk, Wv, Wo (H, H),
 *                K (H, H), beta (H), V (H, H)
 * (rnn and lstm: the layouts of pmp.h's hj_recurrent cells without its
 * read-out; ssm: hj_recurrent's SSM with n_out = H, then the bias c), each
 * layer's output at step k being h_k (rnn, lstm), its read-out (ssm) or
 * x_k (attn), k = 1..T. Sequence layers may be stacked; then comes a pool:
 *   last         the output at the last step (T)
 *   mean         the mean of the outputs over the T steps
 * then any vector layers and the readout, e.g. lstm:128,last,lse-class:16.
 * One eps (>= 0, 0 = ReLU / max-plus) is shared by every layer. With a
 * single `lse:N` layer the model *is* the Hopf–Cole solution of the atoms
 * y_j = 2t w_j, g_j = -b_j - t|w_j|^2 (see hopf.h; hj_model_initial_data).
 *
 * Parameters live in one flat array (n_params); each layer owns a slice
 * [offset, offset + count) laid out in the order of the shapes above
 * (lse: w (N, in) then b (N); lse-class: w (C*N, in) then b (C*N), class c
 * owning neurons c*N .. c*N+N-1; output scale: a then c after the readout).
 */
#ifndef HJDL_MODEL_H
#define HJDL_MODEL_H

#include "hjdl/export.h"

#include <stddef.h>
#include <stdint.h>

#include "hjdl/dataset.h"
#include "hjdl/optim.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HJ_MAX_LAYERS 32

typedef enum hj_layer_kind {
    HJ_LAYER_DENSE = 0,
    HJ_LAYER_RESNET,
    HJ_LAYER_GIBBS,
    HJ_LAYER_LSE,
    HJ_LAYER_LSE_CLASS,
    HJ_LAYER_RNN,        /* sequence layers: in = steps * step_in, out = steps * width */
    HJ_LAYER_LSTM,
    HJ_LAYER_SSM,
    HJ_LAYER_ATTN,
    HJ_LAYER_POOL_LAST,  /* pools: in = steps * width, out = width, no parameters */
    HJ_LAYER_POOL_MEAN
} hj_layer_kind;

/* Activation of an rnn layer. */
typedef enum hj_rnn_activation { HJ_RNN_TANH = 0, HJ_RNN_SOFTPLUS } hj_rnn_activation;

typedef struct hj_layer {
    hj_layer_kind kind;
    size_t width;    /* H, M, or N (neurons per class for lse-class) */
    size_t in;       /* input width */
    size_t out;      /* output width (1 for lse, n_classes for lse-class) */
    size_t offset;   /* first parameter in the flat array */
    size_t count;    /* number of parameters */
    size_t steps;    /* sequence layers and pools: T; 0 for vector layers */
    size_t step_in;  /* sequence layers: input width per step d (in = steps * step_in) */
    size_t heads;    /* attn: attention heads (width % heads == 0); else 0 */
    hj_rnn_activation activation; /* rnn: tanh or softplus_eps */
} hj_layer;

/* A sequence layer (rnn, lstm, ssm, attn), a pool, or neither. */
HJ_API int hj_layer_is_sequence(hj_layer_kind k);
HJ_API int hj_layer_is_pool(hj_layer_kind k);
/* The kind's name in architecture strings ("dense", "lstm", "last", ...; "?" if unknown). */
HJ_API const char *hj_layer_kind_name(hj_layer_kind k);

typedef struct hj_arch {
    size_t n_layers;
    hj_layer layers[HJ_MAX_LAYERS];
    size_t d_in;          /* model input width (after preprocessing); T * d for sequences */
    size_t seq_len;       /* sequence models: T steps of d_in / T features; 0: vectors */
    size_t n_classes;     /* 0: regression, >= 2: classifier */
    int output_scale;     /* regression only: learned y = a f + c */
    size_t n_params;      /* including the output scale */
} hj_arch;

/* Parse an architecture string for input width d_in. The readout must be
 * last and match the task (lse for n_classes == 0, lse-class otherwise);
 * impossible stacks are refused with a message saying why, e.g.
 * "layer 1 (resnet:12): a residual layer keeps its width, but its input is 2-dimensional". */
HJ_API hj_status hj_arch_parse(const char *spec, size_t d_in, size_t n_classes, int output_scale,
                        hj_arch *arch, hj_error *err);
/* The same for inputs that are sequences of T >= 1 steps of d features
 * (d_in = T * d, step-major): the architecture must start with a sequence
 * layer and pool before its vector layers, e.g. "lstm:128,last,lse-class:16".
 * hj_arch_parse refuses sequence layers (its inputs are vectors). */
HJ_API hj_status hj_arch_parse_sequence(const char *spec, size_t T, size_t d, size_t n_classes,
                                        int output_scale, hj_arch *arch, hj_error *err);
/* The string form ("dense:12,lse:16") into buf (always NUL-terminated). */
HJ_API void hj_arch_format(const hj_arch *arch, char *buf, size_t len);

typedef struct hj_model {
    hj_arch arch;
    double eps;           /* temperature / viscosity of every layer, >= 0 */
    double t;             /* HJ time for the initial-data map, > 0 */
    double *params;       /* (n_params), owned */
    hj_preprocess pre;    /* input transform (raw features -> d_in), owned */
    /* What the training data said (all owned, optional: NULL / 0 when
     * unknown; stored in the .hjm file from format 2 on). */
    char **feature_names; /* (pre.d_raw) names of the raw input columns, or NULL */
    char *target_name;    /* name of the target column, or NULL */
    char **class_labels;  /* (n_classes) the user's label of each class 0..C-1, or NULL */
    double y_shift;       /* regression target scaling: the user's target is     */
    double y_scale;       /*   y_shift + y_scale * f (hj_model_predict); 0 and 1 */
    size_t n_eps_curve;   /* eps chosen on held-out data: the grid tried and the */
    double *eps_grid;     /*   validation loss of each (n_eps_curve each), or 0  */
    double *eps_val_loss;
} hj_model;

/* Allocate and initialise parameters deterministically from seed:
 * weights ~ N(0, 1/in), biases 0, Gibbs values ~ N(0, 1/in), output scale
 * a = 1, c = 0. pre is set to HJ_PRE_NONE with d_raw = d_out = d_in; no
 * names or labels, target scaling y_shift 0, y_scale 1. */
HJ_API hj_status hj_model_init(hj_model *m, const hj_arch *arch, double eps, double t, uint64_t seed,
                        hj_error *err);
HJ_API void hj_model_free(hj_model *m);
/* Deep copy. */
HJ_API hj_status hj_model_copy(hj_model *dst, const hj_model *src, hj_error *err);
/* Output width: 1 for regression, n_classes for classifiers. */
HJ_API size_t hj_model_n_out(const hj_model *m);

/* ---- evaluation and gradients -------------------------------------------- */

/* Scratch for batches of up to `capacity` points: the activations and Gibbs
 * weights the backward pass needs. One workspace per thread of use. */
typedef struct hj_workspace hj_workspace;
HJ_API hj_status hj_workspace_alloc(hj_workspace **ws, const hj_model *m, size_t capacity,
                             hj_error *err);
HJ_API void hj_workspace_free(hj_workspace *ws);

/* Forward pass on n points of x (n, d_in), already preprocessed;
 * out (n, n_out): the regression value, or the class scores F_c. Points are
 * processed in chunks of the workspace capacity. */
HJ_API hj_status hj_model_forward(const hj_model *m, hj_workspace *ws, const double *x, size_t n,
                           double *out, hj_error *err);

/* Mean loss over n points (n <= capacity) at the parameters params
 * (n_params; m->params for the model's own, or any other vector: m gives
 * the architecture and eps and is not changed) and its gradient (n_params,
 * overwritten; may be NULL for the loss alone). y (n): target values, or
 * class indices 0..C-1 stored as doubles. Loss: mean squared error
 * (regression) or mean softmax cross-entropy over the class scores. */
HJ_API hj_status hj_model_loss_grad(const hj_model *m, const double *params, hj_workspace *ws,
                             const double *x, const double *y, size_t n, double *loss,
                             double *grad, hj_error *err);

/* Reverse mode around one layer: the mean loss of hj_model_loss_grad at the
 * model's parameters over (x, y, n <= capacity), its gradient grad
 * (n_params), and at layer `layer` its input in_l (n, L->in), the loss
 * output out_l (n, L->out), the loss gradient in its output gout_l
 * (n, L->out) and in its input gin_l (n, L->in) (each of the four may be NULL). For readings of one layer
 * (pmp.h's hj_sequence_reading takes its running costs from gout_l). */
HJ_API hj_status hj_model_layer_gradients(const hj_model *m, hj_workspace *ws, const double *x,
                                          const double *y, size_t n, size_t layer, double *in_l,
                                          double *out_l, double *gout_l, double *gin_l,
                                          double *loss, double *grad, hj_error *err);

/* A classifier's predicted class of each of n preprocessed points x (n, d_in):
 * cls (n) the index 0..C-1 of the largest class score (the first on ties), as
 * doubles like hj_model_loss_grad's labels. HJ_EINVAL for a regression model. */
HJ_API hj_status hj_model_classify(const hj_model *m, const double *x, size_t n, double *cls,
                                   hj_error *err);

/* Vector-Jacobian product with respect to the inputs: for each point i,
 * gx_i = sum_c gout[i][c] d out_c / d x_i, x (n, d_in) preprocessed,
 * gout (n, n_out), gx (n, d_in). With gout = e_c it is the input gradient of
 * output c (at eps = 0: a subgradient, pi uniform on ties). */
HJ_API hj_status hj_model_input_gradient(const hj_model *m, hj_workspace *ws, const double *x, size_t n,
                                  const double *gout, double *gx, hj_error *err);

/* Readout attribution: the Gibbs weights of the readout LSE at each point
 * (of the predicted class's neurons for classifiers), the K largest with
 * their neuron indices, descending. pi_top (n, K), idx_top (n, K);
 * K <= N. */
HJ_API hj_status hj_model_attribution(const hj_model *m, hj_workspace *ws, const double *x, size_t n,
                               size_t K, double *pi_top, size_t *idx_top, hj_error *err);

/* Atoms (y_j, g_j) of the readout LSE layer at time t (t <= 0: the model's
 * t): y (N_total, in) and g (N_total) with N_total = N (lse) or C*N
 * (lse-class). The initial-value problem that training selected. */
HJ_API hj_status hj_model_initial_data(const hj_model *m, double t, double *y, double *g,
                                hj_error *err);
/* N_total and the readout's input width. */
HJ_API void hj_model_readout_shape(const hj_model *m, size_t *n_atoms, size_t *dim);

/* ---- convenience ------------------------------------------------------ */

/* Predictions for raw inputs x_raw (n, pre.d_raw): applies the stored
 * preprocessing, then the forward pass, then (regression) the target
 * scaling y_shift + y_scale * f. out (n, n_out). */
HJ_API hj_status hj_model_predict(const hj_model *m, const double *x_raw, size_t n, double *out,
                           hj_error *err);

/* Train in place on x (n, d_in, already preprocessed) and y (n) with the
 * optimiser options (opt->n_data is set to n here). The objective is the
 * mean loss of hj_model_loss_grad; full-batch evaluations larger than the
 * chunk size are accumulated chunk by chunk. res may be NULL. */
HJ_API hj_status hj_model_train(hj_model *m, const double *x, const double *y, size_t n,
                         const hj_train_options *opt, hj_train_result *res, hj_error *err);

/* Training with regularisation and a held-out validation split. */
typedef struct hj_fit_options {
    double weight_decay;   /* lambda >= 0: adds (lambda/2) |W|^2 over the weight matrices
                              (not biases, not the output scale) to the mean loss */
    const double *x_val;   /* (n_val, d_in) preprocessed validation inputs, or NULL */
    const double *y_val;   /* (n_val) targets as for training */
    size_t n_val;
    size_t val_every;      /* steps between validation evaluations (0: 10) */
    size_t patience;       /* stop after this many evaluations without a better
                              validation loss (0: never stop early) */
} hj_fit_options;

/* Zero: no decay, no validation. */
HJ_API void hj_fit_options_default(hj_fit_options *fo);

/* The L2 penalty sum over the weight matrices of the squared entries,
 * i.e. |W|^2 (the penalty is lambda/2 times this). */
HJ_API double hj_model_weight_norm2(const hj_model *m);

/* hj_model_train with fo's weight decay and, when fo->n_val > 0, the
 * validation loss (the mean loss of hj_model_loss_grad, without the
 * penalty) evaluated every val_every steps and at the end: the parameters
 * with the lowest one are kept (and training stops after `patience`
 * evaluations without improvement). *val_loss (may be NULL) gets the best
 * validation loss (NAN without validation) and *best_step (may be NULL)
 * the step it was reached at (the steps taken without validation).
 * Not with a data-parallel allreduce. fo NULL = hj_model_train. */
HJ_API hj_status hj_model_fit(hj_model *m, const double *x, const double *y, size_t n,
                       const hj_train_options *opt, const hj_fit_options *fo,
                       hj_train_result *res, double *val_loss, size_t *best_step, hj_error *err);

/* eps chosen on held-out data: for each grid[k] (k < n_grid, each >= 0),
 * a model like m (same architecture, t, preprocessing, target scaling) is
 * initialised from seed and fitted on (x, y, n) with validation on
 * fo->x_val; the eps with the lowest validation loss wins (ties: the
 * larger eps). Then m (whose parameters are re-initialised) is fitted on
 * the union of both splits with that eps for the step count that was best
 * (at least val_every). m->eps, eps_grid and eps_val_loss are set. The
 * validation split is required (fo->n_val > 0). */
HJ_API hj_status hj_model_fit_eps_auto(hj_model *m, uint64_t seed, const double *grid, size_t n_grid,
                                const double *x, const double *y, size_t n,
                                const hj_train_options *opt, const hj_fit_options *fo,
                                hj_train_result *res, hj_error *err);

/* Attach the names of the raw input columns (d_raw strings), the target
 * name (NULL: none) and the class labels (n_classes strings; NULL: none),
 * deep-copied; any of them NULL leaves that field unset. */
HJ_API hj_status hj_model_set_names(hj_model *m, const char *const *features, const char *target,
                             const char *const *labels, hj_error *err);

/* ---- files ------------------------------------------------------------- */

/* Save as a .hjm text file: magic line "HJDL-MODEL 2" ("HJDL-MODEL 3" for a
 * sequence model, which adds a "steps T" line after d_in), then key/value lines
 * (arch, eps, t, dims, preprocessing arrays), the parameters with %.17g
 * (exact round trip), the metadata (target scaling, feature and target
 * names, class labels, eps curve), and a final "crc32 XXXXXXXX" line over
 * all bytes before it. Written atomically (temp file + rename). Format 1
 * files (no metadata) are still read. */
HJ_API hj_status hj_model_save(const hj_model *m, const char *path, hj_error *err);
/* Load and validate every field; truncated, corrupted (CRC mismatch),
 * inconsistent or future-version files are refused with a message naming
 * the file and line. */
HJ_API hj_status hj_model_load(hj_model *m, const char *path, hj_error *err);
/* The same from a buffer (for fuzzing); name is used in messages. */
HJ_API hj_status hj_model_parse(hj_model *m, const char *text, size_t len, const char *name,
                         hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_MODEL_H */
