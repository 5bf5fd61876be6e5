/* partial.c — mergeable partial log-sum-exp states over shards of atoms, and streaming top-K.
 *
 * Shapes: P (n, 3 + dv) states (partial.h), a (n, T) a tile of logits,
 * x (n, d) points, atoms y (N, d), g (N), top-K rows (n, K).
 *
 * Logits of atoms are computed in tiles of (points x atoms), threaded over
 * blocks of points. Two kernels:
 *  - direct (d < HJ_PARTIAL_GEMM_MIN_D): |x - y|^2 summed coordinate by
 *    coordinate over a transposed atom tile, in exactly the operation order
 *    of hj_hopf_cole_eval / hj_explain_atoms, so the logits are bit-equal to
 *    theirs (hence equal ties and equal top-K order at eps = 0);
 *  - GEMM (d >= HJ_PARTIAL_GEMM_MIN_D): q = |x~|^2 + |y~|^2 - 2 x~.y~ around
 *    the centre c of the point block (x~ = x - c, y~ = y - c) with one dgemm
 *    per tile. Its rounding error is bounded by
 *        |q^ - q| <= gamma S (|x~| + |y~|)^2,  gamma = 8 (d + 4) u,
 *    S = 1 (identity) or max row sum of |A^{-1}|. Wherever that bound is not
 *    small against q (q^ < S (|x~| + |y~|)^2 / 8: cancellation) and wherever
 *    a logit could decide the maximum or a top-K slot (within twice the bound
 *    of the running maximum or of the K-th best), the logit is recomputed
 *    with the direct formula. So the maximum, the eps = 0 ties and every
 *    top-K entry are bit-equal to the dense result, and every other logit is
 *    within a relative ~1e-13 (in practice ~1e-16) of it.
 * Weights are exp((a - m)/eps) through the Gibbs-weight exp
 * (hj__exp_nonpos_inplace: the kernels' inline AVX-512 exp where available),
 * weights below 1e-307 flushed to 0 as in lse.h.
 */
#include "hjdl/partial.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/linalg.h"
#include "core/core-impl.h"

#define EXP_FLOOR (-708.0)

/* From this dimension on, logits go through dgemm (measured: see the report
 * of issue 8; below it the transposed direct loop is as fast or faster). */
#ifndef HJ_PARTIAL_GEMM_MIN_D
#define HJ_PARTIAL_GEMM_MIN_D 8
#endif

/* Point blocks hold at most this many points; atom tiles at most this many
 * atoms. OpenBLAS (pthreads) runs a dgemm on one thread while
 * m n k <= 4 * 65536: tiles are sized to stay there, since the point blocks
 * already run on separate OpenMP threads. */
#define BLOCK_MAX 64
#define TILE_MAX 1024
#define TILE_MIN 64
#define GEMM_SINGLE_THREAD_MNK 262144

size_t hj_partial_width(size_t dv) { return HJ_PARTIAL_HEAD + dv; }

void hj_partial_init(double *P, size_t n, size_t dv)
{
    const size_t w = HJ_PARTIAL_HEAD + dv;
    for (size_t i = 0; i < n; i++) {
        double *rec = P + i * w;
        rec[0] = -INFINITY;
        for (size_t c = 1; c < w; c++)
            rec[c] = 0.0;
    }
}

/* exp((lo - hi)/eps) for lo <= hi, flushed to 0 below exp(-708);
 * [lo == hi] at eps == 0. */
static double rescale_factor(double lo, double hi, double eps)
{
    if (eps == 0.0)
        return lo == hi ? 1.0 : 0.0;
    double e = (lo - hi) / eps;
    return e < EXP_FLOOR ? 0.0 : exp(e);
}

/* Raise the maximum of one record to m_new > rec[0]. */
static void rec_raise(double *rec, size_t dv, double m_new, double eps)
{
    const double m_old = rec[0];
    rec[0] = m_new;
    if (m_old == -INFINITY)
        return; /* an empty record holds zeros */
    const double r = rescale_factor(m_old, m_new, eps);
    if (r == 0.0) {
        for (size_t c = 1; c < HJ_PARTIAL_HEAD + dv; c++)
            rec[c] = 0.0;
        return;
    }
    rec[2] = r * (rec[2] + rec[1] * (m_old - m_new));
    rec[1] *= r;
    for (size_t c = 0; c < dv; c++)
        rec[HJ_PARTIAL_HEAD + c] *= r;
}

