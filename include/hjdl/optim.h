/* optim.h — optimisers over a flat parameter vector: Adam, SGD with momentum,
 * L-BFGS (Debian's liblbfgs) and Adam-then-L-BFGS.
 *
 * The optimiser knows nothing of models: it drives an objective callback
 * that returns the loss and its gradient on a subset of the data (a
 * mini-batch given by indices) or on all of it. Mini-batches are drawn from
 * a seeded permutation per epoch, so a run is bit-for-bit reproducible for
 * a given seed (and thread count of the objective).
 */
#ifndef HJDL_OPTIM_H
#define HJDL_OPTIM_H

#include "hjdl/export.h"

#include <stddef.h>
#include <stdint.h>

#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Loss and gradient at params (n_params) over the data points idx[0..n_idx)
 * (idx == NULL: all n_data points, in order). *loss receives the MEAN loss
 * over those points and grad (n_params) its gradient (overwritten). */
typedef hj_status (*hj_objective_fn)(void *ctx, const double *params, const size_t *idx,
                                     size_t n_idx, double *loss, double *grad, hj_error *err);

typedef enum hj_optimizer {
    HJ_OPT_ADAM = 0,
    HJ_OPT_SGD,          /* SGD with (heavy-ball) momentum */
    HJ_OPT_LBFGS,        /* full-batch L-BFGS with line search (liblbfgs) */
    HJ_OPT_ADAM_LBFGS    /* `iters` Adam steps, then `lbfgs_iters` L-BFGS iterations */
} hj_optimizer;

/* Name <-> enum: "adam", "sgd", "lbfgs", "adam+lbfgs". */
HJ_API const char *hj_optimizer_name(hj_optimizer o);
HJ_API hj_status hj_optimizer_parse(const char *name, hj_optimizer *out, hj_error *err);

/* Progress report, passed to the callback every `report_every` steps and at the end. */
typedef struct hj_train_progress {
    const char *phase;   /* "adam", "sgd" or "lbfgs" */
    size_t step;         /* steps done in this phase (1-based) */
    size_t total;        /* steps planned in this phase (upper bound for L-BFGS) */
    size_t epoch;        /* completed epochs (mini-batch runs), else 0 */
    double loss;         /* loss of the latest step (batch loss for mini-batches) */
} hj_train_progress;

/* Return non-zero to stop training early (the result is then HJ_OK with
 * res->stopped = 1). */
typedef int (*hj_train_callback)(const hj_train_progress *p, void *ctx);

/* Sum buf (n) element-wise over all processes of a data-parallel run, in
 * place. Every process calls it the same number of times with the same n,
 * and every process must receive bit-identical sums (so all of them take
 * the same steps). dist.h's hj_dist_allreduce_sum_cb is one. */
typedef hj_status (*hj_allreduce_fn)(void *ctx, double *buf, size_t n, hj_error *err);

/* In a data-parallel run, the processes whose own objective succeeded at a
 * step where another process's failed return HJ_EIO with a message that
 * contains this text (the failing process returns its own error), so the
 * caller can report the real cause (dist.h's hj_dist_agree does). */
#define HJ_PEER_FAILED_MSG "a peer process failed"

typedef struct hj_train_options {
    hj_optimizer optimizer;
    double lr;            /* step size (Adam, SGD); default 1e-3 */
    double beta1, beta2;  /* Adam moments; default 0.9, 0.999 */
    double adam_eps;      /* Adam denominator; default 1e-8 */
    double momentum;      /* SGD momentum; default 0.9 */
    size_t iters;         /* optimiser steps (Adam/SGD; L-BFGS iterations for HJ_OPT_LBFGS) */
    size_t epochs;        /* if > 0 and batch > 0: run this many passes instead of `iters` */
    size_t batch;         /* mini-batch size; 0 = full batch */
    size_t lbfgs_iters;   /* L-BFGS iterations after Adam in HJ_OPT_ADAM_LBFGS */
    size_t n_data;        /* number of data points the objective indexes */
    uint64_t seed;        /* mini-batch shuffling */
    size_t report_every;  /* callback period in steps (0: only at the end) */
    hj_train_callback callback;  /* may be NULL */
    void *callback_ctx;
    /* Data parallelism (optional; allreduce NULL = this process has all the
     * data, and the two sizes below are ignored). With allreduce set, this
     * process holds the global points [shard_begin, shard_begin + n_data) of
     * n_total, and the objective indexes its own n_data points (LOCAL
     * indices 0..n_data-1; n_data may be 0). hj_optimize draws mini-batches
     * over n_total with `seed` exactly as a single process would, hands the
     * objective only the batch members this process holds (in batch order,
     * as local indices; it is not called when it holds none), and sums
     * (mean loss x local count) and (mean gradient x local count) over the
     * processes with one allreduce of n_params + 2 doubles per evaluation
     * (L-BFGS and the final evaluation likewise), dividing by the global
     * count. A failing objective on one process makes every process return
     * an error at the same step (the others' message says so). The callback
     * sees the same numbers on every process and must decide identically. */
    hj_allreduce_fn allreduce;
    void *allreduce_ctx;
    size_t shard_begin;   /* first global point held here */
    size_t n_total;       /* points over all processes (> 0 when allreduce is set) */
} hj_train_options;

/* Defaults above; optimizer Adam, iters 1000, full batch. */
HJ_API void hj_train_options_default(hj_train_options *o);

/* Check ranges (lr > 0, 0 <= beta < 1, iters or epochs > 0, batch <= n_data, ...).
 * Returns HJ_OK or HJ_EINVAL with a message naming the option. */
HJ_API hj_status hj_train_options_check(const hj_train_options *o, hj_error *err);

typedef struct hj_train_result {
    double final_loss;    /* full-data loss at the returned parameters */
    size_t steps;         /* steps taken in all phases */
    int stopped;          /* 1 if the callback stopped the run */
    double *loss_trace;   /* per-step loss (steps entries), owned: free() it; may be NULL */
} hj_train_result;

/* Minimise the objective from params (n_params, updated in place). A step
 * that produces a non-finite loss stops with HJ_ENAN and a message that
 * names the step (params are left at the last finite point). */
HJ_API hj_status hj_optimize(hj_objective_fn f, void *ctx, double *params, size_t n_params,
                      const hj_train_options *opt, hj_train_result *res, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_OPTIM_H */
