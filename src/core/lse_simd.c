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
 *      ulp; weights below 1e-307 are 0, as hj__lse_full flushes them; with
 *      the multiply, its k is rounded from (z - m) (1/eps)(16/ln2) without
 *      waiting for t: V_EXP_SCALED, simd_vec.h),
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
#include <stdatomic.h>
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

#ifdef HJ_HAVE_SIMD_KERNELS
/* A pi row being streamed out (non-temporal stores) while the next row's
 * exps are computed, so the stores overlap the arithmetic instead of
 * stalling it: dst[v] = src[v] * inv for the ns vectors v of the aligned
 * middle of the row (dst 64-byte aligned). ns = 0: nothing pending. */
typedef struct pending_row {
    const double *src;
    double *dst;
    size_t ns;
    double inv;
} pending_row;

/* out (N) = e (N) * inv with streaming stores of vw-double vectors: the
 * unaligned head and the tail now, the aligned middle left in the result for
 * the next row_exp (or pending_flush). Every element is the same product as
 * row_scale_store's. */
static pending_row pending_start(const double *e, size_t N, double inv, double *out, size_t vw)
{
    size_t head = ((64 - ((uintptr_t)out & 63)) & 63) / sizeof *out;
    head = head < N ? head : N;
    const size_t ns = (N - head) / vw;
    for (size_t j = 0; j < head; j++)
        out[j] = e[j] * inv;
    for (size_t j = head + ns * vw; j < N; j++)
        out[j] = e[j] * inv;
    const pending_row pr = {e + head, out + head, ns, inv};
    return pr;
}

#define HJ_VSET_AVX512
#include "core/simd_vec.h"
#include "core/lse_kernels.h"
#undef HJ_VSET_AVX512
#define HJ_VSET_AVX2
#include "core/simd_vec.h"
#include "core/lse_kernels.h"
#undef HJ_VSET_AVX2

void hj__lse_block(hj__kernel_set set, const hj__packed_layer *pk, const double *xT, double *Z,
                   double *m, double *s)
{
    if (set == HJ_KERNELS_AVX512)
        hj__lse_block_avx512(pk, xT, Z, m, s);
    else
        hj__lse_block_avx2(pk, xT, Z, m, s);
}

void hj__block_accumulate(hj__kernel_set set, const double *Z, size_t Np, size_t d,
                          const double *xcT, const double *c, double *dwT, double *db)
{
    if (set == HJ_KERNELS_AVX512)
        hj__block_accumulate_avx512(Z, Np, d, xcT, c, dwT, db);
    else
        hj__block_accumulate_avx2(Z, Np, d, xcT, c, dwT, db);
}

#else /* no SIMD kernels in this build */

void hj__lse_block(hj__kernel_set set, const hj__packed_layer *pk, const double *xT, double *Z,
                   double *m, double *s)
{
    (void)set, (void)pk, (void)xT, (void)Z, (void)m, (void)s;
}

void hj__block_accumulate(hj__kernel_set set, const double *Z, size_t Np, size_t d,
                          const double *xcT, const double *c, double *dwT, double *db)
{
    (void)set, (void)Z, (void)Np, (void)d, (void)xcT, (void)c, (void)dwT, (void)db;
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

#ifdef HJ_HAVE_SIMD_KERNELS
/* The blocked path (a SIMD kernel set, eps > 0). */
static int forward_blocked(hj__kernel_set set, const hj_lse_layer *L, const double *x, size_t n,
                           double *f, double *pi, double *grad)
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
            double *fb = f + i0, *pib = pi ? pi + i0 * N : NULL, *gb = grad ? grad + i0 * d : NULL;
            if (set == HJ_KERNELS_AVX512)
                block_forward_avx512(&pk, xT, Z, m, s, valid, fb, pib, gb, nt);
            else
                block_forward_avx2(&pk, xT, Z, m, s, valid, fb, pib, gb, nt);
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
#ifdef HJ_HAVE_SIMD_KERNELS
    const hj__kernel_set set = simd ? hj__kernels() : HJ_KERNELS_PORTABLE;
    if (set != HJ_KERNELS_PORTABLE && L->eps > 0.0)
        return forward_blocked(set, L, x, n, f, pi, grad);
#else
    (void)simd;
#endif
    return forward_rows(L, x, n, f, pi, grad);
}
