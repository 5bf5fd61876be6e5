/* backprop.c — plain reverse-mode backprop for the residual network (chain rule over cached activations), written apart from the Hamiltonian code for comparison. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/lse.h"
#include "hjdl/pmp.h"
#include "pmp/pmp-impl.h"

/*
 * The network as a graph of three nodes per layer:
 *   z = A x + c        (linear)
 *   a = softplus(z)    (activation)
 *   x' = x + h a       (residual add)
 * The forward pass stores every layer input X_k (n, D) and pre-activation Z_k (n, D);
 * the backward pass turns the adjoint of x' into the adjoints of a, z, A, c and x in
 * that order, exactly as an autodiff tape would.
 */
hj_status hj_resnet_backprop(const hj_resnet *net, const hj_pmp_target *tg, const double *x0,
                             size_t n, double *loss, double *grad, hj_error *err)
{
    hj_status st = hj_resnet_check(net, tg, err);
    if (st != HJ_OK)
        return st;
    if (x0 == NULL || grad == NULL || n == 0)
        return hj_error_set(err, HJ_EINVAL, "resnet backprop: NULL buffer or n = 0");
    const size_t D = net->D, K = net->K, nD = n * D, np = hj_resnet_layer_params(D);
    double *xs = malloc((K + 1) * nD * sizeof *xs);   /* (K+1, n, D) layer inputs */
    double *zs = malloc(K * nD * sizeof *zs);         /* (K, n, D) pre-activations */
    double *dx = malloc(2 * nD * sizeof *dx);         /* adjoint of x', of x */
    double *dz = malloc(D * sizeof *dz);
    if (!xs || !zs || !dx || !dz) {
        free(xs), free(zs), free(dx), free(dz);
        return hj_error_set(err, HJ_ENOMEM, "resnet backprop: out of memory");
    }
    /* forward, caching */
    memcpy(xs, x0, nD * sizeof *xs);
    for (size_t k = 0; k < K; k++) {
        const double *A = net->theta + k * np, *c = A + D * D;
        const double *xin = xs + k * nD;
        double *z = zs + k * nD, *xo = xs + (k + 1) * nD;
        for (size_t i = 0; i < n; i++)
            for (size_t a = 0; a < D; a++) {
                double acc = c[a];
                for (size_t l = 0; l < D; l++)
                    acc += A[a * D + l] * xin[i * D + l];
                z[i * D + a] = acc;
            }
        for (size_t j = 0; j < nD; j++)
            xo[j] = xin[j] + net->h * hj_softplus(z[j], net->eps);
    }
    /* loss node: L = 1/(2n) sum |R x - y|^2, written out here on its own */
    const double *xK = xs + K * nD;
    double L = 0.0, *dcur = dx, *dprev = dx + nD;
    memset(dcur, 0, nD * sizeof *dcur);
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < tg->m; a++) {
            double out = 0.0;
            if (tg->R)
                for (size_t l = 0; l < D; l++)
                    out += tg->R[a * D + l] * xK[i * D + l];
            else
                out = xK[i * D + a];
            double res = out - tg->y[i * tg->m + a];
            L += 0.5 * res * res / (double)n;
            double dout = res / (double)n;
            if (tg->R)
                for (size_t l = 0; l < D; l++)
                    dcur[i * D + l] += dout * tg->R[a * D + l];
            else
                dcur[i * D + a] += dout;
        }
    /* backward through the layers */
    memset(grad, 0, K * np * sizeof *grad);
    for (size_t k = K; k-- > 0;) {
        const double *A = net->theta + k * np;
        const double *xin = xs + k * nD, *z = zs + k * nD;
        double *dA = grad + k * np, *dc = dA + D * D;
        for (size_t i = 0; i < n; i++) {
            const double *dxo = dcur + i * D;
            double *dxi = dprev + i * D;
            /* residual add: x' = x + h a  ->  dx = dx', da = h dx' */
            for (size_t l = 0; l < D; l++)
                dxi[l] = dxo[l];
            /* activation: dz = da * softplus'(z) */
            for (size_t a = 0; a < D; a++)
                dz[a] = net->h * dxo[a] * hj_softplus_grad(z[i * D + a], net->eps);
            /* linear: dA += dz x^T, dc += dz, dx += A^T dz */
            for (size_t a = 0; a < D; a++) {
                for (size_t l = 0; l < D; l++) {
                    dA[a * D + l] += dz[a] * xin[i * D + l];
                    dxi[l] += A[a * D + l] * dz[a];
                }
                dc[a] += dz[a];
            }
        }
        double *t = dcur;
        dcur = dprev;
        dprev = t;
    }
    free(xs), free(zs), free(dx), free(dz);
    if (loss != NULL)
        *loss = L;
    if (!isfinite(L) || !hj__pmp_finite(grad, K * np))
        return hj_error_set(err, HJ_ENAN, "resnet backprop: loss or gradient is not finite");
    return HJ_OK;
}
