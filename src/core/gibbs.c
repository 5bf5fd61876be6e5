/* gibbs.c — the max-shifted log-sum-exp and Gibbs-weight primitives every core kernel uses. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core-impl.h"
#include "hjdl/lse.h"

HJ_WIDE_CLONES void hj__shifted_exp(const double *z, size_t N, double m, double eps, double *w)
{
    const double inv = 1.0 / eps;
    if (isnormal(inv)) {
        HJ_SIMD()
        for (size_t j = 0; j < N; j++)
            w[j] = (z[j] - m) * inv;
    } else {
        HJ_SIMD()
        for (size_t j = 0; j < N; j++)
            w[j] = (z[j] - m) / eps;
    }
    hj__exp_nonpos_inplace(w, N);
}

/* The loops are vectorised (HJ_SIMD; compiled for AVX-512, AVX2 and the
 * baseline): max and ties exactly, the exponents (z - m)/eps as a product
 * with 1/eps when that is a normal number (one rounding more than a
 * division, as in the blocked kernels of lse_simd.c), the weights through
 * the Gibbs-weight exp (hj__exp_nonpos_inplace: exp(t) for t <= 0, weights
 * below 1e-307 flushed to 0, as everywhere in the library), the sum in
 * vector order (by chunks when pi is NULL). A NaN logit gives f = NaN and
 * pi = NaN (so that it shows in whatever is computed from them). */
HJ_WIDE_CLONES double hj__lse_full(const double *z, size_t N, double eps, double *pi,
                                   double *m_out, double *log_s_out)
{
    double m = -INFINITY;
    int nan_seen = 0;
    HJ_SIMD(reduction(max : m) reduction(| : nan_seen))
    for (size_t j = 0; j < N; j++) {
        m = z[j] > m ? z[j] : m;
        nan_seen |= z[j] != z[j];
    }
    if (nan_seen) { /* a NaN logit makes everything NaN (it must surface, e.g. in a loss) */
        if (pi != NULL)
            for (size_t j = 0; j < N; j++)
                pi[j] = NAN;
        if (m_out)
            *m_out = NAN;
        if (log_s_out)
            *log_s_out = NAN;
        return NAN;
    }
    if (N > 0 && !(m > -INFINITY)) /* all -inf: the first entry decides */
        m = z[0];
    if (eps == 0.0) {
        size_t ties = 0;
        HJ_SIMD(reduction(+ : ties))
        for (size_t j = 0; j < N; j++)
            ties += (z[j] == m);
        if (pi != NULL) {
            double share = 1.0 / (double)ties;
            HJ_SIMD()
            for (size_t j = 0; j < N; j++)
                pi[j] = (z[j] == m) ? share : 0.0;
        }
        if (m_out)
            *m_out = m;
        if (log_s_out)
            *log_s_out = log((double)ties);
        return m;
    }
    double s = 0.0;
    if (pi != NULL) {
        hj__shifted_exp(z, N, m, eps, pi);
        HJ_SIMD(reduction(+ : s))
        for (size_t j = 0; j < N; j++)
            s += pi[j];
        const double inv_s = 1.0 / s;
        HJ_SIMD()
        for (size_t j = 0; j < N; j++)
            pi[j] *= inv_s;
    } else { /* the same weights, a stack buffer at a time */
        double w[256];
        for (size_t j0 = 0; j0 < N; j0 += 256) {
            const size_t len = N - j0 < 256 ? N - j0 : 256;
            hj__shifted_exp(z + j0, len, m, eps, w);
            HJ_SIMD(reduction(+ : s))
            for (size_t j = 0; j < len; j++)
                s += w[j];
        }
    }
    double log_s = log(s);
    if (m_out)
        *m_out = m;
    if (log_s_out)
        *log_s_out = log_s;
    return m + eps * log_s;
}

double hj__gibbs_entropy(const double *z, const double *pi, size_t N, double eps,
                         double m, double log_s)
{
    if (eps == 0.0)
        return log_s; /* uniform over the ties */
    /* H = -sum pi_j log pi_j = log_s - sum pi_j (z_j - m)/eps. Terms with
     * pi_j == 0 are skipped: (z_j - m)/eps may be -inf there. */
    double acc = 0.0;
    for (size_t j = 0; j < N; j++)
        if (pi[j] > 0.0)
            acc += pi[j] * ((z[j] - m) / eps);
    double H = log_s - acc;
    return H > 0.0 ? H : 0.0; /* rounding can leave -1e-17 */
}

