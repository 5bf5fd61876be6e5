/* readout_fused.c — fused loss + gradient for models that are one LSE readout (the HJ layer itself).
 *
 * The general path (model.c) materialises the logits and Gibbs weights of a
 * whole batch, (n, N), and streams them through memory four or five times.
 * For a single readout layer the gradient of row i depends on row i alone,
 * so everything fits in one row's buffer and the batch never exists: the
 * cost is the n N exponentials and n N d multiply-adds and nothing else.
 *
 * Readouts with eps > 0 (lse:N regression and lse-class:N) with a SIMD
 * kernel set (avx512 or avx2, hj__kernels()) take the blocked kernels of
 * src/core/lse_simd.c: 8 points at a time, their logits, maxima,
 * exponentials (the set's inline exp) and sums from hj__lse_block (per
 * class for lse-class), then
 * the loss and, for the gradient, u_ij = dL/dF * pi_ij (F the point's
 * readout, or its score of neuron j's class) accumulated into a per-thread
 * transposed gradient dW^T (d, Np), db (Np) where every loaded accumulator
 * vector takes the contributions of the 8 points (8 FMAs per load/store),
 * (hj__block_accumulate) with flush-to-zero set for the span of the kernel.
 * eps == 0 and the portable set take the row-by-row code: one point at
 * a time against the same packed layout, its loops vectorised over the
 * neurons and compiled for AVX-512, AVX2 and the baseline. Either way the
 * per-thread partial sums are reduced in thread order: deterministic for a
 * given thread count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/kernels.h"
#include "model/model-impl.h"

/* The readout layer of m packed for the kernels: one segment of W neurons
 * for a regression, one per class for a classifier. */
static hj_status pack_readout(const hj_model *m, const double *params, hj__packed_layer *pk,
                              hj_error *err)
{
    const hj_layer *L = &m->arch.layers[0];
    const size_t d = L->in, W = L->width, nseg = m->arch.n_classes ? m->arch.n_classes : 1;
    const double *w = params + L->offset, *b = w + W * nseg * d;
    if (hj__pack_layer_segments(pk, w, b, W, nseg, d, m->eps))
        return hj_error_set(err, HJ_ENOMEM, "loss: cannot pack a layer of %zu neurons", W * nseg);
    return HJ_OK;
}

/* The per-thread partial results summed in thread order (deterministic for
 * a given thread count). Thread th's are at mem + th per + sums_at: [loss,
 * dL/da, dL/dc] (HJ_VEC doubles), then, when grad is wanted, dW^T (d, Np)
 * and db (Np) in the packed layout (column sg segp + j is neuron sg seg + j).
 * grad (n_params) is overwritten; returns the summed loss. */
static double reduce_threads(const hj_model *m, const hj__packed_layer *pk, const double *mem,
                             size_t per, size_t sums_at, size_t nthreads, double *grad)
{
    const size_t d = pk->d, Np = pk->Np, P = m->arch.n_params;
    double total = 0.0;
    if (grad)
        memset(grad, 0, P * sizeof *grad);
    double *gw = grad ? grad + m->arch.layers[0].offset : NULL, *gb = gw ? gw + pk->N * d : NULL;
    for (size_t th = 0; th < nthreads; th++) {
        const double *sums = mem + th * per + sums_at;
        total += sums[0];
        if (grad == NULL)
            continue;
        const double *dwT = sums + HJ_VEC, *db = dwT + d * Np;
        for (size_t sg = 0; sg < pk->nseg; sg++)
            for (size_t j = 0; j < pk->seg; j++) {
                const size_t col = sg * pk->segp + j, nj = sg * pk->seg + j;
                for (size_t k = 0; k < d; k++)
                    gw[nj * d + k] += dwT[k * Np + col];
                gb[nj] += db[col];
            }
        if (m->arch.output_scale) {
            grad[P - 2] += sums[1];
            grad[P - 1] += sums[2];
        }
    }
    return total;
}

