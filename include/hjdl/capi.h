/* capi.h — small helpers for foreign-language bindings (the ctypes Python package in python/hjdl).
 *
 * Everything numerical stays in the rest of the library; these functions only
 * spare a binding from mirroring structs that are large or change often, and
 * from looping over points in a slow language. Why each one exists:
 *   hj_capi_sizeof          a binding that mirrors a struct (hj_lse_layer,
 *                           hj_train_options, ...) compares its size with the
 *                           compiled one at load time, so a layout mismatch
 *                           fails loudly instead of corrupting memory;
 *   hj_capi_free            frees memory the library allocated (the loss trace
 *                           of hj_train_result) with the library's allocator;
 *   hj_capi_model_*         an hj_model embeds an hj_arch of HJ_MAX_LAYERS
 *                           layers and an hj_preprocess: a heap handle lets a
 *                           binding use the model API (hj_model_predict,
 *                           hj_model_save, hj_certify, ...) through an opaque
 *                           pointer, with an info struct for the few fields it
 *                           reads and copies for the parameters;
 *   hj_capi_model_train     trains on RAW inputs (the stored preprocessing is
 *                           applied first), as hj_model_predict predicts;
 *   hj_capi_model_explain   the per-point explain summary of a model's readout
 *                           (what `hjdl explain MODEL` prints), in C;
 *   hj_capi_model_fit       `hjdl fit`'s training (weight decay, validation,
 *                           eps auto, target scaling) on raw inputs, as the
 *                           scikit-learn estimators (python/hjdl/sklearn.py)
 *                           need it; hj_capi_model_layer, _name,
 *                           _target_scaling and _parse read the parameter
 *                           layout, names and scaling and parse pickled text;
 *   hj_capi_entropy_grad    H and grad H at n points (hj_entropy_eval does one);
 *   hj_capi_experiment_run  runs an experiment by name and frees its hj_result,
 *                           so a binding reads OUT/NAME/summary.json instead of
 *                           mirroring hj_result.
 */
#ifndef HJDL_CAPI_H
#define HJDL_CAPI_H

#include "hjdl/export.h"

#include <stddef.h>
#include <stdint.h>

#include "hjdl/dataset.h"
#include "hjdl/experiment.h"
#include "hjdl/influence.h"
#include "hjdl/lse.h"
#include "hjdl/model.h"
#include "hjdl/optim.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* sizeof the public struct named `type` ("hj_error", "hj_lse_layer",
 * "hj_atoms", "hj_hc_out", "hj_train_options", "hj_train_progress",
 * "hj_train_result", "hj_explain", "hj_certificate", "hj_crit_list",
 * "hj_landscape_options", "hj_fold", "hj_bifurcation",
 * "hj_experiment_options", "hj_experiment", "hj_capi_model_info");
 * 0 for any other name (or NULL). */
HJ_API size_t hj_capi_sizeof(const char *type);

/* free() memory the library allocated and handed to the caller (p may be NULL). */
HJ_API void hj_capi_free(void *p);

/* ---- models behind an opaque pointer ------------------------------------- */

/* What a binding needs to know about a model. */
typedef struct hj_capi_model_info {
    size_t d_raw;        /* raw input width (before preprocessing) */
    size_t d_in;         /* width after preprocessing (the first layer's input) */
    size_t n_out;        /* 1 (regression) or n_classes */
    size_t n_classes;    /* 0: regression */
    size_t n_params;     /* length of the flat parameter array */
    size_t n_layers;
    size_t n_atoms;      /* readout neurons in total (N, or C*N for lse-class) */
    size_t atom_dim;     /* the readout's input width */
    int output_scale;    /* regression: y = a f + c learned */
    int pre_kind;        /* hj_preprocess_kind */
    double eps;
    double t;
} hj_capi_model_info;

/* Create a model on the heap: parse arch (see model.h) for the input width
 * the preprocessing gives, initialise the parameters from seed, and install
 * the preprocessing `pre` fitted on x_raw (n, d_raw) (HJ_PRE_PCA keeps pca_k
 * components; with HJ_PRE_NONE x_raw may be NULL and n 0). *out receives the
 * model (NULL on failure); free it with hj_capi_model_delete. */
HJ_API hj_status hj_capi_model_create(hj_model **out, const char *arch, size_t d_raw, size_t n_classes,
                               int output_scale, double eps, double t, uint64_t seed,
                               hj_preprocess_kind pre, size_t pca_k, const double *x_raw,
                               size_t n, hj_error *err);

/* Load a .hjm file into a new heap model (*out NULL on failure; the message
 * names the file). */
HJ_API hj_status hj_capi_model_load(hj_model **out, const char *path, hj_error *err);

/* hj_model_free and free the handle (m may be NULL). */
HJ_API void hj_capi_model_delete(hj_model *m);

