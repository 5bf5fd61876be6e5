/* capi.c — helpers for foreign-language bindings: struct sizes, heap model handles, batch loops (see capi.h). */
#include "hjdl/capi.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/entropy.h"
#include "hjdl/landscape.h"
#include "hjdl/robust.h"

size_t hj_capi_sizeof(const char *type)
{
    static const struct {
        const char *name;
        size_t size;
    } table[] = {
        {"hj_error", sizeof(hj_error)},
        {"hj_lse_layer", sizeof(hj_lse_layer)},
        {"hj_atoms", sizeof(hj_atoms)},
        {"hj_hc_out", sizeof(hj_hc_out)},
        {"hj_train_options", sizeof(hj_train_options)},
        {"hj_train_progress", sizeof(hj_train_progress)},
        {"hj_train_result", sizeof(hj_train_result)},
        {"hj_explain", sizeof(hj_explain)},
        {"hj_certificate", sizeof(hj_certificate)},
        {"hj_crit_list", sizeof(hj_crit_list)},
        {"hj_landscape_options", sizeof(hj_landscape_options)},
        {"hj_fold", sizeof(hj_fold)},
        {"hj_bifurcation", sizeof(hj_bifurcation)},
        {"hj_experiment_options", sizeof(hj_experiment_options)},
        {"hj_experiment", sizeof(hj_experiment)},
        {"hj_capi_model_info", sizeof(hj_capi_model_info)},
    };
    if (type == NULL)
        return 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, type) == 0)
            return table[i].size;
    return 0;
}

void hj_capi_free(void *p) { free(p); }

/* ---- models ----------------------------------------------------------------- */

hj_status hj_capi_model_create(hj_model **out, const char *arch, size_t d_raw, size_t n_classes,
                               int output_scale, double eps, double t, uint64_t seed,
                               hj_preprocess_kind pre, size_t pca_k, const double *x_raw,
                               size_t n, hj_error *err)
{
    if (out == NULL || arch == NULL)
        return hj_error_set(err, HJ_EINVAL, "model: NULL argument");
    *out = NULL;
    if (d_raw == 0)
        return hj_error_set(err, HJ_EINVAL, "model: the input width must be >= 1");
    hj_preprocess p = {0};
    hj_status st;
    if (pre == HJ_PRE_NONE) {
        p.kind = HJ_PRE_NONE;
        p.d_raw = p.d_out = d_raw;
    } else if (pre == HJ_PRE_STANDARDIZE || pre == HJ_PRE_PCA) {
        if (x_raw == NULL || n == 0)
            return hj_error_set(err, HJ_EINVAL, "model: preprocessing needs data to be fitted on");
        if ((st = hj_preprocess_fit(&p, pre, x_raw, n, d_raw, pca_k, err)) != HJ_OK)
            return st;
    } else {
        return hj_error_set(err, HJ_EINVAL, "model: unknown preprocessing kind %d", (int)pre);
    }
    hj_arch A;
    if ((st = hj_arch_parse(arch, p.d_out, n_classes, output_scale, &A, err)) != HJ_OK) {
        hj_error_prefix(err, "arch '%s': ", arch);
        hj_preprocess_free(&p);
        return st;
    }
    hj_model *m = calloc(1, sizeof *m);
    if (m == NULL) {
        hj_preprocess_free(&p);
        return hj_error_set(err, HJ_ENOMEM, "model: out of memory");
    }
    if ((st = hj_model_init(m, &A, eps, t, seed, err)) != HJ_OK) {
        hj_preprocess_free(&p);
        free(m);
        return st;
    }
    hj_preprocess_free(&m->pre);
    m->pre = p;   /* the model owns the fitted transform from here on */
    *out = m;
    return HJ_OK;
}

hj_status hj_capi_model_load(hj_model **out, const char *path, hj_error *err)
{
    if (out == NULL || path == NULL)
        return hj_error_set(err, HJ_EINVAL, "model: NULL argument");
    *out = NULL;
    hj_model *m = calloc(1, sizeof *m);
    if (m == NULL)
        return hj_error_set(err, HJ_ENOMEM, "model: out of memory");
    hj_status st = hj_model_load(m, path, err);
    if (st != HJ_OK) {
        free(m);
        return st;
    }
    *out = m;
    return HJ_OK;
}

