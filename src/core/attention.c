/* attention.c — attention as a Gibbs average: a tiled online-softmax kernel and a two-pass reference. */
#include "hjdl/attention.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/core-impl.h"

/* Legend (row-major doubles):
 *   Q   (n, dk)   queries q_i          K (m, dk)  keys k_j
 *   V   (m, dv)   values v_j           out (n, dv), lse (n)
 *   s_ij = q_i . k_j (raw score);  out_i = sum_j pi_ij v_j,
 *   pi_ij = exp((s_ij - lse_i)/eps),  lse_i = eps log sum_j exp(s_ij/eps).
 * eps == 0 (hard attention): out_i = mean of v_j over the j with s_ij equal
 * to max_j s_ij exactly; lse_i = max_j s_ij. */

/* Keys processed per tile by the online kernel. */
#define HJ_ATTN_TILE 64

/* The score q.k, summed in index order by both kernels so that exact ties
 * (eps == 0) are seen identically by each. */
static double score(const double *q, const double *k, size_t dk)
{
    double s = 0.0;
    for (size_t c = 0; c < dk; c++)
        s += q[c] * k[c];
    return s;
}

static hj_status check_finite(const char *fn, const char *name, const double *a,
                              size_t rows, size_t cols, hj_error *err)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            if (!isfinite(a[r * cols + c]))
                return hj_error_set(err, HJ_ENAN, "%s: %s[%zu][%zu] = %g is not finite", fn,
                                    name, r, c, a[r * cols + c]);
    return HJ_OK;
}

static hj_status check_args(const char *fn, const double *Q, const double *K,
                            const double *V, size_t n, size_t m, size_t dk, size_t dv,
                            double eps, const double *out, hj_error *err)
{
    if (Q == NULL || K == NULL || V == NULL || out == NULL)
        return hj_error_set(err, HJ_EINVAL, "%s: %s is NULL", fn,
                            Q == NULL ? "Q" : K == NULL ? "K" : V == NULL ? "V" : "out");
    if (n == 0 || m == 0 || dk == 0 || dv == 0)
        return hj_error_set(err, HJ_EINVAL,
                            "%s: all sizes must be >= 1 (n = %zu, m = %zu, dk = %zu, "
                            "dv = %zu)",
                            fn, n, m, dk, dv);
    if (n > SIZE_MAX / dk || m > SIZE_MAX / dk || m > SIZE_MAX / dv || n > SIZE_MAX / dv)
        return hj_error_set(err, HJ_EINVAL, "%s: array sizes overflow size_t", fn);
    if (!isfinite(eps) || eps < 0.0)
        return hj_error_set(err, HJ_EINVAL, "%s: eps must be finite and >= 0 (got %g)", fn,
                            eps);
    hj_status st = check_finite(fn, "Q", Q, n, dk, err);
    if (st == HJ_OK)
        st = check_finite(fn, "K", K, m, dk, err);
    if (st == HJ_OK)
        st = check_finite(fn, "V", V, m, dv, err);
    return st;
}

static void axpy(double a, const double *x, double *y, size_t d)
{
    for (size_t c = 0; c < d; c++)
        y[c] += a * x[c];
}

static void scale(double a, double *y, size_t d)
{
    for (size_t c = 0; c < d; c++)
        y[c] *= a;
}

static int all_finite(const double *y, size_t d)
{
    for (size_t c = 0; c < d; c++)
        if (!isfinite(y[c]))
            return 0;
    return 1;
}

/* One query by the online softmax. acc (dv) is the caller's output row,
 * used as the running accumulator; the only other scratch is one tile of
 * scores on the stack. Invariant after each tile (eps > 0):
 *   M = max of the scores seen, S = sum exp((s_j - M)/eps),
 *   acc = sum exp((s_j - M)/eps) v_j   over the keys seen;
 * when a tile raises M, S and acc are rescaled by exp((M_old - M_new)/eps).
 * eps == 0 keeps S = #keys attaining M and acc = sum of their v_j.
 * Returns 0 if a score or the result is not finite. */
static int attend_online(const double *q, const double *K, const double *V, size_t m,
                         size_t dk, size_t dv, double eps, double *acc, double *lse)
{
    double tile[HJ_ATTN_TILE];
    double M = -INFINITY, S = 0.0;
    for (size_t c = 0; c < dv; c++)
        acc[c] = 0.0;
    for (size_t j0 = 0; j0 < m; j0 += HJ_ATTN_TILE) {
        size_t nb = m - j0 < HJ_ATTN_TILE ? m - j0 : HJ_ATTN_TILE;
        double tm = -INFINITY;
        for (size_t b = 0; b < nb; b++) {
            double s = score(q, K + (j0 + b) * dk, dk);
            if (!isfinite(s))
                return 0;
            tile[b] = s;
            if (s > tm)
                tm = s;
        }
        if (tm > M) {
            if (S > 0.0) {
                double r = eps == 0.0 ? 0.0 : exp((M - tm) / eps);
                S *= r;
                scale(r, acc, dv);
            }
            M = tm;
        }
        if (eps == 0.0) {
            if (tm == M)
                for (size_t b = 0; b < nb; b++)
                    if (tile[b] == M) {
                        S += 1.0;
                        axpy(1.0, V + (j0 + b) * dv, acc, dv);
                    }
        } else {
            for (size_t b = 0; b < nb; b++) {
                double w = exp((tile[b] - M) / eps);
                if (w == 0.0)
                    continue;
                S += w;
                axpy(w, V + (j0 + b) * dv, acc, dv);
            }
        }
    }
    for (size_t c = 0; c < dv; c++)
        acc[c] /= S;
    *lse = eps == 0.0 ? M : M + eps * log(S);
    return isfinite(*lse) && all_finite(acc, dv);
}

