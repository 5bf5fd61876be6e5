/* exp_identity.c — experiment "identity" (C1–C6): the verify suite, plus tables and figures of f + u = |x|^2/4t over eps, the tropical arrow and the four-vertex diagram. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/exp-common.h"
#include "experiments/experiments-impl.h"
#include "hjdl/entropic.h"
#include "hjdl/hopf.h"
#include "hjdl/lse.h"
#include "hjdl/pde.h"
#include "hjdl/plot.h"
#include "hjdl/rng.h"
#include "hjdl/stats.h"
#include "hjdl/verify.h"

/*
 * Parts (each records CSV, checks and a figure into res->dir):
 *   0. the whole verify suite (hj_verify_run), every check copied with its claim id;
 *   1. C1 table: max relative |f_eps + u_eps - |x|^2/4t| over random points,
 *      for eps on a log grid 1e-6 .. 1e3 and eps = 0 (a separate first row);
 *   2. the tropical arrow (d = 1): sup_x (f_eps - f_0) against eps log N,
 *      with the envelope's kinks among the points so the sup is attained;
 *   3. the four-vertex diagram (d = 1) for one configuration: network, Hopf–Cole,
 *      grid PDE and convex values at eps > 0; max-plus, Hopf–Lax and a Godunov
 *      grid at eps = 0; the eps -> 0 gap against eps log N.
 */

static const char EXP[] = "identity";
static const double PI = 3.14159265358979323846;

typedef struct ictx {
    const hj_experiment_options *opt;
    hj_result *res;
    hj_error *err;
    hj_rng rng;
    int quick;
} ictx;

static double *dnew(ictx *c, size_t n)
{
    return hj__exp_dnew(EXP, n, c->err);
}

/* ---- 0. the verify suite ------------------------------------------------- */

static void verify_progress(const char *stage, void *ctx)
{
    hj_experiment_progress((const hj_experiment_options *)ctx, EXP, stage, 0.05);
}

static hj_status part_verify(ictx *c)
{
    hj_check_list list = {0};
    hj_verify_options vo = {c->opt->seed, verify_progress, (void *)c->opt};
    hj_status st = hj_verify_run(&vo, &list, c->err);
    for (size_t i = 0; st == HJ_OK && i < list.n; i++) {
        const hj_check *k = &list.items[i];
        st = hj_result_check(c->res, k->claim, k->name, k->value, k->threshold, c->err);
    }
    if (st == HJ_OK)
        st = hj_result_metric(c->res, "verify_checks", (double)list.n, c->err);
    if (st == HJ_OK)
        st = hj_result_metric(c->res, "verify_failures", (double)hj_check_failures(&list), c->err);
    hj_check_list_free(&list);
    return st;
}

/* ---- 1. C1 over eps -------------------------------------------------------- */

