/* capi_layout.c — what a binding reads of a model beyond its info: the layout of each layer's
 * parameters, the stored names and target scaling, and a model parsed from .hjm text (see
 * capi.h). */
#include <stdlib.h>

#include "hjdl/capi.h"

hj_status hj_capi_model_layer(const hj_model *m, size_t k, size_t out[6], hj_error *err)
{
    if (m == NULL || out == NULL)
        return hj_error_set(err, HJ_EINVAL, "layer: NULL argument");
    if (k >= m->arch.n_layers)
        return hj_error_set(err, HJ_ERANGE, "layer %zu: the model has %zu layers", k, m->arch.n_layers);
    const hj_layer *L = &m->arch.layers[k];
    out[0] = (size_t)L->kind, out[1] = L->width, out[2] = L->in, out[3] = L->out;
    out[4] = L->offset, out[5] = L->count;
    return HJ_OK;
}

const char *hj_capi_model_name(const hj_model *m, int which, size_t k)
{
    if (m == NULL)
        return NULL;
    switch (which) {
    case 0:
        return m->feature_names && k < m->pre.d_raw ? m->feature_names[k] : NULL;
    case 1:
        return m->target_name;
    case 2:
        return m->class_labels && k < m->arch.n_classes ? m->class_labels[k] : NULL;
    default:
        return NULL;
    }
}

void hj_capi_model_target_scaling(const hj_model *m, double *shift, double *scale)
{
    if (m == NULL)
        return;
    if (shift)
        *shift = m->y_shift;
    if (scale)
        *scale = m->y_scale;
}

hj_status hj_capi_model_parse(hj_model **out, const char *text, size_t len, const char *name,
                              hj_error *err)
{
    if (out == NULL || (text == NULL && len > 0))
        return hj_error_set(err, HJ_EINVAL, "model: NULL argument");
    *out = NULL;
    hj_model *m = calloc(1, sizeof *m);
    if (m == NULL)
        return hj_error_set(err, HJ_ENOMEM, "model: out of memory");
    hj_status st = hj_model_parse(m, text ? text : "", len, name ? name : "(buffer)", err);
    if (st != HJ_OK) {
        free(m);
        return st;
    }
    *out = m;
    return HJ_OK;
}
