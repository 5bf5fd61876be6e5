/* lse_simd.c — blocked AVX-512 LSE kernels: register-blocked logits, max-shifted inline vector exp, Gibbs weights, gradients.
 *
 * Layout (see core-impl.h): the layer is packed once per call as wT (d, Np)
 * and bT (Np), neurons contiguous, so one vector holds 8 neurons' values of
 * one coordinate. A block of HJ_BLK_P = 8 points is processed at a time:
 *   1. logits and maxima: 8 points x 16 neurons in 16 accumulators, each wT
 *      vector loaded once for the 8 points, each x_ik broadcast once for 16
 *      neurons; z_ij = b_j + sum_k w_jk x_ik by FMA in k order (exactly as
 *      hj__layer_logits forms them on the same CPU), each point's running
 *      max in 8 more registers. This runs near OpenBLAS dgemm's rate (at
 *      d = 64, n = 4000, N = 1000 the whole forward pass with pi takes
 *      5.0 ms on 2 threads where dgemm's measured 8.0e10 multiply-adds/s
 *      would need 3.2 ms for the logits alone; docs/performance.md), so no
 *      dgemm call (with its packing, and its own thread pool fighting the
 *      OpenMP one) is made at any d;
 *   2. per point one pass t = (z - m)/eps (multiplied by 1/eps when that is
 *      a normal number: one rounding more than a division, a relative error
 *      below 2^-52 |t| in a weight, where a division would cost more than
 *      the exp), e = exp(t) by the inline exp of exp_avx512.h (within 1.02
 *      ulp; weights below 1e-307 are 0, as hj__lse_full flushes them),
 *      summed in two 8-lane accumulators;
 *   3. the caller's outputs: f = m + eps log s, pi = e / s (for a large pi
 *      by streaming stores issued during the next row's exp pass, so the
 *      memory traffic overlaps the arithmetic), grad.
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

int hj__pack_layer_segments(hj__packed_layer *pk, const double *w, const double *b, size_t seg,
                            size_t nseg, size_t d, double eps)
{
    const size_t segp = hj__np(seg), Np = nseg * segp;
    pk->N = seg * nseg;
    pk->Np = Np;
    pk->d = d;
    pk->nseg = nseg;
    pk->seg = seg;
    pk->segp = segp;
    pk->eps = eps;
    const double inv = 1.0 / eps;
    pk->inv_eps = isnormal(inv) ? inv : 0.0;
    pk->wT = hj__alloc_aligned((d + 1) * Np);
    if (pk->wT == NULL)
        return 1;
    pk->bT = pk->wT + d * Np;
    for (size_t c = 0; c < nseg; c++) {
        const double *wc = w + c * seg * d, *bc = b + c * seg;
        for (size_t k = 0; k < d; k++) {
            double *row = pk->wT + k * Np + c * segp;
            for (size_t j = 0; j < seg; j++)
                row[j] = wc[j * d + k];
            for (size_t j = seg; j < segp; j++)
                row[j] = 0.0;
        }
        double *brow = pk->bT + c * segp;
        for (size_t j = 0; j < seg; j++)
            brow[j] = bc[j];
        for (size_t j = seg; j < segp; j++)
            brow[j] = -INFINITY;
    }
    return 0;
}

int hj__pack_layer(hj__packed_layer *pk, const double *w, const double *b, size_t N, size_t d,
                   double eps)
{
    return hj__pack_layer_segments(pk, w, b, N, 1, d, eps);
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

#include "core/exp_avx512.h"

#define HJ_AVX512 __attribute__((target("avx512f")))

int hj__simd_avx512(void)
{
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

/* Repeat X(p) for the 8 points of a block. */
#define REP8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* Logits of the block into Z (HJ_BLK_P, Np) and each point's largest into
 * m (HJ_BLK_P); xT (d, HJ_BLK_P). The maxima ride along in 8 more
 * registers, so the rows are not read again for them. */
