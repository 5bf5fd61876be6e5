/* verify_identity.c — C1 (LSE layer = Hopf–Cole solution) and C2 (PDE residual). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/hopf.h"
#include "hjdl/lse.h"
#include "verify/verify-impl.h"

hj_status hj_verify_c1_error(const hj_atoms *atoms, const hj_metric *metric, const double *w,
                              const double *b, const double *x, size_t n, double t, double eps,
                              double *f, double *u, double *worst, hj_error *err)
{
    const size_t d = atoms->d;
    hj_lse_layer L = {atoms->N, d, w, b, eps};
    hj_status st = hj_lse_forward(&L, x, n, f, NULL, NULL, err);
    if (st != HJ_OK)
        return st;
    hj_hc_out out = {0};
    out.u = u;
    if ((st = hj_hopf_cole_eval(atoms, metric, x, n, t, eps, &out, err)) != HJ_OK)
        return st;
    *worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double q = hj_hopf_quadratic(metric, x + i * d, d, t);
        double scale = fmax(fabs(q), fmax(fabs(f[i]), fabs(u[i])));
        *worst = fmax(*worst, vrel(f[i] + u[i], q, scale));
    }
    return HJ_OK;
}

/* C1 for one metric (NULL = isotropic): random weights -> atoms; the LSE
 * forward pass of the weights and the Hopf–Cole solution of the atoms must
 * satisfy f + u = x^T A^{-1} x/(4t) at every eps, including eps = 0. */
static hj_status identity_for(vctx *c, const hj_metric *metric, const char *label)
{
    const size_t N = 40, d = metric ? hj_metric_dim(metric) : 3, n = 200;
    const double t = 0.7;
    static const double eps_list[] = {0.0, 1e-6, 1e-3, 0.1, 1.0, 10.0, 1e3};
    hj_status st = HJ_ENOMEM;
    double *w = vnew(c, N * d), *b = vnew(c, N), *y = vnew(c, N * d), *g = vnew(c, N);
    double *x = vnew(c, n * d), *f = vnew(c, n), *u = vnew(c, n);
    if (!w || !b || !y || !g || !x || !f || !u)
        goto done;
    vfill_normal(c, w, N * d, 1.0);
    vfill_normal(c, b, N, 1.0);
    vfill_uniform(c, x, n * d, -2.0, 2.0);
    VTRY(hj_weights_to_atoms(w, b, N, d, t, metric, y, g, c->err));
    hj_atoms atoms = {N, d, y, g};
    for (size_t e = 0; e < sizeof eps_list / sizeof eps_list[0]; e++) {
        double eps = eps_list[e], worst;
        VTRY(hj_verify_c1_error(&atoms, metric, w, b, x, n, t, eps, f, u, &worst, c->err));
        VTRY(vcheck(c, "C1", worst, 1e-13, "%s f+u = |x|^2/4t, eps=%g (rel)", label, eps));
    }
    /* round trip of the map */
    {
        double *w2 = vnew(c, N * d), *b2 = vnew(c, N);
        if (!w2 || !b2) {
            free(w2);
            free(b2);
            st = HJ_ENOMEM;
            goto done;
        }
        st = hj_atoms_to_weights(y, g, N, d, t, metric, w2, b2, c->err);
        double worst = 0.0;
        for (size_t k = 0; st == HJ_OK && k < N * d; k++)
            worst = fmax(worst, vrel(w2[k], w[k], fmax(1.0, fabs(w[k]))));
        for (size_t k = 0; st == HJ_OK && k < N; k++)
            worst = fmax(worst, vrel(b2[k], b[k], fmax(1.0, fabs(b[k]))));
        free(w2);
        free(b2);
        if (st != HJ_OK)
            goto done;
        VTRY(vcheck(c, "C1", worst, 1e-13, "%s weights->atoms->weights round trip", label));
    }
done:
    free(w), free(b), free(y), free(g), free(x), free(f), free(u);
    return st;
}

hj_status hj__verify_identity(vctx *c)
{
    hj_status st = identity_for(c, NULL, "isotropic");
    if (st != HJ_OK)
        return st;
    /* anisotropic H(p) = p^T A p with A = B B^T + I/2 */
    const size_t d = 3;
    double B[9], A[9];
    vfill_normal(c, B, 9, 0.7);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            double s = (i == j) ? 0.5 : 0.0;
            for (size_t k = 0; k < d; k++)
                s += B[i * d + k] * B[j * d + k];
            A[i * d + j] = s;
        }
    hj_metric *m = NULL;
    if ((st = hj_metric_alloc(&m, A, d, c->err)) != HJ_OK)
        return st;
    st = identity_for(c, m, "anisotropic");
    hj_metric_free(m);
    return st;
}

/* u(x, t) (plain) at one point, for finite differences. */
static hj_status u_at(const hj_atoms *a, const double *x, double t, double eps,
                      double *u, hj_error *err)
{
    hj_hc_out out = {0};
    out.u = u;
    return hj_hopf_cole_eval(a, NULL, x, 1, t, eps, &out, err);
}

