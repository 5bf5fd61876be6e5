/* seq_ssm.c — the ssm:H sequence layer: a diagonal linear state space (zero-order hold,
 * S4D real) with a softplus_eps read-out, its backprop through time, batched over the
 * sequences (GEMMs through hj__gemm) and threaded over them; shapes in layers.h.
 *
 *   A_n = -exp(a_n), Delta = exp(log_dt), x_n = Delta A_n, Abar_n = exp(x_n),
 *   beta_n = (Abar_n - 1)/A_n = expm1(x_n)/A_n  (Bbar = diag(beta) B),
 *   h_0 = 0, h_{k+1} = Abar h_k + beta (B u_k),  out_k = softplus_eps(C h_{k+1} + c),
 *   P = [a (H), B (H, d), C (H, H), log_dt (1), c (H)].
 *
 * Cache, per point (3 T H doubles), one row of 3H per step k = 0..T-1:
 *   [h_{k+1} (H) | softplus_eps'(pre_k), pre_k = C h_{k+1} + c (H) | bu_k = B u_k (H)],
 * so that over the batch the n T rows of each part have the one stride 3H and feed a
 * GEMM directly. The backward's scratch dz has the same rows:
 *   [dL/dpre_k, then step k's part of dL/da | lam_k = dL/dh_{k+1}, then its part of
 *    dL/dlog_dt | beta lam_k],
 * the per-step parts being summed over the batch in a fixed order (the same for every
 * thread count).
 */
#include <math.h>
#include <string.h>

#include "common/linalg.h"
#include "core/kernels.h"
#include "model/layers.h"

typedef struct ssm_coef {
    double Abar;     /* exp(x), x = Delta A */
    double beta;     /* expm1(x) / A */
    double dAbar;    /* d Abar / d a_n = d Abar / d log_dt = x exp(x) */
    double dbeta_a;  /* d beta / d a_n = Delta (x e^x - expm1(x)) / x */
    double dbeta_dt; /* d beta / d log_dt = Delta Abar */
} ssm_coef;

/* (x e^x - expm1(x)) / x = sum_{k >= 2} (k - 1) x^(k-1) / k!, without the cancellation
 * of the closed form near x = 0 (where it is x/2 + x^2/3 + ...). */
static double zoh_slope(double x)
{
    if (fabs(x) >= 1.0)
        return (exp(x) * (x - 1.0) + 1.0) / x;
    double term = 1.0, sum = 0.0; /* term = x^(k-1) / k! */
    for (int k = 2; k <= 24; k++) {
        term *= (k == 2 ? x / 2.0 : x / (double)k);
        sum += (double)(k - 1) * term;
    }
    return sum;
}

static ssm_coef ssm_coef_of(double a_n, double log_dt)
{
    ssm_coef c;
    const double dt = exp(log_dt), A = -exp(a_n), x = dt * A;
    c.Abar = exp(x);
    c.beta = A != 0.0 ? expm1(x) / A : dt; /* A underflows to 0 only for a_n < -745 */
    c.dAbar = x * c.Abar;
    c.dbeta_a = dt * zoh_slope(x);
    c.dbeta_dt = dt * c.Abar;
    return c;
}

size_t hj__ssm_cache_width(const hj_layer *L) { return 3 * L->steps * L->width; }

/* The modes are visited in blocks of SSM_BLOCK, so that each step of the recurrence is
 * a short contiguous vector loop with the block's coefficients on the stack. */
#define SSM_BLOCK 32

/* The coefficients of modes j0 .. j0 + nb - 1. */
static void block_coefs(ssm_coef *cf, const double *a, double log_dt, size_t j0, size_t nb)
{
    for (size_t j = 0; j < nb; j++)
        cf[j] = ssm_coef_of(a[j0 + j], log_dt);
}

void hj__ssm_forward(const hj_layer *L, double *out, double *cache, const double *in, const double *P,
                     size_t n, double eps)
{
    const size_t T = L->steps, d = L->step_in, H = L->width, W = 3 * H, rows = n * T;
    const double *a = P, *B = P + H, *C = B + H * d, log_dt = C[H * H], *c = C + H * H + 1;
    /* bu_k = B u_k for every point and step at once */
    hj__gemm(0, 1, rows, H, d, 1.0, in, d, B, d, 0.0, cache + 2 * H, W);
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (rows * H >= HJ_PARALLEL_MIN_WORK)
#endif
    for (size_t i = 0; i < n; i++) {
        double *r = cache + i * T * W;
        for (size_t j0 = 0; j0 < H; j0 += SSM_BLOCK) {
            const size_t nb = H - j0 < SSM_BLOCK ? H - j0 : SSM_BLOCK;
            ssm_coef cf[SSM_BLOCK];
            block_coefs(cf, a, log_dt, j0, nb);
            for (size_t j = 0; j < nb; j++)
                r[j0 + j] = cf[j].beta * r[2 * H + j0 + j];
            for (size_t k = 1; k < T; k++) {
                double *h = r + k * W + j0;
                for (size_t j = 0; j < nb; j++)
                    h[j] = cf[j].Abar * h[j - W] + cf[j].beta * h[2 * H + j];
            }
        }
    }
    hj__gemm(0, 1, rows, H, H, 1.0, cache, W, C, H, 0.0, cache + H, W);
    /* out = softplus_eps(pre); the cache keeps softplus_eps'(pre) in pre's place (one
     * exp for both, as hj_softplus and hj_softplus_grad compute them) */
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (rows * H >= HJ_PARALLEL_MIN_WORK)
#endif
    for (size_t r = 0; r < rows; r++) {
        double *pre = cache + r * W + H, *o = out + r * H;
        for (size_t j = 0; j < H; j++) {
            const double z = pre[j] + c[j];
            if (eps == 0.0) {
                o[j] = z > 0.0 ? z : 0.0;
                pre[j] = z > 0.0 ? 1.0 : (z < 0.0 ? 0.0 : 0.5);
                continue;
            }
            const double e = exp(-fabs(z) / eps);
            o[j] = (z > 0.0 ? z : 0.0) + eps * log1p(e);
            pre[j] = z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        }
    }
}