static hj_status part_c1(ictx *c)
{
    const size_t N = c->opt->N ? c->opt->N : 40, d = c->opt->d ? c->opt->d : 3;
    const size_t n = c->quick ? 100 : 400, per_decade = c->quick ? 1 : 4;
    const size_t n_eps = 9 * per_decade + 1, rows = n_eps + 1; /* 1e-6 .. 1e3, plus eps = 0 */
    const double t = 0.7;
    hj_status st = HJ_ENOMEM;
    double *w = dnew(c, N * d), *b = dnew(c, N), *y = dnew(c, N * d), *g = dnew(c, N);
    double *x = dnew(c, n * d), *f = dnew(c, n), *u = dnew(c, n), *tab = dnew(c, rows * 3);
    if (!w || !b || !y || !g || !x || !f || !u || !tab)
        goto done;
    for (size_t k = 0; k < N * d; k++)
        w[k] = hj_rng_normal(&c->rng);
    for (size_t k = 0; k < N; k++)
        b[k] = hj_rng_normal(&c->rng);
    for (size_t k = 0; k < n * d; k++)
        x[k] = hj_rng_range(&c->rng, -2.0, 2.0);
    TRY(hj_weights_to_atoms(w, b, N, d, t, NULL, y, g, c->err));
    hj_atoms atoms = {N, d, y, g};
    double worst_pos = 0.0, worst_zero = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const double eps = r == 0 ? 0.0 : pow(10.0, -6.0 + (double)(r - 1) / (double)per_decade);
        double worst;
        TRY(hj_verify_c1_error(&atoms, NULL, w, b, x, n, t, eps, f, u, &worst, c->err));
        tab[r * 3] = eps;
        tab[r * 3 + 1] = worst;
        tab[r * 3 + 2] = fmax(worst, 1e-18); /* for the log axis */
        if (r == 0)
            worst_zero = worst;
        else
            worst_pos = fmax(worst_pos, worst);
    }
    static const char *const names[] = {"eps", "max_rel_err", "max_rel_err_floor1e-18"};
    TRY(hj_result_write_csv(c->res, "c1_identity_vs_eps.csv", names, tab, rows, 3, c->err));
    TRY(hj_result_check(c->res, "C1", "table: max rel |f+u-|x|^2/4t|, eps on log grid 1e-6..1e3",
                        worst_pos, 1e-13, c->err));
    TRY(hj_result_check(c->res, "C1", "table: max rel |f+u-|x|^2/4t| at eps = 0 (max-plus, Hopf-Lax)",
                        worst_zero, 1e-13, c->err));
    TRY(hj_result_metric(c->res, "c1_max_rel_err", fmax(worst_pos, worst_zero), c->err));
    TRY(hj_result_param_num(c->res, "c1_N", (double)N, c->err));
    TRY(hj_result_param_num(c->res, "c1_d", (double)d, c->err));
    TRY(hj_result_param_num(c->res, "c1_points", (double)n, c->err));
    TRY(hj_result_param_num(c->res, "c1_t", t, c->err));
    hj_plot p = {0};
    p.name = "c1_identity";
    p.title = "LSE layer + Hopf-Cole solution = |x|^2/4t";
    p.xlabel = "eps";
    p.ylabel = "max relative error";
    p.logx = p.logy = 1;
    p.n_series = 1;
    p.series[0] = (hj_plot_series){"c1_identity_vs_eps.csv", 1, 3, 0, "max_x |f+u-|x|^2/4t| / scale",
                                   "linespoints", "$1 > 0"};
    p.n_functions = 2;
    p.functions[0] = "1e-13";
    p.function_titles[0] = "check threshold 1e-13";
    p.functions[1] = "2.220446049250313e-16";
    p.function_titles[1] = "machine epsilon";
    char cap[512];
    snprintf(cap, sizeof cap,
             "C1: for N = %zu random neurons in d = %zu and %zu random points, the largest relative "
             "error of f_eps + u_eps = |x|^2/(4t) (t = %g) for eps from 1e-6 to 1e3; eps = 0 is "
             "the first row of the CSV (%.3g). Errors are rounding-level at every eps.",
             N, d, n, t, worst_zero);
    TRY(hj__exp_figure(c->res, &p, cap, c->err));
    hj_result_note(c->res,
                   "C1: f_eps + u_eps = |x|^2/4t holds to %.2g relative over eps in {0} and "
                   "1e-6..1e3 (N = %zu, d = %zu).",
                   fmax(worst_pos, worst_zero), N, d);
    st = HJ_OK;
done:
    free(w), free(b), free(y), free(g), free(x), free(f), free(u), free(tab);
    return st;
}

/* ---- 2. the tropical arrow ------------------------------------------------- */

/* Points of [lo, hi] where two neurons tie for the maximum of z_j = w_j x + b_j
 * (the kinks of f_0), appended to x; returns their number (<= cap). */
