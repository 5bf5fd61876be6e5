/* model-impl.h — internals of the model module (not installed). */
#ifndef HJDL_MODEL_IMPL_H
#define HJDL_MODEL_IMPL_H

#include "hjdl/model.h"

/* Loss and gradient of a model that is a single readout layer (lse:N or
 * lse-class:N, with or without output scale), fused row by row: logits,
 * Gibbs weights, the loss and the parameter gradient are formed in a
 * per-thread buffer of one row, never as n x N matrices. At the parameters
 * params (n_params; the model gives the architecture and eps). Inputs already
 * validated by hj_model_loss_grad. grad (n_params) may be NULL. Summation
 * order is fixed for a given thread count (deterministic). */
hj_status hj__readout_only_loss_grad(const hj_model *m, const double *params, const double *x,
                                     const double *y, size_t n, double *loss, double *grad,
                                     hj_error *err);

/* The same with the kernel chosen explicitly: simd = 1 takes the blocked
 * AVX-512 path where it applies (lse or lse-class readout, eps > 0, CPU
 * with AVX-512F), simd = 0 always the row-by-row path. For tests. */
hj_status hj__readout_loss_grad_impl(const hj_model *m, const double *params, const double *x,
                                     const double *y, size_t n, double *loss, double *grad,
                                     int simd, hj_error *err);

/* n strings: deep copy (NULL when s is NULL, n is 0 or memory runs out)
 * and free (NULL is a no-op). */
char **hj__strings_dup(const char *const *s, size_t n);
void hj__strings_free(char **s, size_t n);
/* Free the names, labels and eps curve of m (fields set to NULL / 0). */
void hj__model_meta_free(hj_model *m);
/* Copy target scaling, names, labels and eps curve from src to dst (whose
 * arch and pre are already set). */
hj_status hj__model_meta_copy(hj_model *dst, const hj_model *src, hj_error *err);
/* Replace m's eps curve by copies of grid and val (n each; n = 0 clears). */
hj_status hj__model_set_eps_curve(hj_model *m, const double *grid, const double *val, size_t n,
                                  hj_error *err);

#endif /* HJDL_MODEL_IMPL_H */
