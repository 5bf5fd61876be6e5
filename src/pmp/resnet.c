/* resnet.c — the residual network as a discrete Hamiltonian system: state sweep, Hamiltonian and its derivatives, co-state sweep, PMP gradient. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/lse.h"
#include "hjdl/pmp.h"
#include "pmp/pmp-impl.h"

/*
 * Shapes: x, p (n, D) one row per sample; theta_k (D*D + D) = A (D, D) row-major, c (D);
 * X, P (K+1, n, D) the sweeps, slice k at offset k n D.
 * f(x, theta) = s(A x + c), s = softplus_eps elementwise.
 */

size_t hj_resnet_layer_params(size_t D) { return D * D + D; }

size_t hj_resnet_num_params(size_t K, size_t D) { return K * (D * D + D); }

hj_status hj_resnet_check(const hj_resnet *net, const hj_pmp_target *tg, hj_error *err)
{
    if (net == NULL)
        return hj_error_set(err, HJ_EINVAL, "resnet: NULL network");
    if (net->K == 0 || net->D == 0)
        return hj_error_set(err, HJ_EINVAL, "resnet: K = %zu layers and width D = %zu must be >= 1",
                            net->K, net->D);
    if (!(net->h > 0.0) || !isfinite(net->h))
        return hj_error_set(err, HJ_EINVAL, "resnet: step h = %g must be finite and > 0", net->h);
    if (!(net->eps >= 0.0) || !isfinite(net->eps))
        return hj_error_set(err, HJ_EINVAL, "resnet: eps = %g must be finite and >= 0", net->eps);
    if (net->theta == NULL)
        return hj_error_set(err, HJ_EINVAL, "resnet: NULL parameters");
    const size_t np = hj_resnet_num_params(net->K, net->D);
    for (size_t i = 0; i < np; i++)
        if (!isfinite(net->theta[i]))
            return hj_error_set(err, HJ_ENAN, "resnet: parameter %zu (layer %zu) is not finite", i,
                                i / hj_resnet_layer_params(net->D));
    if (tg != NULL) {
        if (tg->m == 0 || tg->y == NULL)
            return hj_error_set(err, HJ_EINVAL, "resnet: target needs m >= 1 and non-NULL y");
        if (tg->R == NULL && tg->m != net->D)
            return hj_error_set(err, HJ_ESHAPE,
                                "resnet: identity read-out needs m = D (m = %zu, D = %zu)", tg->m,
                                net->D);
    }
    return HJ_OK;
}

double hj_resnet_terminal_cost(const hj_resnet *net, const hj_pmp_target *tg, const double *X,
                               size_t n, double *grad)
{
    const size_t D = net->D, m = tg->m;
    double phi = 0.0;
    if (grad != NULL)
        memset(grad, 0, n * D * sizeof *grad);
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * D;
        for (size_t a = 0; a < m; a++) {
            double r;
            if (tg->R != NULL) {
                const double *Ra = tg->R + a * D;
                r = 0.0;
                for (size_t l = 0; l < D; l++)
                    r += Ra[l] * x[l];
            } else {
                r = x[a];
            }
            r -= tg->y[i * m + a];
            phi += r * r;
            if (grad != NULL) {
                double *g = grad + i * D;
                if (tg->R != NULL) {
                    const double *Ra = tg->R + a * D;
                    for (size_t l = 0; l < D; l++)
                        g[l] += Ra[l] * r / (double)n;
                } else {
                    g[a] += r / (double)n;
                }
            }
        }
    }
    return phi / (2.0 * (double)n);
}

/* One residual step for all samples: xout = x + h s(A x + c). */
static void resnet_step(const hj_resnet *net, const double *th, const double *x, size_t n,
                        double *xout)
{
    const size_t D = net->D;
    const double *A = th, *c = th + D * D;
    for (size_t i = 0; i < n; i++) {
        const double *xi = x + i * D;
        double *yo = xout + i * D;
        for (size_t a = 0; a < D; a++) {
            double z = c[a];
            for (size_t l = 0; l < D; l++)
                z += A[a * D + l] * xi[l];
            yo[a] = xi[a] + net->h * hj_softplus(z, net->eps);
        }
    }
}

hj_status hj_resnet_forward(const hj_resnet *net, const double *x0, size_t n, double *X,
                            hj_error *err)
{
    hj_status st = hj_resnet_check(net, NULL, err);
    if (st != HJ_OK)
        return st;
    if (x0 == NULL || X == NULL || n == 0)
        return hj_error_set(err, HJ_EINVAL, "resnet forward: NULL buffer or n = 0");
    const size_t D = net->D, P = hj_resnet_layer_params(D);
    memcpy(X, x0, n * D * sizeof *X);
    for (size_t k = 0; k < net->K; k++)
        resnet_step(net, net->theta + k * P, X + k * n * D, n, X + (k + 1) * n * D);
    if (!hj__pmp_finite(X + net->K * n * D, n * D))
        return hj_error_set(err, HJ_ENAN, "resnet forward: the final state is not finite");
    return HJ_OK;
}

