/* model.c — forward pass, loss and exact backward pass of layer stacks; attribution; initial data.
 *
 * Shapes (n rows = points of the current chunk, row-major):
 *   act[l]      (n, in_l)   input of layer l (act[0] is the caller's x)
 *   pre[l]      dense/resnet: a = h A^T + c (n, H); gibbs: pi (n, M);
 *               lse: pi (n, N); lse-class: pi (n, C*N), normalised per class
 *   fval        with an output scale: the readout values f before it (n)
 *   gout        dL/d(output) (n, n_out); gbuf[0..1] ping-pong dL/d(act) (n, max width)
 *   gtmp        (n, max(H, M, N*C)) scratch for dL/d(pre-activation)
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/kernels.h"
#include "hjdl/hopf.h"
#include "hjdl/lse.h"
#include "hjdl/model.h"
#include "model/layers.h"
#include "model/model-impl.h"

struct hj_workspace {
    size_t capacity;
    double *act[HJ_MAX_LAYERS + 1];
    double *pre[HJ_MAX_LAYERS];
    double *fval;
    double *gout;
    double *gbuf[2];
    double *gtmp;
    double *pgrad;   /* (n_params) scratch when the caller wants no parameter gradient */
    double *mem;
};

hj_status hj_workspace_alloc(hj_workspace **out, const hj_model *m, size_t capacity, hj_error *err)
{
    if (out == NULL || m == NULL || capacity == 0)
        return hj_error_set(err, HJ_EINVAL, "workspace: NULL model or zero capacity");
    *out = NULL;
    const hj_arch *A = &m->arch;
    size_t maxw = A->d_in, maxpre = 1, total = 0;
    for (size_t l = 0; l < A->n_layers; l++) {
        const hj_layer *L = &A->layers[l];
        maxw = L->out > maxw ? L->out : maxw;
        maxpre = hj__layer_cache_width(L) > maxpre ? hj__layer_cache_width(L) : maxpre;
        total += L->out + hj__layer_cache_width(L);
    }
    size_t nout = hj_model_n_out(m);
    total += nout /* fval */ + nout /* gout */ + 2 * maxw + maxpre;
    if (total > (size_t)-1 / sizeof(double) / capacity - A->n_params)
        return hj_error_set(err, HJ_ENOMEM, "workspace: %zu points is too many", capacity);
    hj_workspace *ws = calloc(1, sizeof *ws);
    double *mem = malloc((total * capacity + A->n_params) * sizeof *mem);
    if (ws == NULL || mem == NULL) {
        free(ws);
        free(mem);
        return hj_error_set(err, HJ_ENOMEM, "workspace: cannot allocate %zu doubles", total * capacity);
    }
    ws->capacity = capacity;
    ws->mem = mem;
    double *p = mem;
    for (size_t l = 0; l < A->n_layers; l++) {
        ws->act[l + 1] = p;
        p += A->layers[l].out * capacity;
        ws->pre[l] = p;
        p += hj__layer_cache_width(&A->layers[l]) * capacity;
    }
    ws->fval = p, p += nout * capacity;
    ws->gout = p, p += nout * capacity;
    ws->gbuf[0] = p, p += maxw * capacity;
    ws->gbuf[1] = p, p += maxw * capacity;
    ws->gtmp = p, p += maxpre * capacity;
    ws->pgrad = p;
    *out = ws;
    return HJ_OK;
}

void hj_workspace_free(hj_workspace *ws)
{
    if (ws == NULL)
        return;
    free(ws->mem);
    free(ws);
}

/* Step size of the residual layers: 1/K for K residual layers. */
static double resnet_step(const hj_arch *A)
{
    size_t K = 0;
    for (size_t l = 0; l < A->n_layers; l++)
        K += A->layers[l].kind == HJ_LAYER_RESNET;
    return K ? 1.0 / (double)K : 1.0;
}

/* Forward through all layers at parameters params (n_params) for n <= capacity
 * points; returns the output (n, n_out). */