/* Fill info from m. */
HJ_API void hj_capi_model_info_get(const hj_model *m, hj_capi_model_info *info);

/* The architecture string ("dense:12,lse:16") into buf (NUL-terminated). */
HJ_API void hj_capi_model_arch(const hj_model *m, char *buf, size_t len);

/* Copy the flat parameters out: out (n), n must equal n_params (HJ_ESHAPE). */
HJ_API hj_status hj_capi_model_get_params(const hj_model *m, double *out, size_t n, hj_error *err);

/* Replace the flat parameters: in (n), n == n_params (HJ_ESHAPE), every entry
 * finite (HJ_ENAN; the model is then unchanged). */
HJ_API hj_status hj_capi_model_set_params(hj_model *m, const double *in, size_t n, hj_error *err);

/* Train in place on raw inputs x_raw (n, d_raw) and targets y (n) (values,
 * or class indices as doubles): the model's preprocessing is applied, then
 * hj_model_train (opt->n_data is set there). res may be NULL; a loss trace
 * it receives is freed with hj_capi_free. */
HJ_API hj_status hj_capi_model_train(hj_model *m, const double *x_raw, const double *y, size_t n,
                              const hj_train_options *opt, hj_train_result *res, hj_error *err);

/* Explain summaries of the readout's Gibbs weights at raw points x_raw
 * (n, d_raw), as `hjdl explain MODEL`: out (n), the K largest weights pi_top
 * (n, K) and their neuron indices idx_top (n, K) (classifiers: the predicted
 * class's neurons, numbered c*N + j), descending. K <= neurons per class.
 * Points are processed in chunks: no (n, N) matrix is held. */
HJ_API hj_status hj_capi_model_explain(const hj_model *m, const double *x_raw, size_t n, size_t K,
                                hj_explain *out, double *pi_top, size_t *idx_top, hj_error *err);

/* ---- training as `hjdl fit`, layouts, names, text (capi_fit.c, capi_layout.c) ---- */

/* hj_model_fit on RAW inputs x_raw (n, d_raw) and y (n) (values, or class
 * indices as doubles), with the validation split x_val_raw (n_val, d_raw),
 * y_val (n_val) (n_val 0: none), weight decay, val_every and patience as in
 * hj_fit_options; the model's preprocessing is applied to both splits. With
 * n_grid > 0, eps is chosen on the validation split over eps_grid (n_grid)
 * by hj_model_fit_eps_auto (seeded by opt->seed; needs n_val > 0).
 * scale_target (regression only): both splits' targets are standardised by
 * their joint mean and sample sd (1 when constant), stored as y_shift and
 * y_scale, as `hjdl fit` does. res, val_loss (best validation loss, NAN
 * without validation) and best_step may be NULL. */
HJ_API hj_status hj_capi_model_fit(hj_model *m, const double *x_raw, const double *y, size_t n,
                            const double *x_val_raw, const double *y_val, size_t n_val,
                            const hj_train_options *opt, double weight_decay, size_t val_every,
                            size_t patience, const double *eps_grid, size_t n_grid,
                            int scale_target, hj_train_result *res, double *val_loss,
                            size_t *best_step, hj_error *err);

/* Layer k of the model: out = {kind (hj_layer_kind), width, in, out, offset,
 * count} (see hj_layer); HJ_ERANGE when k >= n_layers. */
HJ_API hj_status hj_capi_model_layer(const hj_model *m, size_t k, size_t out[6], hj_error *err);

/* A stored name, or NULL when unset: which 0 = raw input column k (< d_raw),
 * 1 = the target (k ignored), 2 = the label of class k (< n_classes). The
 * string belongs to the model. */
HJ_API const char *hj_capi_model_name(const hj_model *m, int which, size_t k);

/* The regression target scaling: predictions are shift + scale * f. */
HJ_API void hj_capi_model_target_scaling(const hj_model *m, double *shift, double *scale);

/* hj_capi_model_load from .hjm text in memory, text (len) (no NUL needed);
 * name is used in messages. */
HJ_API hj_status hj_capi_model_parse(hj_model **out, const char *text, size_t len, const char *name,
                              hj_error *err);

/* ---- batches ------------------------------------------------------------- */

/* Attribution entropy H (n) and its gradient grad (n, d) (may be NULL) at n
 * points x (n, d) of an LSE layer: hj_entropy_eval point by point. */
HJ_API hj_status hj_capi_entropy_grad(const hj_lse_layer *L, const double *x, size_t n, double *H,
                               double *grad, hj_error *err);

/* ---- experiments --------------------------------------------------------- */

/* Run the registered experiment `name` with opt (hj_experiment_run: it
 * writes opt->out_dir/NAME/ with summary.json) and free its result. An
 * unknown name is HJ_EINVAL with the list of known names. */
HJ_API hj_status hj_capi_experiment_run(const char *name, const hj_experiment_options *opt,
                                 hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_CAPI_H */
