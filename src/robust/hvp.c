/* hvp.c — exact input Hessian-vector products of whole models (forward-over-reverse; the composition rule at LSE readouts).
 *
 * For one point the tape holds, per layer l (in_l inputs, out_l outputs):
 *   h[l]  (in_l)   layer input (h[0] = x, preprocessed), h[L] the outputs (n_out)
 *   pre[l]         dense/resnet: a = A h + c (W); gibbs: pi (M); readout: pi (C*N), per block
 *   g[l]  (in_l)   dS/dh[l], S = sum_c gout[c] out_c; g[L] = gout
 *   ht[l] (in_l)   tangent dh[l] along v;  gt[l] (in_l) tangent of g[l]
 *   aux[l]         dense/resnet: da (W); gibbs: dpi (M); readout: dz (C*N)
 * Hv = gt[0]. Per layer (s = 1/K the residual step, sp the eps-softplus,
 * sp' = logistic(a/eps), sp'' = sp'(1 - sp')/eps):
 *   dense   g_in = A^T(sp'(a) g);  gt_in = A^T(sp' gt + sp'' da g)
 *   resnet  g_in = g + s A^T(sp' g);  gt_in = gt + s A^T(sp' gt + sp'' da g)
 *   gibbs   t = V g, q = pi (t - pi.t), g_in = K^T q / eps;
 *           dpi = pi (dS - pi.dS), dS = K dh / eps, dt = V gt,
 *           gt_in = K^T [dpi (t - pi.t) + pi (dt - dpi.t - pi.dt)] / eps
 *   readout g_in = sum_c gF_c w_c^T pi_c;  gt_in = sum_c gF_c w_c^T pi_c (dz_c - pi_c.dz_c) / eps
 *           with gF_c = gout_c (times a with an output scale).
 * The readout line is the composition rule: its tangent term is
 * J^T Cov_pi(w) J v / eps = (1/eps) Cov_pi(grad z) v, and the second-order
 * terms of the hidden layers, driven by g = E_pi[w] gF, give sum_j pi_j hess z_j v.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/lse.h"
#include "hjdl/robust.h"
#include "hjdl/vec.h"

typedef struct tape {
    const hj_model *m;
    double s;       /* residual step */
    double *mem;
    double *h[HJ_MAX_LAYERS + 1], *g[HJ_MAX_LAYERS + 1];
    double *ht[HJ_MAX_LAYERS + 1], *gt[HJ_MAX_LAYERS + 1];
    double *pre[HJ_MAX_LAYERS], *aux[HJ_MAX_LAYERS];
    double *t1, *t2; /* (max gibbs width) */
    double *row;     /* (max pre-activation width) scratch of the reverse tangent pass */
    double gscale;   /* output scale a (regression), else 1 */
} tape;

static size_t pre_width(const hj_layer *L)
{
    return L->kind == HJ_LAYER_LSE_CLASS ? L->width * L->out : L->width;
}

/* sp''(a) = sigma(a/eps)(1 - sigma(a/eps))/eps = 1/(eps (2 + e^t + e^-t)), t = a/eps. */
static double softplus_second(double a, double eps)
{
    double t = a / eps;
    return 1.0 / (eps * (2.0 + exp(t) + exp(-t)));
}

