/* layers.c — forward/backward pairs of the layer kinds (dense, resnet, gibbs, LSE readouts, output scale) and the dispatch on the kind; shapes in layers.h. */
#include <string.h>

#include "common/linalg.h"
#include "core/kernels.h"
#include "hjdl/lse.h"
#include "hjdl/model.h"
#include "model/layers.h"

/* out (n, rows) = in (n, d) W^T + bias, W (rows, d). */
static void affine(double *out, const double *in, const double *W, const double *bias, size_t n,
                   size_t d, size_t rows)
{
    hj__gemm(0, 1, n, rows, d, 1.0, in, d, W, d, 0.0, out, rows);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < rows; j++)
            out[i * rows + j] += bias[j];
}

/* The affine map's backward from dz (n, rows) = dL/d(in W^T + bias): dW += dz^T in,
 * dbias += column sums, din (n, d) = dz W + beta din when din != NULL. */
static void affine_backward(double *din, double beta, double *dW, double *dbias, const double *dz,
                            const double *in, const double *W, size_t n, size_t d, size_t rows)
{
    hj__gemm(1, 0, rows, d, n, 1.0, dz, rows, in, d, 1.0, dW, d);
    hj__add_column_sums(dbias, dz, n, rows, rows);
    if (din)
        hj__gemm(0, 0, n, d, rows, 1.0, dz, rows, W, d, beta, din, d);
}

void hj__dense_forward(double *out, double *pre, const double *in, const double *P, size_t n,
                       size_t d, size_t H, double eps)
{
    affine(pre, in, P, P + H * d, n, d, H);
    for (size_t k = 0; k < n * H; k++)
        out[k] = hj_softplus(pre[k], eps);
}

/* dz = f dout softplus_eps'(pre), then the affine backward (din = dz A + beta din). */
static void softplus_affine_backward(double *din, double beta, double *dP, double *dz,
                                     const double *dout, const double *pre, const double *in,
                                     const double *P, size_t n, size_t d, size_t H, double f,
                                     double eps)
{
    for (size_t k = 0; k < n * H; k++)
        dz[k] = f * dout[k] * hj_softplus_grad(pre[k], eps);
    affine_backward(din, beta, dP, dP + H * d, dz, in, P, n, d, H);
}

void hj__dense_backward(double *din, double *dP, double *dz, const double *dout, const double *pre,
                        const double *in, const double *P, size_t n, size_t d, size_t H,
                        double eps)
{
    softplus_affine_backward(din, 0.0, dP, dz, dout, pre, in, P, n, d, H, 1.0, eps);
}

void hj__resnet_forward(double *out, double *pre, const double *in, const double *P, size_t n,
                        size_t H, double s, double eps)
{
    affine(pre, in, P, P + H * H, n, H, H);
    for (size_t k = 0; k < n * H; k++)
        out[k] = in[k] + s * hj_softplus(pre[k], eps);
}

void hj__resnet_backward(double *din, double *dP, double *dz, const double *dout,
                         const double *pre, const double *in, const double *P, size_t n,
                         size_t H, double s, double eps)
{
    if (din) /* the identity path, then the residual branch added on top */
        memcpy(din, dout, n * H * sizeof *din);
    softplus_affine_backward(din, 1.0, dP, dz, dout, pre, in, P, n, H, H, s, eps);
}

void hj__gibbs_forward(double *out, double *pi, const double *in, const double *P, size_t n,
                       size_t d, size_t M, double eps)
{
    const double *K = P, *beta = P + M * d, *V = P + M * d + M;
    affine(pi, in, K, beta, n, d, M);
    for (size_t i = 0; i < n; i++)
        hj__lse_full(pi + i * M, M, eps, pi + i * M, NULL, NULL);
    hj__gemm(0, 0, n, d, M, 1.0, pi, M, V, d, 0.0, out, d);
}

void hj__gibbs_backward(double *din, double *dP, double *dz, const double *dout, const double *pi,
                        const double *in, const double *P, size_t n, size_t d, size_t M,
                        double eps)
{
    const double *K = P, *V = P + M * d + M;
    double *dV = dP + M * d + M;
    /* dV += pi^T dout;  dL/dpi = dout V^T;  dz = its Gibbs-weight backward */
    hj__gemm(1, 0, M, d, n, 1.0, pi, M, dout, d, 1.0, dV, d);
    hj__gemm(0, 1, n, M, d, 1.0, dout, d, V, d, 0.0, dz, M);
    for (size_t i = 0; i < n; i++)
        hj__gibbs_weights_backward(dz + i * M, pi + i * M, M, eps);
    affine_backward(din, 0.0, dP, dP + M * d, dz, in, K, n, d, M);
}