/* The output layer of one point from its class scores F (nseg; for a
 * regression the readout f): adds its loss term to sums[0], the square of
 * r = a f + c - y for a regression (and, when output-scaled, dL/da = g f and
 * dL/dc = g with g = 2 r / n to sums[1], sums[2]), the cross-entropy
 * log sum_c exp F_c - F_y for a classifier; gF (nseg) = dL/dF, i.e. a g, or
 * (softmax(F)_c - [c == y]) / n. */
static void point_output(const hj_model *m, const double *params, const double *F, size_t nseg,
                         double yi, size_t n, double *sums, double *gF)
{
    const hj_arch *A = &m->arch;
    if (A->n_classes == 0) {
        const size_t P = A->n_params;
        const double a = A->output_scale ? params[P - 2] : 1.0;
        const double r = a * F[0] + (A->output_scale ? params[P - 1] : 0.0) - yi;
        sums[0] += r * r;
        const double go = 2.0 * r / (double)n;
        gF[0] = a * go;
        if (A->output_scale) {
            sums[1] += go * F[0];
            sums[2] += go;
        }
        return;
    }
    const size_t label = (size_t)yi;
    sums[0] += hj__lse_full(F, nseg, 1.0, gF, NULL, NULL) - F[label]; /* gF <- softmax */
    for (size_t c = 0; c < nseg; c++)
        gF[c] = (gF[c] - (double)(c == label)) / (double)n;
}

/* z (Np) = the logits of one point xi (d) against the packed layer:
 * b_j + sum_k w_jk x_k in k order, multiply then add (as hj__layer_logits
 * without FMA), vectorised over the neurons. */
HJ_WIDE_CLONES static void row_logits(const hj__packed_layer *pk, const double *xi, double *z)
{
    const size_t Np = pk->Np;
    memcpy(z, pk->bT, Np * sizeof *z);
    for (size_t k = 0; k < pk->d; k++) {
        const double xk = xi[k], *wk = pk->wT + k * Np;
        HJ_SIMD()
        for (size_t j = 0; j < Np; j++)
            z[j] += wk[j] * xk;
    }
}

/* dwT (d, Np) += pi_j (g x_k), db (Np) += pi_j g over one segment's columns
 * col0 .. col0 + len, pi (len). */
HJ_WIDE_CLONES static void row_accumulate(const hj__packed_layer *pk, const double *pi, size_t col0,
                                          size_t len, double g, const double *xi, double *dwT,
                                          double *db)
{
    const size_t Np = pk->Np;
    for (size_t k = 0; k < pk->d; k++) {
        const double gx = g * xi[k];
        double *r = dwT + k * Np + col0;
        HJ_SIMD()
        for (size_t j = 0; j < len; j++)
            r[j] += pi[j] * gx;
    }
    double *r = db + col0;
    HJ_SIMD()
    for (size_t j = 0; j < len; j++)
        r[j] += pi[j] * g;
}

/* The row-by-row path (every readout, every CPU, eps == 0 included): one
 * point at a time against the packed layer (one segment per class), the
 * LSE of each segment by the reference kernel hj__lse_full, the gradient
 * accumulated transposed like the blocked path's. */
