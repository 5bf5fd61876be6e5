/* optimize.c — hj_optimize: argument checks, phase sequencing, loss trace, final full-data loss. */
#include "hjdl/optim.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optim/optim-impl.h"

/* Data-parallel evaluation (optim.h, allreduce): the user's objective on
 * the batch members held here, then one sum over the processes of
 * [loss x count, failed, grad x count] (n + 2 doubles). */
typedef struct shard_ctx {
    hj_objective_fn f;
    void *ctx;
    const hj_train_options *opt;  /* the caller's options (local n_data, shard, allreduce) */
    size_t n;                     /* parameters */
    double *buf;                  /* (n + 2) */
    size_t *local;                /* (n_data) local indices of the current batch */
} shard_ctx;

static hj_status shard_objective(void *vctx, const double *params, const size_t *idx,
                                 size_t n_idx, double *loss, double *grad, hj_error *err)
{
    shard_ctx *c = vctx;
    const size_t b = c->opt->shard_begin, nl = c->opt->n_data, n = c->n;
    const size_t *lidx = NULL;
    size_t cnt = nl;
    if (idx != NULL) { /* the members of the global batch held here, in batch order */
        cnt = 0;
        for (size_t k = 0; k < n_idx && cnt < nl; k++)
            if (idx[k] >= b && idx[k] - b < nl)
                c->local[cnt++] = idx[k] - b;
        lidx = c->local;
    }
    double *buf = c->buf;
    memset(buf, 0, (n + 2) * sizeof *buf);
    hj_status st = HJ_OK;
    hj_error e;
    hj_error_clear(&e);
    if (cnt > 0) {
        double l = NAN;
        st = c->f(c->ctx, params, lidx, cnt, &l, buf + 2, &e);
        if (st == HJ_OK) {
            buf[0] = l * (double)cnt;
            for (size_t k = 0; k < n; k++)
                buf[2 + k] *= (double)cnt;
        } else {
            memset(buf, 0, (n + 2) * sizeof *buf);
            buf[1] = 1.0;
        }
    }
    hj_status rs = c->opt->allreduce(c->opt->allreduce_ctx, buf, n + 2, err);
    if (rs != HJ_OK)
        return rs;
    if (st != HJ_OK) {
        if (err != NULL) {
            *err = e;
            err->code = st;
        }
        return st;
    }
    if (buf[1] > 0.0)
        return hj_error_set(err, HJ_EIO, "%s (%.0f of the processes' objectives failed)",
                            HJ_PEER_FAILED_MSG, buf[1]);
    const double total = idx != NULL ? (double)n_idx : (double)c->opt->n_total;
    *loss = buf[0] / total;
    if (grad != NULL)
        for (size_t k = 0; k < n; k++)
            grad[k] = buf[2 + k] / total;
    return HJ_OK;
}

/* Contract (see optim.h). Details fixed here:
 *   - opt->n_data must be > 0 here (hj_train_options_check accepts 0, so
 *     options can be checked before the data is loaded).
 *   - res may be NULL (nothing is returned but params). On failure res gets
 *     loss_trace = NULL, final_loss = NaN and steps = the steps completed,
 *     so there is nothing to free.
 *   - On HJ_ENAN or an objective error params are restored to the last
 *     point whose loss and gradient were finite (Adam/SGD: the point of the
 *     previous step; L-BFGS: the best point evaluated); the objective's own
 *     status and message are returned, prefixed with the phase and step.
 *   - HJ_OPT_LBFGS ignores batch/epochs (always full batch); the Adam phase
 *     of HJ_OPT_ADAM_LBFGS follows batch/epochs like plain Adam.
 *   - res->stopped is 1 only if the callback stopped the run while planned
 *     work remained (a stop request at the final report changes nothing).
 */