/* out <- hi (+) lo for two non-empty records with hi[0] >= lo[0]; out may
 * alias hi or lo. Written symmetrically so that P (+) Q == Q (+) P bit for bit. */
static void rec_combine(double *out, const double *hi, const double *lo, size_t dv, double eps)
{
    const double r = rescale_factor(lo[0], hi[0], eps);
    const double m = hi[0];
    if (r == 0.0) {
        if (out != hi)
            memcpy(out, hi, (HJ_PARTIAL_HEAD + dv) * sizeof *out);
        return;
    }
    const double s = hi[1] + r * lo[1];
    const double sa = hi[2] + r * (lo[2] + lo[1] * (lo[0] - hi[0]));
    for (size_t c = 0; c < dv; c++)
        out[HJ_PARTIAL_HEAD + c] = hi[HJ_PARTIAL_HEAD + c] + r * lo[HJ_PARTIAL_HEAD + c];
    out[0] = m;
    out[1] = s;
    out[2] = sa;
}

void hj_partial_merge(double *P, const double *Q, size_t n, size_t dv, double eps)
{
    const size_t w = HJ_PARTIAL_HEAD + dv;
    for (size_t i = 0; i < n; i++) {
        double *p = P + i * w;
        const double *q = Q + i * w;
        if (q[0] == -INFINITY)
            continue;
        if (p[0] == -INFINITY) {
            memcpy(p, q, w * sizeof *p);
            continue;
        }
        if (p[0] >= q[0])
            rec_combine(p, p, q, dv, eps);
        else
            rec_combine(p, q, p, dv, eps);
    }
}

/* ---- folding one row of logits ----------------------------------------------- */

/* Fold logits a (T) of global atoms off + j into one record rec (3 + dv)
 * and, when K > 0, the heap (key, idx) (K). w (T) scratch receives the
 * weights exp((a_j - m)/eps) relative to the record's new maximum. v the
 * values, value c of atom j at v[j * vj + c * vc] ((T, dv) row-major: vj =
 * dv, vc = 1; transposed: vj = 1, vc = T), or NULL (then the caller adds the
 * value sums itself from w). a_max: max_j a_j when the caller knows it, or
 * NULL. */
HJ_WIDE_CLONES static void fold_row(const double *a, size_t T, size_t off, const double *v,
                                    size_t vj, size_t vc, size_t dv, double eps, double *rec,
                                    double *key, size_t *idx, size_t K, double *w,
                                    const double *a_max)
{
    if (K > 0)
        hj__topk_offer(key, idx, K, a, T, off);
    double mt = -INFINITY;
    if (a_max != NULL) {
        mt = *a_max;
    } else {
        HJ_SIMD(reduction(max : mt))
        for (size_t j = 0; j < T; j++)
            mt = a[j] > mt ? a[j] : mt;
    }
    if (mt == -INFINITY) { /* only zero weights */
        memset(w, 0, T * sizeof *w);
        return;
    }
    if (mt > rec[0])
        rec_raise(rec, dv, mt, eps);
    const double m = rec[0];
    double s = 0.0, sa = 0.0;
    if (eps == 0.0) {
        for (size_t j = 0; j < T; j++) {
            w[j] = a[j] == m ? 1.0 : 0.0;
            s += w[j];
        }
    } else {
        hj__shifted_exp(a, T, m, eps, w); /* flushed below 1e-307 */
        /* a zero weight adds nothing; the clamp keeps 0 * (-inf) out */
        HJ_SIMD(reduction(+ : s, sa))
        for (size_t j = 0; j < T; j++) {
            const double gap = a[j] - m;
            s += w[j];
            sa += w[j] * (gap > -DBL_MAX ? gap : -DBL_MAX);
        }
    }
    rec[1] += s;
    rec[2] += sa;
    if (v != NULL && dv > 0) {
        double *acc = rec + HJ_PARTIAL_HEAD;
        for (size_t c = 0; c < dv; c++) {
            const double *vcol = v + c * vc;
            double sc = 0.0;
            if (vj == 1) {
                HJ_SIMD(reduction(+ : sc))
                for (size_t j = 0; j < T; j++)
                    sc += w[j] * vcol[j];
            } else {
                HJ_SIMD(reduction(+ : sc))
                for (size_t j = 0; j < T; j++)
                    sc += w[j] * vcol[j * vj];
            }
            acc[c] += sc;
        }
    }
}

