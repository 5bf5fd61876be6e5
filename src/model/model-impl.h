/* model-impl.h — internals of the model module (not installed). */
#ifndef HJDL_MODEL_IMPL_H
#define HJDL_MODEL_IMPL_H

#include "hjdl/model.h"

/* Loss and gradient of a model that is a single readout layer (lse:N or
 * lse-class:N, with or without output scale), fused row by row: logits,
 * Gibbs weights, the loss and the parameter gradient are formed in a
 * per-thread buffer of one row, never as n x N matrices. Inputs already
 * validated by hj_model_loss_grad. grad (n_params) may be NULL. Summation
 * order is fixed for a given thread count (deterministic). */
hj_status hj__readout_only_loss_grad(const hj_model *m, const double *x, const double *y,
                                     size_t n, double *loss, double *grad, hj_error *err);

/* The same with the kernel chosen explicitly: simd = 1 takes the blocked
 * AVX-512 path where it applies (lse or lse-class readout, eps > 0, CPU
 * with AVX-512F), simd = 0 always the row-by-row path. For tests. */
hj_status hj__readout_loss_grad_impl(const hj_model *m, const double *x, const double *y,
                                     size_t n, double *loss, double *grad, int simd,
                                     hj_error *err);

#endif /* HJDL_MODEL_IMPL_H */