/* Tiled online-softmax attention (see attention.h). Queries are independent,
 * so the OpenMP loop gives bit-identical results for any thread count.
 * Memory: no allocation; HJ_ATTN_TILE scores on each thread's stack and the
 * output row as accumulator. out must not alias Q, K or V.
 * Errors: HJ_EINVAL (NULL buffer, a size 0, eps < 0 or not finite),
 * HJ_ENAN (non-finite entry of Q, K or V), HJ_ERANGE (a score q_i.k_j, the
 * lse or an output overflowed). */
hj_status hj_attention_forward(const double *Q, const double *K, const double *V,
                               size_t n, size_t m, size_t dk, size_t dv, double eps,
                               double *out, double *lse, hj_error *err)
{
    static const char fn[] = "hj_attention_forward";
    hj_status st = check_args(fn, Q, K, V, n, m, dk, dv, eps, out, err);
    if (st != HJ_OK)
        return st;
    size_t bad = n; /* first query that failed, n if none */
#ifdef HJDL_HAVE_OPENMP
    double work = (double)n * (double)m * (double)(dk + dv);
#pragma omp parallel for schedule(static) reduction(min : bad) \
    if (work >= (double)HJ_PARALLEL_MIN_WORK)
#endif
    for (size_t i = 0; i < n; i++) {
        double l = NAN;
        if (!attend_online(Q + i * dk, K, V, m, dk, dv, eps, out + i * dv, &l) && i < bad)
            bad = i;
        if (lse != NULL)
            lse[i] = l;
    }
    if (bad < n)
        return hj_error_set(err, HJ_ERANGE,
                            "%s: query %zu: a score q.k, the lse or the output is not "
                            "finite (overflow)",
                            fn, bad);
    return HJ_OK;
}

/* Two-pass reference (see attention.h): all m scores of a row are stored,
 * then max, exp, sum and the weighted sum. Allocates m doubles (HJ_ENOMEM).
 * Same errors as hj_attention_forward. */
hj_status hj_attention_reference(const double *Q, const double *K, const double *V,
                                 size_t n, size_t m, size_t dk, size_t dv, double eps,
                                 double *out, double *lse, hj_error *err)
{
    static const char fn[] = "hj_attention_reference";
    hj_status st = check_args(fn, Q, K, V, n, m, dk, dv, eps, out, err);
    if (st != HJ_OK)
        return st;
    double *s = malloc(m * sizeof *s); /* (m) scores, then weights */
    if (s == NULL)
        return hj_error_set(err, HJ_ENOMEM, "%s: cannot allocate %zu scores", fn, m);
    for (size_t i = 0; i < n; i++) {
        const double *q = Q + i * dk;
        double *o = out + i * dv;
        double M = -INFINITY;
        for (size_t j = 0; j < m; j++) {
            s[j] = score(q, K + j * dk, dk);
            if (!isfinite(s[j])) {
                free(s);
                return hj_error_set(err, HJ_ERANGE,
                                    "%s: query %zu: score with key %zu overflows", fn, i,
                                    j);
            }
            if (s[j] > M)
                M = s[j];
        }
        for (size_t j = 0; j < m; j++) {
            if (eps == 0.0)
                s[j] = (s[j] == M) ? 1.0 : 0.0;
            else
                s[j] = exp((s[j] - M) / eps);
        }
        double S = 0.0;
        for (size_t j = 0; j < m; j++)
            S += s[j];
        for (size_t c = 0; c < dv; c++)
            o[c] = 0.0;
        for (size_t j = 0; j < m; j++)
            if (s[j] != 0.0)
                axpy(s[j], V + j * dv, o, dv);
        for (size_t c = 0; c < dv; c++)
            o[c] /= S;
        double l = eps == 0.0 ? M : M + eps * log(S);
        if (lse != NULL)
            lse[i] = l;
        if (!isfinite(l) || !all_finite(o, dv)) {
            free(s);
            return hj_error_set(err, HJ_ERANGE,
                                "%s: query %zu: the lse or the output overflows", fn, i);
        }
    }
    free(s);
    return HJ_OK;
}