static hj_status check_top(const hj_topk *top, size_t n, const char *who, hj_error *err)
{
    if (top == NULL)
        return HJ_OK;
    if (top->n != n)
        return hj_error_set(err, HJ_ESHAPE, "%s: top-K state has %zu points, expected %zu", who,
                            top->n, n);
    if (top->K == 0 || (n > 0 && (top->logit == NULL || top->index == NULL)))
        return hj_error_set(err, HJ_EINVAL, "%s: top-K state has K = 0 or NULL buffers", who);
    return HJ_OK;
}

hj_status hj_partial_fold_logits(const double *a, size_t n, size_t T, size_t offset,
                                 const double *v, size_t dv, double eps, double *P,
                                 hj_topk *top, hj_error *err)
{
    static const char *W = "partial fold";
    hj_status st = hj_check_eps(eps, W, err);
    if (st != HJ_OK)
        return st;
    if ((st = check_top(top, n, W, err)) != HJ_OK)
        return st;
    if (n == 0 || T == 0)
        return HJ_OK;
    if (a == NULL || P == NULL || (dv > 0) != (v != NULL))
        return hj_error_set(err, HJ_EINVAL, "%s: NULL logits or states, or v given iff dv > 0 violated",
                            W);
    if (offset > SIZE_MAX - 1 - T)
        return hj_error_set(err, HJ_EINVAL, "%s: atom offset %zu + %zu overflows", W, offset, T);
    for (size_t k = 0; k < n * T; k++) {
        if (isnan(a[k]))
            return hj_error_set(err, HJ_ENAN, "%s: logit [%zu][%zu] is NaN", W, k / T, k % T);
        if (a[k] == INFINITY)
            return hj_error_set(err, HJ_EDOM, "%s: logit [%zu][%zu] is +inf", W, k / T, k % T);
    }
    for (size_t k = 0; k < T * dv; k++)
        if (!isfinite(v[k]))
            return hj_error_set(err, HJ_ENAN, "%s: value v[%zu][%zu] is not finite", W, k / dv,
                                k % dv);
    double *w = malloc(T * sizeof *w);
    if (w == NULL)
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory (T = %zu)", W, T);
    const size_t K = top ? top->K : 0, width = HJ_PARTIAL_HEAD + dv;
    for (size_t i = 0; i < n; i++) {
        double *key = K ? top->logit + i * K : NULL;
        size_t *idx = K ? top->index + i * K : NULL;
        if (K)
            hj__topk_row_to_heap(key, idx, K);
        fold_row(a + i * T, T, offset, v, dv, 1, dv, eps, P + i * width, key, idx, K, w, NULL);
        if (K)
            hj__topk_heap_to_row(key, idx, K);
    }
    free(w);
    return HJ_OK;
}

/* ---- atoms --------------------------------------------------------------------- */

/* Everything a thread needs for one block of points against the atom tiles. */
typedef struct tile_job {
    const hj_atoms *at;
    const double *Ainv;   /* (d, d) or NULL */
    double S;             /* scale of A^{-1} (1 for the identity) */
    const double *x;      /* (n, d) */
    double t, eps;
    int with_grad, gemm;
    size_t offset;
    size_t T;             /* atom tile */
    double *P;
    hj_topk *top;
} tile_job;

/* Per-thread scratch. */
typedef struct tile_scratch {
    double *C;     /* (nb, T) logits, then weights */
    double *w;     /* (T) */
    double *yt;    /* (T, d) centred atoms (GEMM) or (d, T) transposed atoms (direct) */
    double *z;     /* (T, d) A^{-1}-transformed centred atoms (GEMM); (d, T) diffs (direct) */
    double *yn;    /* (T) |y~|^2_{A^{-1}} (GEMM); (T) row scratch (direct) */
    double *ry;    /* (T) |y~| */
    double *xt;    /* (nb, d) centred points */
    double *xn;    /* (nb) |x~|^2 (GEMM); each row's largest logit (direct) */
    double *rx;    /* (nb) */
    double *c;     /* (d) centre */
    double *diff;  /* (d) */
} tile_scratch;

