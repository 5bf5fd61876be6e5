/* exp_recovery.c — experiment "recovery" (C7): training an LSE layer selects initial data; the recovered atoms approach g*(y) = |y| as eps -> 0, and the discrete Legendre recovery. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/exp-common.h"
#include "experiments/experiments-impl.h"
#include "hjdl/hopf.h"
#include "hjdl/model.h"
#include "hjdl/optim.h"
#include "hjdl/plot.h"
#include "hjdl/rng.h"
#include "hjdl/stats.h"

/*
 * Setup (the paper's C7, 1-D, t = 1):
 *   true atoms y_k = 8 equally spaced points on [-2, 2], g_k = g*(y_k) = |y_k|;
 *   target F(x) = x^2/(4t) - u_0(x, t),  u_0 = min_k g_k + (x - y_k)^2/(4t),
 *        i.e. F(x) = max_k [x y_k/(2t) - g_k - y_k^2/(4t)], a max-plus layer;
 *   data x ~ U[-3, 3] (n = 2000 per seed), model lse:N (N = 10, no output
 *   scale) trained by Adam then L-BFGS at eps in {0.5, 0.1, 0.04}, several seeds.
 * Recovered atoms (y_j, g_j) = (2t w_j, -b_j - t|w_j|^2) (hj_model_initial_data);
 * usage pibar_j = mean over the training x of pi_j(x);
 * deviation D(eps) = sum_j pibar_j |g_j - g*(y_j)|.
 *
 * Discrete Legendre recovery. At eps = 0, f(x) = max_y [x y/(2t) - c(y)] with
 * c(y) = g(y) + |y|^2/(4t) over the atoms, so with p = x/(2t)
 *   g_L(y) = max_x [x y/(2t) - f(x)] - |y|^2/(4t)
 * is the convex envelope of c over the atoms, minus |y|^2/(4t): it returns
 * g* exactly at the atoms, and the chord of c between neighbouring atoms.
 *
 * Claim (the paper's): the recovered atoms approach g* as eps -> 0, i.e. D
 * falls with eps: the mean over seeds of the slope b of log D on log eps
 * (each seed's data set is shared by its three eps: a paired design) is
 * positive (trend). Parts: seeds (t times the standard error of the per-seed
 * slopes); fit range (the slopes over eps in {0.04, 0.1} and {0.1, 0.5},
 * each step of the sweep); training budget (the same runs with twice the
 * Adam and L-BFGS steps).
 */

static const char EXP[] = "recovery";

#define N_EPS 3
#define N_TRUE 8
static const double EPS_LIST[N_EPS] = {0.5, 0.1, 0.04}; /* decreasing */

typedef struct rctx {
    const hj_experiment_options *opt;
    hj_result *res;
    hj_error *err;
    double t;
    double ty[N_TRUE], tg[N_TRUE]; /* true atoms */
} rctx;

static double *dnew(rctx *c, size_t n)
{
    return hj__exp_dnew(EXP, n, c->err);
}

/* The target in max-plus form: F(x) = max_k [x y_k/(2t) - g_k - y_k^2/(4t)];
 * *arg (may be NULL) receives the active atom. */
static double target(const rctx *c, double x, size_t *arg)
{
    double best = -INFINITY;
    size_t kb = 0;
    for (size_t k = 0; k < N_TRUE; k++) {
        double v = x * c->ty[k] / (2.0 * c->t) - c->tg[k] - c->ty[k] * c->ty[k] / (4.0 * c->t);
        if (v > best)
            best = v, kb = k;
    }
    if (arg)
        *arg = kb;
    return best;
}

/* Discrete Legendre recovery g_L(y_i) = max_j [x_j y_i/(2t) - f_j] - y_i^2/(4t)
 * from samples f (nx) of f on the grid x (nx); y (ny), gl (ny). */
static void legendre(const double *x, const double *f, size_t nx, const double *y, size_t ny,
                     double t, double *gl)
{
    for (size_t i = 0; i < ny; i++) {
        double best = -INFINITY;
        for (size_t j = 0; j < nx; j++)
            best = fmax(best, x[j] * y[i] / (2.0 * t) - f[j]);
        gl[i] = best - y[i] * y[i] / (4.0 * t);
    }
}

/* ---- checks on the exact target -------------------------------------------- */

/* The target's two forms agree, which true atoms are active on the data
 * range, and the Legendre transform of the exact F returns g* at the atoms
 * and the convex-envelope chords between them. active (N_TRUE) out. */
