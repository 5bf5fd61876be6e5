/* capi_fit.c — `hjdl fit`'s training on raw inputs for bindings: regularisation, a validation
 * split, eps auto and target scaling (see capi.h, hj_capi_model_fit). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/capi.h"

/* Mean and sample sd (1 when constant or n < 2) of the n1 + n2 values a, b. */
static void target_moments(const double *a, size_t n1, const double *b, size_t n2, double *mu,
                           double *sd)
{
    const size_t n = n1 + n2;
    double s = 0.0, v = 0.0;
    for (size_t i = 0; i < n; i++)
        s += i < n1 ? a[i] : b[i - n1];
    s /= (double)n;
    for (size_t i = 0; i < n; i++) {
        const double e = (i < n1 ? a[i] : b[i - n1]) - s;
        v += e * e;
    }
    double d = n > 1 ? sqrt(v / (double)(n - 1)) : 0.0;
    *mu = s;
    *sd = d > 0.0 && isfinite(d) ? d : 1.0;
}

/* out (n, d_in) = the model's preprocessing of x_raw (n, d_raw), or x_raw itself. */
static hj_status inputs(const hj_model *m, const double *x_raw, size_t n, double **buf,
                        const double **out, hj_error *err)
{
    *buf = NULL;
    *out = x_raw;
    if (m->pre.kind == HJ_PRE_NONE || n == 0)
        return HJ_OK;
    if ((*buf = malloc(n * m->arch.d_in * sizeof **buf)) == NULL)
        return hj_error_set(err, HJ_ENOMEM, "fit: out of memory (%zu x %zu inputs)", n, m->arch.d_in);
    *out = *buf;
    return hj_preprocess_apply(&m->pre, x_raw, n, *buf, err);
}

/* (y_i - mu) / sd into a new array (n), or y itself when not scaling. */
static hj_status scaled(const double *y, size_t n, int scale, double mu, double sd, double **buf,
                        const double **out, hj_error *err)
{
    *buf = NULL;
    *out = y;
    if (!scale || n == 0)
        return HJ_OK;
    if ((*buf = malloc(n * sizeof **buf)) == NULL)
        return hj_error_set(err, HJ_ENOMEM, "fit: out of memory");
    for (size_t i = 0; i < n; i++)
        (*buf)[i] = (y[i] - mu) / sd;
    *out = *buf;
    return HJ_OK;
}

hj_status hj_capi_model_fit(hj_model *m, const double *x_raw, const double *y, size_t n,
                            const double *x_val_raw, const double *y_val, size_t n_val,
                            const hj_train_options *opt, double weight_decay, size_t val_every,
                            size_t patience, const double *eps_grid, size_t n_grid,
                            int scale_target, hj_train_result *res, double *val_loss,
                            size_t *best_step, hj_error *err)
{
    if (m == NULL || opt == NULL || (n > 0 && (x_raw == NULL || y == NULL)) ||
        (n_val > 0 && (x_val_raw == NULL || y_val == NULL)) || (n_grid > 0 && eps_grid == NULL))
        return hj_error_set(err, HJ_EINVAL, "fit: NULL argument");
    if (n == 0)
        return hj_error_set(err, HJ_EINVAL, "fit: no training points");
    if (n_grid > 0 && n_val == 0)
        return hj_error_set(err, HJ_EINVAL, "fit: eps auto needs a validation split");
    const int scale = scale_target && m->arch.n_classes == 0;
    double mu = 0.0, sd = 1.0;
    if (scale)
        target_moments(y, n, y_val, n_val, &mu, &sd);
    double *bx = NULL, *bxv = NULL, *by = NULL, *byv = NULL;
    const double *x, *xv, *ys, *yvs;
    hj_status st = inputs(m, x_raw, n, &bx, &x, err);
    if (st == HJ_OK)
        st = inputs(m, x_val_raw, n_val, &bxv, &xv, err);
    if (st == HJ_OK)
        st = scaled(y, n, scale, mu, sd, &by, &ys, err);
    if (st == HJ_OK)
        st = scaled(y_val, n_val, scale, mu, sd, &byv, &yvs, err);
    if (st == HJ_OK) {
        hj_fit_options fo;
        hj_fit_options_default(&fo);
        fo.weight_decay = weight_decay, fo.val_every = val_every, fo.patience = patience;
        fo.x_val = xv, fo.y_val = yvs, fo.n_val = n_val;
        if (scale)
            m->y_shift = mu, m->y_scale = sd;
        if (n_grid > 0) {
            st = hj_model_fit_eps_auto(m, opt->seed, eps_grid, n_grid, x, ys, n, opt, &fo, res, err);
            if (best_step)
                *best_step = res ? res->steps : 0;
            if (val_loss)   /* the validation loss of the eps chosen */
                for (size_t k = 0; k < m->n_eps_curve; k++)
                    if (m->eps_grid[k] == m->eps)
                        *val_loss = m->eps_val_loss[k];
        } else {
            st = hj_model_fit(m, x, ys, n, opt, &fo, res, val_loss, best_step, err);
        }
    }
    free(bx), free(bxv), free(by), free(byv);
    return st;
}