static hj_status tape_alloc(tape *T, const hj_model *m, hj_error *err)
{
    memset(T, 0, sizeof *T);
    T->m = m;
    const hj_arch *A = &m->arch;
    size_t total = 0, maxg = 1, maxp = 1, K = 0;
    for (size_t l = 0; l < A->n_layers; l++) {
        const hj_layer *L = &A->layers[l];
        total += 4 * L->in + 2 * pre_width(L);
        maxp = pre_width(L) > maxp ? pre_width(L) : maxp;
        if (L->kind == HJ_LAYER_GIBBS && L->width > maxg)
            maxg = L->width;
        K += L->kind == HJ_LAYER_RESNET;
    }
    const size_t nout = hj_model_n_out(m);
    total += 4 * nout + 2 * maxg + maxp;
    T->s = K ? 1.0 / (double)K : 1.0;
    T->mem = calloc(total, sizeof *T->mem);
    if (T->mem == NULL)
        return hj_error_set(err, HJ_ENOMEM, "hessian: cannot allocate %zu doubles", total);
    double *p = T->mem;
    for (size_t l = 0; l < A->n_layers; l++) {
        const hj_layer *L = &A->layers[l];
        T->h[l] = p, p += L->in;
        T->g[l] = p, p += L->in;
        T->ht[l] = p, p += L->in;
        T->gt[l] = p, p += L->in;
        T->pre[l] = p, p += pre_width(L);
        T->aux[l] = p, p += pre_width(L);
    }
    const size_t nl = A->n_layers;
    T->h[nl] = p, p += nout;
    T->g[nl] = p, p += nout;
    T->ht[nl] = p, p += nout;
    T->gt[nl] = p, p += nout;
    T->t1 = p, p += maxg;
    T->t2 = p, p += maxg;
    T->row = p;
    T->gscale = A->output_scale ? m->params[A->n_params - 2] : 1.0;
    return HJ_OK;
}

/* out (rows) = W (rows, d) h + bias. */
static void affine(const double *W, const double *bias, size_t rows, size_t d, const double *h,
                   double *out)
{
    for (size_t j = 0; j < rows; j++)
        out[j] = (bias ? bias[j] : 0.0) + hj_vec_dot(W + j * d, h, d);
}

/* out (d) = W^T (rows, d) y (rows). */
static void affine_t(const double *W, size_t rows, size_t d, const double *y, double *out)
{
    memset(out, 0, d * sizeof *out);
    for (size_t j = 0; j < rows; j++) {
        if (y[j] == 0.0)
            continue;
        const double *wj = W + j * d;
        for (size_t k = 0; k < d; k++)
            out[k] += y[j] * wj[k];
    }
}

static void tape_forward(tape *T, const double *x)
{
    const hj_model *m = T->m;
    const hj_arch *A = &m->arch;
    const double eps = m->eps;
    memcpy(T->h[0], x, A->d_in * sizeof *x);
    for (size_t l = 0; l < A->n_layers; l++) {
        const hj_layer *L = &A->layers[l];
        const double *P = m->params + L->offset, *h = T->h[l];
        double *pre = T->pre[l], *out = T->h[l + 1];
        const size_t d = L->in, W = L->width;
        switch (L->kind) {
        default: /* sequence layers and pools: refused by check_model */
            break;
        case HJ_LAYER_DENSE:
        case HJ_LAYER_RESNET:
            affine(P, P + W * d, W, d, h, pre);
            for (size_t k = 0; k < W; k++) {
                double sp = hj_softplus(pre[k], eps);
                out[k] = L->kind == HJ_LAYER_DENSE ? sp : h[k] + T->s * sp;
            }
            break;
        case HJ_LAYER_GIBBS: {
            const double *K = P, *beta = P + W * d, *V = P + W * d + W;
            affine(K, beta, W, d, h, pre);
            hj_lse_vec(pre, W, eps, pre); /* pre <- pi */
            memset(out, 0, d * sizeof *out);
            for (size_t j = 0; j < W; j++)
                for (size_t k = 0; k < d; k++)
                    out[k] += pre[j] * V[j * d + k];
            break;
        }
        case HJ_LAYER_LSE:
        case HJ_LAYER_LSE_CLASS: {
            const size_t blocks = L->kind == HJ_LAYER_LSE ? 1 : L->out, NT = W * blocks;
            affine(P, P + NT * d, NT, d, h, pre);
            for (size_t c = 0; c < blocks; c++)
                out[c] = hj_lse_vec(pre + c * W, W, eps, pre + c * W);
            if (A->output_scale)
                out[0] = m->params[A->n_params - 2] * out[0] + m->params[A->n_params - 1];
            break;
        }
        }
    }
}

