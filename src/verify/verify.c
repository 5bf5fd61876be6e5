/* verify.c — driver of the self-verification suite: runs the check groups in order. */
#include "hjdl/verify.h"

#include <stdlib.h>

#include "verify/verify-impl.h"

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
