/* init.c — a model's allocation and seeded initial parameters, layer by layer (apart from
 * arch.c so that the model-file parser and its fuzz harness need no layer code). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/model.h"
#include "hjdl/rng.h"
#include "model/layers.h"
#include "model/model-impl.h"

hj_status hj_model_init(hj_model *m, const hj_arch *arch, double eps, double t, uint64_t seed,
                        hj_error *err)
{
    if (m == NULL || arch == NULL)
        return hj_error_set(err, HJ_EINVAL, "model: NULL argument");
    memset(m, 0, sizeof *m);
    if (!(eps >= 0.0) || !isfinite(eps))
        return hj_error_set(err, HJ_EINVAL, "model: eps must be a finite number >= 0 (got %g)", eps);
    if (!(t > 0.0) || !isfinite(t))
        return hj_error_set(err, HJ_EINVAL, "model: t must be a finite number > 0 (got %g)", t);
    if (arch->n_layers == 0 || arch->n_params == 0)
        return hj_error_set(err, HJ_EINVAL, "model: empty architecture");
    m->params = calloc(arch->n_params, sizeof *m->params);
    if (m->params == NULL)
        return hj_error_set(err, HJ_ENOMEM, "model: cannot allocate %zu parameters", arch->n_params);
    m->arch = *arch;
    m->eps = eps;
    m->t = t;
    m->pre.kind = HJ_PRE_NONE;
    m->pre.d_raw = m->pre.d_out = arch->d_in;
    m->y_shift = 0.0, m->y_scale = 1.0;
    hj_rng rng;
    hj_rng_seed(&rng, seed);
    for (size_t l = 0; l < arch->n_layers; l++) {
        const hj_layer *L = &arch->layers[l];
        double *p = m->params + L->offset;
        if (hj_layer_is_sequence(L->kind)) {
            hj__sequence_layer_init(L, p, &rng);
            continue;
        }
        if (hj_layer_is_pool(L->kind))
            continue;
        double sd = 1.0 / sqrt((double)L->in);
        size_t nw; /* number of leading weights drawn N(0, 1/in) */
        switch (L->kind) {
        case HJ_LAYER_DENSE:
        case HJ_LAYER_RESNET:
        case HJ_LAYER_LSE:
            nw = L->width * L->in;
            break;
        case HJ_LAYER_LSE_CLASS:
            nw = L->out * L->width * L->in;
            break;
        case HJ_LAYER_GIBBS:
        default:
            nw = L->width * L->in;
            break;
        }
        for (size_t k = 0; k < nw; k++)
            p[k] = sd * hj_rng_normal(&rng);
        if (L->kind == HJ_LAYER_GIBBS) /* values V (M, in) after K and beta */
            for (size_t k = 0; k < L->width * L->in; k++)
                p[nw + L->width + k] = sd * hj_rng_normal(&rng);
    }
    if (arch->output_scale)
        m->params[arch->n_params - 2] = 1.0; /* a = 1, c = 0 */
    return HJ_OK;
}
