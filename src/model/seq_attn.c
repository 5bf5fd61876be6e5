/* seq_attn.c — the attn:H[:heads] sequence layer: an input embedding with learned
 * positions, then one pre-LayerNorm block of causal multi-head attention and a Gibbs
 * (LSE) feed-forward layer, and its exact backward, batched over the sequences (GEMMs
 * through hj__gemm) and threaded over them; shapes in layers.h.
 *
 *   x_k = E u_k + e + pos_k,
 *   x_k += Wo concat_h sum_{j <= k} A^h_kj v^h_j,  A^h_k. = softmax_j(q^h_k . k^h_j / sqrt(dh)),
 *          [q; k; v]_k = [Wq; Wk; Wv] LN(x_k), heads of width dh = H / heads,
 *   x_k += V^T pi_k,  pi_k = softmax((K LN(x_k) + beta) / eps)   (the output: x_k),
 *   LN(x) = (x - mean x) / sqrt(var x + 1e-5);
 *   P = [E (H, d), e (H), pos (T, H), Wq, Wk, Wv, Wo (H, H), K (H, H), beta (H), V (H, H)].
 *
 * Cache, per point, one row of S = 7H + 2 + heads T doubles per step k:
 *   [y1 = LN(x_k) (H) | q, k, v (3H) | att (H) | y2 = LN(x_k + attention) (H) | pi (H) |
 *    rstd1 | rstd2 | A^h_kj (heads x T, j <= k used)],
 * so that over the batch the n T rows of each part have the one stride S and feed a
 * GEMM directly (Wq, Wk, Wv are contiguous: one (3H, H) projection). The backward's
 * scratch dz has the same rows: [dx (H) | dL/dpi, then dL/dz (H) | dy (H) | datt (H) |
 * dq, dk, dv (3H) | dL/dA (heads T)]. Batch sums (biases, positions) run in a fixed
 * order, the same for every thread count.
 */
#include <math.h>
#include <string.h>

#include "common/linalg.h"
#include "core/kernels.h"
#include "model/layers.h"

#define LN_EPS 1e-5

/* Offsets within a cache row (and the scratch row). */
typedef struct attn_off {
    size_t S, qkv, att, y2, pi, r1, r2, A; /* cache */
    size_t dpi, dy, datt, dqkv, dA;        /* scratch; dx at 0 */
} attn_off;

static attn_off attn_offsets(const hj_layer *L)
{
    const size_t H = L->width, T = L->steps, nh = L->heads ? L->heads : 1;
    attn_off o;
    o.qkv = H, o.att = 4 * H, o.y2 = 5 * H, o.pi = 6 * H, o.r1 = 7 * H, o.r2 = 7 * H + 1;
    o.A = 7 * H + 2, o.S = 7 * H + 2 + nh * T;
    o.dpi = H, o.dy = 2 * H, o.datt = 3 * H, o.dqkv = 4 * H, o.dA = 7 * H;
    return o;
}

typedef struct attn_par {
    const double *E, *e, *pos, *Wq, *Wo, *K, *beta, *V;
} attn_par;

static attn_par attn_params(const hj_layer *L, const double *P)
{
    const size_t H = L->width, d = L->step_in, T = L->steps;
    attn_par p;
    p.E = P, p.e = P + H * d, p.pos = p.e + H, p.Wq = p.pos + T * H;
    p.Wo = p.Wq + 3 * H * H, p.K = p.Wo + H * H, p.beta = p.K + H * H, p.V = p.beta + H;
    return p;
}

size_t hj__attn_cache_width(const hj_layer *L) { return L->steps * attn_offsets(L).S; }

/* LN of each of the rows of X (rows, H) into Y (stride S), rstd into R (stride S). */
static void layer_norm_rows(const double *X, double *Y, double *R, size_t rows, size_t H, size_t S)
{
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (rows * H >= HJ_PARALLEL_MIN_WORK)
#endif
    for (size_t r = 0; r < rows; r++)
        hj__layer_norm(X + r * H, 1, H, LN_EPS, Y + r * S, R + r * S);
}

