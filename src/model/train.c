/* train.c — the model's loss as an optimiser objective (mini-batches, chunked full batches), and prediction. */
#include <stdlib.h>
#include <string.h>

#include "hjdl/model.h"

/* Points per chunk of a full-batch evaluation (bounds workspace memory). */
#define HJ_TRAIN_CHUNK 8192

typedef struct objective_ctx {
    hj_model *m;
    const double *x;   /* (n, d_in) */
    const double *y;   /* (n) */
    size_t n;
    hj_workspace *ws;
    size_t capacity;
    double *xb, *yb;   /* gathered mini-batch (capacity, d_in), (capacity) */
    double *gtmp;      /* (n_params) per-chunk gradient */
} objective_ctx;

static hj_status objective(void *vctx, const double *params, const size_t *idx, size_t n_idx,
                           double *loss, double *grad, hj_error *err)
{
    objective_ctx *c = vctx;
    hj_model *m = c->m;
    const size_t d = m->arch.d_in, P = m->arch.n_params;
    double *saved = m->params;
    m->params = (double *)params; /* evaluate at the optimiser's point */
    hj_status st = HJ_OK;
    if (idx != NULL && n_idx <= c->capacity) {
        for (size_t k = 0; k < n_idx; k++) {
            memcpy(c->xb + k * d, c->x + idx[k] * d, d * sizeof *c->xb);
            c->yb[k] = c->y[idx[k]];
        }
        st = hj_model_loss_grad(m, c->ws, c->xb, c->yb, n_idx, loss, grad, err);
    } else {
        /* chunked: sum of chunk means weighted by chunk sizes */
        size_t total = idx ? n_idx : c->n;
        double acc = 0.0;
        if (grad)
            memset(grad, 0, P * sizeof *grad);
        for (size_t start = 0; start < total && st == HJ_OK; start += c->capacity) {
            size_t len = total - start < c->capacity ? total - start : c->capacity;
            const double *xs = c->x + start * d, *ys = c->y + start;
            if (idx) {
                for (size_t k = 0; k < len; k++) {
                    memcpy(c->xb + k * d, c->x + idx[start + k] * d, d * sizeof *c->xb);
                    c->yb[k] = c->y[idx[start + k]];
                }
                xs = c->xb, ys = c->yb;
            }
            double l;
            st = hj_model_loss_grad(m, c->ws, xs, ys, len, &l, grad ? c->gtmp : NULL, err);
            if (st != HJ_OK)
                break;
            double wgt = (double)len / (double)total;
            acc += wgt * l;
            if (grad)
                for (size_t k = 0; k < P; k++)
                    grad[k] += wgt * c->gtmp[k];
        }
        *loss = acc;
    }
    m->params = saved;
    return st;
}

hj_status hj_model_train(hj_model *m, const double *x, const double *y, size_t n,
                         const hj_train_options *opt, hj_train_result *res, hj_error *err)
{
    /* data-parallel (opt->allreduce): x, y are this process's shard, which may be empty */
    const int sharded = opt != NULL && opt->allreduce != NULL;
    if (m == NULL || opt == NULL || (n > 0 && (x == NULL || y == NULL)) ||
        (!sharded && (x == NULL || y == NULL)))
        return hj_error_set(err, HJ_EINVAL, "train: NULL argument");
    if (n == 0 && !sharded)
        return hj_error_set(err, HJ_EINVAL, "train: no training data");
    hj_train_options o = *opt;
    o.n_data = n;
    hj_status st = hj_train_options_check(&o, err);
    if (st != HJ_OK)
        return st;
    objective_ctx c = {0};
    c.m = m, c.x = x, c.y = y, c.n = n;
    c.capacity = n < HJ_TRAIN_CHUNK ? (n ? n : 1) : HJ_TRAIN_CHUNK;
    if (o.batch > c.capacity)
        c.capacity = o.batch;
    const size_t d = m->arch.d_in, P = m->arch.n_params;
    c.xb = malloc(c.capacity * d * sizeof *c.xb);
    c.yb = malloc(c.capacity * sizeof *c.yb);
    c.gtmp = malloc(P * sizeof *c.gtmp);
    if (c.xb == NULL || c.yb == NULL || c.gtmp == NULL) {
        st = hj_error_set(err, HJ_ENOMEM, "train: out of memory");
        goto done;
    }
    if ((st = hj_workspace_alloc(&c.ws, m, c.capacity, err)) != HJ_OK)
        goto done;
    hj_train_result local = {0};
    st = hj_optimize(objective, &c, m->params, P, &o, res ? res : &local, err);
    if (!res)
        free(local.loss_trace);
done:
    hj_workspace_free(c.ws);
    free(c.xb), free(c.yb), free(c.gtmp);
    return st;
}

hj_status hj_model_predict(const hj_model *m, const double *x_raw, size_t n, double *out,
                           hj_error *err)
{
    if (m == NULL || (n > 0 && (x_raw == NULL || out == NULL)))
        return hj_error_set(err, HJ_EINVAL, "predict: NULL argument");
    const size_t chunk = n < 4096 ? (n ? n : 1) : 4096, d_raw = m->pre.d_raw, d = m->arch.d_in;
    hj_workspace *ws = NULL;
    double *xt = NULL;
    hj_status st = hj_workspace_alloc(&ws, m, chunk, err);
    if (st != HJ_OK)
        return st;
    if (m->pre.kind != HJ_PRE_NONE && (xt = malloc(chunk * d * sizeof *xt)) == NULL) {
        hj_workspace_free(ws);
        return hj_error_set(err, HJ_ENOMEM, "predict: out of memory");
    }
    const size_t nout = hj_model_n_out(m);
    for (size_t start = 0; start < n && st == HJ_OK; start += chunk) {
        size_t len = n - start < chunk ? n - start : chunk;
        const double *xs = x_raw + start * d_raw;
        if (xt) {
            st = hj_preprocess_apply(&m->pre, xs, len, xt, err);
            xs = xt;
        }
        if (st == HJ_OK)
            st = hj_model_forward(m, ws, xs, len, out + start * nout, err);
    }
    free(xt);
    hj_workspace_free(ws);
    return st;
}