static size_t scratch_size(size_t nb, size_t T, size_t d)
{
    return nb * T + T + 2 * T * d + 2 * T + nb * d + 2 * nb + 2 * d;
}

static void scratch_bind(tile_scratch *s, double *mem, size_t nb, size_t T, size_t d)
{
    s->C = mem;
    s->w = s->C + nb * T;
    s->yt = s->w + T;
    s->z = s->yt + T * d;
    s->yn = s->z + T * d;
    s->ry = s->yn + T;
    s->xt = s->ry + T;
    s->xn = s->xt + nb * d;
    s->rx = s->xn + nb;
    s->c = s->rx + nb;
    s->diff = s->c + d;
}

/* Direct logits C (nb, T) of points i0.. against atoms j0..j0+T, and each
 * row's largest into s->xn (nb). Bit-equal to the dense kernels: the same
 * operations in the same order per pair. */
HJ_WIDE_CLONES static void logits_direct(const tile_job *J, tile_scratch *s, size_t i0, size_t nb, size_t j0,
                          size_t T)
{
    const size_t d = J->at->d;
    const double *y = J->at->y + j0 * d, *g = J->at->g + j0;
    const double *Ainv = J->Ainv;
    double *yT = s->yt; /* (d, T) */
    for (size_t j = 0; j < T; j++)
        for (size_t k = 0; k < d; k++)
            yT[k * T + j] = y[j * d + k];
    for (size_t ii = 0; ii < nb; ii++) {
        const double *xi = J->x + (i0 + ii) * d;
        double *q = s->C + ii * T;
        if (Ainv == NULL) {
            /* q = sum_k (x_k - y_jk)^2 in k order (0 + the first square is
             * that square exactly), the logit formed in the last pass */
            const double x0 = xi[0];
            HJ_SIMD()
            for (size_t j = 0; j < T; j++) {
                const double df = x0 - yT[j];
                q[j] = df * df;
            }
            for (size_t k = 1; k + 1 < d; k++) {
                const double xk = xi[k];
                const double *yk = yT + k * T;
                HJ_SIMD()
                for (size_t j = 0; j < T; j++) {
                    const double df = xk - yk[j];
                    q[j] += df * df;
                }
            }
            double mt = -INFINITY;
            if (d > 1) {
                const double xk = xi[d - 1];
                const double *yk = yT + (d - 1) * T;
                HJ_SIMD(reduction(max : mt))
                for (size_t j = 0; j < T; j++) {
                    const double df = xk - yk[j];
                    q[j] = -hj_atom_cost(g[j], q[j] + df * df, J->t);
                    mt = q[j] > mt ? q[j] : mt;
                }
            } else {
                HJ_SIMD(reduction(max : mt))
                for (size_t j = 0; j < T; j++) {
                    q[j] = -hj_atom_cost(g[j], q[j], J->t);
                    mt = q[j] > mt ? q[j] : mt;
                }
            }
            s->xn[ii] = mt;
        } else {
            double *D = s->z, *row = s->yn; /* (d, T), (T) */
            for (size_t k = 0; k < d; k++) {
                const double xk = xi[k];
                HJ_SIMD()
                for (size_t j = 0; j < T; j++)
                    D[k * T + j] = xk - yT[k * T + j];
            }
            for (size_t j = 0; j < T; j++)
                q[j] = 0.0;
            for (size_t p = 0; p < d; p++) {
                for (size_t j = 0; j < T; j++)
                    row[j] = 0.0;
                for (size_t k = 0; k < d; k++) {
                    const double ap = Ainv[p * d + k];
                    const double *Dk = D + k * T;
                    HJ_SIMD()
                    for (size_t j = 0; j < T; j++)
                        row[j] += ap * Dk[j];
                }
                const double *Dp = D + p * T;
                HJ_SIMD()
                for (size_t j = 0; j < T; j++)
                    q[j] += Dp[j] * row[j];
            }
            double mt = -INFINITY;
            HJ_SIMD(reduction(max : mt))
            for (size_t j = 0; j < T; j++) {
                q[j] = -hj_atom_cost(g[j], q[j], J->t);
                mt = q[j] > mt ? q[j] : mt;
            }
            s->xn[ii] = mt;
        }
    }
}