/* dX (stride S) += the LN backward of dY (stride S), Y, R (stride S), row by row. */
static void layer_norm_rows_backward(double *dX, const double *dY, const double *Y, const double *R,
                                     size_t rows, size_t H, size_t S)
{
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (rows * H >= HJ_PARALLEL_MIN_WORK)
#endif
    for (size_t r = 0; r < rows; r++)
        hj__layer_norm_backward(dX + r * S, dY + r * S, Y + r * S, R + r * S, 1, H);
}

/* a . b over n entries in four interleaved partial sums (a chain of one sum would wait
 * on each addition; the order is fixed, so the bits do not depend on the threads). */
static double dot(const double *a, const double *b, size_t n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t t = 0;
    for (; t + 4 <= n; t += 4) {
        s0 += a[t] * b[t];
        s1 += a[t + 1] * b[t + 1];
        s2 += a[t + 2] * b[t + 2];
        s3 += a[t + 3] * b[t + 3];
    }
    for (; t < n; t++)
        s0 += a[t] * b[t];
    return (s0 + s1) + (s2 + s3);
}

/* The softmax backward in place: g (M) holds dL/dpi on entry, f dL/dz on return for
 * pi = softmax(z): g_j = f pi_j (g_j - <pi, g>). f = 1/sqrt(dh) for the heads' scores,
 * 1/eps for the Gibbs weights (0 at eps = 0, where pi is piecewise constant): the
 * step of layer_math.c's hj__gibbs_weights_backward with a general factor f, so
 * that one function serves the heads and the feed-forward here. */
static void softmax_backward(double *g, const double *pi, size_t M, double f)
{
    const double mean = dot(pi, g, M);
    for (size_t j = 0; j < M; j++)
        g[j] = f * pi[j] * (g[j] - mean);
}

void hj__attn_forward(const hj_layer *L, double *out, double *cache, const double *in, const double *P,
                      size_t n, double eps)
{
    const size_t T = L->steps, d = L->step_in, H = L->width, rows = n * T;
    const size_t nh = L->heads ? L->heads : 1, dh = H / nh;
    const attn_off o = attn_offsets(L);
    const attn_par p = attn_params(L, P);
    const size_t S = o.S;
    const double scale = 1.0 / sqrt((double)dh);
    const int par = rows * (H + T) * H >= HJ_PARALLEL_MIN_WORK;
#ifndef HJDL_HAVE_OPENMP
    (void)par;
#endif
    /* the embedding x = u E^T + e + pos, held in out (the residual stream) */
    hj__gemm(0, 1, rows, H, d, 1.0, in, d, p.E, d, 0.0, out, H);
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < H; j++)
            out[r * H + j] += p.e[j] + p.pos[(r % T) * H + j];
    /* attention: q, k, v of LN(x) in one GEMM, the causal heads per point */
    layer_norm_rows(out, cache, cache + o.r1, rows, H, S);
    hj__gemm(0, 1, rows, 3 * H, H, 1.0, cache, S, p.Wq, H, 0.0, cache + o.qkv, S);
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (par)
#endif
    for (size_t i = 0; i < n; i++) {
        double *c = cache + i * T * S;
        for (size_t h = 0; h < nh; h++)
            for (size_t k = 0; k < T; k++) {
                const double *q = c + k * S + o.qkv + h * dh;
                double *A = c + k * S + o.A + h * T, *att = c + k * S + o.att + h * dh;
                for (size_t j = 0; j <= k; j++) {
                    A[j] = dot(q, c + j * S + o.qkv + H + h * dh, dh) * scale;
                }
                hj__lse_full(A, k + 1, 1.0, A, NULL, NULL);
                memset(A + k + 1, 0, (T - k - 1) * sizeof *A);
                memset(att, 0, dh * sizeof *att);
                for (size_t j = 0; j <= k; j++) {
                    const double *vj = c + j * S + o.qkv + 2 * H + h * dh;
                    HJ_SIMD()
                    for (size_t t = 0; t < dh; t++)
                        att[t] += A[j] * vj[t];
                }
            }
    }
    hj__gemm(0, 1, rows, H, H, 1.0, cache + o.att, S, p.Wo, H, 1.0, out, H);
    /* the Gibbs feed-forward of LN(x): pi = softmax((K y2 + beta)/eps), x += pi V */
    layer_norm_rows(out, cache + o.y2, cache + o.r2, rows, H, S);
    hj__gemm(0, 1, rows, H, H, 1.0, cache + o.y2, S, p.K, H, 0.0, cache + o.pi, S);
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (par)
#endif
    for (size_t r = 0; r < rows; r++) {
        double *z = cache + r * S + o.pi;
        for (size_t j = 0; j < H; j++)
            z[j] += p.beta[j];
        hj__lse_full(z, H, eps, z, NULL, NULL);
    }
    hj__gemm(0, 0, rows, H, H, 1.0, cache + o.pi, S, p.V, H, 1.0, out, H);
}