double hj_lse_vec(const double *z, size_t N, double eps, double *pi)
{
    return hj__lse_full(z, N, eps, pi, NULL, NULL);
}

double hj_softplus(double z, double eps)
{
    if (eps == 0.0)
        return z > 0.0 ? z : 0.0;
    /* max(0,z) + eps*log1p(exp(-|z|/eps)): exact form of the 2-term LSE. */
    double r = z > 0.0 ? z : 0.0;
    return r + eps * log1p(exp(-fabs(z) / eps));
}

double hj_softplus_grad(double z, double eps)
{
    if (eps == 0.0)
        return z > 0.0 ? 1.0 : (z < 0.0 ? 0.0 : 0.5);
    double e = exp(-fabs(z) / eps);
    return z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

#ifdef HJ_HAVE_SIMD_KERNELS
/* The logits exactly as the blocked kernels (lse_simd.c) of either SIMD set
 * form them: b_j, then one FMA per coordinate in k order. */
__attribute__((target("fma"))) static void layer_logits_fma(const hj_lse_layer *L,
                                                                    const double *x, double *z)
{
    const size_t d = L->d;
    for (size_t j = 0; j < L->N; j++) {
        const double *wj = L->w + j * d;
        double acc = L->b[j];
        for (size_t k = 0; k < d; k++)
            acc = fma(wj[k], x[k], acc);
        z[j] = acc;
    }
}
#endif

void hj__layer_logits(const hj_lse_layer *L, const double *x, double *z)
{
#ifdef HJ_HAVE_SIMD_KERNELS
    /* same bits as the blocked kernels wherever they run, so that exact
     * relations between calls (f_eps >= f_0: the same max logit) survive */
    if (hj__kernels() != HJ_KERNELS_PORTABLE) {
        layer_logits_fma(L, x, z);
        return;
    }
#endif
    const size_t d = L->d;
    for (size_t j = 0; j < L->N; j++) {
        const double *wj = L->w + j * d;
        double acc = L->b[j];
        for (size_t k = 0; k < d; k++)
            acc += wj[k] * x[k];
        z[j] = acc;
    }
}

void hj__pi_mean(const double *pi, const double *v, size_t N, size_t d, double *mean)
{
    memset(mean, 0, d * sizeof *mean);
    for (size_t j = 0; j < N; j++) {
        double p = pi[j];
        if (p == 0.0)
            continue;
        const double *vj = v + j * d;
        for (size_t k = 0; k < d; k++)
            mean[k] += p * vj[k];
    }
}

void hj__pi_cov(const double *pi, const double *v, const double *mean, size_t N,
                size_t d, double *cov)
{
    memset(cov, 0, d * d * sizeof *cov);
    for (size_t j = 0; j < N; j++) {
        double p = pi[j];
        if (p == 0.0)
            continue;
        const double *vj = v + j * d;
        for (size_t a = 0; a < d; a++) {
            double da = p * (vj[a] - mean[a]);
            for (size_t b = a; b < d; b++)
                cov[a * d + b] += da * (vj[b] - mean[b]);
        }
    }
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < a; b++)
            cov[a * d + b] = cov[b * d + a];
}

int hj__sym_max_eig(const double *a, size_t d, double *lmax)
{
    if (d == 1) {
        *lmax = a[0];
        return 0;
    }
    double *tmp = malloc(d * d * sizeof *tmp);
    double *ev = malloc(d * sizeof *ev);
    if (tmp == NULL || ev == NULL) {
        free(tmp);
        free(ev);
        return 1;
    }
    memcpy(tmp, a, d * d * sizeof *tmp);
    lapack_int info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)d, tmp,
                                    (lapack_int)d, ev);
    if (info == 0)
        *lmax = ev[d - 1]; /* ascending order */
    free(tmp);
    free(ev);
    return info != 0;
}

int hj__all_finite(const double *v, size_t n, size_t *bad)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            if (bad)
                *bad = i;
            return 0;
        }
    }
    return 1;
}
