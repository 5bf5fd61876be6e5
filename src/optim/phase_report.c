/* phase_report.c — what every optimizer phase shares: progress reports at the
 * requested cadence and the messages for a failing or non-finite objective. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "optim/optim-impl.h"

const char *hj__nonfinite_name(double x)
{
    if (isnan(x))
        return "NaN";
    if (isinf(x))
        return x > 0 ? "+inf" : "-inf";
    return "finite";
}

hj_status hj__objective_error(hj_error *err, hj_status st, const hj_error *e, const char *fmt,
                              ...)
{
    if (err == NULL)
        return st;
    if (e != NULL && e->msg[0] != '\0')
        *err = *e;
    else
        hj_error_set(err, st, "objective failed: %s", hj_status_string(st));
    err->code = st;
    char head[HJ_ERROR_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    hj_error_prefix(err, "%s", head);
    return st;
}

int hj__report(const hj__optrun *run, const char *phase, size_t step, size_t total,
               size_t epoch, double loss)
{
    if (run->opt->callback == NULL)
        return 0;
    hj_train_progress p;
    p.phase = phase;
    p.step = step;
    p.total = total;
    p.epoch = epoch;
    p.loss = loss;
    return run->opt->callback(&p, run->opt->callback_ctx) != 0;
}

int hj__report_due(const hj__optrun *run, size_t step)
{
    const size_t every = run->opt->report_every;
    return every > 0 && step % every == 0;
}
