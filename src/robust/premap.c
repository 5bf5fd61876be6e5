/* premap.c — how the stored input preprocessing maps gradients and norms back to the raw input space. */
#include <string.h>

#include "robust/robust-impl.h"

void hj__robust_grad_to_raw(const hj_preprocess *p, const double *g, double *graw)
{
    const size_t k = p->d_out, d = p->d_raw;
    switch (p->kind) {
    case HJ_PRE_NONE:
        memcpy(graw, g, d * sizeof *graw);
        return;
    case HJ_PRE_STANDARDIZE:
        for (size_t j = 0; j < d; j++)
            graw[j] = g[j] / p->scale[j];
        return;
    case HJ_PRE_PCA:
        memset(graw, 0, d * sizeof *graw);
        for (size_t c = 0; c < k; c++) {
            const double a = g[c] / p->scale[c], *row = p->components + c * d;
            for (size_t j = 0; j < d; j++)
                graw[j] += a * row[j];
        }
        return;
    }
}

void hj__robust_pre_scale(const hj_preprocess *p, double *s)
{
    for (size_t c = 0; c < p->d_out; c++)
        s[c] = p->kind == HJ_PRE_NONE ? 1.0 : p->scale[c];
}
