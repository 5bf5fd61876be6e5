/* pmp-impl.h — helpers shared by the Hamiltonian-system modules (activations, finiteness). */
#ifndef HJDL_PMP_IMPL_H
#define HJDL_PMP_IMPL_H

#include <math.h>
#include <stddef.h>

#include "hjdl/lse.h"
#include "hjdl/pmp.h"

/* Second derivative of softplus_eps: sigma (1 - sigma)/eps with sigma = logistic(z/eps);
 * 0 at eps == 0 (ReLU is piecewise linear; its kink has measure zero). */
static inline double hj__softplus_dd(double z, double eps)
{
    if (!(eps > 0.0))
        return 0.0;
    double e = exp(-fabs(z) / eps);   /* sigma (1 - sigma) = e / (1 + e)^2, both signs of z */
    return e / ((1.0 + e) * (1.0 + e) * eps);
}

/* Logistic sigmoid 1/(1 + e^{-z}) without overflow. */
static inline double hj__sigmoid(double z)
{
    if (z >= 0.0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* 1 if all v[0..n) are finite. */
static inline int hj__pmp_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* Layout offsets of the recurrent parameter vectors (see pmp.h). */
typedef struct hj__rnn_layout {
    size_t W, U, b, C;        /* Elman: W (H,H), U (H,n_in), b (H), C (n_out,H) */
    size_t Wg, bg;            /* LSTM: Wg (4H, H+n_in), bg (4H) (C shares the field above) */
    size_t a, B, logdt;       /* SSM: a (H), B (H,n_in), log_dt (1) (C above) */
    size_t total;
} hj__rnn_layout;

hj__rnn_layout hj__rnn_layout_of(hj_rnn_kind kind, size_t n_in, size_t H, size_t n_out);

/* SSM discretisation and its partial derivatives per state n:
 *   Abar = exp(dt A), beta = (Abar - 1)/A (so Bbar = beta B),
 *   dAbar_dA = dt Abar, dAbar_ddt = A Abar, dbeta_dA, dbeta_ddt = Abar,
 * with A = -exp(a_n), dt = exp(log_dt). */
typedef struct hj__ssm_coef {
    double A, Abar, beta;
    double dAbar_dA, dAbar_ddt, dbeta_dA, dbeta_ddt;
} hj__ssm_coef;

hj__ssm_coef hj__ssm_coef_of(double a_n, double log_dt);

/* The transition part of the Hamiltonian, p . F(x, u, theta), with its gradients in
 * x (gx (S), overwritten), u (gu (n_in), overwritten) and theta (gtheta
 * (num_params), ACCUMULATED); each may be NULL. Not validated. */
double hj__recurrent_hamiltonian_u(const hj_recurrent *m, const double *x, const double *p,
                                   const double *u, double *gx, double *gu, double *gtheta);

#endif /* HJDL_PMP_IMPL_H */
