/* verify_semigroup.c — C4: Hopf–Lax and viscous propagators compose (semigroup property). */
#include <math.h>
#include <stdlib.h>

#include "hjdl/hopf.h"
#include "hjdl/pde.h"
#include "verify/verify-impl.h"

/* phi(y) = u(y, t) of fixed atoms, as a scalar function for the pde.h propagators. */
typedef struct phi_ctx {
    const hj_atoms *atoms;
    double t, eps;
    int failed;
} phi_ctx;

static double phi_eval(const double *y, size_t d, void *vp)
{
    phi_ctx *p = vp;
    (void)d;
    double u = 0.0;
    hj_status st;
    if (p->eps == 0.0) {
        st = hj_hopf_lax_eval(p->atoms, NULL, y, 1, p->t, &u, NULL, NULL);
    } else {
        hj_hc_out out = {0};
        out.u_norm = &u;
        st = hj_hopf_cole_eval(p->atoms, NULL, y, 1, p->t, p->eps, &out, NULL);
    }
    if (st != HJ_OK)
        p->failed = 1;
    return u;
}

static hj_status semigroup_for(vctx *c, size_t d, double eps)
{
    const size_t N = 6, n = 15;
    const double t = 0.3, s = 0.4;
    hj_status st = HJ_ENOMEM;
    double *y = vnew(c, N * d), *g = vnew(c, N), *x = vnew(c, n * d);
    double *direct = vnew(c, n), *composed = vnew(c, n);
    if (!y || !g || !x || !direct || !composed)
        goto done;
    vfill_uniform(c, y, N * d, -1.5, 1.5);
    vfill_uniform(c, g, N, 0.0, 1.0);
    vfill_uniform(c, x, n * d, -1.5, 1.5);
    hj_atoms atoms = {N, d, y, g};
    phi_ctx pc = {&atoms, t, eps, 0};
    if (eps == 0.0) {
        hj_grid Q = {d, {d == 1 ? 801 : 81, 81}, {-4, -4}, {4, 4}};
        VTRY(hj_hopf_lax_eval(&atoms, NULL, x, n, t + s, direct, NULL, c->err));
        VTRY(hj_pde_inf_convolution(&Q, phi_eval, &pc, x, n, s, composed, c->err));
    } else {
        hj_grid Q = {d, {d == 1 ? 2001 : 201, 201}, {-5, -5}, {5, 5}};
        hj_hc_out out = {0};
        out.u_norm = direct;
        VTRY(hj_hopf_cole_eval(&atoms, NULL, x, n, t + s, eps, &out, c->err));
        VTRY(hj_pde_heat_propagate(&Q, phi_eval, &pc, x, n, s, eps, composed, c->err));
    }
    if (pc.failed) {
        st = hj_error_set(c->err, HJ_EINVAL, "semigroup: evaluating u(., t) failed");
        goto done;
    }
    double worst = 0.0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs(direct[i] - composed[i]));
    if (eps == 0.0)
        VTRY(vcheck(c, "C4", worst, 1e-9,
                    "Hopf-Lax: min_y[u0(y,t)+|x-y|^2/4s] = u0(x,t+s), d=%zu (max abs)", d));
    else
        VTRY(vcheck(c, "C4", worst, 1e-7,
                    "viscous: propagate(s) of u~(.,t) = u~(.,t+s), eps=%g, d=%zu", eps, d));
    st = HJ_OK;
done:
    free(y), free(g), free(x), free(direct), free(composed);
    return st;
}

hj_status hj__verify_semigroup(vctx *c)
{
    hj_status st;
    if ((st = semigroup_for(c, 1, 0.0)) != HJ_OK)
        return st;
    if ((st = semigroup_for(c, 2, 0.0)) != HJ_OK)
        return st;
    if ((st = semigroup_for(c, 1, 0.3)) != HJ_OK)
        return st;
    return semigroup_for(c, 2, 0.3);
}