static hj_status readout_rows(const hj_model *m, const double *params, const double *x,
                              const double *y, size_t n, double *loss, double *grad, hj_error *err)
{
    hj__packed_layer pk;
    hj_status st = pack_readout(m, params, &pk, err);
    if (st != HJ_OK)
        return st;
    const size_t d = pk.d, W = pk.seg, nseg = pk.nseg, NT = pk.N, Np = pk.Np, segp = pk.segp;
    const double eps = m->eps;
    const int parallel = n * NT * (d + 1) >= HJ_PARALLEL_MIN_WORK;
    const size_t nthreads = parallel ? HJ_MAX_THREADS() : 1;
    /* per thread: z (Np), F and dL/dF (nseg each), [loss, d loss/da, d loss/dc], dW^T, db */
    const size_t acc_len = grad ? (d + 1) * Np : 0;
    const size_t sums_at = Np + hj__np(2 * nseg), per = sums_at + HJ_VEC + acc_len;
    double *mem = hj__alloc_aligned(nthreads * per);
    if (mem == NULL) {
        hj__packed_free(&pk);
        return hj_error_set(err, HJ_ENOMEM, "loss: cannot allocate %zu doubles", nthreads * per);
    }
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel num_threads((int)nthreads) if (parallel)
#endif
    {
        double *z = mem + HJ_THREAD_ID() * per, *F = z + Np, *gF = F + nseg;
        double *sums = z + sums_at, *dwT = sums + HJ_VEC, *db = dwT + d * Np;
        memset(sums, 0, (HJ_VEC + acc_len) * sizeof *sums);
        /* flush-to-zero only at eps > 0: at eps = 0 exact ties decide, and
         * reading subnormal logits as 0 could make one */
        const unsigned fp_saved = eps > 0.0 ? hj__fp_flush_begin() : 0u;
#ifdef HJDL_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
        for (size_t i = 0; i < n; i++) {
            const double *xi = x + i * d;
            row_logits(&pk, xi, z);
            for (size_t c = 0; c < nseg; c++) /* segment c of z <- pi */
                F[c] = hj__lse_full(z + c * segp, W, eps, z + c * segp, NULL, NULL);
            point_output(m, params, F, nseg, y[i], n, sums, gF);
            if (grad)
                for (size_t c = 0; c < nseg; c++)
                    row_accumulate(&pk, z + c * segp, c * segp, W, gF[c], xi, dwT, db);
        }
        if (eps > 0.0)
            hj__fp_flush_end(fp_saved);
    }
    *loss = reduce_threads(m, &pk, mem, per, sums_at, nthreads, grad) / (double)n;
    free(mem);
    hj__packed_free(&pk);
    return HJ_OK;
}

#ifdef HJ_HAVE_SIMD_KERNELS
/* The blocked path: one readout (lse:N regression or lse-class:N), eps > 0,
 * a SIMD kernel set (avx512 or avx2). For a classifier the layer is packed as C segments of
 * W neurons (one LSE per class); the class scores F_c = m_c + eps log s_c
 * of a point give the cross-entropy (point_output), and its gradient
 * u_ij = (dL/dF_c) e_ij / s_ic is formed by scaling each segment of the
 * point's row of e before the accumulation. */
