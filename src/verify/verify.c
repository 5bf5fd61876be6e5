/* verify.c — driver of the self-verification suite and its small helpers. */
#include "hjdl/verify.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "verify/verify-impl.h"

hj_status vcheck(vctx *c, const char *claim, double value, double threshold,
                 const char *fmt, ...)
{
    char name[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return hj_check_add(c->checks, claim, name, value, threshold, c->err);
}

double *vnew(vctx *c, size_t n)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    if (p == NULL)
        hj_error_set(c->err, HJ_ENOMEM, "verify: cannot allocate %zu doubles", n);
    return p;
}

void vfill_uniform(vctx *c, double *v, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        v[i] = hj_rng_range(&c->rng, lo, hi);
}

void vfill_normal(vctx *c, double *v, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++)
        v[i] = scale * hj_rng_normal(&c->rng);
}

double vrel(double a, double b, double scale)
{
    double s = scale > 1e-300 ? scale : 1e-300;
    return fabs(a - b) / s;
}

hj_status hj_verify_run(const hj_verify_options *opt, hj_check_list *checks, hj_error *err)
{
    if (checks == NULL)
        return hj_error_set(err, HJ_EINVAL, "verify: NULL check list");
    vctx c;
    hj_rng_seed(&c.rng, opt ? opt->seed : 1);
    c.checks = checks;
    c.err = err;
    static const struct {
        const char *stage;
        hj_status (*run)(vctx *);
    } groups[] = {
        {"C1 LSE = Hopf-Cole", hj__verify_identity},
        {"C2 PDE residual", hj__verify_residual},
        {"C3 commutative diagram", hj__verify_diagram},
        {"C4 semigroup", hj__verify_semigroup},
        {"C5 softplus/ReLU", hj__verify_relu},
        {"C6 attention", hj__verify_attention},
    };
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        if (opt && opt->progress)
            opt->progress(groups[g].stage, opt->progress_ctx);
        hj_status st = groups[g].run(&c);
        if (st != HJ_OK) {
            hj_error_prefix(err, "verify %s: ", groups[g].stage);
            return st;
        }
    }
    return HJ_OK;
}
