/* lanczos.c — matrix-free extreme eigenvalues (Lanczos) and the exact curvature Cov_pi(w)/eps of LSE layers.
 *
 * Shapes: Q (K, d) Lanczos basis, one vector per row; alpha (K), beta (K)
 * the tridiagonal T_k; U (Na, d) the centred, sqrt(pi)-weighted rows of w
 * for the Na neurons with pi_j > 0, so that Cov_pi(w) = U^T U.
 */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/lse.h"
#include "hjdl/rng.h"
#include "hjdl/robust.h"
#include "hjdl/vec.h"
#include "core/kernels.h"

/* One extreme eigenpair of the tridiagonal (alpha (k), beta (k-1)): which = 1
 * smallest, k largest. *theta the eigenvalue, *last the last component of its
 * unit eigenvector. dd, ee (k) and z (k) are scratch. 0 on success. */
static int tridiag_extreme(const double *alpha, const double *beta, size_t k, lapack_int which,
                           double *dd, double *ee, double *z, double *theta, double *last)
{
    if (k == 1) {
        *theta = alpha[0];
        *last = 1.0;
        return 0;
    }
    memcpy(dd, alpha, k * sizeof *dd);
    memcpy(ee, beta, (k - 1) * sizeof *ee);
    ee[k - 1] = 0.0;
    lapack_int m = 0, isuppz[2];
    lapack_int info = LAPACKE_dstevr(LAPACK_COL_MAJOR, 'V', 'I', (lapack_int)k, dd, ee, 0.0, 0.0,
                                     which, which, 0.0, &m, theta, z, (lapack_int)k, isuppz);
    if (info != 0 || m != 1)
        return -1;
    *last = z[k - 1];
    return 0;
}

/* Lanczos as documented for hj_lanczos_extreme; with need_min == 0 only the
 * largest eigenvalue is tracked and tested for convergence (*lmin is then
 * the smallest Ritz value at the last eigen-solve, unconverged). */
static hj_status lanczos(hj_symop_fn op, void *ctx, size_t d, size_t max_iter, double tol, uint64_t seed,
                         int need_min, double *lmin, double *lmax, size_t *iters, hj_error *err)
{
    if (op == NULL || lmin == NULL || lmax == NULL)
        return hj_error_set(err, HJ_EINVAL, "lanczos: NULL operator or output");
    if (d == 0)
        return hj_error_set(err, HJ_EINVAL, "lanczos: dimension 0");
    if (!(tol > 0.0))
        tol = 1e-10;
    const size_t K = (max_iter == 0 || max_iter > d) ? d : max_iter;
    if (K > (size_t)-1 / sizeof(double) / (d + 8))
        return hj_error_set(err, HJ_ENOMEM, "lanczos: %zu x %zu basis is too large", K, d);
    double *mem = malloc(((K + 1) * d + d + 5 * K + 1) * sizeof *mem);
    if (mem == NULL)
        return hj_error_set(err, HJ_ENOMEM, "lanczos: cannot allocate a %zu x %zu basis", K + 1, d);
    double *Q = mem, *w = Q + (K + 1) * d, *alpha = w + d, *beta = alpha + K, *dd = beta + K;
    double *ee = dd + K, *z = ee + K;
    hj_rng rng;
    hj_rng_seed(&rng, seed);
    double n0 = 0.0;
    while (n0 == 0.0) {
        for (size_t k = 0; k < d; k++)
            Q[k] = hj_rng_normal(&rng);
        n0 = sqrt(hj_vec_dot(Q, Q, d));
    }
    for (size_t k = 0; k < d; k++)
        Q[k] /= n0;
    double tmin = 0.0, tmax = 0.0, anorm = 0.0;
    size_t steps = 0;
    int converged = 0;
    hj_status st = HJ_OK;
    for (size_t k = 0; k < K; k++) {
        const double *q = Q + k * d;
        op(ctx, q, w);
        steps = k + 1;
        anorm = fmax(anorm, sqrt(hj_vec_dot(w, w, d)));
        double a = hj_vec_dot(q, w, d);
        alpha[k] = a;
        for (size_t i = 0; i < d; i++)
            w[i] -= a * q[i] + (k > 0 ? beta[k - 1] * Q[(k - 1) * d + i] : 0.0);
        /* full reorthogonalisation, twice ("twice is enough") */
        for (int pass = 0; pass < 2; pass++)
            for (size_t j = 0; j <= k; j++) {
                const double *qj = Q + j * d;
                double c = hj_vec_dot(qj, w, d);
                for (size_t i = 0; i < d; i++)
                    w[i] -= c * qj[i];
            }
        double b = sqrt(hj_vec_dot(w, w, d));
        beta[k] = b;
        /* the tridiagonal eigenproblem costs more than a step: solve it on the first
         * steps, every fourth step and at the end */
        const int invariant = b <= 1e-13 * anorm || b == 0.0 || k + 1 == d;
        if (!invariant && k + 1 < K && k + 1 > 4 && (k + 1) % 4 != 0) {
            double *qn = Q + (k + 1) * d;
            for (size_t i = 0; i < d; i++)
                qn[i] = w[i] / b;
            continue;
        }
        double smin = 0.0, smax;
        if ((need_min && tridiag_extreme(alpha, beta, k + 1, 1, dd, ee, z, &tmin, &smin) != 0) ||
            tridiag_extreme(alpha, beta, k + 1, (lapack_int)(k + 1), dd, ee, z, &tmax, &smax) != 0) {
            st = hj_error_set(err, HJ_EMAXITER, "lanczos: tridiagonal eigensolver failed at step %zu", k + 1);
            break;
        }
        if (!need_min)
            tmin = tmax;
        const double scale = fmax(fabs(tmin), fabs(tmax));
        if (invariant || (b * fabs(smin) <= tol * scale && b * fabs(smax) <= tol * scale)) {
            converged = 1;
            break;
        }
        if (k + 1 == K)
            break;
        double *qn = Q + (k + 1) * d;
        for (size_t i = 0; i < d; i++)
            qn[i] = w[i] / b;
    }
    *lmin = tmin;
    *lmax = tmax;
    if (iters)
        *iters = steps;
    free(mem);
    if (st == HJ_OK && !converged)
        st = hj_error_set(err, HJ_EMAXITER, "lanczos: not converged after %zu steps (dimension %zu)",
                          steps, d);
    return st;
}