static hj_status readout_blocked(hj__kernel_set set, const hj_model *m, const double *params,
                                 const double *x, const double *y, size_t n, double *loss,
                                 double *grad, hj_error *err)
{
    hj__packed_layer pk;
    hj_status st = pack_readout(m, params, &pk, err);
    if (st != HJ_OK)
        return st;
    const size_t d = pk.d, nseg = pk.nseg, N = pk.N, Np = pk.Np, segp = pk.segp;
    const size_t nblk = (n + HJ_BLK_P - 1) / HJ_BLK_P;
    const double eps = m->eps;
    const int parallel = nblk > 1 && n * N * (d + 8) >= HJ_PARALLEL_MIN_WORK;
    const size_t nthreads = parallel ? HJ_MAX_THREADS() : 1;
    /* per thread: Z (P, Np), xT (d, P), m and s (P, nseg), c (P), class
     * scores F and dL/dF (nseg each), [loss, d loss/da, d loss/dc], dW^T, db */
    const size_t xlen = hj__np(HJ_BLK_P * d), mlen = hj__np(HJ_BLK_P * nseg);
    const size_t flen = hj__np(2 * nseg), acc_len = grad ? (d + 1) * Np : 0;
    const size_t sums_at = HJ_BLK_P * Np + xlen + 2 * mlen + HJ_VEC + flen;
    const size_t per = sums_at + HJ_VEC + acc_len;
    double *mem = hj__alloc_aligned(nthreads * per);
    if (mem == NULL) {
        hj__packed_free(&pk);
        return hj_error_set(err, HJ_ENOMEM, "loss: cannot allocate %zu doubles", nthreads * per);
    }
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel num_threads((int)nthreads) if (parallel)
#endif
    {
        double *Z = mem + HJ_THREAD_ID() * per, *xT = Z + HJ_BLK_P * Np, *mx = xT + xlen;
        double *s = mx + mlen, *c = s + mlen, *F = c + HJ_VEC, *gF = F + nseg;
        double *sums = Z + sums_at, *dwT = sums + HJ_VEC, *db = dwT + d * Np;
        memset(sums, 0, (HJ_VEC + acc_len) * sizeof *sums);
        const unsigned fp_saved = hj__fp_flush_begin();
#ifdef HJDL_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
        for (size_t blk = 0; blk < nblk; blk++) {
            const size_t i0 = blk * HJ_BLK_P;
            const size_t valid = n - i0 < HJ_BLK_P ? n - i0 : HJ_BLK_P;
            hj__block_transpose(x + i0 * d, valid, d, xT);
            hj__lse_block(set, &pk, xT, Z, mx, s);
            for (size_t p = 0; p < HJ_BLK_P; p++) {
                c[p] = 0.0; /* padding points contribute nothing */
                if (p >= valid)
                    continue;
                const double *mp = mx + p * nseg, *sp = s + p * nseg;
                for (size_t k = 0; k < nseg; k++)
                    F[k] = mp[k] + eps * log(sp[k]);
                point_output(m, params, F, nseg, y[i0 + p], n, sums, gF);
                if (nseg == 1) { /* dL/df_i, and pi_ij = e_ij / s_i */
                    c[p] = gF[0] / sp[0];
                    continue;
                }
                if (grad == NULL)
                    continue;
                for (size_t k = 0; k < nseg; k++) { /* e <- (dL/dF_k / s_k) e in segment k */
                    const double gk = gF[k] / sp[k];
                    double *e = Z + p * Np + k * segp;
                    for (size_t j = 0; j < segp; j++)
                        e[j] *= gk;
                }
                c[p] = 1.0;
            }
            if (grad == NULL)
                continue;
            for (size_t k = 0; k < d; k++) /* xT <- c_i x_ik (the logits are done) */
                for (size_t p = 0; p < HJ_BLK_P; p++)
                    xT[k * HJ_BLK_P + p] *= c[p];
            hj__block_accumulate(set, Z, Np, d, xT, c, dwT, db);
        }
        hj__fp_flush_end(fp_saved);
    }
    *loss = reduce_threads(m, &pk, mem, per, sums_at, nthreads, grad) / (double)n;
    free(mem);
    hj__packed_free(&pk);
    return HJ_OK;
}
#endif

hj_status hj__readout_loss_grad_impl(const hj_model *m, const double *params, const double *x,
                                     const double *y, size_t n, double *loss, double *grad,
                                     int simd, hj_error *err)
{
    hj_status st = hj__kernels_check(err);
    if (st != HJ_OK)
        return st;
#ifdef HJ_HAVE_SIMD_KERNELS
    const hj__kernel_set set = simd ? hj__kernels() : HJ_KERNELS_PORTABLE;
    if (set != HJ_KERNELS_PORTABLE && m->eps > 0.0)
        return readout_blocked(set, m, params, x, y, n, loss, grad, err);
#else
    (void)simd;
#endif
    return readout_rows(m, params, x, y, n, loss, grad, err);
}

hj_status hj__readout_only_loss_grad(const hj_model *m, const double *params, const double *x,
                                     const double *y, size_t n, double *loss, double *grad,
                                     hj_error *err)
{
    return hj__readout_loss_grad_impl(m, params, x, y, n, loss, grad, 1, err);
}