static void tape_backward(tape *T, const double *gout)
{
    const hj_model *m = T->m;
    const hj_arch *A = &m->arch;
    const double eps = m->eps;
    memcpy(T->g[A->n_layers], gout, hj_model_n_out(m) * sizeof *gout);
    for (size_t l = A->n_layers; l-- > 0;) {
        const hj_layer *L = &A->layers[l];
        const double *P = m->params + L->offset, *pre = T->pre[l], *g = T->g[l + 1];
        double *gin = T->g[l];
        const size_t d = L->in, W = L->width;
        switch (L->kind) {
        default: /* sequence layers and pools: refused by check_model */
            break;
        case HJ_LAYER_DENSE:
        case HJ_LAYER_RESNET: {
            double *y = T->aux[l]; /* scratch here; the tangent pass overwrites it */
            const double f = L->kind == HJ_LAYER_DENSE ? 1.0 : T->s;
            for (size_t k = 0; k < W; k++)
                y[k] = f * hj_softplus_grad(pre[k], eps) * g[k];
            affine_t(P, W, d, y, gin);
            if (L->kind == HJ_LAYER_RESNET)
                for (size_t k = 0; k < d; k++)
                    gin[k] += g[k];
            break;
        }
        case HJ_LAYER_GIBBS: {
            const double *K = P, *V = P + W * d + W;
            double *t = T->t1;
            affine(V, NULL, W, d, g, t);
            double tb = hj_vec_dot(pre, t, W);
            for (size_t j = 0; j < W; j++)
                t[j] = pre[j] * (t[j] - tb) / eps;
            affine_t(K, W, d, t, gin);
            break;
        }
        case HJ_LAYER_LSE:
        case HJ_LAYER_LSE_CLASS: {
            const size_t blocks = L->kind == HJ_LAYER_LSE ? 1 : L->out, NT = W * blocks;
            double *y = T->aux[l];
            for (size_t c = 0; c < blocks; c++)
                for (size_t j = 0; j < W; j++)
                    y[c * W + j] = T->gscale * g[c] * pre[c * W + j];
            affine_t(P, NT, d, y, gin);
            break;
        }
        }
    }
}