HJ_AVX512 static void block_logits(const hj__packed_layer *pk, const double *xT, double *Z,
                                   double *m)
{
    const size_t d = pk->d, Np = pk->Np;
    const double *wT = pk->wT, *bT = pk->bT;
#define DECL_MAX(p) __m512d mx##p = _mm512_set1_pd(-INFINITY);
    REP8(DECL_MAX)
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
    _mm512_store_pd(Z + (p) * Np + j + HJ_VEC, a##p##1);                                          \
    mx##p = _mm512_max_pd(mx##p, _mm512_max_pd(a##p##0, a##p##1));
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
#define STORE1(p)                                                                                 \
    _mm512_store_pd(Z + (p) * Np + j, a##p##0);                                                   \
    mx##p = _mm512_max_pd(mx##p, a##p##0);
        REP8(STORE1)
    }
#define REDUCE_MAX(p) m[p] = _mm512_reduce_max_pd(mx##p);
    REP8(REDUCE_MAX)
}

/* t = (z - m) * scale when mul, else (z - m) / scale (mul is a constant at
 * every call, so the branch folds away). */
HJ_AVX512 static inline __attribute__((always_inline)) __m512d shifted(const double *z, __m512d vm,
                                                                      __m512d vscale, int mul)
{
    const __m512d t = _mm512_sub_pd(_mm512_load_pd(z), vm);
    return mul ? _mm512_mul_pd(t, vscale) : _mm512_div_pd(t, vscale);
}

/* A pi row being streamed out (non-temporal stores) while the next row's
 * exps are computed, so the stores overlap the arithmetic instead of
 * stalling it: dst[v] = src[v] * inv for the ns 8-vectors v of the aligned
 * middle of the row (dst 64-byte aligned). ns = 0: nothing pending. */
typedef struct pending_row {
    const double *src;
    double *dst;
    size_t ns;
    double inv;
} pending_row;

HJ_AVX512 static inline __attribute__((always_inline)) void pending_store(const pending_row *pr,
                                                                         size_t v, __m512d vinv)
{
    if (pr != NULL && v < pr->ns)
        _mm512_stream_pd(pr->dst + v * HJ_VEC,
                         _mm512_mul_pd(_mm512_loadu_pd(pr->src + v * HJ_VEC), vinv));
}

/* row_exp's loop with t = (z - m) * scale (mul) or (z - m) / scale; one
 * vector of the pending row pr (NULL: none) goes out with every vector of
 * exps (pr->ns <= Np / HJ_VEC, so it is done by the end). mul and pr == NULL
 * are constants at every call, so each variant compiles without the tests. */
HJ_AVX512 static inline __attribute__((always_inline)) double
row_exp_loop(double *z, size_t Np, double m, double scale, int mul, const pending_row *pr)
{
    const __m512d vm = _mm512_set1_pd(m), vs = _mm512_set1_pd(scale);
    const __m512d vinv = _mm512_set1_pd(pr ? pr->inv : 0.0);
    const hj__exp_table T = hj__exp_table_load();
    __m512d a0 = _mm512_setzero_pd(), a1 = a0;
    size_t j = 0;
    for (; j + 2 * HJ_VEC <= Np; j += 2 * HJ_VEC) {
        const __m512d e0 = hj__exp_nonpos(shifted(z + j, vm, vs, mul), T);
        const __m512d e1 = hj__exp_nonpos(shifted(z + j + HJ_VEC, vm, vs, mul), T);
        _mm512_store_pd(z + j, e0);
        _mm512_store_pd(z + j + HJ_VEC, e1);
        a0 = _mm512_add_pd(a0, e0);
        a1 = _mm512_add_pd(a1, e1);
        pending_store(pr, j / HJ_VEC, vinv);
        pending_store(pr, j / HJ_VEC + 1, vinv);
    }
    if (j < Np) {
        const __m512d e0 = hj__exp_nonpos(shifted(z + j, vm, vs, mul), T);
        _mm512_store_pd(z + j, e0);
        a0 = _mm512_add_pd(a0, e0);
        pending_store(pr, j / HJ_VEC, vinv);
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
}

/* Row z (Np) -> e = exp((z - m)/eps) in place (flushed); returns sum e. One
 * pass (the row may live in L2 for large N), two vectors per iteration into
 * two accumulators. Multiplies by inv_eps when it is set. Streams out the
 * pending row pr meanwhile. */
HJ_AVX512 static double row_exp(double *z, size_t Np, double m, double eps, double inv_eps,
                                const pending_row *pr)
{
    if (pr->ns == 0)
        return inv_eps != 0.0 ? row_exp_loop(z, Np, m, inv_eps, 1, NULL)
                              : row_exp_loop(z, Np, m, eps, 0, NULL);
    return inv_eps != 0.0 ? row_exp_loop(z, Np, m, inv_eps, 1, pr)
                          : row_exp_loop(z, Np, m, eps, 0, pr);
}

/* max of z (len, a multiple of HJ_VEC), two accumulators. */
HJ_AVX512 static double segment_max(const double *z, size_t len)
{
    __m512d m0 = _mm512_load_pd(z), m1 = m0;
    size_t j = HJ_VEC;
    for (; j + 2 * HJ_VEC <= len; j += 2 * HJ_VEC) {
        m0 = _mm512_max_pd(m0, _mm512_load_pd(z + j));
        m1 = _mm512_max_pd(m1, _mm512_load_pd(z + j + HJ_VEC));
    }
    if (j < len)
        m0 = _mm512_max_pd(m0, _mm512_load_pd(z + j));
    return _mm512_reduce_max_pd(_mm512_max_pd(m0, m1));
}

HJ_AVX512 void hj__lse_block(const hj__packed_layer *pk, const double *xT, double *Z, double *m,
                             double *s)
{
    const pending_row none = {NULL, NULL, 0, 0.0};
    const size_t nseg = pk->nseg, segp = pk->segp;
    double mrow[HJ_BLK_P];
    block_logits(pk, xT, Z, mrow);
    for (size_t p = 0; p < HJ_BLK_P; p++)
        for (size_t c = 0; c < nseg; c++) {
            double *z = Z + p * pk->Np + c * segp;
            const double mc = nseg == 1 ? mrow[p] : segment_max(z, segp);
            m[p * nseg + c] = mc;
            s[p * nseg + c] = row_exp(z, segp, mc, pk->eps, pk->inv_eps, &none);
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

/* out (N) = e (N) * inv by plain stores. */
HJ_AVX512 static void row_scale_store(const double *e, size_t N, double inv, double *out)
{
    const __m512d vinv = _mm512_set1_pd(inv);
    size_t j = 0;
    for (; j + HJ_VEC <= N; j += HJ_VEC)
        _mm512_storeu_pd(out + j, _mm512_mul_pd(_mm512_loadu_pd(e + j), vinv));
    for (; j < N; j++)
        out[j] = e[j] * inv;
}

/* out (N) = e (N) * inv with streaming stores: the unaligned head and the
 * tail now, the aligned middle left in *pr for the next row_exp (or
 * pending_flush). Every element is the same product as row_scale_store's. */
static pending_row pending_start(const double *e, size_t N, double inv, double *out)
{
    size_t head = ((64 - ((uintptr_t)out & 63)) & 63) / sizeof *out;
    head = head < N ? head : N;
    const size_t ns = (N - head) / HJ_VEC;
    for (size_t j = 0; j < head; j++)
        out[j] = e[j] * inv;
    for (size_t j = head + ns * HJ_VEC; j < N; j++)
        out[j] = e[j] * inv;
    const pending_row pr = {e + head, out + head, ns, inv};
    return pr;
}

HJ_AVX512 static void pending_flush(const pending_row *pr)
{
    const __m512d vinv = _mm512_set1_pd(pr->inv);
    for (size_t v = 0; v < pr->ns; v++)
        pending_store(pr, v, vinv);
}

/* One block of the forward pass: logits and maxima, then per point its exp
 * pass, f and, while the row is still in L1, its pi row (with nt: streamed
 * out during the next row's exps); grad last. f (valid); pi (valid, N) with
 * row stride N, or NULL; grad (valid, d) or NULL. */
HJ_AVX512 static void block_forward(const hj__packed_layer *pk, const double *xT, double *Z,
                                    double *m, double *s, size_t valid, double *f, double *pi,
                                    double *grad, int nt)
{
    const size_t N = pk->N, Np = pk->Np;
    pending_row pend = {NULL, NULL, 0, 0.0};
    block_logits(pk, xT, Z, m);
    for (size_t p = 0; p < HJ_BLK_P; p++) {
        double *e = Z + p * Np;
        s[p] = row_exp(e, Np, m[p], pk->eps, pk->inv_eps, &pend);
        pend.ns = 0;
        if (p >= valid)
            continue;
        f[p] = m[p] + pk->eps * log(s[p]);
        if (pi && nt)
            pend = pending_start(e, N, 1.0 / s[p], pi + p * N);
        else if (pi)
            row_scale_store(e, N, 1.0 / s[p], pi + p * N);
    }
    pending_flush(&pend);
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

#ifdef HJ_HAVE_AVX512_KERNELS
/* The blocked path (AVX-512, eps > 0). */
static int forward_blocked(const hj_lse_layer *L, const double *x, size_t n, double *f,
                           double *pi, double *grad)
{
    const size_t N = L->N, d = L->d, Np = hj__np(N);
    const int nt = pi != NULL && n * N * sizeof *pi >= HJ_STREAM_MIN_BYTES;
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
            block_forward(&pk, xT, Z, m, s, valid, f + i0, pi ? pi + i0 * N : NULL,
                          grad ? grad + i0 * d : NULL, nt);
        }
        if (nt)
            _mm_sfence(); /* order the streaming stores before the join */
    }
    free(scratch);
    hj__packed_free(&pk);
    return 0;
}
#endif

int hj__lse_forward_impl(const hj_lse_layer *L, const double *x, size_t n, double *f, double *pi,
                         double *grad, int simd)
{
    if (n == 0)
        return 0;
#ifdef HJ_HAVE_AVX512_KERNELS
    if (simd && L->eps > 0.0 && hj__simd_avx512())
        return forward_blocked(L, x, n, f, pi, grad);
#else
    (void)simd;
#endif
    return forward_rows(L, x, n, f, pi, grad);
}
