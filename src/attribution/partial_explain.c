/* partial_explain.c — explain summaries (entropy, n_eff, regime) from the
 * merged partial states of core/partial.c: the streamed and sharded form of
 * hj_explain_atoms. */
#include "hjdl/influence.h"

#include <math.h>

#include "hjdl/partial.h"

hj_status hj_partial_explain(const double *P, size_t n, size_t dv, double eps, size_t N_total,
                             hj_explain *out, hj_error *err)
{
    static const char *W = "partial explain";
    if (n > 0 && out == NULL)
        return hj_error_set(err, HJ_EINVAL, "%s: NULL output", W);
    hj_status st = hj_partial_entropy(P, n, dv, eps, N_total, NULL, W, err);
    if (st != HJ_OK)
        return st;
    const size_t width = HJ_PARTIAL_HEAD + dv;
    for (size_t i = 0; i < n; i++) {
        double H;
        if ((st = hj_partial_entropy(P + i * width, 1, dv, eps, N_total, &H, W, err)) != HJ_OK)
            return st;
        out[i].entropy = H;
        out[i].n_eff = fmin(fmax(exp(H), 1.0), (double)N_total);
        out[i].regime = hj_regime_classify(H, N_total);
    }
    return HJ_OK;
}