static void tape_hvp(void *ctx, const double *v, double *hv)
{
    tape *T = ctx;
    const hj_model *m = T->m;
    const hj_arch *A = &m->arch;
    const double eps = m->eps;
    const size_t nl = A->n_layers;
    memcpy(T->ht[0], v, A->d_in * sizeof *v);
    /* forward tangents */
    for (size_t l = 0; l < nl; l++) {
        const hj_layer *L = &A->layers[l];
        const double *P = m->params + L->offset, *pre = T->pre[l], *ht = T->ht[l];
        double *aux = T->aux[l], *out = T->ht[l + 1];
        const size_t d = L->in, W = L->width;
        switch (L->kind) {
        default: /* sequence layers and pools: refused by check_model */
            break;
        case HJ_LAYER_DENSE:
        case HJ_LAYER_RESNET:
            affine(P, NULL, W, d, ht, aux);
            for (size_t k = 0; k < W; k++) {
                double t = hj_softplus_grad(pre[k], eps) * aux[k];
                out[k] = L->kind == HJ_LAYER_DENSE ? t : ht[k] + T->s * t;
            }
            break;
        case HJ_LAYER_GIBBS: {
            const double *K = P, *V = P + W * d + W;
            affine(K, NULL, W, d, ht, aux);
            double sb = hj_vec_dot(pre, aux, W);
            for (size_t j = 0; j < W; j++)
                aux[j] = pre[j] * (aux[j] - sb) / eps;
            memset(out, 0, d * sizeof *out);
            for (size_t j = 0; j < W; j++)
                for (size_t k = 0; k < d; k++)
                    out[k] += aux[j] * V[j * d + k];
            break;
        }
        case HJ_LAYER_LSE:
        case HJ_LAYER_LSE_CLASS: {
            const size_t blocks = L->kind == HJ_LAYER_LSE ? 1 : L->out, NT = W * blocks;
            affine(P, NULL, NT, d, ht, aux);
            break;
        }
        }
    }
    /* reverse tangents; the output cotangent gout is constant: gt[L] = 0 */
    memset(T->gt[nl], 0, hj_model_n_out(m) * sizeof(double));
    for (size_t l = nl; l-- > 0;) {
        const hj_layer *L = &A->layers[l];
        const double *P = m->params + L->offset, *pre = T->pre[l], *aux = T->aux[l];
        const double *g = T->g[l + 1], *gt = T->gt[l + 1];
        double *gin = T->gt[l];
        const size_t d = L->in, W = L->width;
        switch (L->kind) {
        default: /* sequence layers and pools: refused by check_model */
            break;
        case HJ_LAYER_DENSE:
        case HJ_LAYER_RESNET: {
            const double f = L->kind == HJ_LAYER_DENSE ? 1.0 : T->s;
            double *row = T->row; /* f (sp' gt + sp'' da g) */
            for (size_t k = 0; k < W; k++)
                row[k] = f * (hj_softplus_grad(pre[k], eps) * gt[k] +
                              softplus_second(pre[k], eps) * aux[k] * g[k]);
            affine_t(P, W, d, row, gin);
            if (L->kind == HJ_LAYER_RESNET)
                for (size_t k = 0; k < d; k++)
                    gin[k] += gt[k];
            break;
        }
        case HJ_LAYER_GIBBS: {
            const double *K = P, *V = P + W * d + W;
            double *t = T->t1, *tt = T->t2;
            affine(V, NULL, W, d, g, t);
            affine(V, NULL, W, d, gt, tt);
            const double tb = hj_vec_dot(pre, t, W), ttb = hj_vec_dot(pre, tt, W), dpt = hj_vec_dot(aux, t, W);
            for (size_t j = 0; j < W; j++)
                tt[j] = (aux[j] * (t[j] - tb) + pre[j] * (tt[j] - dpt - ttb)) / eps;
            affine_t(K, W, d, tt, gin);
            break;
        }
        case HJ_LAYER_LSE:
        case HJ_LAYER_LSE_CLASS: {
            const size_t blocks = L->kind == HJ_LAYER_LSE ? 1 : L->out, NT = W * blocks;
            double *y = T->row;
            for (size_t c = 0; c < blocks; c++) {
                const double *pc = pre + c * W, *zc = aux + c * W;
                const double zb = hj_vec_dot(pc, zc, W), gF = T->gscale * g[c];
                for (size_t j = 0; j < W; j++)
                    y[c * W + j] = gF * pc[j] * (zc[j] - zb) / eps;
            }
            affine_t(P, NT, d, y, gin);
            break;
        }
        }
    }
    memcpy(hv, T->gt[0], A->d_in * sizeof *hv);
}

/* Validate the model, eps and buffers shared by both entry points. */
static hj_status check_model(const hj_model *m, const double *gout, hj_error *err)
{
    if (m == NULL || m->params == NULL || gout == NULL)
        return hj_error_set(err, HJ_EINVAL, "hessian: NULL model or output weights");
    if (m->arch.n_layers == 0 || m->arch.n_layers > HJ_MAX_LAYERS)
        return hj_error_set(err, HJ_EINVAL, "hessian: model has %zu layers", m->arch.n_layers);
    if (m->arch.seq_len > 0)
        return hj_error_set(err, HJ_EINVAL, "hessian: a sequence model (%s layers) has no curvature certificate "
                                            "yet; input Hessians are for vector models",
                            "rnn, lstm, ssm or attn");
    if (!(m->eps >= 0.0) || !isfinite(m->eps))
        return hj_error_set(err, HJ_EINVAL, "hessian: eps = %g must be finite and >= 0", m->eps);
    for (size_t c = 0; c < hj_model_n_out(m); c++)
        if (!isfinite(gout[c]))
            return hj_error_set(err, HJ_ENAN, "hessian: output weight %zu is not finite", c);
    return HJ_OK;
}