void hj_capi_model_delete(hj_model *m)
{
    if (m == NULL)
        return;
    hj_model_free(m);
    free(m);
}

void hj_capi_model_info_get(const hj_model *m, hj_capi_model_info *info)
{
    if (m == NULL || info == NULL)
        return;
    memset(info, 0, sizeof *info);
    info->d_raw = m->pre.d_raw;
    info->d_in = m->arch.d_in;
    info->n_out = hj_model_n_out(m);
    info->n_classes = m->arch.n_classes;
    info->n_params = m->arch.n_params;
    info->n_layers = m->arch.n_layers;
    hj_model_readout_shape(m, &info->n_atoms, &info->atom_dim);
    info->output_scale = m->arch.output_scale;
    info->pre_kind = (int)m->pre.kind;
    info->eps = m->eps;
    info->t = m->t;
}

void hj_capi_model_arch(const hj_model *m, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return;
    buf[0] = '\0';
    if (m != NULL)
        hj_arch_format(&m->arch, buf, len);
}

hj_status hj_capi_model_get_params(const hj_model *m, double *out, size_t n, hj_error *err)
{
    if (m == NULL || (n > 0 && out == NULL))
        return hj_error_set(err, HJ_EINVAL, "model parameters: NULL argument");
    if (n != m->arch.n_params)
        return hj_error_set(err, HJ_ESHAPE, "model parameters: %zu given, the model has %zu", n,
                            m->arch.n_params);
    memcpy(out, m->params, n * sizeof *out);
    return HJ_OK;
}

hj_status hj_capi_model_set_params(hj_model *m, const double *in, size_t n, hj_error *err)
{
    if (m == NULL || (n > 0 && in == NULL))
        return hj_error_set(err, HJ_EINVAL, "model parameters: NULL argument");
    if (n != m->arch.n_params)
        return hj_error_set(err, HJ_ESHAPE, "model parameters: %zu given, the model has %zu", n,
                            m->arch.n_params);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(in[i]))
            return hj_error_set(err, HJ_ENAN, "model parameters: entry %zu is not finite", i);
    memcpy(m->params, in, n * sizeof *in);
    return HJ_OK;
}

hj_status hj_capi_model_train(hj_model *m, const double *x_raw, const double *y, size_t n,
                              const hj_train_options *opt, hj_train_result *res, hj_error *err)
{
    if (m == NULL || opt == NULL || (n > 0 && (x_raw == NULL || y == NULL)))
        return hj_error_set(err, HJ_EINVAL, "train: NULL argument");
    if (n == 0)
        return hj_error_set(err, HJ_EINVAL, "train: no training points");
    if (m->pre.kind == HJ_PRE_NONE)
        return hj_model_train(m, x_raw, y, n, opt, res, err);
    double *xt = malloc(n * m->arch.d_in * sizeof *xt);
    if (xt == NULL)
        return hj_error_set(err, HJ_ENOMEM, "train: out of memory (%zu x %zu inputs)", n, m->arch.d_in);
    hj_status st = hj_preprocess_apply(&m->pre, x_raw, n, xt, err);
    if (st == HJ_OK)
        st = hj_model_train(m, xt, y, n, opt, res, err);
    free(xt);
    return st;
}