/* Centre, centred points and their norms for the block (GEMM path). */
static void block_prepare(const tile_job *J, tile_scratch *s, size_t i0, size_t nb)
{
    const size_t d = J->at->d;
    for (size_t k = 0; k < d; k++)
        s->c[k] = 0.0;
    for (size_t ii = 0; ii < nb; ii++)
        for (size_t k = 0; k < d; k++)
            s->c[k] += J->x[(i0 + ii) * d + k];
    for (size_t k = 0; k < d; k++)
        s->c[k] /= (double)nb;
    for (size_t ii = 0; ii < nb; ii++) {
        double *xt = s->xt + ii * d;
        double e2 = 0.0;
        for (size_t k = 0; k < d; k++) {
            xt[k] = J->x[(i0 + ii) * d + k] - s->c[k];
            e2 += xt[k] * xt[k];
        }
        s->rx[ii] = sqrt(e2);
        if (J->Ainv == NULL) {
            s->xn[ii] = e2;
        } else {
            double qa = 0.0;
            for (size_t p = 0; p < d; p++) {
                double r = 0.0;
                for (size_t k = 0; k < d; k++)
                    r += J->Ainv[p * d + k] * xt[k];
                qa += xt[p] * r;
            }
            s->xn[ii] = qa;
        }
    }
}

/* GEMM logits (see the top of the file); refines cancellation-prone pairs.
 * Returns the largest |g_j| of the tile and *rymax. */
static double logits_gemm(const tile_job *J, tile_scratch *s, size_t i0, size_t nb, size_t j0,
                          size_t T, double *rymax)
{
    const size_t d = J->at->d;
    const double *y = J->at->y + j0 * d, *g = J->at->g + j0;
    double gmax = 0.0, rmax = 0.0;
    for (size_t j = 0; j < T; j++) {
        double *yt = s->yt + j * d;
        double e2 = 0.0;
        for (size_t k = 0; k < d; k++) {
            yt[k] = y[j * d + k] - s->c[k];
            e2 += yt[k] * yt[k];
        }
        s->ry[j] = sqrt(e2);
        rmax = fmax(rmax, s->ry[j]);
        gmax = fmax(gmax, fabs(g[j]));
    }
    const double *Z = s->yt;
    if (J->Ainv != NULL) {
        hj__gemm(0, 0, T, d, d, 1.0, s->yt, d, J->Ainv, d, 0.0, s->z, d);
        Z = s->z;
    }
    for (size_t j = 0; j < T; j++) {
        double qa = 0.0;
        for (size_t k = 0; k < d; k++)
            qa += s->yt[j * d + k] * Z[j * d + k];
        s->yn[j] = qa;
    }
    hj__gemm(0, 1, nb, T, d, 1.0, s->xt, d, Z, d, 0.0, s->C, T);
    const double S8 = J->S / 8.0;
    for (size_t ii = 0; ii < nb; ii++) {
        double *row = s->C + ii * T;
        const double xn = s->xn[ii], rx = s->rx[ii];
        const double *xi = J->x + (i0 + ii) * d;
        for (size_t j = 0; j < T; j++) {
            double q = xn + s->yn[j] - 2.0 * row[j];
            const double r = rx + s->ry[j];
            if (q < S8 * r * r)
                q = hj_atoms_sqdist(J->Ainv, xi, y + j * d, d, s->diff);
            row[j] = -hj_atom_cost(g[j], q, J->t);
        }
    }
    *rymax = rmax;
    return gmax;
}

/* Recompute exactly every logit of row ii that could be the maximum or
 * enter the top-K (GEMM path). */