static const double *forward_chunk(const hj_model *m, const double *params, hj_workspace *ws,
                                   const double *x, size_t n)
{
    const hj_arch *A = &m->arch;
    const double s = resnet_step(A);
    const double *in = x;
    for (size_t l = 0; l < A->n_layers; l++) {
        const hj_layer *L = &A->layers[l];
        hj__layer_forward(L, ws->act[l + 1], ws->pre[l], in, params + L->offset, n, s, m->eps);
        in = ws->act[l + 1];
    }
    if (A->output_scale) /* after the readout, the last layer */
        hj__output_scale_forward(ws->act[A->n_layers], ws->fval, params + A->n_params - 2, n);
    return in;
}

hj_status hj_model_forward(const hj_model *m, hj_workspace *ws, const double *x, size_t n,
                           double *out, hj_error *err)
{
    if (m == NULL || ws == NULL || (x == NULL && n > 0) || (out == NULL && n > 0))
        return hj_error_set(err, HJ_EINVAL, "forward: NULL argument");
    const size_t nout = hj_model_n_out(m), d = m->arch.d_in;
    size_t bad;
    if (n > 0 && !hj__all_finite(x, n * d, &bad))
        return hj_error_set(err, HJ_ENAN, "forward: input x[%zu][%zu] is not finite", bad / d, bad % d);
    for (size_t start = 0; start < n; start += ws->capacity) {
        size_t len = n - start < ws->capacity ? n - start : ws->capacity;
        const double *o = forward_chunk(m, m->params, ws, x + start * d, len);
        memcpy(out + start * nout, o, len * nout * sizeof *out);
    }
    return HJ_OK;
}

/* Backward from ws->gout (overwritten) through every layer at parameters params.
 * grad (n_params) receives the parameter gradient (zeroed here; NULL: computed
 * into workspace scratch and dropped); gx (n, d_in), if not NULL, dL/dx. */
static void backward_chunk_at(const hj_model *m, const double *params, hj_workspace *ws,
                              const double *x, size_t n, double *grad, double *gx, size_t at,
                              double *gout_at, double *gin_at)
{
    if (grad == NULL)
        grad = ws->pgrad;
    const hj_arch *A = &m->arch;
    const double s = resnet_step(A);
    memset(grad, 0, A->n_params * sizeof *grad);
    if (A->output_scale)
        hj__output_scale_backward(ws->gout, grad + A->n_params - 2, ws->fval,
                                  params + A->n_params - 2, n);
    const double *G = ws->gout;
    for (size_t li = A->n_layers; li-- > 0;) {
        const hj_layer *L = &A->layers[li];
        double *Gin = li == 0 ? gx : ws->gbuf[li % 2];
        if (li == at && gout_at)
            memcpy(gout_at, G, n * L->out * sizeof *G);
        if (li == at && gin_at && Gin == NULL)
            Gin = ws->gbuf[0];
        hj__layer_backward(L, Gin, grad + L->offset, ws->gtmp, G, ws->pre[li], li == 0 ? x : ws->act[li],
                       params + L->offset, n, s, m->eps);
        if (li == at && gin_at)
            memcpy(gin_at, Gin, n * L->in * sizeof *Gin);
        G = Gin;
    }
}

static void backward_chunk(const hj_model *m, const double *params, hj_workspace *ws,
                           const double *x, size_t n, double *grad, double *gx)
{
    backward_chunk_at(m, params, ws, x, n, grad, gx, SIZE_MAX, NULL, NULL);
}

static double loss_head(const hj_model *m, const double *params, hj_workspace *ws, const double *x,
                        const double *y, size_t n);

/* The argument checks of hj_model_loss_grad. */
static hj_status check_loss_inputs(const hj_model *m, const double *params, hj_workspace *ws,
                                   const double *x, const double *y, size_t n, double *loss,
                                   hj_error *err)
{
    if (m == NULL || params == NULL || ws == NULL || x == NULL || y == NULL || loss == NULL)
        return hj_error_set(err, HJ_EINVAL, "loss: NULL argument");
    if (n == 0)
        return hj_error_set(err, HJ_EINVAL, "loss: no data points");
    if (n > ws->capacity)
        return hj_error_set(err, HJ_EINVAL, "loss: %zu points exceed the workspace capacity %zu",
                            n, ws->capacity);
    const size_t C = m->arch.n_classes, d = m->arch.d_in;
    size_t bad;
    /* a non-finite parameter is an error here, not a NaN somewhere inside:
     * the vector kernels give NaN logits zero weight */
    if (!hj__all_finite(params, m->arch.n_params, &bad))
        return hj_error_set(err, HJ_ENAN, "loss: parameter %zu is not finite", bad);
    if (!hj__all_finite(x, n * d, &bad))
        return hj_error_set(err, HJ_ENAN, "loss: input x[%zu][%zu] is not finite", bad / d, bad % d);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]))
            return hj_error_set(err, HJ_ENAN, "loss: target %zu is not finite", i);
        if (C && (y[i] < 0 || y[i] >= (double)C || y[i] != floor(y[i])))
            return hj_error_set(err, HJ_EINVAL, "loss: label %g of point %zu is not a class 0..%zu",
                                y[i], i, C - 1);
    }
    return HJ_OK;
}