static size_t envelope_kinks(const double *w, const double *b, size_t N, double lo, double hi,
                             double *x, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N && k < cap; j++) {
            if (w[i] == w[j])
                continue;
            double xs = (b[j] - b[i]) / (w[i] - w[j]);
            if (!(xs >= lo && xs <= hi))
                continue;
            double zi = w[i] * xs + b[i], m = -INFINITY, scale = fabs(zi);
            for (size_t l = 0; l < N; l++) {
                double zl = w[l] * xs + b[l];
                m = fmax(m, zl);
                scale = fmax(scale, fabs(w[l] * xs) + fabs(b[l]));
            }
            if (zi >= m - 1e-12 * fmax(1.0, scale))
                x[k++] = xs;
        }
    return k;
}

static hj_status part_tropical(ictx *c)
{
    const size_t N = c->opt->N ? c->opt->N : 40, n_grid = c->quick ? 200 : 2000;
    const size_t per_decade = c->quick ? 1 : 4, n_eps = 5 * per_decade + 1; /* 1e-4 .. 10 */
    const double t = 1.0, lo = -3.0, hi = 3.0, logN = log((double)N);
    const size_t n_pts = n_grid + N * (N - 1) / 2;
    hj_status st = HJ_ENOMEM;
    double *w = dnew(c, N), *b = dnew(c, N), *y = dnew(c, N), *g = dnew(c, N);
    double *x = dnew(c, n_pts), *f0 = dnew(c, n_pts), *f = dnew(c, n_pts), *u0 = dnew(c, n_pts);
    double *u = dnew(c, n_pts), *tab = dnew(c, n_eps * 7), *ex = dnew(c, n_eps), *ey = dnew(c, n_eps);
    if (!w || !b || !y || !g || !x || !f0 || !f || !u0 || !u || !tab || !ex || !ey)
        goto done;
    for (size_t k = 0; k < N; k++) {
        w[k] = hj_rng_normal(&c->rng);
        b[k] = 0.5 * hj_rng_normal(&c->rng);
    }
    for (size_t i = 0; i < n_grid; i++)
        x[i] = lo + (hi - lo) * (double)i / (double)(n_grid - 1);
    const size_t n_kink = envelope_kinks(w, b, N, lo, hi, x + n_grid, n_pts - n_grid);
    const size_t n = n_grid + n_kink;
    TRY(hj_weights_to_atoms(w, b, N, 1, t, NULL, y, g, c->err));
    hj_atoms atoms = {N, 1, y, g};
    hj_lse_layer L0 = {N, 1, w, b, 0.0};
    TRY(hj_lse_forward(&L0, x, n, f0, NULL, NULL, c->err));
    TRY(hj_hopf_lax_eval(&atoms, NULL, x, n, t, u0, NULL, c->err));
    double ratio_net = 0.0, ratio_pde = 0.0, low_net = 0.0, low_pde = 0.0, ratio_sharp = 0.0;
    size_t n_small = 0;
    for (size_t e = 0; e < n_eps; e++) {
        const double eps = pow(10.0, -4.0 + (double)e / (double)per_decade);
        hj_lse_layer L = {N, 1, w, b, eps};
        TRY(hj_lse_forward(&L, x, n, f, NULL, NULL, c->err));
        hj_hc_out out = {0};
        out.u = u;
        TRY(hj_hopf_cole_eval(&atoms, NULL, x, n, t, eps, &out, c->err));
        double sup_net = -INFINITY, sup_pde = -INFINITY, sup_kink = 0.0;
        for (size_t i = 0; i < n; i++) {
            double df = f[i] - f0[i], du = u0[i] - u[i];
            double slack = 1e-14 * fmax(1.0, fabs(u0[i]));
            sup_net = fmax(sup_net, df);
            sup_pde = fmax(sup_pde, du);
            if (i >= n_grid)
                sup_kink = fmax(sup_kink, df);
            low_net = fmax(low_net, -df / fmax(1.0, fabs(f0[i])));
            low_pde = fmax(low_pde, (du < -slack ? -du : 0.0) / fmax(1.0, fabs(u0[i])));
            /* sharper bound eps log(1 + (N-1) e^{-gap/eps}), gap between the two largest logits */
            ratio_sharp = fmax(ratio_sharp, hj_verify_sharp_gap_ratio(w, b, N, 1, x + i, eps, df, f0[i]));
        }
        ratio_net = fmax(ratio_net, sup_net / (eps * logN));
        ratio_pde = fmax(ratio_pde, sup_pde / (eps * logN));
        double *row = tab + e * 7;
        row[0] = eps, row[1] = sup_net, row[2] = sup_pde, row[3] = eps * logN;
        row[4] = sup_net / (eps * logN), row[5] = sup_kink, row[6] = eps * log(2.0);
        if (eps <= 1.0001e-2 && sup_net > 0.0) {
            ex[n_small] = eps;
            ey[n_small++] = sup_net;
        }
    }
    static const char *const names[] = {"eps", "sup_f_eps_minus_f0", "sup_u0_minus_u_eps",
                                        "eps_logN", "ratio_to_bound", "sup_at_kinks", "eps_log2"};
    TRY(hj_result_write_csv(c->res, "tropical_arrow.csv", names, tab, n_eps, 7, c->err));
    TRY(hj_result_check(c->res, "C3", "tropical arrow: sup (f_eps - f_0) / (eps log N) <= 1, eps 1e-4..10",
                        ratio_net, 1.0, c->err));
    TRY(hj_result_check(c->res, "C3", "tropical arrow: f_eps - f_0 >= 0 (max violation, rel)",
                        low_net, 0.0, c->err));
    TRY(hj_result_check(c->res, "C3", "tropical arrow: f_eps - f_0 <= eps log(1+(N-1)e^{-gap/eps}) (ratio)",
                        ratio_sharp, 1.0, c->err));
    TRY(hj_result_check(c->res, "C3", "PDE arrow: sup (u_0 - u_eps) / (eps log N) <= 1",
                        ratio_pde, 1.0, c->err));
    TRY(hj_result_check(c->res, "C3", "PDE arrow: u_0 - u_eps >= 0 beyond rounding (max violation, rel)",
                        low_pde, 0.0, c->err));
    TRY(hj_result_metric(c->res, "tropical_max_ratio_to_eps_logN", ratio_net, c->err));
    TRY(hj_result_metric(c->res, "tropical_kinks_on_points", (double)n_kink, c->err));
    double slope = NAN, lp = NAN, se = NAN;
    if (n_small >= 3) {
        hj_error e2 = {0};
        if (hj_fit_power_law(ex, ey, n_small, &slope, &lp, &se, &e2) != HJ_OK)
            slope = lp = se = NAN;
    }
    TRY(hj_result_metric(c->res, "tropical_slope_small_eps", slope, c->err));
    TRY(hj_result_metric(c->res, "tropical_slope_small_eps_se", se, c->err));
    TRY(hj_result_param_num(c->res, "tropical_N", (double)N, c->err));
    hj_plot p = {0};
    char fbound[64], ffit[96], ftitle[96];
    snprintf(fbound, sizeof fbound, "x*%.17g", logN);
    p.name = "tropical_arrow";
    p.title = "Tropical arrow: sup_x (f_eps - f_0) vs eps";
    p.xlabel = "eps";
    p.ylabel = "sup_x (f_eps - f_0)";
    p.logx = p.logy = 1;
    p.n_series = 2;
    p.series[0] = (hj_plot_series){"tropical_arrow.csv", 1, 2, 0, "sup_x (f_eps - f_0), measured",
                                   "linespoints", NULL};
    p.series[1] = (hj_plot_series){"tropical_arrow.csv", 1, 7, 0, "eps log 2 (two-neuron tie)",
                                   "lines", NULL};
    p.functions[0] = fbound;
    p.function_titles[0] = "bound eps log N";
    p.n_functions = 1;
    if (isfinite(slope)) {
        snprintf(ffit, sizeof ffit, "exp(%.17g)*x**(%.17g)", lp, slope);
        snprintf(ftitle, sizeof ftitle, "fit eps <= 1e-2: slope %.3f +- %.3f", slope, se);
        p.functions[1] = ffit;
        p.function_titles[1] = ftitle;
        p.n_functions = 2;
    }
    char cap[512];
    snprintf(cap, sizeof cap,
             "Tropical arrow (d = 1, N = %zu): the sup over %zu grid points and the %zu kinks of "
             "f_0 of f_eps - f_0 stays below eps log N at every eps (max ratio %.3f). At small eps "
             "the sup sits on a kink where two neurons tie, so it is eps log 2: log-log slope %.3f.",
             N, n_grid, n_kink, ratio_net, slope);
    TRY(hj__exp_figure(c->res, &p, cap, c->err));
    hj_result_note(c->res,
                   "Tropical arrow: sup (f_eps - f_0) <= eps log N holds (max ratio %.3f); the "
                   "sup is attained at kinks of f_0, so it behaves as eps log 2 for small eps "
                   "(slope %.3f +- %.2g).",
                   ratio_net, slope, se);
    st = HJ_OK;
done:
    free(w), free(b), free(y), free(g), free(x), free(f0), free(f), free(u0), free(u);
    free(tab), free(ex), free(ey);
    return st;
}

