/* verify_diagram.c — C3: the four vertices (network, viscous PDE, tropical, convex) agree. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/entropic.h"
#include "hjdl/hopf.h"
#include "hjdl/lse.h"
#include "hjdl/pde.h"
#include "verify/verify-impl.h"

/* Smooth, Lipschitz initial data for the grid comparisons. */
static double g0_smooth(const double *y, size_t d, void *ctx)
{
    (void)ctx;
    double r2 = 0.0;
    for (size_t k = 0; k < d; k++)
        r2 += y[k] * y[k];
    return sqrt(1.0 + r2) + 0.3 * sin(2.0 * y[0]);
}

/* The network vertex for continuous initial data g0: quadrature atoms on Q,
 * mapped to LSE weights; u_net(x) = |x|^2/(4t) - f_eps(x) (+ the heat-kernel
 * normalisation at eps > 0). x (n, d), u (n). */
static hj_status network_solution(vctx *c, const hj_grid *Q, double eps, double t,
                                  const double *x, size_t n, double *u)
{
    const size_t N = hj_grid_size(Q), d = Q->d;
    hj_status st = HJ_ENOMEM;
    double *y = vnew(c, N * d), *g = vnew(c, N), *w = vnew(c, N * d), *b = vnew(c, N);
    if (!y || !g || !w || !b)
        goto done;
    VTRY(hj_pde_quadrature_atoms(Q, g0_smooth, NULL, eps, y, g, c->err));
    VTRY(hj_atoms_to_weights(y, g, N, d, t, NULL, w, b, c->err));
    hj_lse_layer L = {N, d, w, b, eps};
    VTRY(hj_lse_forward(&L, x, n, u, NULL, NULL, c->err));
    double cnorm = eps > 0.0 ? 0.5 * eps * (double)d * log(4.0 * 3.14159265358979323846 * eps * t) : 0.0;
    for (size_t i = 0; i < n; i++)
        u[i] = hj_hopf_quadratic(NULL, x + i * d, d, t) - u[i] + cnorm;
done:
    free(y), free(g), free(w), free(b);
    return st;
}

/* max_i |grid solution interpolated at x_i - ref_i|. */
static hj_status grid_error(vctx *c, const hj_grid *G, const double *ug, const double *x,
                            size_t n, const double *ref, double *worst)
{
    *worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v;
        hj_status st = hj_grid_interp(G, ug, x + i * G->d, &v, c->err);
        if (st != HJ_OK)
            return st;
        *worst = fmax(*worst, fabs(v - ref[i]));
    }
    return HJ_OK;
}

/* Evaluation points: a regular lattice in [-r, r]^d (n per axis). */
static size_t lattice(double *x, size_t d, size_t per_axis, double r)
{
    size_t n = d == 1 ? per_axis : per_axis * per_axis;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d; k++) {
            size_t ik = k == 0 ? i % per_axis : i / per_axis;
            x[i * d + k] = -r + 2.0 * r * (double)ik / (double)(per_axis - 1);
        }
    return n;
}

/* Network vs a grid solver at two resolutions: the finer error must be small
 * and the refinement must reduce it at (at least) the expected order. */
static hj_status network_vs_grid(vctx *c, size_t d, int viscous)
{
    const double t = 0.5, eps = viscous ? 0.5 : 0.0;
    const double box = d == 1 ? 8.0 : 6.0;
    const size_t fine = d == 1 ? 1601 : 241, coarse = (fine - 1) / 4 + 1; /* h and 4h */
    hj_status st = HJ_ENOMEM;
    double x[2 * 49], unet[49], err2[2] = {0, 0};
    size_t n = lattice(x, d, d == 1 ? 41 : 7, d == 1 ? 2.0 : 1.5);
    hj_grid Q = {d, {fine, fine}, {-box, -box}, {box, box}};
    VTRY(network_solution(c, &Q, eps, t, x, n, unet));
    for (int r = 0; r < 2; r++) {
        size_t m = r == 0 ? coarse : fine;
        hj_grid G = {d, {m, m}, {-box, -box}, {box, box}};
        double *ug = vnew(c, hj_grid_size(&G));
        if (!ug)
            goto done;
        if (viscous)
            st = hj_pde_viscous_solve(&G, g0_smooth, NULL, eps, t, d == 1 ? 400 : 100, ug, c->err);
        else
            st = hj_pde_inviscid_solve(&G, g0_smooth, NULL, t, 0.5, ug, c->err);
        if (st == HJ_OK)
            st = grid_error(c, &G, ug, x, n, unet, &err2[r]);
        free(ug);
        if (st != HJ_OK)
            goto done;
    }
    const char *scheme = viscous ? (d == 1 ? "Crank-Nicolson" : "ADI") : "Godunov";
    double hfine = 2.0 * box / (double)(fine - 1);
    /* second order (viscous) / first order (inviscid) in h, with slack */
    double tol = viscous ? hfine * hfine : hfine;
    /* half the ideal reduction of a 4x finer grid: 16x (order 2), 4x (order 1) */
    double min_ratio = viscous ? 8.0 : 2.0;
    VTRY(vcheck(c, "C3", err2[1], tol, "network vs %s grid PDE, d=%zu, eps=%g, h=%.3g (max abs)",
                scheme, d, eps, hfine));
    VTRY(vcheck(c, "C3", min_ratio / (err2[0] / fmax(err2[1], 1e-300)), 1.0,
                "%s grid error falls >=%gx as h/4 (measured %.1fx), d=%zu", scheme, min_ratio,
                err2[0] / fmax(err2[1], 1e-300), d));
done:
    return st;
}