hj_status hj_capi_model_explain(const hj_model *m, const double *x_raw, size_t n, size_t K,
                                hj_explain *out, double *pi_top, size_t *idx_top, hj_error *err)
{
    if (m == NULL || (n > 0 && (x_raw == NULL || out == NULL)) ||
        (n > 0 && K > 0 && (pi_top == NULL || idx_top == NULL)))
        return hj_error_set(err, HJ_EINVAL, "explain: NULL argument");
    size_t n_atoms;
    hj_model_readout_shape(m, &n_atoms, NULL);
    const size_t W = m->arch.n_classes ? n_atoms / m->arch.n_classes : n_atoms;
    if (K > W)
        return hj_error_set(err, HJ_EINVAL, "explain: top %zu exceeds the %zu neurons of the readout%s",
                            K, W, m->arch.n_classes ? " (per class)" : "");
    if (n == 0)
        return HJ_OK;
    size_t chunk = ((size_t)1 << 16) / W;
    chunk = chunk > 0 ? chunk : 1;
    chunk = chunk < n ? chunk : n;
    hj_workspace *ws = NULL;
    double *xt = malloc(chunk * m->arch.d_in * sizeof *xt);
    double *pall = malloc(chunk * W * sizeof *pall);
    size_t *iall = malloc(chunk * W * sizeof *iall);
    double *pt = malloc((K + 1) * sizeof *pt);
    size_t *it = malloc((K + 1) * sizeof *it);
    hj_status st = HJ_OK;
    if (!xt || !pall || !iall || !pt || !it) {
        st = hj_error_set(err, HJ_ENOMEM, "explain: out of memory");
        goto done;
    }
    if ((st = hj_workspace_alloc(&ws, m, chunk, err)) != HJ_OK)
        goto done;
    for (size_t start = 0; start < n && st == HJ_OK; start += chunk) {
        const size_t len = n - start < chunk ? n - start : chunk;
        if ((st = hj_preprocess_apply(&m->pre, x_raw + start * m->pre.d_raw, len, xt, err)) != HJ_OK ||
            (st = hj_model_attribution(m, ws, xt, len, W, pall, iall, err)) != HJ_OK)
            break;
        for (size_t i = 0; i < len; i++) {
            if ((st = hj_explain_pi(pall + i * W, W, K, out + start + i, pt, it, err)) != HJ_OK)
                break;
            for (size_t k = 0; k < K; k++) {   /* positions in the sorted list -> neuron indices */
                pi_top[(start + i) * K + k] = pt[k];
                idx_top[(start + i) * K + k] = iall[i * W + it[k]];
            }
        }
    }
done:
    hj_workspace_free(ws);
    free(xt), free(pall), free(iall), free(pt), free(it);
    return st;
}

/* ---- batches ------------------------------------------------------------------ */

hj_status hj_capi_entropy_grad(const hj_lse_layer *L, const double *x, size_t n, double *H,
                               double *grad, hj_error *err)
{
    if (L == NULL || (n > 0 && (x == NULL || H == NULL)))
        return hj_error_set(err, HJ_EINVAL, "entropy: NULL argument");
    for (size_t i = 0; i < n; i++) {
        hj_status st = hj_entropy_eval(L, x + i * L->d, H + i, grad ? grad + i * L->d : NULL, NULL, err);
        if (st != HJ_OK) {
            hj_error_prefix(err, "point %zu: ", i);
            return st;
        }
    }
    return HJ_OK;
}

/* ---- experiments -------------------------------------------------------------- */

hj_status hj_capi_experiment_run(const char *name, const hj_experiment_options *opt,
                                 hj_error *err)
{
    if (name == NULL || opt == NULL)
        return hj_error_set(err, HJ_EINVAL, "experiment: NULL argument");
    const hj_experiment *e = hj_experiment_find(name);
    if (e == NULL) {
        char known[400] = "";
        size_t used = 0;
        for (size_t i = 0; i < hj_experiment_count() && used + 1 < sizeof known; i++) {
            const char *nm = hj_experiment_at(i)->name;
            size_t k = strlen(nm) + (i ? 2 : 0);
            if (used + k + 1 >= sizeof known)
                break;
            memcpy(known + used, i ? ", " : "", i ? 2 : 0);
            memcpy(known + used + (i ? 2 : 0), nm, strlen(nm) + 1);
            used += k;
        }
        return hj_error_set(err, HJ_EINVAL, "unknown experiment '%s' (known: %s)", name, known);
    }
    hj_result res;
    memset(&res, 0, sizeof res);   /* hj_experiment_run may fail before initialising it */
    hj_status st = hj_experiment_run(e, opt, &res, err);
    hj_result_free(&res);
    return st;
}