/* ---- 3. the four-vertex diagram --------------------------------------------- */

/* Smooth Lipschitz initial data for the diagram. */
static double g0_diagram(const double *y, size_t d, void *ctx)
{
    (void)ctx, (void)d;
    return sqrt(1.0 + y[0] * y[0]) + 0.3 * sin(2.0 * y[0]);
}

static hj_status part_diagram(ictx *c)
{
    const double t = 0.5, eps = 0.5, box = 8.0;
    const size_t nq = 1601, n = c->quick ? 9 : 41, nsteps = 400, cols = 11;
    const double h = 2.0 * box / (double)(nq - 1);
    hj_grid Q = {1, {nq, 0}, {-box, 0.0}, {box, 0.0}};
    hj_status st = HJ_ENOMEM;
    double *ye = dnew(c, nq), *ge = dnew(c, nq), *we = dnew(c, nq), *be = dnew(c, nq);
    double *y0 = dnew(c, nq), *g0 = dnew(c, nq), *w0 = dnew(c, nq), *b0 = dnew(c, nq);
    double *z = dnew(c, nq), *ugv = dnew(c, nq), *ugi = dnew(c, nq), *x = dnew(c, n);
    double *f = dnew(c, n), *uhc = dnew(c, n), *uplain = dnew(c, n), *uhl = dnew(c, n);
    double *uhl_e = dnew(c, n), *uinf = dnew(c, n), *tab = dnew(c, n * cols);
    if (!ye || !ge || !we || !be || !y0 || !g0 || !w0 || !b0 || !z || !ugv || !ugi || !x || !f ||
        !uhc || !uplain || !uhl || !uhl_e || !uinf || !tab)
        goto done;
    for (size_t i = 0; i < n; i++)
        x[i] = -2.0 + 4.0 * (double)i / (double)(n - 1);
    const double cnorm = 0.5 * eps * log(4.0 * PI * eps * t), logN = log((double)nq);
    /* the same initial data as atoms at eps (trapezoid weights folded into g) and at 0 */
    TRY(hj_pde_quadrature_atoms(&Q, g0_diagram, NULL, eps, ye, ge, c->err));
    TRY(hj_pde_quadrature_atoms(&Q, g0_diagram, NULL, 0.0, y0, g0, c->err));
    TRY(hj_atoms_to_weights(ye, ge, nq, 1, t, NULL, we, be, c->err));
    TRY(hj_atoms_to_weights(y0, g0, nq, 1, t, NULL, w0, b0, c->err));
    hj_atoms ae = {nq, 1, ye, ge}, a0 = {nq, 1, y0, g0};
    /* grid solvers on the same box */
    TRY(hj_pde_viscous_solve(&Q, g0_diagram, NULL, eps, t, nsteps, ugv, c->err));
    TRY(hj_pde_inviscid_solve(&Q, g0_diagram, NULL, t, 0.5, ugi, c->err));
    /* closed forms */
    hj_hc_out out = {0};
    out.u = uplain;
    out.u_norm = uhc;
    TRY(hj_hopf_cole_eval(&ae, NULL, x, n, t, eps, &out, c->err));
    TRY(hj_hopf_lax_eval(&a0, NULL, x, n, t, uhl, NULL, c->err));
    TRY(hj_hopf_lax_eval(&ae, NULL, x, n, t, uhl_e, NULL, c->err));
    TRY(hj_pde_inf_convolution(&Q, g0_diagram, NULL, x, n, t, uinf, c->err));
    hj_lse_layer Le = {nq, 1, we, be, eps}, L0 = {nq, 1, w0, b0, 0.0};
    double worst[10] = {0};
    double gap_ratio = 0.0, gap_low = 0.0;
    for (size_t i = 0; i < n; i++) {
        double q = hj_hopf_quadratic(NULL, x + i, 1, t), fe, fz, vg, vi;
        TRY(hj_lse_forward(&Le, x + i, 1, &fe, NULL, NULL, c->err));
        TRY(hj_lse_forward(&L0, x + i, 1, &fz, NULL, NULL, c->err));
        TRY(hj_grid_interp(&Q, ugv, x + i, &vg, c->err));
        TRY(hj_grid_interp(&Q, ugi, x + i, &vi, c->err));
        for (size_t j = 0; j < nq; j++) {
            double dy = x[i] - ye[j];
            z[j] = -(ge[j] + dy * dy / (4.0 * t));
        }
        hj_entropic_result er;
        TRY(hj_entropic_dual_newton(z, nq, eps, 1e-15, 200, NULL, &er, c->err));
        double unet = q - fe + cnorm, ucvx = -er.value + cnorm, umax = q - fz;
        double gap = uhl_e[i] - uplain[i];
        double *row = tab + i * cols;
        row[0] = x[i], row[1] = unet, row[2] = uhc[i], row[3] = vg, row[4] = ucvx;
        row[5] = umax, row[6] = uhl[i], row[7] = vi, row[8] = uinf[i], row[9] = gap;
        row[10] = eps * logN;
        double s = fmax(1.0, fabs(uhc[i])), s0 = fmax(1.0, fabs(uhl[i]));
        worst[0] = fmax(worst[0], hj__exp_relerr(unet, uhc[i], fmax(s, fmax(fabs(q), fabs(fe)))));
        worst[1] = fmax(worst[1], hj__exp_relerr(unet, ucvx, s));
        worst[2] = fmax(worst[2], hj__exp_relerr(uhc[i], ucvx, s));
        worst[3] = fmax(worst[3], fabs(unet - vg));
        worst[4] = fmax(worst[4], fabs(uhc[i] - vg));
        worst[5] = fmax(worst[5], fabs(ucvx - vg));
        worst[6] = fmax(worst[6], hj__exp_relerr(umax, uhl[i], fmax(s0, fmax(fabs(q), fabs(fz)))));
        worst[7] = fmax(worst[7], fabs(uhl[i] - vi));
        worst[8] = fmax(worst[8], fabs(umax - vi));
        worst[9] = fmax(worst[9], fabs(uhl[i] - uinf[i]));
        gap_ratio = fmax(gap_ratio, gap / (eps * logN));
        gap_low = fmax(gap_low, (gap < -1e-14 * s0 ? -gap : 0.0) / s0);
    }
    static const char *const names[] = {"x", "u_network", "u_hopf_cole", "u_grid_pde", "u_convex",
                                        "u_maxplus_eps0", "u_hopf_lax_eps0", "u_godunov_eps0",
                                        "u_infconv_eps0", "gap_u0_minus_ueps", "eps_logN"};
    TRY(hj_result_write_csv(c->res, "diagram.csv", names, tab, n, cols, c->err));
    char nm[128];
    TRY(hj_result_check(c->res, "C3", "diagram: network vs Hopf-Cole closed form (rel)", worst[0], 1e-13, c->err));
    TRY(hj_result_check(c->res, "C3", "diagram: network vs convex dual Newton (rel)", worst[1], 1e-12, c->err));
    TRY(hj_result_check(c->res, "C3", "diagram: Hopf-Cole vs convex dual Newton (rel)", worst[2], 1e-12, c->err));
    /* Crank–Nicolson is second order: the verify suite's tolerance h^2 */
    snprintf(nm, sizeof nm, "diagram: network vs Crank-Nicolson grid PDE (abs, tol h^2, h=%.3g)", h);
    TRY(hj_result_check(c->res, "C3", nm, worst[3], h * h, c->err));
    snprintf(nm, sizeof nm, "diagram: Hopf-Cole vs Crank-Nicolson grid PDE (abs, tol h^2, h=%.3g)", h);
    TRY(hj_result_check(c->res, "C3", nm, worst[4], h * h, c->err));
    snprintf(nm, sizeof nm, "diagram: convex vs Crank-Nicolson grid PDE (abs, tol h^2, h=%.3g)", h);
    TRY(hj_result_check(c->res, "C3", nm, worst[5], h * h, c->err));
    TRY(hj_result_check(c->res, "C3", "diagram eps=0: max-plus network vs Hopf-Lax (rel)", worst[6], 1e-13, c->err));
    /* Godunov upwind is first order */
    snprintf(nm, sizeof nm, "diagram eps=0: Hopf-Lax vs Godunov grid (abs, tol h, h=%.3g)", h);
    TRY(hj_result_check(c->res, "C3", nm, worst[7], h, c->err));
    snprintf(nm, sizeof nm, "diagram eps=0: max-plus network vs Godunov grid (abs, tol h, h=%.3g)", h);
    TRY(hj_result_check(c->res, "C3", nm, worst[8], h, c->err));
    /* sampled minimum of a function with |phi''| <= 3.2 at spacing h: error <= 3.2 h^2/8 < h^2 */
    TRY(hj_result_check(c->res, "C3", "diagram eps=0: Hopf-Lax of atoms vs continuous inf-convolution (tol h^2)",
                        worst[9], h * h, c->err));
    TRY(hj_result_check(c->res, "C3", "diagram: 0 <= u_0 - u_eps <= eps log N, same atoms (max ratio)",
                        gap_ratio, 1.0, c->err));
    TRY(hj_result_check(c->res, "C3", "diagram: u_0 - u_eps >= 0 beyond rounding (max violation)",
                        gap_low, 0.0, c->err));
    static const char *const pair_names[] = {
        "diagram_network_vs_hopfcole", "diagram_network_vs_convex", "diagram_hopfcole_vs_convex",
        "diagram_network_vs_grid", "diagram_hopfcole_vs_grid", "diagram_convex_vs_grid",
        "diagram_maxplus_vs_hopflax", "diagram_hopflax_vs_godunov", "diagram_maxplus_vs_godunov",
        "diagram_hopflax_vs_infconv"};
    for (size_t k = 0; k < 10; k++)
        TRY(hj_result_metric(c->res, pair_names[k], worst[k], c->err));
    TRY(hj_result_metric(c->res, "diagram_gap_over_eps_logN", gap_ratio, c->err));
    TRY(hj_result_param_num(c->res, "diagram_eps", eps, c->err));
    TRY(hj_result_param_num(c->res, "diagram_t", t, c->err));
    TRY(hj_result_param_num(c->res, "diagram_atoms", (double)nq, c->err));
    TRY(hj_result_param_text(c->res, "diagram_g0", "sqrt(1+y^2) + 0.3 sin(2y) on [-8,8]", c->err));
    hj_plot p = {0};
    p.name = "diagram";
    p.title = "Four vertices of the diagram (d = 1)";
    p.xlabel = "x";
    p.ylabel = "u(x, t)";
    p.n_series = 5;
    p.series[0] = (hj_plot_series){"diagram.csv", 1, 2, 0, "network (LSE), eps", "lines", NULL};
    p.series[1] = (hj_plot_series){"diagram.csv", 1, 4, 0, "grid PDE (Crank-Nicolson), eps", "points", NULL};
    p.series[2] = (hj_plot_series){"diagram.csv", 1, 5, 0, "convex (dual Newton), eps", "points", NULL};
    p.series[3] = (hj_plot_series){"diagram.csv", 1, 7, 0, "tropical: Hopf-Lax, eps = 0", "lines", NULL};
    p.series[4] = (hj_plot_series){"diagram.csv", 1, 8, 0, "Godunov grid, eps = 0", "points", NULL};
    char cap[512];
    snprintf(cap, sizeof cap,
             "Four-vertex diagram for g0(y) = sqrt(1+y^2) + 0.3 sin 2y (t = %g, eps = %g, %zu "
             "quadrature atoms): network, Hopf-Cole, grid PDE and convex solver agree (max pair "
             "difference %.2g); at eps = 0 max-plus, Hopf-Lax and the Godunov grid agree (%.2g).",
             t, eps, nq, fmax(fmax(worst[3], worst[4]), worst[5]), fmax(worst[7], worst[8]));
    TRY(hj__exp_figure(c->res, &p, cap, c->err));
    hj_result_note(c->res,
                   "Diagram (d = 1, eps = %g): network = Hopf-Cole = convex to %.2g; grid PDE "
                   "within %.2g (h = %.3g); eps = 0 vertices within %.2g; the eps -> 0 gap is at "
                   "most %.3f of eps log N.",
                   eps, fmax(worst[0], fmax(worst[1], worst[2])),
                   fmax(worst[3], fmax(worst[4], worst[5])), h, fmax(worst[7], worst[8]), gap_ratio);
    st = HJ_OK;
done:
    free(ye), free(ge), free(we), free(be), free(y0), free(g0), free(w0), free(b0), free(z);
    free(ugv), free(ugi), free(x), free(f), free(uhc), free(uplain), free(uhl), free(uhl_e);
    free(uinf), free(tab);
    return st;
}

