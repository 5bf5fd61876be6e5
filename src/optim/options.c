/* options.c — training options: defaults, range checks, optimiser names. */
#include "hjdl/optim.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "optim/optim-impl.h"

static const char *const OPT_NAMES[] = {"adam", "sgd", "lbfgs", "adam+lbfgs"};
#define N_OPT_NAMES (sizeof OPT_NAMES / sizeof OPT_NAMES[0])

/* Name of an optimiser; "unknown" for a value outside the enum (never NULL). */
const char *hj_optimizer_name(hj_optimizer o)
{
    if ((unsigned)o < N_OPT_NAMES)
        return OPT_NAMES[o];
    return "unknown";
}

/* Parse an optimiser name (exact, lower case). HJ_EINVAL lists the valid ones. */
hj_status hj_optimizer_parse(const char *name, hj_optimizer *out, hj_error *err)
{
    if (name == NULL || out == NULL)
        return hj_error_set(err, HJ_EINVAL, "optimizer name or output is NULL");
    for (size_t k = 0; k < N_OPT_NAMES; k++) {
        if (strcmp(name, OPT_NAMES[k]) == 0) {
            *out = (hj_optimizer)k;
            return HJ_OK;
        }
    }
    return hj_error_set(err, HJ_EINVAL,
                        "unknown optimizer '%s' (valid: adam, sgd, lbfgs, adam+lbfgs)", name);
}

/* Defaults: Adam, lr 1e-3, betas 0.9/0.999, eps 1e-8, momentum 0.9,
 * 1000 iterations, full batch, 100 L-BFGS iterations after Adam, seed 0,
 * callback only at the end of each phase. n_data is left 0: set it. */
void hj_train_options_default(hj_train_options *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof *o);
    o->optimizer = HJ_OPT_ADAM;
    o->lr = 1e-3;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->adam_eps = 1e-8;
    o->momentum = 0.9;
    o->iters = 1000;
    o->epochs = 0;
    o->batch = 0;
    o->lbfgs_iters = 100;
    o->n_data = 0;
    o->seed = 0;
    o->report_every = 0;
    o->callback = NULL;
    o->callback_ctx = NULL;
    o->allreduce = NULL;
    o->allreduce_ctx = NULL;
    o->shard_begin = 0;
    o->n_total = 0;
}

size_t hj__first_order_steps(const hj_train_options *opt)
{
    if (opt->batch > 0 && opt->epochs > 0) {
        size_t per_epoch = opt->n_data / opt->batch + (opt->n_data % opt->batch != 0);
        if (per_epoch == 0 || opt->epochs > SIZE_MAX / per_epoch)
            return 0;
        return opt->epochs * per_epoch;
    }
    return opt->iters;
}

/* Check an in-[0, 1) coefficient; NaN fails. */
static hj_status check_unit(double x, const char *name, hj_error *err)
{
    if (!(x >= 0.0 && x < 1.0))
        return hj_error_set(err, HJ_EINVAL, "%s must be in [0, 1) (got %g)", name, x);
    return HJ_OK;
}

/* All options are checked whatever the optimiser, so that a value out of
 * range is reported even when the chosen optimiser would ignore it. */
hj_status hj_train_options_check(const hj_train_options *o, hj_error *err)
{
    if (o == NULL)
        return hj_error_set(err, HJ_EINVAL, "training options are NULL");
    if (o->allreduce != NULL) {
        /* sharded: the schedule runs over all n_total points */
        if (o->n_total == 0)
            return hj_error_set(err, HJ_EINVAL, "n_total must be > 0 with an allreduce (data-parallel run)");
        if (o->shard_begin > o->n_total || o->n_data > o->n_total - o->shard_begin)
            return hj_error_set(err, HJ_EINVAL, "shard [%zu, %zu) lies outside the %zu points",
                                o->shard_begin, o->shard_begin + o->n_data, o->n_total);
        hj_train_options g = *o;
        g.n_data = o->n_total;
        g.allreduce = NULL;
        return hj_train_options_check(&g, err);
    }
    if ((unsigned)o->optimizer >= N_OPT_NAMES)
        return hj_error_set(err, HJ_EINVAL,
                            "optimizer %d is not one of adam, sgd, lbfgs, adam+lbfgs",
                            (int)o->optimizer);
    if (!(o->lr > 0.0) || !isfinite(o->lr))
        return hj_error_set(err, HJ_EINVAL, "lr must be > 0 and finite (got %g)", o->lr);
    hj_status st;
    if ((st = check_unit(o->beta1, "beta1", err)) != HJ_OK)
        return st;
    if ((st = check_unit(o->beta2, "beta2", err)) != HJ_OK)
        return st;
    if (!(o->adam_eps > 0.0) || !isfinite(o->adam_eps))
        return hj_error_set(err, HJ_EINVAL, "adam_eps must be > 0 and finite (got %g)",
                            o->adam_eps);
    if ((st = check_unit(o->momentum, "momentum", err)) != HJ_OK)
        return st;
    if (o->batch > o->n_data)
        return hj_error_set(err, HJ_EINVAL, "batch %zu exceeds the %zu data points", o->batch,
                            o->n_data);

    if (o->optimizer == HJ_OPT_LBFGS) {
        if (o->iters == 0)
            return hj_error_set(err, HJ_EINVAL, "iters must be > 0 for lbfgs (got 0)");
        if (o->iters > (size_t)INT_MAX)
            return hj_error_set(err, HJ_EINVAL, "iters %zu exceeds the L-BFGS limit %d",
                                o->iters, INT_MAX);
        return HJ_OK;
    }

    /* Adam or SGD phase */
    if (!(o->batch > 0 && o->epochs > 0) && o->iters == 0)
        return hj_error_set(err, HJ_EINVAL, "iters must be > 0 (got 0)%s",
                            o->epochs > 0 ? "; epochs applies only with batch > 0"
                                          : " or set epochs > 0 with batch > 0");
    if (hj__first_order_steps(o) == 0)
        return hj_error_set(err, HJ_EINVAL,
                            "epochs %zu with batch %zu of %zu points: step count overflows",
                            o->epochs, o->batch, o->n_data);
    if (o->optimizer == HJ_OPT_ADAM_LBFGS) {
        if (o->lbfgs_iters == 0)
            return hj_error_set(err, HJ_EINVAL, "lbfgs_iters must be > 0 for adam+lbfgs (got 0)");
        if (o->lbfgs_iters > (size_t)INT_MAX)
            return hj_error_set(err, HJ_EINVAL, "lbfgs_iters %zu exceeds the L-BFGS limit %d",
                                o->lbfgs_iters, INT_MAX);
        if (hj__first_order_steps(o) > SIZE_MAX - o->lbfgs_iters)
            return hj_error_set(err, HJ_EINVAL, "total step count overflows");
    }
    return HJ_OK;
}