hj_status hj_model_loss_grad(const hj_model *m, const double *params, hj_workspace *ws,
                             const double *x, const double *y, size_t n, double *loss,
                             double *grad, hj_error *err)
{
    hj_status st = check_loss_inputs(m, params, ws, x, y, n, loss, err);
    if (st != HJ_OK)
        return st;
    if (m->arch.n_layers == 1)
        return hj__readout_only_loss_grad(m, params, x, y, n, loss, grad, err);
    *loss = loss_head(m, params, ws, x, y, n);
    if (grad)
        backward_chunk(m, params, ws, x, n, grad, NULL);
    return HJ_OK;
}

hj_status hj_model_layer_gradients(const hj_model *m, hj_workspace *ws, const double *x,
                                   const double *y, size_t n, size_t layer, double *in_l,
                                   double *out_l, double *gout_l, double *gin_l, double *loss,
                                   double *grad, hj_error *err)
{
    if (m == NULL || layer >= m->arch.n_layers)
        return hj_error_set(err, HJ_EINVAL, "layer gradients: no layer %zu", layer);
    if (grad == NULL)
        return hj_error_set(err, HJ_EINVAL, "layer gradients: NULL gradient");
    hj_status st = check_loss_inputs(m, m->params, ws, x, y, n, loss, err);
    if (st != HJ_OK)
        return st;
    *loss = loss_head(m, m->params, ws, x, y, n);
    const hj_layer *L = &m->arch.layers[layer];
    if (in_l)
        memcpy(in_l, layer == 0 ? x : ws->act[layer], n * L->in * sizeof *in_l);
    if (out_l)
        memcpy(out_l, ws->act[layer + 1], n * L->out * sizeof *out_l);
    backward_chunk_at(m, m->params, ws, x, n, grad, NULL, layer, gout_l, gin_l);
    return HJ_OK;
}

/* Forward at params and the mean loss over (x, y, n); ws->gout = its gradient
 * in the outputs. Inputs validated by check_loss_inputs. */
static double loss_head(const hj_model *m, const double *params, hj_workspace *ws, const double *x,
                        const double *y, size_t n)
{
    const size_t C = m->arch.n_classes;
    const double *out = forward_chunk(m, params, ws, x, n);
    double total = 0.0;
    if (C == 0) {
        for (size_t i = 0; i < n; i++) {
            double r = out[i] - y[i];
            total += r * r;
            ws->gout[i] = 2.0 * r / (double)n;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            const double *F = out + i * C;
            double *g = ws->gout + i * C;
            double lse = hj__lse_full(F, C, 1.0, g, NULL, NULL); /* g = softmax(F) */
            size_t k = (size_t)y[i];
            total += lse - F[k];
            for (size_t c = 0; c < C; c++)
                g[c] = (g[c] - (c == k)) / (double)n;
        }
    }
    return total / (double)n;
}

hj_status hj_model_input_gradient(const hj_model *m, hj_workspace *ws, const double *x, size_t n,
                                  const double *gout, double *gx, hj_error *err)
{
    if (m == NULL || ws == NULL || (n > 0 && (x == NULL || gout == NULL || gx == NULL)))
        return hj_error_set(err, HJ_EINVAL, "input gradient: NULL argument");
    const size_t d = m->arch.d_in, nout = hj_model_n_out(m);
    size_t bad;
    if (n > 0 && !hj__all_finite(x, n * d, &bad))
        return hj_error_set(err, HJ_ENAN, "input gradient: x[%zu][%zu] is not finite", bad / d, bad % d);
    for (size_t start = 0; start < n; start += ws->capacity) {
        size_t len = n - start < ws->capacity ? n - start : ws->capacity;
        forward_chunk(m, m->params, ws, x + start * d, len);
        memcpy(ws->gout, gout + start * nout, len * nout * sizeof *gout);
        backward_chunk(m, m->params, ws, x + start * d, len, NULL, gx + start * d);
    }
    return HJ_OK;
}