double hj_resnet_hamiltonian(const hj_resnet *net, const double *theta_k, const double *x,
                             const double *p, size_t n)
{
    const size_t D = net->D;
    const double *A = theta_k, *c = theta_k + D * D;
    double H = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double *xi = x + i * D, *pi = p + i * D;
        for (size_t a = 0; a < D; a++) {
            double z = c[a];
            for (size_t l = 0; l < D; l++)
                z += A[a * D + l] * xi[l];
            H += pi[a] * hj_softplus(z, net->eps);
        }
    }
    return H;
}

/* Gradients of H = sum_i p_i . s(A x_i + c): with w = p_i * s'(z_i),
 *   d/dx_i = A^T w,  d/dA = sum_i w x_i^T,  d/dc = sum_i w. */
void hj_resnet_hamiltonian_grad(const hj_resnet *net, const double *theta_k, const double *x,
                                const double *p, size_t n, double *gx, double *gtheta)
{
    const size_t D = net->D;
    const double *A = theta_k, *c = theta_k + D * D;
    if (gx != NULL)
        memset(gx, 0, n * D * sizeof *gx);
    if (gtheta != NULL)
        memset(gtheta, 0, (D * D + D) * sizeof *gtheta);
    for (size_t i = 0; i < n; i++) {
        const double *xi = x + i * D, *pi = p + i * D;
        for (size_t a = 0; a < D; a++) {
            const double *Aa = A + a * D;
            double z = c[a];
            for (size_t l = 0; l < D; l++)
                z += Aa[l] * xi[l];
            const double w = pi[a] * hj_softplus_grad(z, net->eps);
            if (gx != NULL) {
                double *g = gx + i * D;
                for (size_t l = 0; l < D; l++)
                    g[l] += Aa[l] * w;
            }
            if (gtheta != NULL) {
                double *gA = gtheta + a * D;
                for (size_t l = 0; l < D; l++)
                    gA[l] += w * xi[l];
                gtheta[D * D + a] += w;
            }
        }
    }
}

hj_status hj_resnet_costate(const hj_resnet *net, const hj_pmp_target *tg, const double *X,
                            size_t n, double *P, double *loss, hj_error *err)
{
    hj_status st = hj_resnet_check(net, tg, err);
    if (st != HJ_OK)
        return st;
    if (X == NULL || P == NULL || n == 0)
        return hj_error_set(err, HJ_EINVAL, "resnet co-state: NULL buffer or n = 0");
    const size_t D = net->D, K = net->K, nD = n * D, np = hj_resnet_layer_params(D);
    double *gx = malloc(nD * sizeof *gx);
    if (gx == NULL)
        return hj_error_set(err, HJ_ENOMEM, "resnet co-state: out of memory");
    double phi = hj_resnet_terminal_cost(net, tg, X + K * nD, n, P + K * nD);
    for (size_t k = K; k-- > 0;) {
        const double *pk1 = P + (k + 1) * nD;
        hj_resnet_hamiltonian_grad(net, net->theta + k * np, X + k * nD, pk1, n, gx, NULL);
        double *pk = P + k * nD;
        for (size_t j = 0; j < nD; j++)
            pk[j] = pk1[j] + net->h * gx[j];
    }
    free(gx);
    if (loss != NULL)
        *loss = phi;
    if (!isfinite(phi) || !hj__pmp_finite(P, nD))
        return hj_error_set(err, HJ_ENAN, "resnet co-state: loss or co-state is not finite");
    return HJ_OK;
}

hj_status hj_resnet_pmp_gradient(const hj_resnet *net, const hj_pmp_target *tg, const double *x0,
                                 size_t n, double *loss, double *grad, double *X, double *P,
                                 hj_error *err)
{
    hj_status st = hj_resnet_check(net, tg, err);
    if (st != HJ_OK)
        return st;
    if (x0 == NULL || grad == NULL || n == 0)
        return hj_error_set(err, HJ_EINVAL, "resnet PMP gradient: NULL buffer or n = 0");
    const size_t D = net->D, K = net->K, nD = n * D, np = hj_resnet_layer_params(D);
    double *Xw = X, *Pw = P, *own = NULL;
    if (X == NULL || P == NULL) {
        own = malloc(2 * (K + 1) * nD * sizeof *own);
        if (own == NULL)
            return hj_error_set(err, HJ_ENOMEM, "resnet PMP gradient: out of memory");
        if (Xw == NULL)
            Xw = own;
        if (Pw == NULL)
            Pw = own + (K + 1) * nD;
    }
    double phi = NAN;
    if ((st = hj_resnet_forward(net, x0, n, Xw, err)) == HJ_OK &&
        (st = hj_resnet_costate(net, tg, Xw, n, Pw, &phi, err)) == HJ_OK) {
        for (size_t k = 0; k < K; k++) {
            double *gk = grad + k * np;
            hj_resnet_hamiltonian_grad(net, net->theta + k * np, Xw + k * nD, Pw + (k + 1) * nD, n,
                                       NULL, gk);
            for (size_t j = 0; j < np; j++)
                gk[j] *= net->h;
        }
        if (loss != NULL)
            *loss = phi;
    }
    free(own);
    return st;
}