static hj_status check_point(const double *x, size_t d, size_t i, hj_error *err)
{
    for (size_t k = 0; k < d; k++)
        if (!isfinite(x[k]))
            return hj_error_set(err, HJ_ENAN, "hessian: x[%zu][%zu] is not finite", i, k);
    return HJ_OK;
}

hj_status hj_model_hvp(const hj_model *m, const double *x, const double *gout, const double *v,
                       double *hv, hj_error *err)
{
    hj_status st = check_model(m, gout, err);
    if (st != HJ_OK)
        return st;
    if (x == NULL || v == NULL || hv == NULL)
        return hj_error_set(err, HJ_EINVAL, "hessian-vector product: NULL argument");
    if (!(m->eps > 0.0))
        return hj_error_set(err, HJ_EDOM, "hessian-vector product: eps = 0 (a max-plus model is piecewise "
                                          "linear: its Hessian is 0 almost everywhere and undefined at kinks)");
    const size_t d = m->arch.d_in;
    if ((st = check_point(x, d, 0, err)) != HJ_OK)
        return st;
    for (size_t k = 0; k < d; k++)
        if (!isfinite(v[k]))
            return hj_error_set(err, HJ_ENAN, "hessian-vector product: v[%zu] is not finite", k);
    tape T;
    if ((st = tape_alloc(&T, m, err)) != HJ_OK)
        return st;
    tape_forward(&T, x);
    tape_backward(&T, gout);
    tape_hvp(&T, v, hv);
    free(T.mem);
    return HJ_OK;
}

hj_status hj_model_hessian_norm(const hj_model *m, const double *x, size_t n, const double *gout,
                                double *norm, hj_error *err)
{
    hj_status st = check_model(m, gout, err);
    if (st != HJ_OK)
        return st;
    if (n > 0 && (x == NULL || norm == NULL))
        return hj_error_set(err, HJ_EINVAL, "hessian norm: NULL points or output");
    const size_t d = m->arch.d_in;
    if (!(m->eps > 0.0)) {
        if (m->arch.n_layers > 1)
            return hj_error_set(err, HJ_EDOM, "hessian norm: eps = 0 with hidden layers (a max-plus stack "
                                              "is piecewise linear; its Hessian is undefined at kinks)");
        /* single readout at eps = 0: 0 where every weighted block is locally affine, +inf at a kink */
        size_t blocks = m->arch.n_classes ? m->arch.n_classes : 1;
        for (size_t i = 0; i < n; i++) {
            if ((st = check_point(x + i * d, d, i, err)) != HJ_OK)
                return st;
            double worst = 0.0;
            for (size_t c = 0; c < blocks; c++) {
                if (gout[c] == 0.0)
                    continue;
                hj_lse_layer L;
                double h;
                if ((st = hj_model_readout_layer(m, c, &L, err)) != HJ_OK ||
                    (st = hj_robust_lse_hessian_norm(&L, x + i * d, 1, &h, err)) != HJ_OK)
                    return st;
                worst = fmax(worst, h);
            }
            norm[i] = worst;
        }
        return HJ_OK;
    }
    tape T;
    if ((st = tape_alloc(&T, m, err)) != HJ_OK)
        return st;
    for (size_t i = 0; i < n && st == HJ_OK; i++) {
        if ((st = check_point(x + i * d, d, i, err)) != HJ_OK)
            break;
        tape_forward(&T, x + i * d);
        tape_backward(&T, gout);
        double lo, hi;
        st = hj_lanczos_extreme(tape_hvp, &T, d, 0, 1e-10, 0x5eedULL + i, &lo, &hi, NULL, err);
        if (st == HJ_OK)
            norm[i] = fmax(fabs(lo), fabs(hi));
    }
    free(T.mem);
    return st;
}
