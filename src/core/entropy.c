/* entropy.c — attribution entropy H(x; eps) of a Gibbs layer with exact gradient and Hessian. */
#include "hjdl/entropy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core-impl.h"

double hj_entropy_vec(const double *p, size_t N)
{
    double H = 0.0;
    for (size_t j = 0; j < N; j++)
        if (p[j] > 0.0)
            H -= p[j] * log(p[j]);
    return H;
}

static hj_status check_x(const hj_lse_layer *L, const double *x, size_t n, hj_error *err)
{
    hj_status st = hj_lse_check(L, err);
    if (st != HJ_OK)
        return st;
    if (x == NULL && n > 0)
        return hj_error_set(err, HJ_EINVAL, "entropy: points x are NULL");
    size_t bad;
    if (n > 0 && !hj__all_finite(x, n * L->d, &bad))
        return hj_error_set(err, HJ_ENAN, "entropy: x[%zu][%zu] is not finite",
                            bad / L->d, bad % L->d);
    return HJ_OK;
}

hj_status hj_entropy_eval(const hj_lse_layer *L, const double *x, double *H,
                          double *grad, double *hess, hj_error *err)
{
    hj_status st = check_x(L, x, 1, err);
    if (st != HJ_OK)
        return st;
    if (H == NULL)
        return hj_error_set(err, HJ_EINVAL, "entropy: output H is NULL");
    const size_t N = L->N, d = L->d;
    const double eps = L->eps;
    double *mem = malloc((3 * N + d + N * d) * sizeof *mem);
    if (mem == NULL)
        return hj_error_set(err, HJ_ENOMEM, "entropy: out of memory");
    double *z = mem, *pi = mem + N, *ell = mem + 2 * N;
    double *wbar = mem + 3 * N, *S = wbar + d;
    hj__layer_logits(L, x, z);
    double m, log_s;
    hj__lse_full(z, N, eps, pi, &m, &log_s);
    double h = hj__gibbs_entropy(z, pi, N, eps, m, log_s);
    *H = h;
    if (eps == 0.0) {
        /* piecewise constant: zero derivatives off the tie sets */
        if (grad)
            memset(grad, 0, d * sizeof *grad);
        if (hess)
            memset(hess, 0, d * d * sizeof *hess);
        free(mem);
        return HJ_OK;
    }
    for (size_t j = 0; j < N; j++)
        ell[j] = pi[j] > 0.0 ? hj__log_pi(z[j], m, eps, log_s) : 0.0;
    hj__pi_mean(pi, L->w, N, d, wbar);
    /* s_j = w_j - wbar: grad H = -E_pi[l s] / eps, hess H = -(E_pi[(l + H) s s^T] + Cov_pi(w)) / eps^2 */
    for (size_t j = 0; j < N; j++)
        for (size_t k = 0; k < d; k++)
            S[j * d + k] = L->w[j * d + k] - wbar[k];
    hj__entropy_derivatives(pi, ell, h, 0.0, S, N, d, eps, grad, hess);
    free(mem);
    return HJ_OK;
}

void hj__entropy_derivatives(const double *pi, const double *ell, double H, double shift, const double *S,
                             size_t N, size_t d, double eps, double *grad, double *hess)
{
    if (grad) {
        for (size_t k = 0; k < d; k++)
            grad[k] = 0.0;
        for (size_t j = 0; j < N; j++) {
            if (pi[j] == 0.0)
                continue;
            const double c = pi[j] * (ell[j] + shift);
            for (size_t k = 0; k < d; k++)
                grad[k] += c * S[j * d + k];
        }
        for (size_t k = 0; k < d; k++)
            grad[k] = -grad[k] / eps;
    }
    if (hess) {
        for (size_t a = 0; a < d * d; a++)
            hess[a] = 0.0;
        for (size_t j = 0; j < N; j++) {
            if (pi[j] == 0.0)
                continue;
            const double c = pi[j] * (ell[j] + H + 1.0);
            const double *sj = S + j * d;
            for (size_t a = 0; a < d; a++)
                for (size_t b = a; b < d; b++)
                    hess[a * d + b] += c * sj[a] * sj[b];
        }
        /* divide by eps twice: eps^2 underflows to 0 below ~1e-162 */
        for (size_t a = 0; a < d; a++)
            for (size_t b = a; b < d; b++) {
                const double v = -hess[a * d + b] / eps / eps;
                hess[a * d + b] = v;
                hess[b * d + a] = v;
            }
    }
}

hj_status hj_entropy_batch(const hj_lse_layer *L, const double *x, size_t n,
                           double *H, hj_error *err)
{
    hj_status st = check_x(L, x, n, err);
    if (st != HJ_OK)
        return st;
    if (H == NULL)
        return hj_error_set(err, HJ_EINVAL, "entropy: output H is NULL");
    const size_t N = L->N;
    double *mem = malloc(2 * N * sizeof *mem);
    if (mem == NULL)
        return hj_error_set(err, HJ_ENOMEM, "entropy: out of memory");
    double *z = mem, *pi = mem + N;
    for (size_t i = 0; i < n; i++) {
        hj__layer_logits(L, x + i * L->d, z);
        double m, log_s;
        hj__lse_full(z, N, L->eps, pi, &m, &log_s);
        H[i] = hj__gibbs_entropy(z, pi, N, L->eps, m, log_s);
    }
    free(mem);
    return HJ_OK;
}