static hj_status exact_target(rctx *c, double xlo, double xhi, int *active, const double *yg,
                              size_t ny, double *gl_exact)
{
    const double t = c->t;
    hj_status st = HJ_ENOMEM;
    /* kinks of F: between neighbouring atoms (c is convex in y, so all are on the envelope) */
    double cc[N_TRUE], xmax = 0.0, dymax = 0.0;
    for (size_t k = 0; k < N_TRUE; k++)
        cc[k] = c->tg[k] + c->ty[k] * c->ty[k] / (4.0 * t);
    for (size_t k = 0; k + 1 < N_TRUE; k++) {
        double dy = c->ty[k + 1] - c->ty[k];
        xmax = fmax(xmax, fabs(2.0 * t * (cc[k + 1] - cc[k]) / dy));
        dymax = fmax(dymax, dy);
    }
    const double X = xmax + 1.0, hx = 1e-3;
    const size_t nx = (size_t)ceil(2.0 * X / hx) + 1, nf = 4001;
    double *x = dnew(c, nx), *f = dnew(c, nx), *u0 = dnew(c, nf), *xf = dnew(c, nf);
    double *gla = dnew(c, N_TRUE);
    if (!x || !f || !u0 || !xf || !gla)
        goto done;
    const double hxa = 2.0 * X / (double)(nx - 1);
    for (size_t j = 0; j < nx; j++) {
        x[j] = -X + hxa * (double)j;
        f[j] = target(c, x[j], NULL);
    }
    /* 1. max-plus form vs x^2/4t - Hopf–Lax u_0 (brute-force min of hopf.h) */
    hj_atoms ta = {N_TRUE, 1, c->ty, c->tg};
    for (size_t i = 0; i < nf; i++)
        xf[i] = xlo + (xhi - xlo) * (double)i / (double)(nf - 1);
    TRY(hj_hopf_lax_eval(&ta, NULL, xf, nf, t, u0, NULL, c->err));
    double worst = 0.0;
    for (size_t k = 0; k < N_TRUE; k++)
        active[k] = 0;
    for (size_t i = 0; i < nf; i++) {
        size_t arg;
        double F = target(c, xf[i], &arg), q = xf[i] * xf[i] / (4.0 * t);
        worst = fmax(worst, fabs(F - (q - u0[i])) / fmax(1.0, q));
        active[arg] = 1;
    }
    TRY(hj_result_check(c->res, "C7", "target: max-plus F = x^2/4t - Hopf-Lax u_0 of the true atoms (rel)",
                        worst, 1e-13, c->err));
    /* 2. Legendre of the exact F at the atoms: g* exactly (to rounding) */
    legendre(x, f, nx, c->ty, N_TRUE, t, gla);
    double worst_atoms = 0.0;
    for (size_t k = 0; k < N_TRUE; k++)
        worst_atoms = fmax(worst_atoms, fabs(gla[k] - c->tg[k]));
    TRY(hj_result_check(c->res, "C7", "Legendre of exact F: g_L(y_k) = g*(y_k) at the 8 atoms (abs)",
                        worst_atoms, 1e-12, c->err));
    /* 3. between atoms: the chord of c minus y^2/4t, to grid accuracy hx * dy/(2t) */
    legendre(x, f, nx, yg, ny, t, gl_exact);
    double worst_chord = 0.0, gap_gstar = 0.0;
    for (size_t i = 0; i < ny; i++) {
        size_t k = 0;
        while (k + 2 < N_TRUE && yg[i] > c->ty[k + 1])
            k++;
        double s = (yg[i] - c->ty[k]) / (c->ty[k + 1] - c->ty[k]);
        double env = (1.0 - s) * cc[k] + s * cc[k + 1] - yg[i] * yg[i] / (4.0 * t);
        worst_chord = fmax(worst_chord, fabs(gl_exact[i] - env));
        gap_gstar = fmax(gap_gstar, fabs(gl_exact[i] - fabs(yg[i])));
    }
    char nm[128];
    double tol = hxa * dymax / (2.0 * t) + 1e-12;
    snprintf(nm, sizeof nm, "Legendre of exact F = convex envelope of atoms on [-2,2] (tol hx*dy/2t = %.2g)", tol);
    TRY(hj_result_check(c->res, "C7", nm, worst_chord, tol, c->err));
    TRY(hj_result_metric(c->res, "legendre_exact_max_dev_from_gstar", gap_gstar, c->err));
    st = HJ_OK;
done:
    free(x), free(f), free(u0), free(xf), free(gla);
    return st;
}