hj_status hj_optimize(hj_objective_fn f, void *ctx, double *params, size_t n_params,
                      const hj_train_options *opt, hj_train_result *res, hj_error *err)
{
    if (res != NULL) {
        res->final_loss = NAN;
        res->steps = 0;
        res->stopped = 0;
        res->loss_trace = NULL;
    }
    if (f == NULL)
        return hj_error_set(err, HJ_EINVAL, "objective function is NULL");
    if (params == NULL)
        return hj_error_set(err, HJ_EINVAL, "parameter vector is NULL");
    if (n_params == 0)
        return hj_error_set(err, HJ_EINVAL, "no parameters to optimise (n_params = 0)");
    hj_status st = hj_train_options_check(opt, err);
    if (st != HJ_OK)
        return st;
    if (opt->n_data == 0 && opt->allreduce == NULL)
        return hj_error_set(err, HJ_EINVAL,
                            "n_data must be > 0: set it to the number of data points the "
                            "objective indexes (1 for a plain function)");
    if (n_params > SIZE_MAX / (4 * sizeof(double)))
        return hj_error_set(err, HJ_ENOMEM, "%zu parameters are too many", n_params);
    if (opt->optimizer != HJ_OPT_ADAM && opt->optimizer != HJ_OPT_SGD &&
        n_params > (size_t)INT_MAX)
        return hj_error_set(err, HJ_EINVAL, "L-BFGS handles at most %d parameters (got %zu)",
                            INT_MAX, n_params);
    for (size_t i = 0; i < n_params; i++)
        if (!isfinite(params[i]))
            return hj_error_set(err, HJ_ENAN, "initial params[%zu] is %s", i,
                                hj__nonfinite_name(params[i]));

    /* data-parallel: the phases see n_total points (and a summing objective, below) */
    hj_train_options global = *opt;
    if (opt->allreduce != NULL) {
        global.n_data = opt->n_total;
        global.allreduce = NULL;
    }
    size_t cap;
    switch (opt->optimizer) {
    case HJ_OPT_LBFGS: cap = opt->iters; break;
    case HJ_OPT_ADAM_LBFGS: cap = hj__first_order_steps(&global) + opt->lbfgs_iters; break;
    default: cap = hj__first_order_steps(&global); break;
    }
    if (cap > SIZE_MAX / sizeof(double))
        return hj_error_set(err, HJ_ENOMEM, "loss trace of %zu steps is too long", cap);
    hj__optrun run;
    memset(&run, 0, sizeof run);
    run.f = f;
    run.ctx = ctx;
    run.n = n_params;
    run.opt = opt;
    run.cap = cap;
    shard_ctx shard;
    memset(&shard, 0, sizeof shard);
    if (opt->allreduce != NULL) {
        shard.f = f;
        shard.ctx = ctx;
        shard.opt = opt;
        shard.n = n_params;
        shard.buf = malloc((n_params + 2) * sizeof *shard.buf);
        shard.local = malloc((opt->n_data ? opt->n_data : 1) * sizeof *shard.local);
        run.f = shard_objective;
        run.ctx = &shard;
        run.opt = &global;
        f = shard_objective;
        ctx = &shard;
    }
    run.trace = malloc(cap * sizeof *run.trace);
    double *grad = malloc(n_params * sizeof *grad);
    if (run.trace == NULL || grad == NULL ||
        (opt->allreduce != NULL && (shard.buf == NULL || shard.local == NULL))) {
        free(run.trace);
        free(grad);
        free(shard.buf);
        free(shard.local);
        return hj_error_set(err, HJ_ENOMEM, "cannot allocate a loss trace of %zu steps", cap);
    }

    switch (opt->optimizer) {
    case HJ_OPT_ADAM:
    case HJ_OPT_SGD:
        st = hj__first_order_phase(&run, opt->optimizer, params, 1, err);
        break;
    case HJ_OPT_LBFGS:
        st = hj__lbfgs_phase(&run, params, opt->iters, err);
        break;
    case HJ_OPT_ADAM_LBFGS:
        st = hj__first_order_phase(&run, HJ_OPT_ADAM, params, 0, err);
        if (st == HJ_OK && !run.stopped)
            st = hj__lbfgs_phase(&run, params, opt->lbfgs_iters, err);
        break;
    }

    double loss = NAN;
    if (st == HJ_OK) {
        hj_error e;
        hj_error_clear(&e);
        st = f(ctx, params, NULL, run.opt->n_data, &loss, grad, &e);
        if (st != HJ_OK)
            hj__objective_error(err, st, &e, "final full-data evaluation: ");
        else if (!isfinite(loss))
            st = hj_error_set(err, HJ_ENAN,
                              "the full-data loss at the final parameters is %s (after %zu steps)",
                              hj__nonfinite_name(loss), run.steps);
    }
    free(grad);
    free(shard.buf);
    free(shard.local);

    if (res != NULL)
        res->steps = run.steps;
    if (st != HJ_OK || res == NULL || run.steps == 0) {
        free(run.trace);
        run.trace = NULL;
    }
    if (st != HJ_OK)
        return st;
    if (res != NULL) {
        res->final_loss = loss;
        res->stopped = run.stopped;
        res->loss_trace = run.trace;
    }
    return HJ_OK;
}