static void refine_row(const tile_job *J, tile_scratch *s, size_t i0, size_t ii, size_t j0,
                       size_t T, double gmax, double rymax, const double *rec, double topthr)
{
    const size_t d = J->at->d;
    double *row = s->C + ii * T;
    double mt = rec[0];
    for (size_t j = 0; j < T; j++)
        mt = row[j] > mt ? row[j] : mt;
    const double r = s->rx[ii] + rymax;
    const double qs = J->S * r * r / (4.0 * J->t);
    const double gamma = 8.0 * (double)(d + 4) * DBL_EPSILON;
    const double delta = gamma * qs + 4.0 * DBL_EPSILON * (gmax + qs + fabs(mt));
    const double lo = fmin(mt, topthr) - 2.0 * delta;
    const double *xi = J->x + (i0 + ii) * d;
    const double *y = J->at->y + j0 * d, *g = J->at->g + j0;
    for (size_t j = 0; j < T; j++)
        if (row[j] >= lo)
            row[j] = -hj_atom_cost(g[j], hj_atoms_sqdist(J->Ainv, xi, y + j * d, d, s->diff), J->t);
}

/* One block of points i0..i0+nb against all atoms. */
static void run_block(const tile_job *J, tile_scratch *s, size_t i0, size_t nb)
{
    const hj_atoms *at = J->at;
    const size_t d = at->d, N = at->N, dv = J->with_grad ? d : 0;
    const size_t width = HJ_PARTIAL_HEAD + dv, K = J->top ? J->top->K : 0;
    double *P = J->P + i0 * width;
    if (K)
        for (size_t ii = 0; ii < nb; ii++)
            hj__topk_row_to_heap(J->top->logit + (i0 + ii) * K, J->top->index + (i0 + ii) * K, K);
    if (J->gemm)
        block_prepare(J, s, i0, nb);
    for (size_t j0 = 0; j0 < N; j0 += J->T) {
        const size_t T = N - j0 < J->T ? N - j0 : J->T;
        double gmax = 0.0, rymax = 0.0;
        if (J->gemm)
            gmax = logits_gemm(J, s, i0, nb, j0, T, &rymax);
        else
            logits_direct(J, s, i0, nb, j0, T);
        for (size_t ii = 0; ii < nb; ii++) {
            double *key = K ? J->top->logit + (i0 + ii) * K : NULL;
            size_t *idx = K ? J->top->index + (i0 + ii) * K : NULL;
            double *rec = P + ii * width;
            double *row = s->C + ii * T;
            if (J->gemm)
                refine_row(J, s, i0, ii, j0, T, gmax, rymax, rec, K ? key[0] : INFINITY);
            /* direct path: the values are the atoms, transposed (d, T) by logits_direct */
            fold_row(row, T, J->offset + j0, J->gemm ? NULL : s->yt, 1, T, dv, J->eps, rec, key,
                     idx, K, s->w, J->gemm ? NULL : s->xn + ii);
            if (J->gemm && dv > 0)
                memcpy(row, s->w, T * sizeof *row);
        }
        if (J->gemm && dv > 0) /* value sums: P[., 3..] += W (nb, T) Y (T, d) */
            hj__gemm(0, 0, nb, d, T, 1.0, s->C, T, at->y + j0 * d, d, 1.0,
                     P + HJ_PARTIAL_HEAD, width);
    }
    if (K)
        for (size_t ii = 0; ii < nb; ii++)
            hj__topk_heap_to_row(J->top->logit + (i0 + ii) * K, J->top->index + (i0 + ii) * K, K);
}