/* The convex vertex: an iterative entropic solver (never the closed-form
 * softmax) against the LSE forward pass and the Hopf–Cole solution. */
static hj_status convex_vertex(vctx *c)
{
    const size_t N = 25, d = 2, n = 30;
    const double t = 0.6;
    static const double eps_list[] = {1e-3, 0.1, 1.0, 10.0};
    hj_status st = HJ_ENOMEM;
    double *w = vnew(c, N * d), *b = vnew(c, N), *y = vnew(c, N * d), *g = vnew(c, N);
    double *x = vnew(c, n * d), *z = vnew(c, N), *pi = vnew(c, n * N), *pz = vnew(c, N);
    double *f = vnew(c, n), *u = vnew(c, n);
    if (!w || !b || !y || !g || !x || !z || !pi || !pz || !f || !u)
        goto done;
    vfill_normal(c, w, N * d, 1.0);
    vfill_normal(c, b, N, 1.0);
    vfill_uniform(c, x, n * d, -2.0, 2.0);
    VTRY(hj_weights_to_atoms(w, b, N, d, t, NULL, y, g, c->err));
    hj_atoms atoms = {N, d, y, g};
    double worst_f = 0, worst_pi = 0, worst_md = 0, worst_u = 0;
    for (size_t e = 0; e < sizeof eps_list / sizeof eps_list[0]; e++) {
        const double eps = eps_list[e];
        hj_lse_layer L = {N, d, w, b, eps};
        VTRY(hj_lse_forward(&L, x, n, f, pi, NULL, c->err));
        hj_hc_out out = {0};
        out.u = u;
        VTRY(hj_hopf_cole_eval(&atoms, NULL, x, n, t, eps, &out, c->err));
        for (size_t i = 0; i < n; i++) {
            hj_entropic_result res;
            /* network side: max_pi sum pi z + eps H(pi), z = W x + b */
            for (size_t j = 0; j < N; j++) {
                z[j] = b[j];
                for (size_t k = 0; k < d; k++)
                    z[j] += w[j * d + k] * x[i * d + k];
            }
            VTRY(hj_entropic_dual_newton(z, N, eps, 1e-15, 200, pz, &res, c->err));
            worst_f = fmax(worst_f, vrel(res.value, f[i], fmax(1.0, fabs(f[i]))));
            for (size_t j = 0; j < N; j++)
                worst_pi = fmax(worst_pi, fabs(pz[j] - pi[i * N + j]));
            VTRY(hj_entropic_mirror_descent(z, N, eps, 1e-13, 100000, pz, &res, c->err));
            worst_md = fmax(worst_md, vrel(res.value, f[i], fmax(1.0, fabs(f[i]))));
            /* PDE side: u = min_pi sum pi (g + |x-y|^2/4t) - eps H(pi) */
            for (size_t j = 0; j < N; j++) {
                double q = 0.0;
                for (size_t k = 0; k < d; k++) {
                    double dk = x[i * d + k] - y[j * d + k];
                    q += dk * dk;
                }
                z[j] = -(g[j] + q / (4.0 * t));
            }
            VTRY(hj_entropic_dual_newton(z, N, eps, 1e-15, 200, pz, &res, c->err));
            worst_u = fmax(worst_u, vrel(-res.value, u[i], fmax(1.0, fabs(u[i]))));
        }
    }
    VTRY(vcheck(c, "C3", worst_f, 1e-12, "convex (dual Newton) value = LSE forward, eps 1e-3..10"));
    VTRY(vcheck(c, "C3", worst_pi, 1e-12, "convex maximiser = Gibbs weights pi (max abs)"));
    VTRY(vcheck(c, "C3", worst_md, 1e-9, "convex (mirror descent) value = LSE forward"));
    VTRY(vcheck(c, "C3", worst_u, 1e-12, "convex min over pi = Hopf-Cole u_eps"));
done:
    free(w), free(b), free(y), free(g), free(x), free(z), free(pi), free(pz), free(f), free(u);
    return st;
}

double hj_verify_sharp_gap_ratio(const double *w, const double *b, size_t N, size_t d, const double *x,
                           double eps, double df, double f0)
{
    /* the two largest logits */
    double z1 = -INFINITY, z2 = -INFINITY;
    for (size_t j = 0; j < N; j++) {
        double zj = b[j];
        for (size_t k = 0; k < d; k++)
            zj += w[j * d + k] * x[k];
        if (zj > z1) {
            z2 = z1;
            z1 = zj;
        } else if (zj > z2) {
            z2 = zj;
        }
    }
    double sharp = eps * log1p((double)(N - 1) * exp(-(z1 - z2) / eps));
    /* allow rounding when the sharp bound underflows to ~0 */
    double slack = 4e-16 * fmax(1.0, fabs(f0));
    return df <= sharp + slack ? 0.0 : df / sharp;
}