void hj__attn_backward(const hj_layer *L, double *din, double *dP, double *dz, const double *dout,
                       const double *cache, const double *in, const double *P, size_t n, double eps)
{
    const size_t T = L->steps, d = L->step_in, H = L->width, rows = n * T;
    const size_t nh = L->heads ? L->heads : 1, dh = H / nh;
    const attn_off o = attn_offsets(L);
    const attn_par p = attn_params(L, P);
    const size_t S = o.S;
    const double scale = 1.0 / sqrt((double)dh);
    const int par = rows * (H + T) * H >= HJ_PARALLEL_MIN_WORK;
#ifndef HJDL_HAVE_OPENMP
    (void)par;
#endif
    double *dE = dP, *de = dE + H * d, *dpos = de + H, *dWq = dpos + T * H;
    double *dWo = dWq + 3 * H * H, *dK = dWo + H * H, *dbeta = dK + H * H, *dV = dbeta + H;
    /* the feed-forward: dV += pi^T dx, dL/dpi = dx V^T, its Gibbs backward dz,
     * dK += dz^T y2, dbeta += sums, dy2 = dz K; dx += LN backward of dy2 */
    for (size_t r = 0; r < rows; r++)
        memcpy(dz + r * S, dout + r * H, H * sizeof *dz);
    hj__gemm(1, 0, H, H, rows, 1.0, cache + o.pi, S, dout, H, 1.0, dV, H);
    hj__gemm(0, 1, rows, H, H, 1.0, dout, H, p.V, H, 0.0, dz + o.dpi, S);
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (par)
#endif
    for (size_t r = 0; r < rows; r++)
        softmax_backward(dz + r * S + o.dpi, cache + r * S + o.pi, H, eps > 0.0 ? 1.0 / eps : 0.0);
    hj__gemm(1, 0, H, H, rows, 1.0, dz + o.dpi, S, cache + o.y2, S, 1.0, dK, H);
    hj__add_column_sums(dbeta, dz + o.dpi, rows, H, S);
    hj__gemm(0, 0, rows, H, H, 1.0, dz + o.dpi, S, p.K, H, 0.0, dz + o.dy, S);
    layer_norm_rows_backward(dz, dz + o.dy, cache + o.y2, cache + o.r2, rows, H, S);
    /* the output projection: dWo += dx^T att, datt = dx Wo */
    hj__gemm(1, 0, H, H, rows, 1.0, dz, S, cache + o.att, S, 1.0, dWo, H);
    hj__gemm(0, 0, rows, H, H, 1.0, dz, S, p.Wo, H, 0.0, dz + o.datt, S);
    /* the causal heads, per point: dv_j += A_kj datt_k, dL/dA_kj = datt_k . v_j,
     * dS = the softmax backward, dq_k = scale sum_j dS_kj k_j, dk_j += scale dS_kj q_k */
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (par)
#endif
    for (size_t i = 0; i < n; i++) {
        const double *c = cache + i * T * S;
        double *g = dz + i * T * S;
        for (size_t k = 0; k < T; k++)
            memset(g + k * S + o.dqkv, 0, 3 * H * sizeof *g);
        for (size_t h = 0; h < nh; h++)
            for (size_t k = 0; k < T; k++) {
                const double *A = c + k * S + o.A + h * T, *q = c + k * S + o.qkv + h * dh;
                const double *datt = g + k * S + o.datt + h * dh;
                double *dA = g + k * S + o.dA, *dq = g + k * S + o.dqkv + h * dh;
                for (size_t j = 0; j <= k; j++) {
                    const double *vj = c + j * S + o.qkv + 2 * H + h * dh;
                    double *dvj = g + j * S + o.dqkv + 2 * H + h * dh;
                    HJ_SIMD()
                    for (size_t t = 0; t < dh; t++)
                        dvj[t] += A[j] * datt[t];
                    dA[j] = dot(datt, vj, dh);
                }
                softmax_backward(dA, A, k + 1, scale);
                for (size_t j = 0; j <= k; j++) {
                    const double ds = dA[j];
                    const double *kj = c + j * S + o.qkv + H + h * dh;
                    double *dkj = g + j * S + o.dqkv + H + h * dh;
                    HJ_SIMD()
                    for (size_t t = 0; t < dh; t++) {
                        dq[t] += ds * kj[t];
                        dkj[t] += ds * q[t];
                    }
                }
            }
    }
    /* the projections: d[Wq; Wk; Wv] += dqkv^T y1, dy1 = dqkv [Wq; Wk; Wv];
     * dx += LN backward of dy1 */
    hj__gemm(1, 0, 3 * H, H, rows, 1.0, dz + o.dqkv, S, cache, S, 1.0, dWq, H);
    hj__gemm(0, 0, rows, H, 3 * H, 1.0, dz + o.dqkv, S, p.Wq, H, 0.0, dz + o.dy, S);
    layer_norm_rows_backward(dz, dz + o.dy, cache, cache + o.r1, rows, H, S);
    /* the embedding: dE += dx^T u, de and dpos += sums, din = dx E */
    hj__gemm(1, 0, H, d, rows, 1.0, dz, S, in, d, 1.0, dE, d);
    hj__add_column_sums(de, dz, rows, H, S);
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < H; j++)
            dpos[(r % T) * H + j] += dz[r * S + j];
    if (din)
        hj__gemm(0, 0, rows, d, H, 1.0, dz, S, p.E, d, 0.0, din, d);
}

