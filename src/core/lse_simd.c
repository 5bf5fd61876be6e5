/* lse_simd.c — blocked AVX-512 LSE kernels: register-blocked logits, max-shifted glibc vector exp, Gibbs weights, gradients.
 *
 * Layout (see core-impl.h): the layer is packed once per call as wT (d, Np)
 * and bT (Np), neurons contiguous, so one vector holds 8 neurons' values of
 * one coordinate. A block of HJ_BLK_P = 8 points is processed at a time:
 *   1. logits: 8 points x 16 neurons in 16 accumulators, each wT vector
 *      loaded once for the 8 points, each x_ik broadcast once for 16
 *      neurons; z_ij = b_j + sum_k w_jk x_ik by FMA in k order (exactly as
 *      hj__layer_logits forms them on the same CPU). This runs at OpenBLAS
 *      dgemm's rate: at d = 64, n = 4000, N = 1000 one thread does the whole
 *      forward pass in 8.0 ms, of which the logits at dgemm's measured
 *      41 G multiply-adds/s per core would take 6.2 ms and the exps 2.0 ms,
 *      so no dgemm call (with its packing, and its own thread pool fighting
 *      the OpenMP one) is made at any d;
 *   2. per point: the max (4 accumulators), then one pass t = (z - m)/eps
 *      (multiplied by 1/eps when that is a normal number: one rounding more
 *      than a division, a relative error below 2^-52 |t| in a weight, where
 *      a division would cost more than the exp), clamped at -708,
 *      e = exp(t) by glibc's libmvec _ZGVeN8v_exp (its 8-wide AVX-512 exp,
 *      within 4 ulp, 2 ulp measured; 0.49 ns per element on one core here
 *      against 2.7 ns for scalar exp and 0.76 ns for SLEEF 3.5's u10 AVX-512
 *      exp), flushed to 0 below 1e-307 (hj__lse_full flushes the same
 *      weights when it clamps), summed in two 8-lane accumulators;
 *   3. the caller's outputs: f = m + eps log s, pi = e / s, grad.
 * Every per-point quantity is computed by the same instruction sequence
 * whatever block or thread the point is in, and a short last block is
 * padded with copies of its last point, so results do not depend on the
 * thread count. Compiled with target("avx512f") and used only when the CPU
 * has AVX-512F (hj__simd_avx512); everything else, and eps == 0, takes the
 * portable row-by-row path.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core-impl.h"
#include "hjdl/lse.h"

double *hj__alloc_aligned(size_t n)
{
    size_t bytes = (n ? n : 1) * sizeof(double);
    bytes = (bytes + 63) / 64 * 64;
    return aligned_alloc(64, bytes);
}

int hj__pack_layer(hj__packed_layer *pk, const double *w, const double *b, size_t N, size_t d,
                   double eps)
{
    const size_t Np = hj__np(N);
    pk->N = N;
    pk->Np = Np;
    pk->d = d;
    pk->eps = eps;
    const double inv = 1.0 / eps;
    pk->inv_eps = isnormal(inv) ? inv : 0.0;
    pk->wT = hj__alloc_aligned((d + 1) * Np);
    if (pk->wT == NULL)
        return 1;
    pk->bT = pk->wT + d * Np;
    for (size_t k = 0; k < d; k++) {
        double *row = pk->wT + k * Np;
        for (size_t j = 0; j < N; j++)
            row[j] = w[j * d + k];
        for (size_t j = N; j < Np; j++)
            row[j] = 0.0;
    }
    for (size_t j = 0; j < N; j++)
        pk->bT[j] = b[j];
    for (size_t j = N; j < Np; j++)
        pk->bT[j] = -INFINITY;
    return 0;
}

void hj__block_transpose(const double *x, size_t valid, size_t d, double *xT)
{
    for (size_t p = 0; p < HJ_BLK_P; p++) {
        const double *xp = x + (p < valid ? p : valid - 1) * d;
        for (size_t k = 0; k < d; k++)
            xT[k * HJ_BLK_P + p] = xp[k];
    }
}

void hj__packed_free(hj__packed_layer *pk)
{
    free(pk->wT);
    pk->wT = pk->bT = NULL;
}

#ifdef HJ_HAVE_AVX512_KERNELS
#include <immintrin.h>

/* glibc libmvec: exp on 8 doubles (AVX-512 variant of the vector ABI). */
__m512d _ZGVeN8v_exp(__m512d x);

#define HJ_AVX512 __attribute__((target("avx512f")))