/* ---- one training run -------------------------------------------------------- */

typedef struct run_out {
    double D, loss0, loss1, active, identity;
    double leg_max;   /* max |g_L - |y|| on [-2, 2] */
    double leg_atoms; /* max |g_L(y_k) - |y_k|| over the true atoms active on the data */
    double leg_env;   /* max |g_L - g_L(exact F)| on the hull of the active atoms */
} run_out;

/* Train lse:N at eps on n points drawn with seed; write the atoms (N) and
 * usage, the Legendre recovery gl (ny) on yg, and the run's numbers.
 * gl_exact (ny): the Legendre recovery of the exact target on yg; active
 * (N_TRUE): which true atoms are active on the data range. */
static hj_status train_one(rctx *c, size_t N, double eps, uint64_t seed, size_t n,
                           const hj_train_options *topt, const double *yg, size_t ny,
                           const double *gl_exact, const int *active, double *ya, double *ga,
                           double *pibar, double *gl, run_out *ro)
{
    const double t = c->t;
    const size_t nx = 3001;
    hj_model m = {0};
    hj_workspace *ws = NULL;
    hj_status st = HJ_ENOMEM;
    double *x = dnew(c, n), *y = dnew(c, n), *pit = dnew(c, n * N), *xg = dnew(c, nx);
    double *fg = dnew(c, nx), *ug = dnew(c, nx);
    size_t *idx = calloc(n * N, sizeof *idx);
    if (!x || !y || !pit || !xg || !fg || !ug || !idx) {
        hj_error_set(c->err, HJ_ENOMEM, "recovery: out of memory");
        goto done;
    }
    hj_rng rng;
    hj_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) {
        x[i] = hj_rng_range(&rng, -3.0, 3.0);
        y[i] = target(c, x[i], NULL);
    }
    char spec[32];
    snprintf(spec, sizeof spec, "lse:%zu", N);
    hj_arch arch;
    TRY(hj_arch_parse(spec, 1, 0, 0, &arch, c->err));
    TRY(hj_model_init(&m, &arch, eps, t, seed, c->err));
    TRY(hj_workspace_alloc(&ws, &m, n, c->err));
    TRY(hj_model_loss_grad(&m, m.params, ws, x, y, n, &ro->loss0, NULL, c->err));
    hj_train_options o = *topt;
    o.seed = seed;
    hj_train_result tr = {0};
    TRY(hj_model_train(&m, x, y, n, &o, &tr, c->err));
    free(tr.loss_trace);
    TRY(hj_model_loss_grad(&m, m.params, ws, x, y, n, &ro->loss1, NULL, c->err));
    /* atoms and their usage on the training data */
    TRY(hj_model_initial_data(&m, t, ya, ga, c->err));
    TRY(hj_model_attribution(&m, ws, x, n, N, pit, idx, c->err));
    for (size_t j = 0; j < N; j++)
        pibar[j] = 0.0;
    for (size_t i = 0; i < n * N; i++)
        pibar[idx[i]] += pit[i] / (double)n;
    ro->D = 0.0, ro->active = 0.0;
    for (size_t j = 0; j < N; j++) {
        ro->D += pibar[j] * fabs(ga[j] - fabs(ya[j]));
        ro->active += pibar[j] > 1e-3 ? 1.0 : 0.0;
    }
    /* HJ identity of the trained model: f_eps + u_eps(recovered atoms) = x^2/4t */
    for (size_t i = 0; i < nx; i++)
        xg[i] = -3.0 + 6.0 * (double)i / (double)(nx - 1);
    TRY(hj_model_forward(&m, ws, xg, nx, fg, c->err));
    hj_atoms ra = {N, 1, ya, ga};
    hj_hc_out out = {0};
    out.u = ug;
    TRY(hj_hopf_cole_eval(&ra, NULL, xg, nx, t, eps, &out, c->err));
    ro->identity = 0.0;
    for (size_t i = 0; i < nx; i++) {
        double q = xg[i] * xg[i] / (4.0 * t);
        double scale = fmax(fabs(q), fmax(fabs(fg[i]), fabs(ug[i])));
        ro->identity = fmax(ro->identity, fabs(fg[i] + ug[i] - q) / fmax(scale, 1e-300));
    }
    /* discrete Legendre recovery from the model on the data range */
    legendre(xg, fg, nx, yg, ny, t, gl);
    double hull_lo = INFINITY, hull_hi = -INFINITY, gk[N_TRUE];
    legendre(xg, fg, nx, c->ty, N_TRUE, t, gk);
    ro->leg_max = ro->leg_atoms = ro->leg_env = 0.0;
    for (size_t k = 0; k < N_TRUE; k++)
        if (active[k]) {
            ro->leg_atoms = fmax(ro->leg_atoms, fabs(gk[k] - c->tg[k]));
            hull_lo = fmin(hull_lo, c->ty[k]);
            hull_hi = fmax(hull_hi, c->ty[k]);
        }
    for (size_t i = 0; i < ny; i++) {
        ro->leg_max = fmax(ro->leg_max, fabs(gl[i] - fabs(yg[i])));
        if (yg[i] >= hull_lo && yg[i] <= hull_hi)
            ro->leg_env = fmax(ro->leg_env, fabs(gl[i] - gl_exact[i]));
    }
    st = HJ_OK;
