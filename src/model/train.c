/* train.c — the model's loss as an optimiser objective (mini-batches, chunked full batches), and prediction. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/model.h"
#include "model/layers.h"
#include "model/model-impl.h"

/* Points per chunk of a full-batch evaluation (bounds workspace memory). */
#define HJ_TRAIN_CHUNK 8192

typedef struct objective_ctx {
    const hj_model *m;   /* architecture and eps; evaluated at the optimiser's point */
    const double *x;   /* (n, d_in) */
    const double *y;   /* (n) */
    size_t n;
    hj_workspace *ws;
    size_t capacity;
    double *xb, *yb;   /* gathered mini-batch (capacity, d_in), (capacity) */
    double *gtmp;      /* (n_params) per-chunk gradient */
    double wd;         /* weight decay lambda: + (lambda/2) |W|^2 */
} objective_ctx;

/* (lambda/2) |W|^2 added to *loss and lambda W to grad (may be NULL). */
static void add_weight_decay(const hj_arch *a, const double *params, double lambda, double *loss,
                             double *grad)
{
    double s = 0.0;
    for (size_t l = 0; l < a->n_layers; l++) {
        size_t b[HJ_MAX_WEIGHT_RANGES], e[HJ_MAX_WEIGHT_RANGES];
        size_t nr = hj__layer_weight_ranges(&a->layers[l], b, e);
        for (size_t r = 0; r < nr; r++)
            for (size_t k = b[r]; k < e[r]; k++) {
                s += params[k] * params[k];
                if (grad)
                    grad[k] += lambda * params[k];
            }
    }
    *loss += 0.5 * lambda * s;
}

double hj_model_weight_norm2(const hj_model *m)
{
    double loss = 0.0;
    add_weight_decay(&m->arch, m->params, 2.0, &loss, NULL);
    return loss;
}

void hj_fit_options_default(hj_fit_options *fo)
{
    memset(fo, 0, sizeof *fo);
}