void hj__lse_readout_forward(double *out, double *pi, const double *in, const double *P, size_t n,
                             size_t d, size_t N, size_t C, double eps)
{
    const size_t NT = N * C;
    affine(pi, in, P, P + NT * d, n, d, NT);
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (n * NT >= HJ_PARALLEL_MIN_WORK)
#endif
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < C; c++) {
            double *z = pi + i * NT + c * N;
            out[i * C + c] = hj__lse_full(z, N, eps, z, NULL, NULL);
        }
}

void hj__lse_readout_backward(double *din, double *dP, double *dz, const double *dout,
                              const double *pi, const double *in, const double *P, size_t n,
                              size_t d, size_t N, size_t C)
{
    const size_t NT = N * C;
    /* dL/dz_j = dL/dout_c pi_j over class c's neurons */
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < C; c++) {
            const double gf = dout[i * C + c];
            for (size_t j = 0; j < N; j++)
                dz[i * NT + c * N + j] = gf * pi[i * NT + c * N + j];
        }
    affine_backward(din, 0.0, dP, dP + NT * d, dz, in, P, n, d, NT);
}

void hj__output_scale_forward(double *y, double *f, const double *P, size_t n)
{
    const double a = P[0], c = P[1];
    for (size_t i = 0; i < n; i++) {
        f[i] = y[i];
        y[i] = a * y[i] + c;
    }
}

void hj__output_scale_backward(double *g, double *dP, const double *f, const double *P, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dP[0] += g[i] * f[i];
        dP[1] += g[i];
        g[i] = P[0] * g[i];
    }
}

/* ---- the kinds, dispatched (layers.h) ---------------------------------------- */

size_t hj__layer_cache_width(const hj_layer *L)
{
    switch (L->kind) {
    case HJ_LAYER_LSE_CLASS: return L->width * L->out;
    case HJ_LAYER_RNN: return hj__rnn_cache_width(L);
    case HJ_LAYER_LSTM: return hj__lstm_cache_width(L);
    case HJ_LAYER_SSM: return hj__ssm_cache_width(L);
    case HJ_LAYER_ATTN: return hj__attn_cache_width(L);
    case HJ_LAYER_POOL_LAST:
    case HJ_LAYER_POOL_MEAN: return 0;
    default: return L->width;
    }
}

void hj__layer_forward(const hj_layer *L, double *out, double *cache, const double *in,
                       const double *P, size_t n, double s, double eps)
{
    switch (L->kind) {
    case HJ_LAYER_DENSE:
        hj__dense_forward(out, cache, in, P, n, L->in, L->width, eps);
        break;
    case HJ_LAYER_RESNET:
        hj__resnet_forward(out, cache, in, P, n, L->width, s, eps);
        break;
    case HJ_LAYER_GIBBS:
        hj__gibbs_forward(out, cache, in, P, n, L->in, L->width, eps);
        break;
    case HJ_LAYER_LSE:
    case HJ_LAYER_LSE_CLASS:
        hj__lse_readout_forward(out, cache, in, P, n, L->in, L->width, L->out, eps);
        break;
    case HJ_LAYER_RNN:
        hj__rnn_forward(L, out, cache, in, P, n, eps);
        break;
    case HJ_LAYER_LSTM:
        hj__lstm_forward(L, out, cache, in, P, n);
        break;
    case HJ_LAYER_SSM:
        hj__ssm_forward(L, out, cache, in, P, n, eps);
        break;
    case HJ_LAYER_ATTN:
        hj__attn_forward(L, out, cache, in, P, n, eps);
        break;
    case HJ_LAYER_POOL_LAST:
    case HJ_LAYER_POOL_MEAN:
        hj__pool_forward(L, out, in, n);
        break;
    }
}

void hj__layer_backward(const hj_layer *L, double *din, double *dP, double *dz,
                        const double *dout, const double *cache, const double *in,
                        const double *P, size_t n, double s, double eps)
{
    switch (L->kind) {
    case HJ_LAYER_DENSE:
        hj__dense_backward(din, dP, dz, dout, cache, in, P, n, L->in, L->width, eps);
        break;
    case HJ_LAYER_RESNET:
        hj__resnet_backward(din, dP, dz, dout, cache, in, P, n, L->width, s, eps);
        break;
    case HJ_LAYER_GIBBS:
        hj__gibbs_backward(din, dP, dz, dout, cache, in, P, n, L->in, L->width, eps);
        break;
    case HJ_LAYER_LSE:
    case HJ_LAYER_LSE_CLASS:
        hj__lse_readout_backward(din, dP, dz, dout, cache, in, P, n, L->in, L->width, L->out);
        break;
    case HJ_LAYER_RNN:
        hj__rnn_backward(L, din, dP, dz, dout, cache, in, P, n, eps);
        break;
    case HJ_LAYER_LSTM:
        hj__lstm_backward(L, din, dP, dz, dout, cache, in, P, n);
        break;
    case HJ_LAYER_SSM:
        hj__ssm_backward(L, din, dP, dz, dout, cache, in, P, n, eps);
        break;
    case HJ_LAYER_ATTN:
        hj__attn_backward(L, din, dP, dz, dout, cache, in, P, n, eps);
        break;
    case HJ_LAYER_POOL_LAST:
    case HJ_LAYER_POOL_MEAN:
        if (din)
            hj__pool_backward(L, din, dout, n);
        break;
    }
}