hj_status hj_lanczos_extreme(hj_symop_fn op, void *ctx, size_t d, size_t max_iter, double tol,
                             uint64_t seed, double *lmin, double *lmax, size_t *iters,
                             hj_error *err)
{
    return lanczos(op, ctx, d, max_iter, tol, seed, 1, lmin, lmax, iters, err);
}

/* Cov_pi(w) v = U^T (U v) with U (Na, d). */
typedef struct cov_op {
    const double *U;
    size_t Na, d;
} cov_op;

static void cov_apply(void *ctx, const double *v, double *out)
{
    const cov_op *c = ctx;
    memset(out, 0, c->d * sizeof *out);
    for (size_t j = 0; j < c->Na; j++) {
        const double *u = c->U + j * c->d;
        double s = hj_vec_dot(u, v, c->d);
        for (size_t k = 0; k < c->d; k++)
            out[k] += s * u[k];
    }
}

hj_status hj_cov_max_eig(const double *w, const double *pi, size_t N, size_t d, double *lmax,
                         hj_error *err)
{
    if (w == NULL || pi == NULL || lmax == NULL)
        return hj_error_set(err, HJ_EINVAL, "covariance eigenvalue: NULL argument");
    if (N == 0 || d == 0)
        return hj_error_set(err, HJ_EINVAL, "covariance eigenvalue: N = %zu, d = %zu", N, d);
    double *mem = malloc((N * d + d) * sizeof *mem);
    if (mem == NULL)
        return hj_error_set(err, HJ_ENOMEM, "covariance eigenvalue: cannot allocate %zu doubles", N * d);
    double *U = mem, *wbar = U + N * d;
    memset(wbar, 0, d * sizeof *wbar);
    for (size_t j = 0; j < N; j++)
        if (pi[j] > 0.0)
            for (size_t k = 0; k < d; k++)
                wbar[k] += pi[j] * w[j * d + k];
    size_t Na = 0;
    for (size_t j = 0; j < N; j++) {
        if (!(pi[j] > 0.0))
            continue;
        double s = sqrt(pi[j]);
        for (size_t k = 0; k < d; k++)
            U[Na * d + k] = s * (w[j * d + k] - wbar[k]);
        Na++;
    }
    hj_status st = HJ_OK;
    if (Na <= 1) {
        *lmax = 0.0;
    } else if (d == 1) {
        double s = 0.0;
        for (size_t j = 0; j < Na; j++)
            s += U[j] * U[j];
        *lmax = s;
    } else {
        cov_op c = {U, Na, d};
        double lo, hi;
        st = lanczos(cov_apply, &c, d, 0, 1e-11, 0x9e3779b97f4a7c15ULL, 0, &lo, &hi, NULL, err);
        *lmax = hi > 0.0 ? hi : 0.0;
    }
    free(mem);
    return st;
}

hj_status hj_robust_lse_hessian_norm(const hj_lse_layer *L, const double *x, size_t n,
                                     double *norm, hj_error *err)
{
    hj_status st = hj_lse_check(L, err);
    if (st != HJ_OK)
        return st;
    if (n > 0 && (x == NULL || norm == NULL))
        return hj_error_set(err, HJ_EINVAL, "hessian norm: NULL points or output");
    const size_t N = L->N, d = L->d;
    double *z = malloc(2 * N * sizeof *z);
    if (z == NULL)
        return hj_error_set(err, HJ_ENOMEM, "hessian norm: cannot allocate %zu doubles", 2 * N);
    double *pi = z + N;
    for (size_t i = 0; i < n && st == HJ_OK; i++) {
        const double *xi = x + i * d;
        size_t bad;
        if (!hj__all_finite(xi, d, &bad)) {
            st = hj_error_set(err, HJ_ENAN, "hessian norm: x[%zu][%zu] is not finite", i, bad);
            break;
        }
        hj__layer_logits(L, xi, z); /* the logits of hj_lse_hessian_norm, bit for bit */
        hj_lse_vec(z, N, L->eps, pi);
        double lmax;
        st = hj_cov_max_eig(L->w, pi, N, d, &lmax, err);
        if (st == HJ_OK)
            norm[i] = hj__over_eps(lmax, L->eps);
    }
    free(z);
    return st;
}