static hj_status objective(void *vctx, const double *params, const size_t *idx, size_t n_idx,
                           double *loss, double *grad, hj_error *err)
{
    objective_ctx *c = vctx;
    const hj_model *m = c->m;
    const size_t d = m->arch.d_in, P = m->arch.n_params;
    hj_status st = HJ_OK;
    if (idx != NULL && n_idx <= c->capacity) {
        for (size_t k = 0; k < n_idx; k++) {
            memcpy(c->xb + k * d, c->x + idx[k] * d, d * sizeof *c->xb);
            c->yb[k] = c->y[idx[k]];
        }
        st = hj_model_loss_grad(m, params, c->ws, c->xb, c->yb, n_idx, loss, grad, err);
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
            st = hj_model_loss_grad(m, params, c->ws, xs, ys, len, &l, grad ? c->gtmp : NULL, err);
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
    if (st == HJ_OK && c->wd > 0.0)
        add_weight_decay(&m->arch, params, c->wd, loss, grad);
    return st;
}

static hj_status train_impl(hj_model *m, const double *x, const double *y, size_t n,
                            const hj_train_options *opt, double wd, hj_train_result *res,
                            hj_error *err)
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
    c.m = m, c.x = x, c.y = y, c.n = n, c.wd = wd;
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

hj_status hj_model_train(hj_model *m, const double *x, const double *y, size_t n,
                         const hj_train_options *opt, hj_train_result *res, hj_error *err)
{
    return train_impl(m, x, y, n, opt, 0.0, res, err);
}

/* Mean loss of m over (x, y, n), chunk by chunk (no penalty). */
static hj_status mean_loss(const hj_model *m, hj_workspace *ws, size_t cap, const double *x,
                           const double *y, size_t n, double *loss, hj_error *err)
{
    double acc = 0.0;
    const size_t d = m->arch.d_in;
    for (size_t start = 0; start < n; start += cap) {
        size_t len = n - start < cap ? n - start : cap;
        double l;
        hj_status st = hj_model_loss_grad(m, m->params, ws, x + start * d, y + start, len, &l,
                                          NULL, err);
        if (st != HJ_OK)
            return st;
        acc += l * (double)len / (double)n;
    }
    *loss = acc;
    return HJ_OK;
}

/* Validation watcher, wrapped around the caller's progress callback. */
typedef struct val_ctx {
    const hj_train_options *user;
    const hj_fit_options *fo;
    hj_model *m;          /* its params are the optimiser's current point */
    hj_workspace *ws;
    size_t cap;
    double *best;         /* (n_params) best parameters so far */
    double best_loss;
    size_t best_step, steps_before, since;
    hj_status st;
    hj_error err;
} val_ctx;

static int val_callback(const hj_train_progress *p, void *vctx)
{
    val_ctx *v = vctx;
    int stop = 0;
    if (v->user->callback)
        stop = v->user->callback(p, v->user->callback_ctx);
    double l;
    v->st = mean_loss(v->m, v->ws, v->cap, v->fo->x_val, v->fo->y_val, v->fo->n_val, &l, &v->err);
    if (v->st != HJ_OK)
        return 1;
    size_t step = v->steps_before + p->step;
    if (isfinite(l) && !(l >= v->best_loss)) {
        v->best_loss = l, v->best_step = step, v->since = 0;
        memcpy(v->best, v->m->params, v->m->arch.n_params * sizeof *v->best);
    } else if (v->fo->patience && ++v->since >= v->fo->patience) {
        stop = 1;
    }
    if (strcmp(p->phase, "lbfgs") != 0 && p->step == p->total)
        v->steps_before += p->total;
    return stop;
}

hj_status hj_model_fit(hj_model *m, const double *x, const double *y, size_t n,
                       const hj_train_options *opt, const hj_fit_options *fo,
                       hj_train_result *res, double *val_loss, size_t *best_step, hj_error *err)
{
    if (val_loss)
        *val_loss = NAN;
    if (fo == NULL || (fo->weight_decay == 0.0 && fo->n_val == 0)) {
        hj_train_result local = {0};
        hj_status st = hj_model_train(m, x, y, n, opt, res ? res : &local, err);
        if (best_step)
            *best_step = res ? res->steps : local.steps;
        if (!res)
            free(local.loss_trace);
        return st;
    }
    if (m == NULL || opt == NULL)
        return hj_error_set(err, HJ_EINVAL, "fit: NULL argument");
    if (!(fo->weight_decay >= 0.0) || !isfinite(fo->weight_decay))
        return hj_error_set(err, HJ_EINVAL, "fit: weight decay must be a finite number >= 0 (got %g)",
                            fo->weight_decay);
    if (fo->n_val == 0) {
        hj_train_result local = {0};
        hj_status st = train_impl(m, x, y, n, opt, fo->weight_decay, res ? res : &local, err);
        if (best_step)
            *best_step = res ? res->steps : local.steps;
        if (!res)
            free(local.loss_trace);
        return st;
    }
    if (fo->x_val == NULL || fo->y_val == NULL)
        return hj_error_set(err, HJ_EINVAL, "fit: NULL validation data");
    if (opt->allreduce != NULL)
        return hj_error_set(err, HJ_EINVAL, "fit: a validation split is not supported in data-parallel runs");
    val_ctx v = {0};
    v.user = opt, v.fo = fo, v.m = m, v.best_loss = INFINITY;
    v.cap = fo->n_val < HJ_TRAIN_CHUNK ? fo->n_val : HJ_TRAIN_CHUNK;
    v.best = malloc(m->arch.n_params * sizeof *v.best);
    if (v.best == NULL)
        return hj_error_set(err, HJ_ENOMEM, "fit: out of memory");
    hj_status st = hj_workspace_alloc(&v.ws, m, v.cap, err);
    if (st != HJ_OK) {
        free(v.best);
        return st;
    }
    memcpy(v.best, m->params, m->arch.n_params * sizeof *v.best);
    hj_train_options o = *opt;
    o.callback = val_callback, o.callback_ctx = &v;
    o.report_every = fo->val_every ? fo->val_every : 10;
    hj_train_result local = {0};
    st = train_impl(m, x, y, n, &o, fo->weight_decay, res ? res : &local, err);
    if (st == HJ_OK && v.st != HJ_OK) {
        *err = v.err;
        st = v.st;
    }
    if (st == HJ_OK && isfinite(v.best_loss))
        memcpy(m->params, v.best, m->arch.n_params * sizeof *v.best);
    if (val_loss)
        *val_loss = v.best_loss;
    if (best_step)
        *best_step = v.best_step;
    if (!res)
        free(local.loss_trace);
    hj_workspace_free(v.ws);
    free(v.best);
    return st;
}

hj_status hj_model_fit_eps_auto(hj_model *m, uint64_t seed, const double *grid, size_t n_grid,
                                const double *x, const double *y, size_t n,
                                const hj_train_options *opt, const hj_fit_options *fo,
                                hj_train_result *res, hj_error *err)
{
    if (m == NULL || grid == NULL || n_grid == 0 || fo == NULL || fo->n_val == 0 || x == NULL ||
        y == NULL || fo->x_val == NULL || fo->y_val == NULL)
        return hj_error_set(err, HJ_EINVAL, "eps auto: needs a grid and a validation split");
    const size_t d = m->arch.d_in, nv = fo->n_val, P = m->arch.n_params;
    double *val = malloc(n_grid * sizeof *val);
    size_t *steps = malloc(n_grid * sizeof *steps);
    double *xa = malloc((n + nv) * d * sizeof *xa), *ya = malloc((n + nv) * sizeof *ya);
    hj_status st = HJ_OK;
    if (!val || !steps || !xa || !ya) {
        st = hj_error_set(err, HJ_ENOMEM, "eps auto: out of memory");
        goto done;
    }
    for (size_t k = 0; k < n_grid && st == HJ_OK; k++) {
        hj_model trial;
        if ((st = hj_model_init(&trial, &m->arch, grid[k], m->t, seed, err)) != HJ_OK)
            break;
        hj_preprocess saved = trial.pre;
        trial.pre = m->pre; /* borrowed: not freed below */
        hj_train_options o = *opt;
        o.callback = NULL;
        st = hj_model_fit(&trial, x, y, n, &o, fo, NULL, &val[k], &steps[k], err);
        trial.pre = saved;
        hj_model_free(&trial);
        if (st != HJ_OK)
            hj_error_prefix(err, "eps %g: ", grid[k]);
    }
    if (st != HJ_OK)
        goto done;
    size_t best = 0;
    for (size_t k = 1; k < n_grid; k++)
        if (val[k] <= val[best])
            best = k;
    /* refit on both splits with the chosen eps, for the best step count */
    hj_model fresh;
    if ((st = hj_model_init(&fresh, &m->arch, grid[best], m->t, seed, err)) != HJ_OK)
        goto done;
    memcpy(m->params, fresh.params, P * sizeof *m->params);
    hj_model_free(&fresh);
    m->eps = grid[best];
    memcpy(xa, x, n * d * sizeof *xa);
    memcpy(xa + n * d, fo->x_val, nv * d * sizeof *xa);
    memcpy(ya, y, n * sizeof *ya);
    memcpy(ya + n, fo->y_val, nv * sizeof *ya);
    hj_train_options o = *opt;
    size_t every = fo->val_every ? fo->val_every : 10;
    if (o.epochs == 0 && o.optimizer != HJ_OPT_LBFGS)
        o.iters = steps[best] > every ? steps[best] : every;
    hj_fit_options f2 = *fo;
    f2.n_val = 0, f2.x_val = f2.y_val = NULL;
    st = hj_model_fit(m, xa, ya, n + nv, &o, &f2, res, NULL, NULL, err);
    if (st == HJ_OK)
        st = hj__model_set_eps_curve(m, grid, val, n_grid, err);
done:
    free(val), free(steps), free(xa), free(ya);
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
        if (st == HJ_OK && nout == 1 && m->arch.n_classes == 0 && (m->y_shift != 0.0 || m->y_scale != 1.0))
            for (size_t i = 0; i < len; i++)
                out[start + i] = m->y_shift + m->y_scale * out[start + i];
    }
    free(xt);
    hj_workspace_free(ws);
    return st;
}