hj_status hj_partial_atoms(const hj_atoms *a, size_t offset, const hj_metric *metric,
                           const double *x, size_t n, double t, double eps, int with_grad,
                           double *P, hj_topk *top, hj_error *err)
{
    static const char *W = "partial atoms";
    hj_status st = hj_atoms_check(a, err);
    if (st != HJ_OK)
        return st;
    if ((st = hj_check_eps(eps, W, err)) != HJ_OK)
        return st;
    if ((st = hj_check_time(t, W, err)) != HJ_OK ||
        (st = hj_metric_check_dim(metric, a->d, W, err)) != HJ_OK ||
        (st = hj_points_check(x, n, a->d, W, err)) != HJ_OK)
        return st;
    if ((st = check_top(top, n, W, err)) != HJ_OK)
        return st;
    if (n > 0 && P == NULL)
        return hj_error_set(err, HJ_EINVAL, "%s: NULL states P", W);
    if (offset > SIZE_MAX - 1 - a->N)
        return hj_error_set(err, HJ_EINVAL, "%s: atom offset %zu + %zu overflows", W, offset,
                            a->N);
    if (n == 0)
        return HJ_OK;
    const size_t N = a->N, d = a->d;
    tile_job J = {.at = a, .Ainv = metric ? hj_metric_Ainv(metric) : NULL, .S = 1.0, .x = x,
                  .t = t, .eps = eps, .with_grad = with_grad != 0,
                  .gemm = d >= HJ_PARTIAL_GEMM_MIN_D, .offset = offset, .P = P, .top = top};
    if (J.Ainv != NULL) {
        double S = 0.0;
        for (size_t p = 0; p < d; p++) {
            double r = 0.0;
            for (size_t k = 0; k < d; k++)
                r += fabs(J.Ainv[p * d + k]);
            S = fmax(S, r);
        }
        J.S = S;
    }
    /* blocks of points: at least one per thread, at most BLOCK_MAX points */
    const int parallel = (double)n * (double)N * (double)d >= HJ_PARALLEL_MIN_WORK;
    size_t nthreads = parallel ? HJ_MAX_THREADS() : 1;
    size_t bmax = BLOCK_MAX;
    if (J.gemm && bmax * TILE_MIN * d > GEMM_SINGLE_THREAD_MNK)
        bmax = GEMM_SINGLE_THREAD_MNK / (TILE_MIN * d) > 0 ? GEMM_SINGLE_THREAD_MNK / (TILE_MIN * d) : 1;
    size_t nblocks = (n + bmax - 1) / bmax;
    if (nblocks < nthreads)
        nblocks = nthreads < n ? nthreads : n;
    const size_t nb = (n + nblocks - 1) / nblocks;
    nblocks = (n + nb - 1) / nb;
    if (nthreads > nblocks)
        nthreads = nblocks;
    size_t T = TILE_MAX;
    if (J.gemm) {
        size_t tg = GEMM_SINGLE_THREAD_MNK / (nb * d);
        T = tg < TILE_MIN ? TILE_MIN : (tg > TILE_MAX ? TILE_MAX : tg / 8 * 8);
    }
    if (T > N)
        T = N;
    J.T = T;
    const size_t per = scratch_size(nb, T, d);
    double *mem = malloc(nthreads * per * sizeof *mem);
    if (mem == NULL)
        return hj_error_set(err, HJ_ENOMEM, "%s: cannot allocate %zu doubles of tile scratch", W,
                            nthreads * per);
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel num_threads((int)nthreads) if (nthreads > 1)
#endif
    {
        tile_scratch s;
        scratch_bind(&s, mem + HJ_THREAD_ID() * per, nb, T, d);
#ifdef HJDL_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (size_t b = 0; b < nblocks; b++) {
            const size_t i0 = b * nb, cnt = n - i0 < nb ? n - i0 : nb;
            run_block(&J, &s, i0, cnt);
        }
    }
    free(mem);
    return HJ_OK;
}

/* ---- results ---------------------------------------------------------------------- */

/* Entropy of a record: log s - sa/(eps s) (log s at eps = 0), >= 0. */
static double rec_entropy(const double *rec, double eps)
{
    double H = log(rec[1]);
    if (eps > 0.0)
        H -= (rec[2] / rec[1]) / eps;
    return H > 0.0 ? H : 0.0;
}

static hj_status check_states(const double *P, size_t n, size_t width, const char *who,
                              hj_error *err)
{
    if (n > 0 && P == NULL)
        return hj_error_set(err, HJ_EINVAL, "%s: NULL states", who);
    for (size_t i = 0; i < n; i++) {
        const double *rec = P + i * width;
        if (rec[0] == -INFINITY || !(rec[1] > 0.0))
            return hj_error_set(err, HJ_EINVAL, "%s: state of point %zu is empty (no atoms folded)",
                                who, i);
        if (!isfinite(rec[0]) || !isfinite(rec[1]) || !isfinite(rec[2]))
            return hj_error_set(err, HJ_ENAN, "%s: state of point %zu is not finite", who, i);
    }
    return HJ_OK;
}