size_t hj__layer_weight_ranges(const hj_layer *L, size_t b[HJ_MAX_WEIGHT_RANGES],
                               size_t e[HJ_MAX_WEIGHT_RANGES])
{
    const size_t o = L->offset, H = L->width, d = L->step_in;
    switch (L->kind) {
    case HJ_LAYER_GIBBS: /* K (M, in), beta (M), V (M, in) */
        b[0] = o, e[0] = o + L->width * L->in;
        b[1] = e[0] + L->width, e[1] = b[1] + L->width * L->in;
        return 2;
    case HJ_LAYER_LSE_CLASS: /* w (C*N, in), b (C*N) */
        b[0] = o, e[0] = o + L->out * L->width * L->in;
        return 1;
    case HJ_LAYER_RNN: /* W (H, H), U (H, d), b (H) */
        b[0] = o, e[0] = o + H * H + H * d;
        return 1;
    case HJ_LAYER_LSTM: /* Wg (4H, H + d), bg (4H) */
        b[0] = o, e[0] = o + 4 * H * (H + d);
        return 1;
    case HJ_LAYER_SSM: /* a (H), B (H, d), C (H, H), log_dt, c (H) */
        b[0] = o + H, e[0] = b[0] + H * d + H * H;
        return 1;
    case HJ_LAYER_ATTN: /* E (H, d), e (H), pos (T, H), Wq Wk Wv Wo K (H, H), beta (H), V (H, H) */
        b[0] = o, e[0] = o + H * d;
        b[1] = e[0] + H + L->steps * H, e[1] = b[1] + 5 * H * H;
        b[2] = e[1] + H, e[2] = b[2] + H * H;
        return 3;
    case HJ_LAYER_POOL_LAST:
    case HJ_LAYER_POOL_MEAN:
        return 0;
    default: /* dense, resnet, lse: A or w (width, in) first */
        b[0] = o, e[0] = o + L->width * L->in;
        return 1;
    }
}

void hj__sequence_layer_init(const hj_layer *L, double *P, hj_rng *rng)
{
    switch (L->kind) {
    case HJ_LAYER_RNN: hj__rnn_init(L, P, rng); break;
    case HJ_LAYER_LSTM: hj__lstm_init(L, P, rng); break;
    case HJ_LAYER_SSM: hj__ssm_init(L, P, rng); break;
    case HJ_LAYER_ATTN: hj__attn_init(L, P, rng); break;
    default: break;
    }
}

/* ---- pools (layers.h) ------------------------------------------------------- */

void hj__pool_forward(const hj_layer *L, double *out, const double *in, size_t n)
{
    const size_t T = L->steps, H = L->width;
    for (size_t i = 0; i < n; i++) {
        const double *x = in + i * T * H;
        double *o = out + i * H;
        if (L->kind == HJ_LAYER_POOL_LAST) {
            memcpy(o, x + (T - 1) * H, H * sizeof *o);
            continue;
        }
        memset(o, 0, H * sizeof *o);
        for (size_t k = 0; k < T; k++)
            for (size_t j = 0; j < H; j++)
                o[j] += x[k * H + j];
        for (size_t j = 0; j < H; j++)
            o[j] /= (double)T;
    }
}

void hj__pool_backward(const hj_layer *L, double *din, const double *dout, size_t n)
{
    const size_t T = L->steps, H = L->width;
    for (size_t i = 0; i < n; i++) {
        double *g = din + i * T * H;
        const double *o = dout + i * H;
        if (L->kind == HJ_LAYER_POOL_LAST) {
            memset(g, 0, (T - 1) * H * sizeof *g);
            memcpy(g + (T - 1) * H, o, H * sizeof *g);
            continue;
        }
        for (size_t k = 0; k < T; k++)
            for (size_t j = 0; j < H; j++)
                g[k * H + j] = o[j] / (double)T;
    }
}