int hj__simd_avx512(void)
{
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

/* Repeat X(p) for the 8 points of a block. */
#define REP8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* Logits of the block into Z (HJ_BLK_P, Np); xT (d, HJ_BLK_P). */
HJ_AVX512 static void block_logits(const hj__packed_layer *pk, const double *xT, double *Z)
{
    const size_t d = pk->d, Np = pk->Np;
    const double *wT = pk->wT, *bT = pk->bT;
    size_t j = 0;
    for (; j + 2 * HJ_VEC <= Np; j += 2 * HJ_VEC) {
        const __m512d b0 = _mm512_load_pd(bT + j), b1 = _mm512_load_pd(bT + j + HJ_VEC);
#define DECL_ACC2(p) __m512d a##p##0 = b0, a##p##1 = b1;
        REP8(DECL_ACC2)
        const double *wk = wT + j, *xk = xT;
        for (size_t k = 0; k < d; k++, wk += Np, xk += HJ_BLK_P) {
            const __m512d w0 = _mm512_load_pd(wk), w1 = _mm512_load_pd(wk + HJ_VEC);
#define STEP2(p)                                                                                  \
    {                                                                                             \
        const __m512d xv = _mm512_set1_pd(xk[p]);                                                 \
        a##p##0 = _mm512_fmadd_pd(w0, xv, a##p##0);                                               \
        a##p##1 = _mm512_fmadd_pd(w1, xv, a##p##1);                                               \
    }
            REP8(STEP2)
        }
#define STORE2(p)                                                                                 \
    _mm512_store_pd(Z + (p) * Np + j, a##p##0);                                                   \
    _mm512_store_pd(Z + (p) * Np + j + HJ_VEC, a##p##1);
        REP8(STORE2)
    }
    if (j < Np) { /* one vector of neurons left */
        const __m512d b0 = _mm512_load_pd(bT + j);
#define DECL_ACC1(p) __m512d a##p##0 = b0;
        REP8(DECL_ACC1)
        const double *wk = wT + j, *xk = xT;
        for (size_t k = 0; k < d; k++, wk += Np, xk += HJ_BLK_P) {
            const __m512d w0 = _mm512_load_pd(wk);
#define STEP1(p) a##p##0 = _mm512_fmadd_pd(w0, _mm512_set1_pd(xk[p]), a##p##0);
            REP8(STEP1)
        }
#define STORE1(p) _mm512_store_pd(Z + (p) * Np + j, a##p##0);
        REP8(STORE1)
    }
}

/* max of a row z (Np), in 4 accumulators (a single max chain is
 * latency-bound; named variables, as GCC keeps arrays of vectors in memory). */
HJ_AVX512 static double row_max(const double *z, size_t Np)
{
    __m512d m0 = _mm512_load_pd(z), m1 = m0, m2 = m0, m3 = m0;
    size_t j = 0;
    for (; j + 4 * HJ_VEC <= Np; j += 4 * HJ_VEC) {
        m0 = _mm512_max_pd(m0, _mm512_load_pd(z + j));
        m1 = _mm512_max_pd(m1, _mm512_load_pd(z + j + HJ_VEC));
        m2 = _mm512_max_pd(m2, _mm512_load_pd(z + j + 2 * HJ_VEC));
        m3 = _mm512_max_pd(m3, _mm512_load_pd(z + j + 3 * HJ_VEC));
    }
    for (; j < Np; j += HJ_VEC)
        m0 = _mm512_max_pd(m0, _mm512_load_pd(z + j));
    return _mm512_reduce_max_pd(_mm512_max_pd(_mm512_max_pd(m0, m1), _mm512_max_pd(m2, m3)));
}

/* One vector of a row: t = (z - m)/eps (times 1/eps when inv is given),
 * clamped at -708, e = exp(t), flushed below 1e-307. */
#define EXP_STEP(t_expr, out)                                                                     \
    {                                                                                             \
        __m512d e_ = _ZGVeN8v_exp(_mm512_max_pd(t_expr, _mm512_set1_pd(-708.0)));               \
        out = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(e_, _mm512_set1_pd(1e-307), _CMP_GE_OQ), e_); \
    }

/* t = (z - m) * scale when mul, else (z - m) / scale (mul is a constant at
 * every call, so the branch folds away). */
HJ_AVX512 static inline __attribute__((always_inline)) __m512d shifted(const double *z, __m512d vm,
                                                                      __m512d vscale, int mul)
{
    const __m512d t = _mm512_sub_pd(_mm512_load_pd(z), vm);
    return mul ? _mm512_mul_pd(t, vscale) : _mm512_div_pd(t, vscale);
}

/* row_exp's loop with t = (z - m) * scale (mul) or (z - m) / scale. */
HJ_AVX512 static inline __attribute__((always_inline)) double row_exp_loop(double *z, size_t Np,
                                                                          double m, double scale,
                                                                          int mul)
{
    const __m512d vm = _mm512_set1_pd(m), vs = _mm512_set1_pd(scale);
    __m512d a0 = _mm512_setzero_pd(), a1 = a0, e0, e1;
    size_t j = 0;
    for (; j + 2 * HJ_VEC <= Np; j += 2 * HJ_VEC) {
        EXP_STEP(shifted(z + j, vm, vs, mul), e0)
        _mm512_store_pd(z + j, e0);
        EXP_STEP(shifted(z + j + HJ_VEC, vm, vs, mul), e1)
        _mm512_store_pd(z + j + HJ_VEC, e1);
        a0 = _mm512_add_pd(a0, e0);
        a1 = _mm512_add_pd(a1, e1);
    }
    if (j < Np) {
        EXP_STEP(shifted(z + j, vm, vs, mul), e0)
        _mm512_store_pd(z + j, e0);
        a0 = _mm512_add_pd(a0, e0);
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
}

/* Row z (Np) -> e = exp((z - m)/eps) in place (flushed); returns sum e. One
 * pass (the row may live in L2 for large N), two vectors per iteration into
 * two accumulators (the accumulators are spilled around the exp calls; two
 * chains hide that latency). Multiplies by inv_eps when it is set. */
HJ_AVX512 static double row_exp(double *z, size_t Np, double m, double eps, double inv_eps)
{
    return inv_eps != 0.0 ? row_exp_loop(z, Np, m, inv_eps, 1) : row_exp_loop(z, Np, m, eps, 0);
}

HJ_AVX512 void hj__lse_block(const hj__packed_layer *pk, const double *xT, double *Z, double *m,
                             double *s)
{
    block_logits(pk, xT, Z);
    for (size_t p = 0; p < HJ_BLK_P; p++) {
        double *z = Z + p * pk->Np;
        m[p] = row_max(z, pk->Np);
        s[p] = row_exp(z, pk->Np, m[p], pk->eps, pk->inv_eps);
    }
}

/* grad (valid, d): grad_ik = (sum_j e_ij w_jk) / s_i, two coordinates at a time. */
HJ_AVX512 static void block_grad(const hj__packed_layer *pk, const double *Z, const double *s,
                                 size_t valid, double *grad)
{
    const size_t d = pk->d, Np = pk->Np;
    double g[HJ_BLK_P][2];
    for (size_t k = 0; k < d; k += 2) {
        const int two = k + 1 < d;
        const double *w0p = pk->wT + k * Np, *w1p = pk->wT + (two ? k + 1 : k) * Np;
#define DECL_G(p) __m512d g##p##0 = _mm512_setzero_pd(), g##p##1 = _mm512_setzero_pd();
        REP8(DECL_G)
        for (size_t j = 0; j < Np; j += HJ_VEC) {
            const __m512d w0 = _mm512_load_pd(w0p + j), w1 = _mm512_load_pd(w1p + j);
#define STEP_G(p)                                                                                 \
    {                                                                                             \
        const __m512d e = _mm512_load_pd(Z + (p) * Np + j);                                       \
        g##p##0 = _mm512_fmadd_pd(e, w0, g##p##0);                                                \
        g##p##1 = _mm512_fmadd_pd(e, w1, g##p##1);                                                \
    }
            REP8(STEP_G)
        }
#define RED_G(p)                                                                                  \
    g[p][0] = _mm512_reduce_add_pd(g##p##0);                                                      \
    g[p][1] = _mm512_reduce_add_pd(g##p##1);
        REP8(RED_G)
        for (size_t p = 0; p < valid; p++) {
            const double inv = 1.0 / s[p];
            grad[p * d + k] = g[p][0] * inv;
            if (two)
                grad[p * d + k + 1] = g[p][1] * inv;
        }
    }
}

HJ_AVX512 void hj__lse_block_outputs(const hj__packed_layer *pk, const double *Z, const double *m,
                                     const double *s, size_t valid, double *f, double *pi,
                                     double *grad)
{
    const size_t N = pk->N, Np = pk->Np;
    for (size_t p = 0; p < valid; p++) {
        f[p] = m[p] + pk->eps * log(s[p]);
        if (pi == NULL)
            continue;
        const __m512d vinv = _mm512_set1_pd(1.0 / s[p]);
        const double *e = Z + p * Np;
        double *row = pi + p * N;
        size_t j = 0;
        for (; j + HJ_VEC <= N; j += HJ_VEC)
            _mm512_storeu_pd(row + j, _mm512_mul_pd(_mm512_load_pd(e + j), vinv));
        if (j < N) {
            const __mmask8 k = (__mmask8)((1u << (N - j)) - 1u);
            _mm512_mask_storeu_pd(row + j, k, _mm512_mul_pd(_mm512_load_pd(e + j), vinv));
        }
    }
    if (grad)
        block_grad(pk, Z, s, valid, grad);
}

#else /* no AVX-512 kernels in this build */

int hj__simd_avx512(void)
{
    return 0;
}

void hj__lse_block(const hj__packed_layer *pk, const double *xT, double *Z, double *m, double *s)
{
    (void)pk, (void)xT, (void)Z, (void)m, (void)s;
}

void hj__lse_block_outputs(const hj__packed_layer *pk, const double *Z, const double *m,
                           const double *s, size_t valid, double *f, double *pi, double *grad)
{
    (void)pk, (void)Z, (void)m, (void)s, (void)valid, (void)f, (void)pi, (void)grad;
}
#endif

/* The portable path: one row at a time through hj__lse_full (the reference
 * kernel). Also the only path at eps == 0 (ties need exact comparisons, and
 * that case is not performance-critical). */
static int forward_rows(const hj_lse_layer *L, const double *x, size_t n, double *f, double *pi,
                        double *grad)
{
    const size_t N = L->N, d = L->d;
    const int parallel = n * N * (d + 8) >= HJ_PARALLEL_MIN_WORK;
    const size_t nthreads = parallel ? HJ_MAX_THREADS() : 1;
    double *scratch = malloc(nthreads * 2 * N * sizeof *scratch);
    if (scratch == NULL)
        return 1;
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel num_threads((int)nthreads) if (parallel)
#endif
    {
        double *z = scratch + HJ_THREAD_ID() * 2 * N;
        double *p_own = z + N;
#ifdef HJDL_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
        for (size_t i = 0; i < n; i++) {
            double *p = pi ? pi + i * N : p_own;
            hj__layer_logits(L, x + i * d, z);
            f[i] = hj__lse_full(z, N, L->eps, p, NULL, NULL);
            if (grad)
                hj__pi_mean(p, L->w, N, d, grad + i * d);
        }
    }
    free(scratch);
    return 0;
}

int hj__lse_forward_impl(const hj_lse_layer *L, const double *x, size_t n, double *f, double *pi,
                         double *grad, int simd)
{
    if (n == 0)
        return 0;
    if (!simd || !hj__simd_avx512() || L->eps == 0.0)
        return forward_rows(L, x, n, f, pi, grad);
    const size_t N = L->N, d = L->d, Np = hj__np(N);
    hj__packed_layer pk;
    if (hj__pack_layer(&pk, L->w, L->b, N, d, L->eps))
        return 1;
    const size_t nblk = (n + HJ_BLK_P - 1) / HJ_BLK_P;
    const int parallel = nblk > 1 && n * N * (d + 8) >= HJ_PARALLEL_MIN_WORK;
    const size_t nthreads = parallel ? HJ_MAX_THREADS() : 1;
    /* per thread: Z (P, Np), the transposed block xT (d, P), m, s */
    const size_t per = HJ_BLK_P * Np + hj__np(HJ_BLK_P * d) + 2 * HJ_VEC;
    double *scratch = hj__alloc_aligned(nthreads * per);
    if (scratch == NULL) {
        hj__packed_free(&pk);
        return 1;
    }
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel num_threads((int)nthreads) if (parallel)
#endif
    {
        double *Z = scratch + HJ_THREAD_ID() * per, *xT = Z + HJ_BLK_P * Np;
        double *m = xT + hj__np(HJ_BLK_P * d), *s = m + HJ_VEC;
#ifdef HJDL_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
        for (size_t blk = 0; blk < nblk; blk++) {
            const size_t i0 = blk * HJ_BLK_P;
            const size_t valid = n - i0 < HJ_BLK_P ? n - i0 : HJ_BLK_P;
            hj__block_transpose(x + i0 * d, valid, d, xT);
            hj__lse_block(&pk, xT, Z, m, s);
            hj__lse_block_outputs(&pk, Z, m, s, valid, f + i0, pi ? pi + i0 * N : NULL,
                                  grad ? grad + i0 * d : NULL);
        }
    }
    free(scratch);
    hj__packed_free(&pk);
    return 0;
}
