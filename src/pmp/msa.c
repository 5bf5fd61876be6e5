/* msa.c — the extended method of successive approximations (Li, Chen, Tai & E 2018): train a residual network by sweeping states and co-states, then minimising each layer's extended Hamiltonian. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/lse.h"
#include "hjdl/pmp.h"
#include "pmp/pmp-impl.h"

void hj_msa_options_default(hj_msa_options *o)
{
    memset(o, 0, sizeof *o);
    o->iters = 200;
    o->inner_steps = 4;
    o->lr = 1e-2;
    o->rho = 1.0;
    o->inner_adam = 1;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->adam_eps = 1e-8;
}

/*
 * J(theta) and its gradient (see pmp.h). Per sample i, with q' = n p_{k+1,i}, q = n p_{k,i},
 * z = A x + c, s1 = s'(z), s2 = s''(z):
 *   f = s(z),  r = x' - x - h f,  g = A^T (q' * s1),  e = q - q' - h g,
 *   n J_i = h q' . f + rho/2 |r|^2 + rho/2 |e|^2,
 *   d(n J_i)/dA = h (q' s1) x^T - rho h (r s1) x^T - rho h [(q' s1) e^T + (q' s2 (A e)) x^T],
 *   d(n J_i)/dc = h q' s1 - rho h r s1 - rho h q' s2 (A e),
 * since dg_j/dA_ml = delta_jl q'_m s1_m + A_mj q'_m s2_m x_l and dg_j/dc_m = A_mj q'_m s2_m.
 * work: 6 D doubles.
 */
static double ext_hamiltonian(const hj_resnet *net, const double *th, const double *xk,
                              const double *xk1, const double *pk, const double *pk1, size_t n,
                              double rho, double *grad, double *work)
{
    const size_t D = net->D;
    const double h = net->h, eps = net->eps, nn = (double)n;
    const double *A = th, *c = th + D * D;
    double *s1 = work, *s2 = work + D, *qp = work + 2 * D, *r = work + 3 * D, *e = work + 4 * D,
           *Ae = work + 5 * D;
    double J = 0.0;
    if (grad != NULL)
        memset(grad, 0, (D * D + D) * sizeof *grad);
    for (size_t i = 0; i < n; i++) {
        const double *x = xk + i * D, *x1 = xk1 + i * D, *p = pk + i * D, *p1 = pk1 + i * D;
        double ham = 0.0, pen_x = 0.0, pen_p = 0.0;
        for (size_t a = 0; a < D; a++) {
            double z = c[a];
            for (size_t l = 0; l < D; l++)
                z += A[a * D + l] * x[l];
            double f = hj_softplus(z, eps);
            s1[a] = hj_softplus_grad(z, eps);
            s2[a] = hj__softplus_dd(z, eps);
            qp[a] = nn * p1[a];
            ham += qp[a] * f;
            r[a] = x1[a] - x[a] - h * f;
            pen_x += r[a] * r[a];
        }
        for (size_t l = 0; l < D; l++) {
            double g = 0.0;
            for (size_t a = 0; a < D; a++)
                g += A[a * D + l] * qp[a] * s1[a];
            e[l] = nn * p[l] - qp[l] - h * g;
            pen_p += e[l] * e[l];
        }
        J += h * ham + 0.5 * rho * (pen_x + pen_p);
        if (grad == NULL)
            continue;
        for (size_t a = 0; a < D; a++) {
            double v = 0.0;
            for (size_t l = 0; l < D; l++)
                v += A[a * D + l] * e[l];
            Ae[a] = v;
        }
        for (size_t a = 0; a < D; a++) {
            /* coefficient of x^T in row a, and the e^T part */
            const double cx = h * qp[a] * s1[a] - rho * h * r[a] * s1[a] - rho * h * qp[a] * s2[a] * Ae[a];
            const double ce = -rho * h * qp[a] * s1[a];
            double *gA = grad + a * D;
            for (size_t l = 0; l < D; l++)
                gA[l] += (cx * x[l] + ce * e[l]) / nn;
            grad[D * D + a] += cx / nn;
        }
    }
    return J / nn;
}

hj_status hj_resnet_extended_hamiltonian(const hj_resnet *net, const double *theta_k,
                                         const double *xk, const double *xk1, const double *pk,
                                         const double *pk1, size_t n, double rho, double *J,
                                         double *grad, hj_error *err)
{
    hj_status st = hj_resnet_check(net, NULL, err);
    if (st != HJ_OK)
        return st;
    if (!theta_k || !xk || !xk1 || !pk || !pk1 || n == 0)
        return hj_error_set(err, HJ_EINVAL, "extended Hamiltonian: NULL buffer or n = 0");
    if (!(rho >= 0.0) || !isfinite(rho))
        return hj_error_set(err, HJ_EINVAL, "extended Hamiltonian: rho = %g must be >= 0", rho);
    double *work = malloc(6 * net->D * sizeof *work);
    if (work == NULL)
        return hj_error_set(err, HJ_ENOMEM, "extended Hamiltonian: out of memory");
    double v = ext_hamiltonian(net, theta_k, xk, xk1, pk, pk1, n, rho, grad, work);
    free(work);
    if (J != NULL)
        *J = v;
    return HJ_OK;
}

