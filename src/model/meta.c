/* meta.c — what a model keeps from its training data: feature and target names, class labels,
 * target scaling and the eps curve (ownership: copy and free). */
#include <stdlib.h>
#include <string.h>

#include "model/model-impl.h"

void hj__strings_free(char **s, size_t n)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

char **hj__strings_dup(const char *const *s, size_t n)
{
    if (s == NULL || n == 0)
        return NULL;
    char **d = calloc(n, sizeof *d);
    if (d == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(s[i]);
        if ((d[i] = malloc(len + 1)) == NULL) {
            hj__strings_free(d, i);
            return NULL;
        }
        memcpy(d[i], s[i], len + 1);
    }
    return d;
}

void hj__model_meta_free(hj_model *m)
{
    hj__strings_free(m->feature_names, m->pre.d_raw);
    hj__strings_free(m->class_labels, m->arch.n_classes);
    free(m->target_name);
    free(m->eps_grid);
    free(m->eps_val_loss);
    m->feature_names = m->class_labels = NULL;
    m->target_name = NULL;
    m->eps_grid = m->eps_val_loss = NULL;
    m->n_eps_curve = 0;
}

hj_status hj__model_set_eps_curve(hj_model *m, const double *grid, const double *val, size_t n,
                                  hj_error *err)
{
    free(m->eps_grid);
    free(m->eps_val_loss);
    m->eps_grid = m->eps_val_loss = NULL;
    m->n_eps_curve = 0;
    if (n == 0)
        return HJ_OK;
    m->eps_grid = malloc(n * sizeof *m->eps_grid);
    m->eps_val_loss = malloc(n * sizeof *m->eps_val_loss);
    if (m->eps_grid == NULL || m->eps_val_loss == NULL) {
        free(m->eps_grid), free(m->eps_val_loss);
        m->eps_grid = m->eps_val_loss = NULL;
        return hj_error_set(err, HJ_ENOMEM, "model: out of memory");
    }
    memcpy(m->eps_grid, grid, n * sizeof *grid);
    memcpy(m->eps_val_loss, val, n * sizeof *val);
    m->n_eps_curve = n;
    return HJ_OK;
}

hj_status hj__model_meta_copy(hj_model *dst, const hj_model *src, hj_error *err)
{
    dst->y_shift = src->y_shift, dst->y_scale = src->y_scale;
    hj_status st = hj_model_set_names(dst, (const char *const *)src->feature_names, src->target_name,
                                      (const char *const *)src->class_labels, err);
    if (st == HJ_OK)
        st = hj__model_set_eps_curve(dst, src->eps_grid, src->eps_val_loss, src->n_eps_curve, err);
    return st;
}

hj_status hj_model_set_names(hj_model *m, const char *const *features, const char *target,
                             const char *const *labels, hj_error *err)
{
    if (m == NULL)
        return hj_error_set(err, HJ_EINVAL, "model: NULL model");
    char **f = NULL, **l = NULL, *t = NULL;
    if (features && (f = hj__strings_dup(features, m->pre.d_raw)) == NULL)
        goto oom;
    if (labels && m->arch.n_classes && (l = hj__strings_dup(labels, m->arch.n_classes)) == NULL)
        goto oom;
    if (target) {
        size_t len = strlen(target);
        if ((t = malloc(len + 1)) == NULL)
            goto oom;
        memcpy(t, target, len + 1);
    }
    if (features) {
        hj__strings_free(m->feature_names, m->pre.d_raw);
        m->feature_names = f;
    }
    if (labels && m->arch.n_classes) {
        hj__strings_free(m->class_labels, m->arch.n_classes);
        m->class_labels = l;
    }
    if (target) {
        free(m->target_name);
        m->target_name = t;
    }
    return HJ_OK;
oom:
    hj__strings_free(f, m->pre.d_raw);
    hj__strings_free(l, m->arch.n_classes);
    return hj_error_set(err, HJ_ENOMEM, "model: out of memory");
}