/* Both eps -> 0 arrows at the stated rate, and Lipschitz closure. */
static hj_status tropical_limit(vctx *c)
{
    const size_t N = 40, d = 3, n = 100;
    const double t = 0.8;
    static const double eps_list[] = {1e-4, 1e-3, 1e-2, 0.1, 0.3, 1.0, 3.0};
    hj_status st = HJ_ENOMEM;
    double *w = vnew(c, N * d), *b = vnew(c, N), *y = vnew(c, N * d), *g = vnew(c, N);
    double *x = vnew(c, n * d), *f0 = vnew(c, n), *f = vnew(c, n), *u0 = vnew(c, n);
    double *u = vnew(c, n), *grad = vnew(c, n * d), *z = vnew(c, N);
    if (!w || !b || !y || !g || !x || !f0 || !f || !u0 || !u || !grad || !z)
        goto done;
    vfill_normal(c, w, N * d, 1.0);
    vfill_normal(c, b, N, 0.3);
    vfill_uniform(c, x, n * d, -2.0, 2.0);
    VTRY(hj_weights_to_atoms(w, b, N, d, t, NULL, y, g, c->err));
    hj_atoms atoms = {N, d, y, g};
    hj_lse_layer L0 = {N, d, w, b, 0.0};
    VTRY(hj_lse_forward(&L0, x, n, f0, NULL, NULL, c->err));
    VTRY(hj_hopf_lax_eval(&atoms, NULL, x, n, t, u0, NULL, c->err));
    /* tropical vertex: max-plus network = Hopf–Lax (brute-force min) */
    double worst_trop = 0.0;
    for (size_t i = 0; i < n; i++) {
        double q = hj_hopf_quadratic(NULL, x + i * d, d, t);
        worst_trop = fmax(worst_trop, vrel(f0[i] + u0[i], q, fmax(fabs(q), fabs(f0[i]))));
    }
    VTRY(vcheck(c, "C3", worst_trop, 1e-13, "tropical: max-plus layer + Hopf-Lax = |x|^2/4t"));
    double ratio_net = 0, ratio_sharp = 0, ratio_pde = 0, lip = 0;
    const double Lw = hj_lse_lipschitz(&L0);
    for (size_t e = 0; e < sizeof eps_list / sizeof eps_list[0]; e++) {
        const double eps = eps_list[e];
        hj_lse_layer L = {N, d, w, b, eps};
        VTRY(hj_lse_forward(&L, x, n, f, NULL, grad, c->err));
        hj_hc_out out = {0};
        out.u = u;
        VTRY(hj_hopf_cole_eval(&atoms, NULL, x, n, t, eps, &out, c->err));
        for (size_t i = 0; i < n; i++) {
            double df = f[i] - f0[i], du = u0[i] - u[i];
            double bound = eps * log((double)N);
            ratio_net = fmax(ratio_net, df < 0 ? INFINITY : df / bound);
            ratio_pde = fmax(ratio_pde, du < 0 ? INFINITY : du / bound);
            ratio_sharp = fmax(ratio_sharp, hj_verify_sharp_gap_ratio(w, b, N, d, x + i * d, eps, df, f0[i]));
            double gn = 0.0;
            for (size_t k = 0; k < d; k++)
                gn += grad[i * d + k] * grad[i * d + k];
            lip = fmax(lip, sqrt(gn) / Lw);
        }
    }
    VTRY(vcheck(c, "C3", ratio_net, 1.0, "network arrow: 0 <= f_eps - f_0 <= eps log N (max ratio)"));
    VTRY(vcheck(c, "C3", ratio_sharp, 1.0, "f_eps - f_0 <= eps log(1+(N-1)e^{-gap/eps}) (violations)"));
    VTRY(vcheck(c, "C3", ratio_pde, 1.0, "PDE arrow: 0 <= u_0 - u_eps <= eps log N (max ratio)"));
    VTRY(vcheck(c, "C3", lip, 1.0 + 1e-12, "Lipschitz closure |grad f_eps| / max_j|w_j| <= 1"));
done:
    free(w), free(b), free(y), free(g), free(x), free(f0), free(f), free(u0), free(u);
    free(grad), free(z);
    return st;
}

hj_status hj__verify_diagram(vctx *c)
{
    hj_status st;
    if ((st = network_vs_grid(c, 1, 1)) != HJ_OK)
        return st;
    if ((st = network_vs_grid(c, 2, 1)) != HJ_OK)
        return st;
    if ((st = network_vs_grid(c, 1, 0)) != HJ_OK)
        return st;
    if ((st = network_vs_grid(c, 2, 0)) != HJ_OK)
        return st;
    if ((st = convex_vertex(c)) != HJ_OK)
        return st;
    return tropical_limit(c);
}