/* Initialisation: every matrix ~ N(0, 1/fan_in) (E: 1/d; the (H, H) maps: 1/H), the
 * biases e, beta = 0, and learned positions pos ~ N(0, 0.02^2). Small random positions
 * rather than sinusoids: the causal mask already tells the steps apart (query k sees k
 * keys), so the block need not be given an order at the start, and small entries leave
 * the embedding of the inputs, O(1) per entry, to dominate LN(x) until the positions are
 * learned (the GPT-2 convention). */
void hj__attn_init(const hj_layer *L, double *P, hj_rng *rng)
{
    const size_t H = L->width, d = L->step_in, T = L->steps;
    double *E = P, *e = E + H * d, *pos = e + H, *W = pos + T * H, *beta = W + 5 * H * H,
           *V = beta + H;
    for (size_t k = 0; k < H * d; k++)
        E[k] = hj_rng_normal(rng) / sqrt((double)d);
    memset(e, 0, H * sizeof *e);
    for (size_t k = 0; k < T * H; k++)
        pos[k] = 0.02 * hj_rng_normal(rng);
    for (size_t k = 0; k < 5 * H * H; k++)
        W[k] = hj_rng_normal(rng) / sqrt((double)H);
    memset(beta, 0, H * sizeof *beta);
    for (size_t k = 0; k < H * H; k++)
        V[k] = hj_rng_normal(rng) / sqrt((double)H);
}
