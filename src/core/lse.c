/* lse.c — the LSE layer: forward pass, Gibbs weights, gradient, exact Hessian. */
#include "hjdl/lse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core-impl.h"

hj_status hj_lse_check(const hj_lse_layer *L, hj_error *err)
{
    if (L == NULL)
        return hj_error_set(err, HJ_EINVAL, "LSE layer is NULL");
    if (L->N == 0)
        return hj_error_set(err, HJ_EINVAL, "LSE layer has no neurons (N = 0)");
    if (L->d == 0)
        return hj_error_set(err, HJ_EINVAL, "LSE layer has input dimension d = 0");
    if (L->w == NULL || L->b == NULL)
        return hj_error_set(err, HJ_EINVAL, "LSE layer weights or biases are NULL");
    if (!(L->eps >= 0.0) || !isfinite(L->eps))
        return hj_error_set(err, HJ_EINVAL,
                            "eps must be a finite number >= 0 (got %g)", L->eps);
    size_t bad;
    if (!hj__all_finite(L->w, L->N * L->d, &bad))
        return hj_error_set(err, HJ_ENAN, "weight w[%zu][%zu] is not finite",
                            bad / L->d, bad % L->d);
    if (!hj__all_finite(L->b, L->N, &bad))
        return hj_error_set(err, HJ_ENAN, "bias b[%zu] is not finite", bad);
    return HJ_OK;
}

/* Validate the points x (n, d) of a batch call. */
static hj_status check_points(const double *x, size_t n, size_t d, hj_error *err)
{
    if (x == NULL && n > 0)
        return hj_error_set(err, HJ_EINVAL, "input points are NULL");
    size_t bad;
    if (n > 0 && !hj__all_finite(x, n * d, &bad))
        return hj_error_set(err, HJ_ENAN, "input x[%zu][%zu] is not finite",
                            bad / d, bad % d);
    return HJ_OK;
}

hj_status hj_lse_forward(const hj_lse_layer *L, const double *x, size_t n,
                         double *f, double *pi, double *grad, hj_error *err)
{
    hj_status st = hj_lse_check(L, err);
    if (st != HJ_OK)
        return st;
    if ((st = check_points(x, n, L->d, err)) != HJ_OK)
        return st;
    if (f == NULL)
        return hj_error_set(err, HJ_EINVAL, "output buffer f is NULL");
    if ((st = hj__kernels_check(err)) != HJ_OK) /* HJDL_KERNELS refused */
        return st;
    /* the blocked kernels of the set in force (src/core/lse_simd.c) */
    if (hj__lse_forward_impl(L, x, n, f, pi, grad, 1) != 0)
        return hj_error_set(err, HJ_ENOMEM, "LSE forward: cannot allocate the scratch for %zu neurons",
                            L->N);
    return HJ_OK;
}

/* Covariance of w under pi(x): fills pi (N) and cov (d, d); scratch mean (d). */
static void weight_cov(const hj_lse_layer *L, const double *x, double *pi,
                       double *mean, double *cov)
{
    hj__layer_logits(L, x, pi);
    hj__lse_full(pi, L->N, L->eps, pi, NULL, NULL);
    hj__pi_mean(pi, L->w, L->N, L->d, mean);
    hj__pi_cov(pi, L->w, mean, L->N, L->d, cov);
}

hj_status hj_lse_hessian(const hj_lse_layer *L, const double *x, double *hess,
                         hj_error *err)
{
    hj_status st = hj_lse_check(L, err);
    if (st != HJ_OK)
        return st;
    if ((st = check_points(x, 1, L->d, err)) != HJ_OK)
        return st;
    if (hess == NULL)
        return hj_error_set(err, HJ_EINVAL, "output buffer hess is NULL");
    double *buf = malloc((L->N + L->d) * sizeof *buf);
    if (buf == NULL)
        return hj_error_set(err, HJ_ENOMEM, "cannot allocate %zu doubles", L->N + L->d);
    weight_cov(L, x, buf, buf + L->N, hess);
    for (size_t k = 0; k < L->d * L->d; k++)
        hess[k] = hj__over_eps(hess[k], L->eps);
    free(buf);
    return HJ_OK;
}

hj_status hj_lse_hessian_norm(const hj_lse_layer *L, const double *x, size_t n,
                              double *norm, hj_error *err)
{
    hj_status st = hj_lse_check(L, err);
    if (st != HJ_OK)
        return st;
    if ((st = check_points(x, n, L->d, err)) != HJ_OK)
        return st;
    if (norm == NULL)
        return hj_error_set(err, HJ_EINVAL, "output buffer norm is NULL");
    const size_t N = L->N, d = L->d;
    double *buf = malloc((N + d + d * d) * sizeof *buf);
    if (buf == NULL)
        return hj_error_set(err, HJ_ENOMEM, "cannot allocate %zu doubles", N + d + d * d);
    double *pi = buf, *mean = buf + N, *cov = buf + N + d;
    for (size_t i = 0; i < n; i++) {
        weight_cov(L, x + i * d, pi, mean, cov);
        double lmax;
        if (hj__sym_max_eig(cov, d, &lmax) != 0) {
            free(buf);
            return hj_error_set(err, HJ_ENOMEM,
                                "symmetric eigensolver failed at point %zu", i);
        }
        norm[i] = hj__over_eps(lmax > 0.0 ? lmax : 0.0, L->eps);
    }
    free(buf);
    return HJ_OK;
}

/* max_j |w_j|^2 over the rows of w (N, d). */
static double max_row_norm2(const hj_lse_layer *L)
{
    double r2 = 0.0;
    for (size_t j = 0; j < L->N; j++) {
        const double *wj = L->w + j * L->d;
        double s = 0.0;
        for (size_t k = 0; k < L->d; k++)
            s += wj[k] * wj[k];
        if (s > r2)
            r2 = s;
    }
    return r2;
}

double hj_lse_curvature_bound(const hj_lse_layer *L)
{
    return L->eps > 0.0 ? max_row_norm2(L) / L->eps : INFINITY;
}

double hj_lse_lipschitz(const hj_lse_layer *L)
{
    return sqrt(max_row_norm2(L));
}