/* Experiment "identity" (C1–C6): the verify suite's checks, then the C1
 * table over eps, the tropical arrow and the four-vertex diagram (see the
 * comment at the top). Overrides: N (neurons of parts 1–2), d (dimension
 * of part 1), seed. Quick mode: fewer eps values and points. */
hj_status hj__exp_identity(const hj_experiment_options *opt, hj_result *res, hj_error *err)
{
    if (opt == NULL || res == NULL)
        return hj_error_set(err, HJ_EINVAL, "identity: NULL argument");
    if (opt->N == 1)
        return hj_error_set(err, HJ_EINVAL, "identity: N must be >= 2 (got 1)");
    ictx c = {opt, res, err, {{0}}, opt->quick};
    hj_rng_seed(&c.rng, opt->seed ^ 0x1d3a7c55u);
    hj_status st;
    TRY(hj_result_param_num(res, "seed", (double)opt->seed, err));
    TRY(hj_result_param_num(res, "quick", opt->quick ? 1.0 : 0.0, err));
    hj_experiment_progress(opt, EXP, "verify suite", 0.0);
    TRY(part_verify(&c));
    hj_experiment_progress(opt, EXP, "C1 identity over eps", 0.3);
    TRY(part_c1(&c));
    hj_experiment_progress(opt, EXP, "tropical arrow", 0.5);
    TRY(part_tropical(&c));
    hj_experiment_progress(opt, EXP, "four-vertex diagram", 0.75);
    TRY(part_diagram(&c));
done:
    return st;
}