hj_status hj_partial_atoms_finish(const double *P, size_t n, size_t d, const hj_metric *metric,
                                  const double *x, double t, double eps, int with_grad,
                                  const hj_hc_out *out, const hj_topk *top, double *pi_top,
                                  hj_error *err)
{
    static const char *W = "partial finish";
    if (out == NULL)
        return hj_error_set(err, HJ_EINVAL, "%s: NULL output descriptor", W);
    if (out->dudt || out->hess || out->lap || out->pi || (out->grad && !with_grad))
        return hj_error_set(err, HJ_EINVAL,
                            "%s: only u, u_norm, entropy and (with_grad) grad can be finished "
                            "from partial states",
                            W);
    if (d == 0)
        return hj_error_set(err, HJ_EINVAL, "%s: dimension d = 0", W);
    hj_status st = hj_check_eps(eps, W, err);
    if (st != HJ_OK)
        return st;
    if ((st = hj_check_time(t, W, err)) != HJ_OK ||
        (st = hj_metric_check_dim(metric, d, W, err)) != HJ_OK)
        return st;
    if (out->grad && x == NULL && n > 0)
        return hj_error_set(err, HJ_EINVAL, "%s: points x are NULL", W);
    if ((st = check_top(top, n, W, err)) != HJ_OK)
        return st;
    if (top != NULL && n > 0 && pi_top == NULL)
        return hj_error_set(err, HJ_EINVAL, "%s: NULL pi_top", W);
    const size_t dv = with_grad ? d : 0, width = HJ_PARTIAL_HEAD + dv;
    if ((st = check_states(P, n, width, W, err)) != HJ_OK)
        return st;
    const double *Ainv = metric ? hj_metric_Ainv(metric) : NULL;
    double unorm_shift = 0.0;
    if (eps > 0.0)
        unorm_shift = 0.5 * eps * ((double)d * log(4.0 * HJ_PI * eps * t) + hj_metric_logdet(metric));
    double tmpbuf[16];
    double *tmp = d <= 16 ? tmpbuf : malloc(d * sizeof *tmp);
    if (tmp == NULL)
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", W);
    for (size_t i = 0; i < n; i++) {
        const double *rec = P + i * width;
        const double m = rec[0], s = rec[1];
        const double u = -(m + eps * log(s));
        if (out->u)
            out->u[i] = u;
        if (out->u_norm)
            out->u_norm[i] = u + unorm_shift;
        if (out->entropy)
            out->entropy[i] = rec_entropy(rec, eps);
        if (out->grad) {
            const double *xi = x + i * d;
            for (size_t k = 0; k < d; k++)
                tmp[k] = xi[k] - rec[HJ_PARTIAL_HEAD + k] / s;
            double *gi = out->grad + i * d;
            for (size_t p = 0; p < d; p++) {
                double r = tmp[p];
                if (Ainv != NULL) {
                    r = 0.0;
                    for (size_t k = 0; k < d; k++)
                        r += Ainv[p * d + k] * tmp[k];
                }
                gi[p] = r / (2.0 * t);
            }
        }
        if (top != NULL) {
            const size_t K = top->K;
            for (size_t k = 0; k < K; k++) {
                const double ak = top->logit[i * K + k];
                double p = 0.0;
                if (top->index[i * K + k] != SIZE_MAX && ak > -INFINITY) {
                    if (eps == 0.0) {
                        p = ak == m ? 1.0 / s : 0.0;
                    } else {
                        const double e = (ak - m) / eps;
                        p = e < EXP_FLOOR ? 0.0 : exp(e) / s;
                    }
                }
                pi_top[i * K + k] = p;
            }
        }
    }
    if (tmp != tmpbuf)
        free(tmp);
    return HJ_OK;
}

hj_status hj_partial_entropy(const double *P, size_t n, size_t dv, double eps, size_t N_total,
                             double *H, const char *who, hj_error *err)
{
    hj_status st = hj_check_eps(eps, who, err);
    if (st != HJ_OK)
        return st;
    if (N_total == 0)
        return hj_error_set(err, HJ_EINVAL, "%s: no atoms (N_total = 0)", who);
    const size_t width = HJ_PARTIAL_HEAD + dv;
    if ((st = check_states(P, n, width, who, err)) != HJ_OK)
        return st;
    const double Hmax = N_total > 1 ? log((double)N_total) : 0.0;
    for (size_t i = 0; H != NULL && i < n; i++) {
        double h = N_total > 1 ? rec_entropy(P + i * width, eps) : 0.0;
        H[i] = fmin(fmax(h, 0.0), Hmax);
    }
    return HJ_OK;
}