void hj__ssm_backward(const hj_layer *L, double *din, double *dP, double *dz, const double *dout,
                      const double *cache, const double *in, const double *P, size_t n, double eps)
{
    const size_t T = L->steps, d = L->step_in, H = L->width, W = 3 * H, rows = n * T;
    const double *a = P, *B = P + H, *C = B + H * d, log_dt = C[H * H];
    double *da = dP, *dB = dP + H, *dC = dB + H * d, *dlog_dt = dC + H * H, *dc = dlog_dt + 1;
    const int par = rows * H >= HJ_PARALLEL_MIN_WORK;
#ifndef HJDL_HAVE_OPENMP
    (void)par;
#endif
    (void)eps; /* the forward cached softplus_eps'(pre) */
    /* the read-out: dpre = dout softplus'(pre); dC += dpre^T h, dc += sums; dL/dh = dpre C */
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (par)
#endif
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < H; j++)
            dz[r * W + j] = dout[r * H + j] * cache[r * W + H + j];
    hj__gemm(1, 0, H, H, rows, 1.0, dz, W, cache, W, 1.0, dC, H);
    hj__add_column_sums(dc, dz, rows, H, W);
    hj__gemm(0, 0, rows, H, H, 1.0, dz, W, C, H, 0.0, dz + H, W);
    /* backward through time: lam_k = dL/dh_{k+1} = g_k + Abar lam_{k+1}; then per step
     * dL/dAbar = lam_k h_k and dL/dbeta = lam_k bu_k carried to a and log_dt */
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (par)
#endif
    for (size_t i = 0; i < n; i++) {
        const double *r = cache + i * T * W;
        double *g = dz + i * T * W;
        for (size_t j0 = 0; j0 < H; j0 += SSM_BLOCK) {
            const size_t nb = H - j0 < SSM_BLOCK ? H - j0 : SSM_BLOCK;
            ssm_coef cf[SSM_BLOCK];
            double lam[SSM_BLOCK] = {0};
            block_coefs(cf, a, log_dt, j0, nb);
            for (size_t k = T; k-- > 0;) {
                double *gk = g + k * W + j0;
                const double *bu = r + k * W + 2 * H + j0, *hp = k > 0 ? r + (k - 1) * W + j0 : NULL;
                for (size_t j = 0; j < nb; j++) {
                    lam[j] = gk[H + j] + cf[j].Abar * lam[j];
                    const double gA = k > 0 ? lam[j] * hp[j] * cf[j].dAbar : 0.0, gb = lam[j] * bu[j];
                    gk[j] = gA + gb * cf[j].dbeta_a;
                    gk[H + j] = gA + gb * cf[j].dbeta_dt;
                    gk[2 * H + j] = cf[j].beta * lam[j];
                }
            }
        }
    }
    /* the contributions to a and log_dt summed over points and steps in a fixed order */
    double glog = 0.0;
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < H; j++) {
            da[j] += dz[r * W + j];
            glog += dz[r * W + H + j];
        }
    *dlog_dt += glog;
    /* the input map: dB += (beta lam)^T u, din = (beta lam) B */
    hj__gemm(1, 0, H, d, rows, 1.0, dz + 2 * H, W, in, d, 1.0, dB, d);
    if (din)
        hj__gemm(0, 0, rows, d, H, 1.0, dz + 2 * H, W, B, d, 0.0, din, d);
}

/* Initialisation. The modes' decay rates |A_n| = exp(a_n) are spread geometrically over
 * [1, T] (a_n = log(T) n / (H - 1)) and Delta = 1/T, so the per-step decay Delta |A_n|
 * runs from 1/T to 1: the time constants 1 / (Delta |A_n|) cover 1 to T steps, from a
 * mode that sees only the last few inputs to one that keeps e^-1 of the first input at
 * the last step (S4D-real's A_n = -(n + 1/2) with its Delta in [1e-3, 1e-1] is tuned for
 * sequences of thousands of steps; for the T = 28 rows of an image most of its modes
 * would forget, or never move, within the sequence). B ~ N(0, 1/d), C ~ N(0, 1/H), c = 0. */
void hj__ssm_init(const hj_layer *L, double *P, hj_rng *rng)
{
    const size_t T = L->steps, d = L->step_in, H = L->width;
    double *a = P, *B = P + H, *C = B + H * d, *log_dt = C + H * H, *c = log_dt + 1;
    for (size_t j = 0; j < H; j++)
        a[j] = H > 1 ? log((double)T) * (double)j / (double)(H - 1) : 0.0;
    for (size_t k = 0; k < H * d; k++)
        B[k] = hj_rng_normal(rng) / sqrt((double)d);
    for (size_t k = 0; k < H * H; k++)
        C[k] = hj_rng_normal(rng) / sqrt((double)H);
    *log_dt = -log((double)T);
    memset(c, 0, H * sizeof *c);
}