/* Readout index of the last layer and the Gibbs block used for point i. */
hj_status hj_model_attribution(const hj_model *m, hj_workspace *ws, const double *x, size_t n,
                               size_t K, double *pi_top, size_t *idx_top, hj_error *err)
{
    if (m == NULL || ws == NULL || (n > 0 && (x == NULL || pi_top == NULL || idx_top == NULL)))
        return hj_error_set(err, HJ_EINVAL, "attribution: NULL argument");
    const hj_arch *A = &m->arch;
    const size_t last = A->n_layers - 1, W = A->layers[last].width, d = A->d_in;
    const size_t blocks = A->n_classes ? A->n_classes : 1;
    if (K == 0 || K > W)
        return hj_error_set(err, HJ_EINVAL, "attribution: K = %zu must be in 1..%zu (neurons per readout)", K, W);
    size_t bad;
    if (n > 0 && !hj__all_finite(x, n * d, &bad))
        return hj_error_set(err, HJ_ENAN, "attribution: input x[%zu][%zu] is not finite", bad / d, bad % d);
    for (size_t start = 0; start < n; start += ws->capacity) {
        size_t len = n - start < ws->capacity ? n - start : ws->capacity;
        const double *out = forward_chunk(m, m->params, ws, x + start * d, len);
        for (size_t i = 0; i < len; i++) {
            size_t c = 0;
            for (size_t k = 1; k < blocks; k++)
                if (out[i * blocks + k] > out[i * blocks + c])
                    c = k;
            const double *pi = ws->pre[last] + i * W * blocks + c * W;
            double *pt = pi_top + (start + i) * K;
            size_t *it = idx_top + (start + i) * K;
            hj__top_k(pi, W, K, pt, it);
            for (size_t k = 0; k < K; k++)
                it[k] += c * W;
        }
    }
    return HJ_OK;
}

hj_status hj_model_initial_data(const hj_model *m, double t, double *y, double *g, hj_error *err)
{
    if (m == NULL || y == NULL || g == NULL)
        return hj_error_set(err, HJ_EINVAL, "initial data: NULL argument");
    const hj_layer *R = &m->arch.layers[m->arch.n_layers - 1];
    size_t N, d;
    hj_model_readout_shape(m, &N, &d);
    const double *w = m->params + R->offset, *b = w + N * d;
    return hj_weights_to_atoms(w, b, N, d, t > 0.0 ? t : m->t, NULL, y, g, err);
}

hj_status hj_model_classify(const hj_model *m, const double *x, size_t n, double *cls, hj_error *err)
{
    if (m == NULL || (n > 0 && (x == NULL || cls == NULL)))
        return hj_error_set(err, HJ_EINVAL, "classify: NULL argument");
    const size_t C = m->arch.n_classes, chunk = n < 1024 ? (n ? n : 1) : 1024;
    if (C == 0)
        return hj_error_set(err, HJ_EINVAL, "classify: a regression model has no classes");
    hj_workspace *ws = NULL;
    double *out = malloc(chunk * C * sizeof *out);
    hj_status st = out ? hj_workspace_alloc(&ws, m, chunk, err)
                       : hj_error_set(err, HJ_ENOMEM, "classify: out of memory");
    for (size_t b = 0; st == HJ_OK && b < n; b += chunk) {
        const size_t len = n - b < chunk ? n - b : chunk;
        if ((st = hj_model_forward(m, ws, x + b * m->arch.d_in, len, out, err)) != HJ_OK)
            break;
        for (size_t i = 0; i < len; i++) {
            size_t a = 0;
            for (size_t c = 1; c < C; c++)
                if (out[i * C + c] > out[i * C + a])
                    a = c;
            cls[b + i] = (double)a;
        }
    }
    hj_workspace_free(ws);
    free(out);
    return st;
}
