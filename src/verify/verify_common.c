/* verify_common.c — the helpers every check group of the verification
 * suite uses: record a check, allocate, draw test data, relative error. */
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