done:
    hj_workspace_free(ws);
    hj_model_free(&m);
    free(x), free(y), free(pit), free(xg), free(fg), free(ug), free(idx);
    return st;
}

/* ---- the experiment ------------------------------------------------------------ */

/* Experiment "recovery" (C7): see the comment at the top. Overrides: N
 * (neurons, default 10), iters (Adam steps), seeds, seed. eps is not
 * overridable: the claim compares the fixed set {0.5, 0.1, 0.04}. */
hj_status hj__exp_recovery(const hj_experiment_options *opt, hj_result *res, hj_error *err)
{
    if (opt == NULL || res == NULL)
        return hj_error_set(err, HJ_EINVAL, "recovery: NULL argument");
    /* sizes and budgets, fixed before any run */
    const size_t N = opt->N ? opt->N : 10, n = 2000, ny = 401;
    const size_t seeds = opt->seeds ? opt->seeds : (opt->quick ? 3 : 8);
    const size_t adam = opt->iters ? opt->iters : (opt->quick ? 500 : 3000);
    const size_t lbfgs = opt->quick ? 200 : 2000;
    const double lr = 0.01;
    rctx c = {opt, res, err, 1.0, {0}, {0}};
    for (size_t k = 0; k < N_TRUE; k++) {
        c.ty[k] = -2.0 + 4.0 * (double)k / (double)(N_TRUE - 1);
        c.tg[k] = fabs(c.ty[k]);
    }
    const size_t runs = N_EPS * seeds;
    hj_status st = HJ_ENOMEM;
    double *yg = dnew(&c, ny), *gl_exact = dnew(&c, ny), *gl_mean = dnew(&c, N_EPS * ny);
    double *gl = dnew(&c, ny), *ya = dnew(&c, N), *ga = dnew(&c, N), *pibar = dnew(&c, N);
    double *atoms_tab = dnew(&c, runs * N * 6), *d_tab = dnew(&c, runs * 9);
    double *leg_tab = dnew(&c, ny * (2 + N_EPS)), *sum_tab = dnew(&c, N_EPS * 5);
    double *true_tab = dnew(&c, N_TRUE * 3), *Dv = dnew(&c, seeds);
    double *lD = dnew(&c, runs), *lD2 = dnew(&c, runs);
    if (!yg || !gl_exact || !gl_mean || !gl || !ya || !ga || !pibar || !atoms_tab || !d_tab ||
        !leg_tab || !sum_tab || !true_tab || !Dv || !lD || !lD2)
        goto done;
    TRY(hj_result_param_num(res, "t", c.t, err));
    TRY(hj_result_param_num(res, "neurons", (double)N, err));
    TRY(hj_result_param_num(res, "train_points", (double)n, err));
    TRY(hj_result_param_num(res, "seeds", (double)seeds, err));
    TRY(hj_result_param_num(res, "seed", (double)opt->seed, err));
    TRY(hj_result_param_num(res, "adam_iters", (double)adam, err));
    TRY(hj_result_param_num(res, "adam_lr", lr, err));
    TRY(hj_result_param_num(res, "lbfgs_iters", (double)lbfgs, err));
    TRY(hj_result_param_text(res, "budget_check", "the same runs with twice the Adam and L-BFGS steps", err));
    TRY(hj_result_param_text(res, "eps_list", "0.5, 0.1, 0.04", err));
    TRY(hj_result_param_text(res, "true_initial_data", "g*(y) = |y| at 8 equally spaced y on [-2,2]", err));
    TRY(hj_result_param_text(res, "train_inputs", "x ~ U[-3,3], drawn per seed", err));
    if (isfinite(opt->eps))
        hj_result_note(res, "The eps override (%g) is not used: the claim compares eps = 0.5, 0.1, 0.04.",
                       opt->eps);
    for (size_t i = 0; i < ny; i++)
        yg[i] = -2.0 + 4.0 * (double)i / (double)(ny - 1);

    /* exact target: forms, active atoms, Legendre checks */
    int active[N_TRUE];
    TRY(exact_target(&c, -3.0, 3.0, active, yg, ny, gl_exact));
    double hull_hi = -INFINITY; /* largest active true atom */
    size_t n_active = 0;
    for (size_t k = 0; k < N_TRUE; k++) {
        true_tab[k * 3] = c.ty[k], true_tab[k * 3 + 1] = c.tg[k], true_tab[k * 3 + 2] = active[k];
        if (active[k]) {
            n_active++;
            hull_hi = fmax(hull_hi, c.ty[k]);
        }
    }
    static const char *const true_names[] = {"y", "g", "active_on_data"};
    TRY(hj_result_write_csv(res, "recovery_true_atoms.csv", true_names, true_tab, N_TRUE, 3, err));
    TRY(hj_result_metric(res, "true_atoms_active_on_data", (double)n_active, err));

    /* training runs */
    hj_train_options topt;
    hj_train_options_default(&topt);
    topt.optimizer = HJ_OPT_ADAM_LBFGS;
    topt.lr = lr;
    topt.iters = adam;
    topt.lbfgs_iters = lbfgs;
    double worst_identity = 0.0, worst_loss_ratio = 0.0;
    double mean[N_EPS], sd[N_EPS], se[N_EPS];
    size_t r = 0;
    for (size_t e = 0; e < N_EPS; e++) {
        const double eps = EPS_LIST[e];
        double loss_sum = 0.0, act_sum = 0.0, legm = 0.0, lega = 0.0, lege = 0.0;
        for (size_t s = 0; s < seeds; s++, r++) {
            char stage[96];
            snprintf(stage, sizeof stage, "training eps=%g seed %zu/%zu", eps, s + 1, seeds);
            hj_experiment_progress(opt, EXP, stage, 0.05 + 0.3 * (double)r / (double)runs);
            run_out ro;
            TRY(train_one(&c, N, eps, opt->seed + s, n, &topt, yg, ny, gl_exact, active, ya, ga,
                          pibar, gl, &ro));
            for (size_t j = 0; j < N; j++) {
                double *row = atoms_tab + (r * N + j) * 6;
                row[0] = eps, row[1] = (double)s, row[2] = (double)j, row[3] = ya[j];
                row[4] = ga[j], row[5] = pibar[j];
            }
            double *dr = d_tab + r * 9;
            dr[0] = eps, dr[1] = (double)s, dr[2] = ro.D, dr[3] = ro.loss0, dr[4] = ro.loss1;
            dr[5] = ro.active, dr[6] = ro.leg_max, dr[7] = ro.leg_atoms, dr[8] = ro.leg_env;
            for (size_t i = 0; i < ny; i++)
                gl_mean[e * ny + i] += gl[i] / (double)seeds;
            Dv[s] = ro.D;
            lD[r] = ro.D;
            worst_identity = fmax(worst_identity, ro.identity);
            worst_loss_ratio = fmax(worst_loss_ratio, ro.loss1 / ro.loss0);
            loss_sum += ro.loss1, act_sum += ro.active, legm += ro.leg_max;
            lega += ro.leg_atoms, lege += ro.leg_env;
        }
        hj_mean_sd(Dv, seeds, &mean[e], &sd[e]);
        se[e] = seeds > 1 ? sd[e] / sqrt((double)seeds) : NAN;
        double *sr = sum_tab + e * 5;
        /* one seed: no spread (the claim's uncertainty stays NaN; the CSV gets 0) */
        sr[0] = eps, sr[1] = mean[e], sr[2] = sd[e], sr[3] = isfinite(se[e]) ? se[e] : 0.0;
        sr[4] = (double)seeds;
        char key[64];
        snprintf(key, sizeof key, "D_mean_eps%g", eps);
        TRY(hj_result_metric(res, key, mean[e], err));
        snprintf(key, sizeof key, "D_se_eps%g", eps);
        TRY(hj_result_metric(res, key, se[e], err));
        snprintf(key, sizeof key, "final_loss_mean_eps%g", eps);
        TRY(hj_result_metric(res, key, loss_sum / (double)seeds, err));
        snprintf(key, sizeof key, "active_neurons_mean_eps%g", eps);
        TRY(hj_result_metric(res, key, act_sum / (double)seeds, err));
        snprintf(key, sizeof key, "legendre_max_err_vs_gstar_eps%g", eps);
        TRY(hj_result_metric(res, key, legm / (double)seeds, err));
        snprintf(key, sizeof key, "legendre_max_err_at_active_atoms_eps%g", eps);
        TRY(hj_result_metric(res, key, lega / (double)seeds, err));
        snprintf(key, sizeof key, "legendre_max_dev_from_exact_target_hull_eps%g", eps);
        TRY(hj_result_metric(res, key, lege / (double)seeds, err));
    }
    hj_experiment_progress(opt, EXP, "summary", 0.97);

    /* the budget part: every run again at twice the steps (D only) */
    {
        hj_train_options t2 = topt;
        t2.iters *= 2, t2.lbfgs_iters *= 2;
        double *scratch = dnew(&c, N_EPS * ny);
        if (scratch == NULL) {
            st = HJ_ENOMEM;
            goto done;
        }
        for (size_t e = 0, q = 0; e < N_EPS && st == HJ_OK; e++)
            for (size_t s = 0; s < seeds; s++, q++) {
                hj_experiment_progress(opt, EXP, "twice the training budget", 0.35 + 0.6 * (double)q / (double)runs);
                run_out ro;
                if ((st = train_one(&c, N, EPS_LIST[e], opt->seed + s, n, &t2, yg, ny, gl_exact, active, ya, ga,
                                    pibar, scratch, &ro)) != HJ_OK)
                    break;
                lD2[q] = ro.D;
                worst_identity = fmax(worst_identity, ro.identity);
                worst_loss_ratio = fmax(worst_loss_ratio, ro.loss1 / ro.loss0);
            }
        free(scratch);
        if (st != HJ_OK)
            goto done;
    }

    /* checks on the trained models (both budgets) */
    TRY(hj_result_check(res, "C7", "trained models: f_eps + u_eps(recovered atoms) = x^2/4t (rel, max over runs)",
                        worst_identity, 1e-12, err));
    TRY(hj_result_check(res, "C7", "training decreased the loss: max over runs of final/initial loss",
                        worst_loss_ratio, 1.0, err));

    /* the claim */
    const double R = mean[N_EPS - 1] / mean[0];
    hj_claim_measurement cm = {0}, cm2 = {0};
    TRY(hj__exp_paired_slope(res, EPS_LIST, lD, N_EPS, seeds, 1, &cm, err));
    TRY(hj__exp_paired_slope(res, EPS_LIST, lD2, N_EPS, seeds, 1, &cm2, err));
    TRY(hj_claim_part(&cm, HJ_CLAIM_PART_BUDGET, fabs(cm2.value - cm.value), err));
    const hj_claim_spec spec = {
        "C7", HJ_SOURCE_PAPER,
        "Training an LSE layer on Hopf-Lax data selects the initial data: the pi-weighted deviation "
        "D = sum_j pibar_j |g_j - |y_j|| of the recovered atoms (y_j, g_j) = (2t w_j, -b_j - t|w_j|^2) falls "
        "as eps -> 0: the mean over seeds of the slope of log D on log eps (eps = 0.5, 0.1, 0.04) is positive",
        "fit an LSE layer to the Hopf-Lax solution of known initial data (g*(y) = |y|, 8 atoms on [-2,2], "
        "N = 10 neurons, eps in {0.5, 0.1, 0.04}); the recovered atoms (y_j, g_j) = (2t w_j, -b_j - t|w_j|^2) "
        "approach g* as eps -> 0",
        HJ_FORM_TREND, 1.0, 0.0,
        "a sign (tolerance 0); the training-budget shift enters the interval, so the sign must survive "
        "doubling the budget; a step of the sweep with the other sign (fit range) makes it inconclusive",
        0};
    TRY(hj_result_claim_add(res, &spec, &cm, err));
    const hj_claim *cl = &res->claims[res->n_claims - 1];
    const hj_verdict v = cl->verdict;
    TRY(hj_result_metric(res, "log_D_vs_log_eps_slope", cm.value, err));
    TRY(hj_result_metric(res, "log_D_vs_log_eps_slope_budget_x2", cm2.value, err));
    TRY(hj_result_metric(res, "D_ratio_eps0.04_over_eps0.5", R, err));
    {
        double ex = NAN, lp = NAN, exse = NAN;
        hj_error e2 = {0};
        if (mean[0] > 0 && mean[1] > 0 && mean[2] > 0 &&
            hj_fit_power_law(EPS_LIST, mean, N_EPS, &ex, &lp, &exse, &e2) != HJ_OK)
            ex = exse = NAN;
        TRY(hj_result_metric(res, "D_vs_eps_exponent", ex, err));
        TRY(hj_result_metric(res, "D_vs_eps_exponent_se", exse, err));
    }

    /* CSV */
    static const char *const atom_names[] = {"eps", "seed", "neuron", "y", "g", "pibar"};
    TRY(hj_result_write_csv(res, "recovery_atoms.csv", atom_names, atoms_tab, runs * N, 6, err));
    static const char *const d_names[] = {"eps", "seed", "D", "initial_loss", "final_loss",
                                          "active_neurons", "legendre_max_err_vs_gstar",
                                          "legendre_err_at_active_atoms",
                                          "legendre_dev_from_exact_target_on_hull"};
    TRY(hj_result_write_csv(res, "recovery_D.csv", d_names, d_tab, runs, 9, err));
    static const char *const s_names[] = {"eps", "D_mean", "D_sd", "D_se", "seeds"};
    TRY(hj_result_write_csv(res, "recovery_D_summary.csv", s_names, sum_tab, N_EPS, 5, err));
    for (size_t i = 0; i < ny; i++) {
        double *row = leg_tab + i * (2 + N_EPS);
        row[0] = yg[i], row[1] = gl_exact[i];
        for (size_t e = 0; e < N_EPS; e++)
            row[2 + e] = gl_mean[e * ny + i];
    }
    static const char *const l_names[] = {"y", "g_L_exact_target", "g_L_eps0.5_seedmean",
                                          "g_L_eps0.1_seedmean", "g_L_eps0.04_seedmean"};
    TRY(hj_result_write_csv(res, "recovery_legendre.csv", l_names, leg_tab, ny, 2 + N_EPS, err));

    /* figures */
    {
        hj_plot p = {0};
        p.name = "recovery_atoms";
        p.title = "Recovered atoms (y_j, g_j) = (2t w_j, -b_j - t w_j^2), neurons with usage > 1%";
        p.xlabel = "y";
        p.ylabel = "g";
        p.n_series = 4;
        p.series[0] = (hj_plot_series){"recovery_atoms.csv", 4, 5, 0, "eps = 0.5", "points",
                                       "abs($1 - 0.5) < 1e-9 && $6 > 0.01"};
        p.series[1] = (hj_plot_series){"recovery_atoms.csv", 4, 5, 0, "eps = 0.1", "points",
                                       "abs($1 - 0.1) < 1e-9 && $6 > 0.01"};
        p.series[2] = (hj_plot_series){"recovery_atoms.csv", 4, 5, 0, "eps = 0.04", "points",
                                       "abs($1 - 0.04) < 1e-9 && $6 > 0.01"};
        p.series[3] = (hj_plot_series){"recovery_true_atoms.csv", 1, 2, 0, "true atoms (y_k, |y_k|)",
                                       "points", NULL};
        p.n_functions = 1;
        p.functions[0] = "abs(x)";
        p.function_titles[0] = "g*(y) = |y|";
        char cap[512];
        snprintf(cap, sizeof cap,
                 "Atoms recovered from lse:%zu trained on the Hopf-Lax solution of g*(y) = |y| "
                 "(8 atoms on [-2,2], t = 1, x ~ U[-3,3]), %zu seeds per eps; only neurons used "
                 "on more than 1%% of the data (pibar > 0.01) are drawn. Only %zu of the 8 true "
                 "atoms are active on the data range.",
                 N, seeds, n_active);
        TRY(hj__exp_figure(c.res, &p, cap, c.err));
    }
    {
        hj_plot p = {0};
        p.name = "recovery_D";
        p.title = "pi-weighted deviation of the recovered atoms from g*";
        p.xlabel = "ε";
        p.ylabel = "D = Σ_j π̄_j |g_j - |y_j||";
        p.logx = p.logy = 1;
        p.n_series = 2;
        p.series[0] = (hj_plot_series){"recovery_D_summary.csv", 1, 2, 4, "mean over seeds +- s.e.",
                                       "linespoints", NULL};
        p.series[1] = (hj_plot_series){"recovery_D.csv", 1, 3, 0, "single seeds", "points", "$3 > 0"};
        char cap[512];
        snprintf(cap, sizeof cap,
                 "D(eps) for eps = 0.5, 0.1, 0.04 (%zu seeds): ratio D(0.04)/D(0.5) = %.3g; slope of "
                 "log D on log eps %.3g, 95%% interval [%.3g, %.3g]; verdict %s.",
                 seeds, R, cm.value, cl->lo, cl->hi, hj_verdict_name(v));
        TRY(hj__exp_figure(c.res, &p, cap, c.err));
    }
    {
        hj_plot p = {0};
        p.name = "recovery_legendre";
        p.title = "Discrete Legendre recovery g_L(y) = max_x [x y/2t - f(x)] - y^2/4t";
        p.xlabel = "y";
        p.ylabel = "g";
        p.n_series = 4;
        p.series[0] = (hj_plot_series){"recovery_legendre.csv", 1, 2, 0, "from the exact target", "lines", NULL};
        p.series[1] = (hj_plot_series){"recovery_legendre.csv", 1, 3, 0, "trained, eps = 0.5", "lines", NULL};
        p.series[2] = (hj_plot_series){"recovery_legendre.csv", 1, 4, 0, "trained, eps = 0.1", "lines", NULL};
        p.series[3] = (hj_plot_series){"recovery_legendre.csv", 1, 5, 0, "trained, eps = 0.04", "lines", NULL};
        p.n_functions = 1;
        p.functions[0] = "abs(x)";
        p.function_titles[0] = "g*(y) = |y|";
        char cap[512];
        snprintf(cap, sizeof cap,
                 "Legendre recovery (seed mean) from the trained models on x in [-3,3] and from "
                 "the exact target: at the atoms it returns g* exactly; between them it returns "
                 "the chord of g + y^2/4t. Beyond the %zu atoms active on the data range (|y| > "
                 "%.3g) the data do not determine g.",
                 n_active, hull_hi);
        TRY(hj__exp_figure(c.res, &p, cap, c.err));
    }

    {
        const double ex[N_EPS] = {EPS_LIST[2], EPS_LIST[1], EPS_LIST[0]}, ey[N_EPS] = {mean[2], mean[1], mean[0]};
        static const char *const lt[1] = {"D (mean over seeds)"};
        TRY(hj__exp_local_slopes(res, "recovery_local_slopes", "Local slopes of D against ε", "ε", ex, ey, N_EPS, 1,
                                 lt, 1, NAN,
                                 "Local slope d log D/d log eps between consecutive eps (mean D over seeds): "
                                 "positive where D falls as eps -> 0; the two steps are the claim's fit range.",
                                 err));
    }

    /* notes */
    hj_result_note(res,
                   "Recovery: lse:%zu trained (Adam %zu steps, lr %g, then L-BFGS %zu) on the "
                   "Hopf-Lax solution of g*(y) = |y|; %zu seeds per eps. Mean D = %.4g, %.4g, %.4g "
                   "at eps = 0.5, 0.1, 0.04 (s.e. %.2g, %.2g, %.2g); R = D(0.04)/D(0.5) = %.3g. Claim: slope "
                   "of log D on log eps %.3f, 95%% interval [%.3f, %.3f] (seeds %.3f, fit range %.3f, training "
                   "budget %.3f: %.3f at twice the steps): %s (%s).",
                   N, adam, lr, lbfgs, seeds, mean[0], mean[1], mean[2], se[0], se[1], se[2], R, cm.value,
                   cl->lo, cl->hi, cm.parts[0].half_width, cm.parts[1].half_width, cm.parts[2].half_width,
                   cm2.value, hj_verdict_name(v), cl->why);
    hj_result_note(res,
                   "With t = 1 and x in [-3,3] only %zu of the 8 true atoms (|y| <= %.3g) are ever "
                   "active on the data, so the others cannot be recovered; pibar weights them out. "
                   "Legendre recovery of the exact target returns g* at the atoms and the chords "
                   "of g + y^2/4t between them (max deviation from |y| on [-2,2]: see metrics).",
                   n_active, hull_hi);
    if (v == HJ_VERDICT_DISAGREES)
        hj_result_note(res, "The deviation grew as eps decreased: with this budget the optimiser "
                            "did not find the sharper initial data at small eps (a finding, not tuned away).");
    st = HJ_OK;
done:
    free(yg), free(gl_exact), free(gl_mean), free(gl), free(ya), free(ga), free(pibar);
    free(atoms_tab), free(d_tab), free(leg_tab), free(sum_tab), free(true_tab), free(Dv);
    free(lD), free(lD2);
    return st;
}