static hj_status msa_check(const hj_msa_options *o, hj_error *err)
{
    if (o == NULL)
        return hj_error_set(err, HJ_EINVAL, "MSA: NULL options");
    if (o->iters == 0 || o->inner_steps == 0)
        return hj_error_set(err, HJ_EINVAL, "MSA: iters (%zu) and inner_steps (%zu) must be >= 1",
                            o->iters, o->inner_steps);
    if (!(o->lr > 0.0) || !isfinite(o->lr))
        return hj_error_set(err, HJ_EINVAL, "MSA: lr = %g must be finite and > 0", o->lr);
    if (!(o->rho >= 0.0) || !isfinite(o->rho))
        return hj_error_set(err, HJ_EINVAL, "MSA: rho = %g must be finite and >= 0", o->rho);
    if (o->inner_adam && (!(o->beta1 >= 0.0 && o->beta1 < 1.0) || !(o->beta2 >= 0.0 && o->beta2 < 1.0) ||
                          !(o->adam_eps > 0.0)))
        return hj_error_set(err, HJ_EINVAL, "MSA: Adam needs 0 <= beta1, beta2 < 1 and adam_eps > 0");
    return HJ_OK;
}

hj_status hj_resnet_msa(const hj_resnet *net, double *theta, const hj_pmp_target *tg,
                        const double *x0, size_t n, const hj_msa_options *opt,
                        double *loss_trace, hj_error *err)
{
    if (net == NULL || theta == NULL || x0 == NULL || n == 0)
        return hj_error_set(err, HJ_EINVAL, "MSA: NULL argument or n = 0");
    hj_resnet cur = *net;
    cur.theta = theta;
    hj_status st = hj_resnet_check(&cur, tg, err);
    if (st == HJ_OK)
        st = msa_check(opt, err);
    if (st != HJ_OK)
        return st;
    const size_t D = net->D, K = net->K, nD = n * D, np = hj_resnet_layer_params(D);
    double *X = malloc((K + 1) * nD * sizeof *X), *P = malloc((K + 1) * nD * sizeof *P);
    double *g = malloc(np * sizeof *g), *work = malloc(6 * D * sizeof *work);
    double *mom = calloc(2 * K * np, sizeof *mom);   /* Adam moments (m, v) per layer */
    size_t *steps = calloc(K, sizeof *steps);
    if (!X || !P || !g || !work || !mom || !steps) {
        st = hj_error_set(err, HJ_ENOMEM, "MSA: out of memory");
        goto done;
    }
    for (size_t it = 0; it <= opt->iters; it++) {
        double loss = NAN;
        if ((st = hj_resnet_forward(&cur, x0, n, X, err)) != HJ_OK ||
            (st = hj_resnet_costate(&cur, tg, X, n, P, &loss, err)) != HJ_OK)
            goto done;
        if (loss_trace != NULL)
            loss_trace[it] = loss;
        if (it == opt->iters)
            break;
        /* every layer minimises its own extended Hamiltonian with the sweeps fixed */
        for (size_t k = 0; k < K; k++) {
            double *th = theta + k * np, *m1 = mom + 2 * k * np, *m2 = m1 + np;
            for (size_t s = 0; s < opt->inner_steps; s++) {
                ext_hamiltonian(&cur, th, X + k * nD, X + (k + 1) * nD, P + k * nD,
                                P + (k + 1) * nD, n, opt->rho, g, work);
                if (!hj__pmp_finite(g, np)) {
                    st = hj_error_set(err, HJ_ENAN, "MSA: non-finite gradient at sweep %zu, layer %zu",
                                      it, k);
                    goto done;
                }
                if (opt->inner_adam) {
                    steps[k]++;
                    const double b1 = opt->beta1, b2 = opt->beta2;
                    const double c1 = 1.0 - pow(b1, (double)steps[k]);
                    const double c2 = 1.0 - pow(b2, (double)steps[k]);
                    for (size_t j = 0; j < np; j++) {
                        m1[j] = b1 * m1[j] + (1.0 - b1) * g[j];
                        m2[j] = b2 * m2[j] + (1.0 - b2) * g[j] * g[j];
                        th[j] -= opt->lr * (m1[j] / c1) / (sqrt(m2[j] / c2) + opt->adam_eps);
                    }
                } else {
                    for (size_t j = 0; j < np; j++)
                        th[j] -= opt->lr * g[j];
                }
            }
        }
    }
done:
    free(X), free(P), free(g), free(work), free(mom), free(steps);
    return st;
}