/* Fourth-order central differences of u at (x, t) along axis k of x (hx > 0)
 * or along t (ht > 0): first derivative *d1 and second derivative *d2. */
static hj_status fd_stencil(const hj_atoms *a, const double *x, size_t k, double hx,
                            double t, double ht, double eps, double u0, double *d1,
                            double *d2, hj_error *err)
{
    double v[4], xs[2];
    static const double off[4] = {-2.0, -1.0, 1.0, 2.0};
    const double h = hx > 0.0 ? hx : ht;
    for (int s = 0; s < 4; s++) {
        xs[0] = x[0];
        xs[1] = a->d > 1 ? x[1] : 0.0;
        double ts = t;
        if (hx > 0.0)
            xs[k] += off[s] * hx;
        else
            ts += off[s] * ht;
        hj_status st = u_at(a, xs, ts, eps, &v[s], err);
        if (st != HJ_OK)
            return st;
    }
    *d1 = (v[0] - 8.0 * v[1] + 8.0 * v[2] - v[3]) / (12.0 * h);
    *d2 = (-v[0] + 16.0 * v[1] - 30.0 * u0 + 16.0 * v[2] - v[3]) / (12.0 * h * h);
    return HJ_OK;
}

/* C2: the residual of the viscous HJ equation, from the closed-form
 * derivatives and, independently, from central finite differences of u. */
hj_status hj__verify_residual(vctx *c)
{
    const size_t N = 30, d = 2, n = 40;
    const double t = 0.5;
    static const double eps_list[] = {0.05, 0.5, 2.0};
    hj_status st = HJ_ENOMEM;
    double *y = vnew(c, N * d), *g = vnew(c, N), *x = vnew(c, n * d);
    double *u = vnew(c, n), *grad = vnew(c, n * d), *dudt = vnew(c, n), *lap = vnew(c, n);
    if (!y || !g || !x || !u || !grad || !dudt || !lap)
        goto done;
    vfill_uniform(c, y, N * d, -2.0, 2.0);
    vfill_uniform(c, g, N, 0.0, 1.0);
    vfill_uniform(c, x, n * d, -1.5, 1.5);
    hj_atoms atoms = {N, d, y, g};
    for (size_t e = 0; e < sizeof eps_list / sizeof eps_list[0]; e++) {
        const double eps = eps_list[e];
        hj_hc_out out = {0};
        out.u = u, out.grad = grad, out.dudt = dudt, out.lap = lap;
        VTRY(hj_hopf_cole_eval(&atoms, NULL, x, n, t, eps, &out, c->err));
        const double target = -eps * (double)d / (2.0 * t);
        double worst_cf = 0.0, worst_fd = 0.0, worst_deriv = 0.0;
        /* step sizes scaled to the kernel width sqrt(2 t eps) */
        const double hx = 1e-2 * sqrt(2.0 * t * eps), ht = 1e-2 * t;
        for (size_t i = 0; i < n; i++) {
            const double *xi = x + i * d;
            double g2 = 0.0;
            for (size_t k = 0; k < d; k++)
                g2 += grad[i * d + k] * grad[i * d + k];
            double scale = fabs(dudt[i]) + g2 + eps * fabs(lap[i]) + fabs(target);
            double res = dudt[i] + g2 - eps * lap[i];
            worst_cf = fmax(worst_cf, vrel(res, target, scale));
            /* fourth-order central finite differences */
            double fd_dt, fd_grad[2], fd_lap = 0.0, fd_g2 = 0.0, s1, s2;
            VTRY(fd_stencil(&atoms, xi, 0, 0.0, t, ht, eps, u[i], &fd_dt, &s2, c->err));
            for (size_t k = 0; k < d; k++) {
                VTRY(fd_stencil(&atoms, xi, k, hx, t, 0.0, eps, u[i], &s1, &s2, c->err));
                fd_grad[k] = s1;
                fd_lap += s2;
                fd_g2 += s1 * s1;
            }
            double fd_res = fd_dt + fd_g2 - eps * fd_lap;
            worst_fd = fmax(worst_fd, vrel(fd_res, target, scale));
            worst_deriv = fmax(worst_deriv, vrel(fd_dt, dudt[i], scale));
            worst_deriv = fmax(worst_deriv, vrel(eps * fd_lap, eps * lap[i], scale));
            for (size_t k = 0; k < d; k++)
                worst_deriv = fmax(worst_deriv, vrel(fd_grad[k], grad[i * d + k], sqrt(scale)));
        }
        VTRY(vcheck(c, "C2", worst_cf, 1e-12,
                    "closed-form residual = -eps d/2t, eps=%g (rel)", eps));
        VTRY(vcheck(c, "C2", worst_fd, 1e-5,
                    "finite-difference residual = -eps d/2t, eps=%g (rel)", eps));
        VTRY(vcheck(c, "C2", worst_deriv, 1e-5,
                    "closed-form derivatives vs finite differences, eps=%g", eps));
    }
    st = HJ_OK;
done:
    free(y), free(g), free(x), free(u), free(grad), free(dudt), free(lap);
    return st;
}
