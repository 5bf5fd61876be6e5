/* verify-impl.h — shared context and helpers of the verification suite (not installed). */
#ifndef HJDL_VERIFY_IMPL_H
#define HJDL_VERIFY_IMPL_H

#include <stddef.h>

#include "hjdl/check.h"
#include "hjdl/hopf.h"
#include "hjdl/rng.h"
#include "hjdl/status.h"
#include "hjdl/verify.h"

typedef struct vctx {
    hj_rng rng;
    hj_check_list *checks;
    hj_error *err;
} vctx;

/* Bail out of a check function on a non-OK status (frees nothing: callers
 * use a single cleanup label `done`). */
#define VTRY(expr)                         \
    do {                                   \
        if ((st = (expr)) != HJ_OK)        \
            goto done;                     \
    } while (0)

/* Append a check, value <= threshold. */
hj_status vcheck(vctx *c, const char *claim, double value, double threshold,
                 const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* calloc of n doubles, or NULL with HJ_ENOMEM recorded. */
double *vnew(vctx *c, size_t n);
/* Fill v (n) with uniform draws on [lo, hi) / standard normal draws. */
void vfill_uniform(vctx *c, double *v, size_t n, double lo, double hi);
void vfill_normal(vctx *c, double *v, size_t n, double scale);
/* |a - b| / max(scale, tiny). */
double vrel(double a, double b, double scale);

/* The check groups, one per SPEC claim (or pair). */
hj_status hj__verify_identity(vctx *c);   /* C1 */
hj_status hj__verify_residual(vctx *c);   /* C2 */
hj_status hj__verify_diagram(vctx *c);    /* C3 */
hj_status hj__verify_semigroup(vctx *c);  /* C4 */
hj_status hj__verify_relu(vctx *c);       /* C5 */
hj_status hj__verify_attention(vctx *c);  /* C6 */

#endif /* HJDL_VERIFY_IMPL_H */
