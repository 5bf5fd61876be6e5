/* exp_bifurcation.c — experiment "bifurcation" (C13): critical points of the entropy landscape followed in eps by continuation; folds, their checks, and the basins they merge. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/exp-common.h"
#include "experiments/experiments-impl.h"
#include "hjdl/landscape.h"
#include "hjdl/plot.h"

/*
 * Set-up (SPEC C13, synthetic): two clusters of 8 atoms in 2-D around
 * (-1,-1) with g = 0 and (1,1) with g = 1, each coordinate centre + 0.4 N(0,1)
 * (hj_landscape_two_clusters), t = 1, eps from 0.01 to 6.3.
 *
 * Measured:
 *   - all branches of critical points of H(x; eps) by pseudo-arclength
 *     continuation (landscape.h), their folds (eps, position, type);
 *   - the same with the largest step halved;
 *   - at >= 20 eps values (off the folds) the number of minima by an
 *     independent method: grid local minima of H (steepest descent on a grid
 *     of nodes, sinks refined by Newton; hj_landscape_basins);
 *   - basins of the flow -grad H on that grid before and after every fold;
 *   - the basin count over eps for several atom draws (the claim).
 * Checks (must hold if hjdl is correct): same folds under step halving
 * (count, eps to 1e-6); every fold passes its eigenvalue check (one Hessian
 * eigenvalue ~ 0 at the fold and of opposite signs on its two sides); grid
 * and continuation agree on the number of minima at every compared eps;
 * across every fold the basin count changes by the number of minima the
 * fold creates (+1) or removes (-1) (a fold that removes a minimum merges
 * two basins).
 * Claim (the paper's): as eps grows, each fold merges attribution basins:
 * the number of basins never increases. Measured exactly per landscape from
 * the fold list (a fold that creates a minimum, or a minimum entering the
 * domain, is a basin born): the fraction of the folds that change the number
 * of minima, over all atom draws, that create one, at most 0 within
 * CLAIM_TOL. Parts: draws (the Wilson 95 % interval of that fraction, made
 * symmetric about it) and continuation step (the change of the main draw's
 * births under step halving, as a fraction). Whether one basin is left at
 * eps_max is reported beside it. Far from the atoms H -> 0 = inf H, so part
 * of the grid drains outwards; that region is counted as one basin (the
 * basin of the point at infinity).
 */

static const char EXP[] = "bifurcation";


/* Number of basins and of refined grid minima at eps. */
static hj_status basins_at(hj_landscape *L, const double *lo, const double *hi, size_t n,
                           double eps, size_t *nb, size_t *nmin, hj_error *err)
{
    hj_basins bs;
    hj_status st = hj_landscape_basins(L, eps, lo, hi, n, &bs, err);
    if (st != HJ_OK)
        return st;
    *nb = bs.n_basins;
    if (nmin)
        *nmin = bs.n_minima;
    hj_basins_free(&bs);
    return HJ_OK;
}

/* Change in the number of minima as eps passes the fold upwards. */
static int fold_minima_change(const hj_fold *f)
{
    if (f->type != 0 || f->dir == 0)
        return 0;
    return f->dir < 0 ? -1 : 1;
}

static double log_grid(double e0, double e1, size_t i, size_t n)
{
    if (i == 0)
        return e0;
    if (i == n - 1)
        return e1;
    return exp(log(e0) + (log(e1) - log(e0)) * (double)i / (double)(n - 1));
}

/* Continuation over a domain wide enough that no minimum crosses its edge
 * (else the number of minima inside changes without a fold): the atoms' box
 * widened by o->pad = 0.5 of its side, doubled up to 4 while a minimum does. */
static hj_status continue_wide(hj_landscape *L, hj_landscape_options *o, hj_bifurcation *b,
                               hj_error *err)
{
    for (o->pad = 0.5;; o->pad *= 2.0) {
        hj_status st = hj_landscape_continue(L, o, b, err);
        if (st != HJ_OK || b->n_min_exits == 0 || o->pad >= 4.0)
            return st;
        hj_bifurcation_free(b);
    }
}

/* Grid nodes per side for cells of about `cell` over the domain of b. */
static size_t grid_nodes(const hj_bifurcation *b, double cell)
{
    double side = fmax(b->hi[0] - b->lo[0], b->hi[1] - b->lo[1]);
    double n = ceil(side / cell) + 1.0;
    return n < 101.0 ? 101 : n > 1501.0 ? 1501 : (size_t)n;
}

/* Fixed before any run: the tolerance of the claim on the fraction of basin-creating folds. */
#define CLAIM_TOL 0.05

/* Births (folds creating a minimum as eps grows, and minima entering the domain) and
 * removals (folds removing one) of a continuation. */
static void births_removals(const hj_bifurcation *b, size_t *births, size_t *removals)
{
    *births = b->n_min_exits, *removals = 0;
    for (size_t f = 0; f < b->n_folds; f++) {
        *births += fold_minima_change(&b->folds[f]) > 0;
        *removals += fold_minima_change(&b->folds[f]) < 0;
    }
}

/* Experiment "bifurcation" (C13). Overrides: N (atoms in all, split between
 * the two clusters; default 16), seeds (atom draws for the claim), seed. */
/* ---- the steps of the experiment ----------------------------------------------- */

/* Step halving: the folds traced with step h (b1) and h/2 (b2) agree in
 * number, type, direction and eps (fold_step_halving.csv, two checks). */
static hj_status step_halving(hj_result *res, const hj_bifurcation *pb1, const hj_bifurcation *pb2,
                              hj_error *err)
{
    const hj_bifurcation b1 = *pb1, b2 = *pb2;
    hj_status st = HJ_OK;
    double *tab = NULL;
    double max_deps = b1.n_folds == b2.n_folds ? 0.0 : INFINITY, max_dx = 0.0;
    if (b1.n_folds == b2.n_folds && b1.n_folds > 0) {
        tab = malloc(b1.n_folds * 4 * sizeof *tab);
        if (tab == NULL) {
            st = hj_error_set(err, HJ_ENOMEM, "bifurcation: out of memory");
            goto done;
        }
        for (size_t i = 0; i < b1.n_folds; i++) {
            const hj_fold *f = &b1.folds[i], *q = &b2.folds[i];
            double de = fabs(f->eps - q->eps), dx = hypot(f->x[0] - q->x[0], f->x[1] - q->x[1]);
            if (f->type != q->type || f->dir != q->dir)
                de = INFINITY;
            max_deps = fmax(max_deps, de);
            max_dx = fmax(max_dx, dx);
            tab[4 * i] = f->eps, tab[4 * i + 1] = q->eps, tab[4 * i + 2] = de, tab[4 * i + 3] = dx;
        }
        static const char *const sn[] = {"eps_step", "eps_half_step", "abs_eps_diff", "position_diff"};
        TRY(hj_result_write_csv(res, "fold_step_halving.csv", sn, tab, b1.n_folds, 4, err));
        free(tab);
        tab = NULL;
    }
    TRY(hj_result_check(res, "C13", "fold count: |step h - step h/2| (h = 0.05 in (x, log eps))",
                        fabs((double)b1.n_folds - (double)b2.n_folds), 0.0, err));
    TRY(hj_result_check(res, "C13", "fold eps under step halving: max |eps(h) - eps(h/2)| (same type, direction)",
                        max_deps, 1e-6, err));
    TRY(hj_result_metric(res, "fold_position_max_diff_step_halving", max_dx, err));
done:
    free(tab);
    return st;
}

/* Every fold passes the eigenvalue check (two checks). */
static hj_status fold_eigen_check(hj_result *res, const hj_bifurcation *pb1, hj_error *err)
{
    const hj_bifurcation b1 = *pb1;
    hj_status st = HJ_OK;
    size_t bad = 0;
    double lam_max = 0.0;
    for (size_t i = 0; i < b1.n_folds; i++) {
        bad += !b1.folds[i].ok;
        lam_max = fmax(lam_max, b1.folds[i].lam_rel);
    }
    TRY(hj_result_check(res, "C13", "folds failing the eigenvalue check (one eigenvalue ~ 0, opposite signs on the two sides)",
                        (double)bad, 0.0, err));
    TRY(hj_result_check(res, "C13", "max |smallest Hessian eigenvalue| / curvature scale at the folds",
                        lam_max, 1e-6, err));
done:
    return st;
}

/* The minima counted on a grid of basins against those of the continuation
 * at n_cmp values of eps off the folds (minima_grid_vs_continuation.csv). */
static hj_status grid_vs_continuation(const hj_experiment_options *opt, hj_result *res,
                                      hj_landscape *L, const hj_bifurcation *pb1, size_t grid,
                                      double e0, double e1, size_t n_cmp, hj_error *err)
{
    const hj_bifurcation b1 = *pb1;
    hj_status st = HJ_OK;
    double *tab = NULL;
    hj_experiment_progress(opt, EXP, "grid minima vs continuation", 0.2);
    tab = malloc(n_cmp * 4 * sizeof *tab);
    if (tab == NULL) {
        st = hj_error_set(err, HJ_ENOMEM, "bifurcation: out of memory");
        goto done;
    }
    size_t compared = 0, mismatch = 0;
    for (size_t i = 0; i < n_cmp; i++) {
        double eps = log_grid(e0, e1, i, n_cmp);
        int near = 0;
        for (size_t f = 0; f < b1.n_folds; f++)
            near |= fabs(log(eps / b1.folds[f].eps)) < 0.03;
        if (near)
            continue; /* a pair about to merge is closer than a grid cell */
        size_t nb, ngm, ncm;
        TRY(basins_at(L, b1.lo, b1.hi, grid, eps, &nb, &ngm, err));
        TRY(hj_bifurcation_count(L, &b1, eps, 0, &ncm, err));
        double *row = tab + 4 * compared;
        row[0] = eps, row[1] = (double)ngm, row[2] = (double)ncm, row[3] = (double)nb;
        mismatch += ngm != ncm;
        compared++;
    }
    {
        static const char *const mn[] = {"eps", "grid_minima", "continuation_minima", "grid_basins"};
        TRY(hj_result_write_csv(res, "minima_grid_vs_continuation.csv", mn, tab, compared, 4, err));
    }
    free(tab);
    tab = NULL;
    TRY(hj_result_metric(res, "eps_values_compared", (double)compared, err));
    TRY(hj_result_check(res, "C13", "eps values (of >= 20 compared, off the folds) where grid minima != continuation minima",
                        compared >= 20 ? (double)mismatch : INFINITY, 0.0, err));
done:
    free(tab);
    return st;
}

/* Across each group of folds the basin count changes by the minima created
 * minus those removed (basins_across_folds.csv). */
static hj_status basins_across_folds(const hj_experiment_options *opt, hj_result *res,
                                     hj_landscape *L, const hj_bifurcation *pb1, size_t grid,
                                     double e0, double e1, size_t *removing_out, hj_error *err)
{
    const hj_bifurcation b1 = *pb1;
    hj_status st = HJ_OK;
    double *tab = NULL;
    hj_experiment_progress(opt, EXP, "basins across the folds", 0.4);
    size_t mism_fold = 0, groups = 0, removing = 0;
    tab = malloc((b1.n_folds ? b1.n_folds : 1) * 7 * sizeof *tab);
    if (tab == NULL) {
        st = hj_error_set(err, HJ_ENOMEM, "bifurcation: out of memory");
        goto done;
    }
    for (size_t i = 0; i < b1.n_folds;) {
        /* a group: folds closer than 1% in eps are compared together */
        size_t j = i;
        int pred = fold_minima_change(&b1.folds[i]);
        while (j + 1 < b1.n_folds && log(b1.folds[j + 1].eps / b1.folds[j].eps) < 0.01) {
            j++;
            pred += fold_minima_change(&b1.folds[j]);
        }
        double gap_lo = i > 0 ? log(b1.folds[i].eps / b1.folds[i - 1].eps) : 0.2;
        double gap_hi = j + 1 < b1.n_folds ? log(b1.folds[j + 1].eps / b1.folds[j].eps) : 0.2;
        /* within the traced range [e0, e1]: outside it a fold would go unlisted */
        double eb = fmax(e0, b1.folds[i].eps * exp(-fmin(0.1, 0.5 * gap_lo)));
        double ea = fmin(e1, b1.folds[j].eps * exp(fmin(0.1, 0.5 * gap_hi)));
        size_t nb0, nb1;
        TRY(basins_at(L, b1.lo, b1.hi, grid, eb, &nb0, NULL, err));
        TRY(basins_at(L, b1.lo, b1.hi, grid, ea, &nb1, NULL, err));
        int meas = (int)nb1 - (int)nb0;
        mism_fold += meas != pred;
        for (size_t k = i; k <= j; k++)
            removing += fold_minima_change(&b1.folds[k]) < 0;
        double *row = tab + 7 * groups;
        row[0] = b1.folds[i].eps, row[1] = (double)(j - i + 1), row[2] = eb, row[3] = ea;
        row[4] = (double)nb0, row[5] = (double)nb1, row[6] = (double)pred;
        groups++;
        i = j + 1;
    }
    if (groups > 0) {
        static const char *const fn[] = {"fold_eps", "folds_in_group", "eps_before", "eps_after",
                                         "basins_before", "basins_after", "predicted_change"};
        TRY(hj_result_write_csv(res, "basins_across_folds.csv", fn, tab, groups, 7, err));
    }
    free(tab);
    tab = NULL;
    *removing_out = removing;
    TRY(hj_result_metric(res, "folds_removing_a_minimum", (double)removing, err));
    TRY(hj_result_check(res, "C13", "fold groups whose basin-count change != minima created - removed (a removed minimum merges two basins)",
                        (double)mism_fold, 0.0, err));
done:
    free(tab);
    return st;
}

/* The figures: the bifurcation diagram, basins against eps, and the maps
 * of H at eps_min, eps* and eps_max. */
static hj_status figures(const hj_experiment_options *opt, hj_result *res, hj_landscape *L,
                         const hj_bifurcation *pb1, const hj_landscape_options *po, double e0,
                         double es, double e1, hj_error *err)
{
    const hj_bifurcation b1 = *pb1;
    const hj_landscape_options o = *po;
    hj_status st = HJ_OK;
    hj_experiment_progress(opt, EXP, "figures", 0.96);
    TRY(hj__exp_bifurcation_figure(res, "bifurcation",
                                   "Critical points of H(x; eps), two clusters of 8 atoms, t = 1",
                                   "critical_points.csv", "folds.csv", b1.n_folds > 0,
                                   "Bifurcation diagram: H at every critical point on the traced "
                                   "branches against eps (log axis); branches end in pairs at the "
                                   "folds (diamonds).", err));
    {
        hj_plot p = {0};
        p.name = "basins_vs_eps";
        p.title = "Basins of -∇H (outflow counted as one) vs ε";
        p.xlabel = "ε";
        p.ylabel = "number";
        p.logx = 1;
        p.series[0] = (hj_plot_series){"basins_vs_eps.csv", 1, 2, 0, "basins (grid)", "linespoints", NULL};
        p.series[1] = (hj_plot_series){"basins_vs_eps.csv", 1, 4, 0, "minima on the branches + 1", "lines", NULL};
        p.n_series = 2;
        TRY(hj__exp_figure(res, &p,
                   "Number of basins of the flow -grad H on the grid (the region draining out of the "
                   "grid, where H -> 0, is one basin) and the continuation's minima + 1, against eps.",
                   err));
    }
    {
        const double eps3[3] = {e0, es, e1};
        const char *nm[3] = {"map_cold", "map_critical", "map_hot"};
        const char *what[3] = {"cold", "eps*", "hot"};
        for (int i = 0; i < 3; i++) {
            hj_crit_list cl;
            TRY(hj_landscape_critical_points(L, eps3[i], &o, &cl, err));
            char title[128], cap[256];
            snprintf(title, sizeof title, "H(x; eps) at eps = %.3g (%s)", eps3[i], what[i]);
            hj_error e2 = {0};
            hj_status ms = hj_landscape_map_render(L, eps3[i], b1.lo, b1.hi, 201, &cl, res->dir, nm[i],
                                                   title, &e2);
            hj_crit_list_free(&cl);
            if (ms != HJ_OK) {
                hj_result_note(res, "Map %s was not rendered (%s).", nm[i], e2.msg);
                continue;
            }
            snprintf(cap, sizeof cap,
                     "The landscape H(x; eps) at eps = %.3g (%s) with the atoms (circles) and its "
                     "critical points.", eps3[i], what[i]);
            TRY(hj_result_figure(res, nm[i], cap, err));
        }
    }
done:
    return st;
}

hj_status hj__exp_bifurcation(const hj_experiment_options *opt, hj_result *res, hj_error *err)
{
    if (opt == NULL || res == NULL)
        return hj_error_set(err, HJ_EINVAL, "bifurcation: NULL argument");
    const size_t per = opt->N ? (opt->N >= 2 ? opt->N / 2 : 1) : 8, N = 2 * per;
    const double spread = 0.4, t = 1.0, e0 = 0.01, e1 = 6.3, h = 0.05;
    const size_t draws = opt->seeds ? opt->seeds : (opt->quick ? 2 : 10);
    const double cell = opt->quick ? 0.035 : 0.025;
    const size_t n_cmp = opt->quick ? 32 : 48, n_claim = opt->quick ? 24 : 40;
    hj_status st = HJ_OK;
    hj_landscape *L = NULL;
    hj_bifurcation b1 = {0}, b2 = {0};
    double *y = malloc(2 * N * sizeof *y), *g = malloc(N * sizeof *g);
    double *tab = NULL;
    size_t *Bs = malloc(n_claim * sizeof *Bs);
    if (!y || !g || !Bs) {
        st = hj_error_set(err, HJ_ENOMEM, "bifurcation: out of memory");
        goto done;
    }
    TRY(hj_result_param_text(res, "setup", "two clusters in 2-D around (-1,-1) (g=0) and (1,1) (g=1)", err));
    TRY(hj_result_param_num(res, "atoms_per_cluster", (double)per, err));
    TRY(hj_result_param_num(res, "spread", spread, err));
    TRY(hj_result_param_text(res, "spread_law", "Gaussian: each coordinate centre + spread*N(0,1)", err));
    TRY(hj_result_param_num(res, "t", t, err));
    TRY(hj_result_param_num(res, "eps_min", e0, err));
    TRY(hj_result_param_num(res, "eps_max", e1, err));
    TRY(hj_result_param_num(res, "continuation_step", h, err));
    TRY(hj_result_param_num(res, "seed_levels", opt->quick ? 10 : 16, err));
    TRY(hj_result_param_num(res, "grid_cell", cell, err));
    TRY(hj_result_param_num(res, "atom_draws", (double)draws, err));
    TRY(hj_result_param_num(res, "seed", (double)opt->seed, err));
    if (isfinite(opt->eps) || opt->d || opt->iters)
        hj_result_note(res, "The eps, d and iters overrides are not used: the set-up is SPEC C13's "
                            "2-D two-cluster landscape over eps in [0.01, 6.3].");

    /* ---- the main draw ------------------------------------------------------- */
    hj_landscape_two_clusters(per, spread, opt->seed, y, g);
    {
        tab = malloc(N * 3 * sizeof *tab);
        if (tab == NULL) {
            st = hj_error_set(err, HJ_ENOMEM, "bifurcation: out of memory");
            goto done;
        }
        for (size_t j = 0; j < N; j++)
            tab[3 * j] = y[2 * j], tab[3 * j + 1] = y[2 * j + 1], tab[3 * j + 2] = g[j];
        static const char *const an[] = {"y1", "y2", "g"};
        TRY(hj_result_write_csv(res, "atoms.csv", an, tab, N, 3, err));
        free(tab);
        tab = NULL;
    }
    hj_atoms atoms = {N, 2, y, g};
    TRY(hj_landscape_alloc(&L, &atoms, t, err));
    const double es = hj_landscape_critical_eps(L);
    TRY(hj_result_metric(res, "eps_star", es, err));
    hj_landscape_options o;
    hj_landscape_options_default(&o);
    o.eps_min = e0, o.eps_max = e1, o.h_max = h;
    o.seed_levels = opt->quick ? 10 : 16;
    hj_experiment_progress(opt, EXP, "continuation", 0.02);
    double t0 = hj__exp_now_seconds();
    TRY(continue_wide(L, &o, &b1, err));
    double t1 = hj__exp_now_seconds();
    const size_t grid = grid_nodes(&b1, cell);
    TRY(hj_result_metric(res, "domain_pad", o.pad, err));
    TRY(hj_result_metric(res, "grid_nodes_per_side", (double)grid, err));
    TRY(hj_result_metric(res, "minima_crossing_the_domain_edge", (double)b1.n_min_exits, err));
    o.h_max = 0.5 * h;
    hj_experiment_progress(opt, EXP, "continuation, half step", 0.1);
    TRY(hj_landscape_continue(L, &o, &b2, err));
    double t2 = hj__exp_now_seconds();
    o.h_max = h;
    TRY(hj_result_metric(res, "continuation_seconds", t1 - t0, err));
    TRY(hj_result_metric(res, "continuation_half_step_seconds", t2 - t1, err));
    TRY(hj_result_metric(res, "branches", (double)b1.n_branches, err));
    TRY(hj_result_metric(res, "branch_points", (double)b1.n_points, err));
    TRY(hj_result_metric(res, "branch_ends_stopped_early", (double)b1.n_incomplete, err));
    TRY(hj_result_metric(res, "folds", (double)b1.n_folds, err));
    {
        char cp[1100], fp[1100];
        TRY(hj_result_path(res, "critical_points.csv", cp, sizeof cp, err));
        TRY(hj_result_path(res, "folds.csv", fp, sizeof fp, err));
        TRY(hj_bifurcation_write(&b1, cp, fp, err));
    }

    TRY(step_halving(res, &b1, &b2, err));

    TRY(fold_eigen_check(res, &b1, err));

    TRY(grid_vs_continuation(opt, res, L, &b1, grid, e0, e1, n_cmp, err));

    size_t removing = 0;
    TRY(basins_across_folds(opt, res, L, &b1, grid, e0, e1, &removing, err));

    /* ---- basin count over eps, several draws (the claim) ----------------------- */
    tab = malloc(n_claim * 4 * sizeof *tab);
    double *seedtab = malloc(draws * 7 * sizeof *seedtab);
    if (tab == NULL || seedtab == NULL) {
        free(seedtab);
        st = hj_error_set(err, HJ_ENOMEM, "bifurcation: out of memory");
        goto done;
    }
    size_t good = 0, births_total = 0, removals_total = 0, exits_other = 0, grid_rises = 0;
    for (size_t s = 0; s < draws && st == HJ_OK; s++) {
        hj_landscape *Ls = L;
        hj_bifurcation bs_b = {0};
        const hj_bifurcation *bb = &b1;
        if (s > 0) {
            hj_landscape_two_clusters(per, spread, opt->seed + s, y, g);
            hj_atoms as = {N, 2, y, g};
            if ((st = hj_landscape_alloc(&Ls, &as, t, err)) != HJ_OK)
                break;
            hj_landscape_options os = o;
            if ((st = continue_wide(Ls, &os, &bs_b, err)) != HJ_OK) {
                hj_landscape_free(Ls);
                break;
            }
            bb = &bs_b;
            exits_other += bs_b.n_min_exits;
        }
        const size_t gs = grid_nodes(bb, cell);
        size_t births = 0, rises = 0;
        /* basins are born only where a fold creates a minimum (the domain
         * is wide enough that no minimum crosses its edge): exact, unlike
         * a count on an eps grid, which misses short-lived pairs */
        size_t removals = 0;
        births_removals(bb, &births, &removals);
        /* the basin count over the eps grid corroborates the fold count; in
         * quick mode only the first draw gets it (the others: eps_max only) */
        const int sweep = s == 0 || !opt->quick;
        for (size_t i = sweep ? 0 : n_claim - 1; i < n_claim; i++) {
            char stage[96];
            snprintf(stage, sizeof stage, "basin counts, draw %zu/%zu", s + 1, draws);
            hj_experiment_progress(opt, EXP, stage,
                                   0.5 + 0.45 * ((double)s + (double)i / (double)n_claim) / (double)draws);
            double eps = log_grid(e0, e1, i, n_claim);
            size_t nm = 0;
            if ((st = basins_at(Ls, bb->lo, bb->hi, gs, eps, &Bs[i], &nm, err)) != HJ_OK)
                break;
            if (sweep && i > 0 && Bs[i] > Bs[i - 1])
                rises += Bs[i] - Bs[i - 1];
            if (s == 0) {
                size_t cm = 0;
                if ((st = hj_bifurcation_count(L, &b1, eps, 0, &cm, err)) != HJ_OK)
                    break;
                double *row = tab + 4 * i;
                row[0] = eps, row[1] = (double)Bs[i], row[2] = (double)nm, row[3] = (double)cm + 1.0;
            }
        }
        if (st == HJ_OK) {
            int ok = births == 0 && Bs[n_claim - 1] == 1;
            good += ok;
            births_total += births;
            removals_total += removals;
            grid_rises += rises;
            double *row = seedtab + 7 * s;
            row[0] = (double)(opt->seed + s), row[1] = (double)births, row[2] = (double)rises;
            row[3] = (double)Bs[n_claim - 1], row[4] = ok;
            /* from the fold list: the last fold that changes the number of minima */
            double last = e0;
            for (size_t f = 0; f < bb->n_folds; f++)
                if (fold_minima_change(&bb->folds[f]) != 0)
                    last = fmax(last, bb->folds[f].eps);
            row[5] = last;
            row[6] = (double)bb->n_folds;
        }
        hj_bifurcation_free(&bs_b);
        if (s > 0)
            hj_landscape_free(Ls);
    }
    if (st != HJ_OK) {
        free(seedtab);
        goto done;
    }
    {
        static const char *const bn[] = {"eps", "grid_basins", "grid_minima", "continuation_minima_plus_outside"};
        st = hj_result_write_csv(res, "basins_vs_eps.csv", bn, tab, n_claim, 4, err);
        static const char *const sn[] = {"seed", "folds_creating_a_minimum", "grid_count_rises",
                                         "basins_at_eps_max", "non_increasing_and_one",
                                         "eps_of_the_last_minimum_fold", "folds"};
        if (st == HJ_OK)
            st = hj_result_write_csv(res, "basins_by_draw.csv", sn, seedtab, draws, 7, err);
        double single_main = seedtab[5];
        free(seedtab);
        if (st != HJ_OK)
            goto done;
        TRY(hj_result_metric(res, "eps_of_the_last_minimum_fold_main_draw", single_main, err));
    }
    free(tab);
    tab = NULL;
    {
        const double nf = (double)(births_total + removals_total), z = 1.959963984540054;
        const double ph = nf > 0 ? (double)births_total / nf : NAN;
        /* Wilson score interval of the fraction, made symmetric about ph */
        const double den = 1.0 + z * z / nf, ctr = (ph + z * z / (2.0 * nf)) / den;
        const double hw = z / den * sqrt(ph * (1.0 - ph) / nf + z * z / (4.0 * nf * nf));
        size_t bh = 0, rh = 0, bh2 = 0, rh2 = 0;
        births_removals(&b1, &bh, &rh);
        births_removals(&b2, &bh2, &rh2);
        hj_claim_measurement cm = {0};
        cm.value = ph;
        TRY(hj_claim_part(&cm, "draws (Wilson)", fmax(ph - (ctr - hw), ctr + hw - ph), err));
        TRY(hj_claim_part(&cm, "continuation step", fabs((double)bh2 - (double)bh) / nf, err));
        char stmt[384];
        snprintf(stmt, sizeof stmt,
                 "As eps grows (%g to %g) no fold creates an attribution basin: of the folds that change the "
                 "number of minima of H(x; eps) (two clusters of %zu atoms, t = 1; %zu atom draws), the fraction "
                 "that create a minimum (a basin of -grad H) is 0",
                 e0, e1, per, draws);
        const hj_claim_spec spec = {
            "C13", HJ_SOURCE_PAPER, stmt,
            "the entropy landscape undergoes fold bifurcations as eps grows, each merging attribution basins "
            "(the number of basins never increases as eps grows)",
            HJ_FORM_AT_MOST, 0.0, CLAIM_TOL,
            "a basin-creating fold contradicts 'each merging'; below 1 in 20 of the minimum-changing folds such "
            "folds would be rare exceptions to the rule, above it the rule is not what the landscape does",
            0};
        TRY(hj_result_claim_add(res, &spec, &cm, err));
        const hj_claim *cl = &res->claims[res->n_claims - 1];
        TRY(hj_result_metric(res, "folds_creating_a_minimum_all_draws", (double)births_total, err));
        TRY(hj_result_metric(res, "folds_removing_a_minimum_all_draws", (double)removals_total, err));
        TRY(hj_result_metric(res, "basin_creating_fraction", ph, err));
        TRY(hj_result_metric(res, "draws_no_birth_and_one_basin_at_eps_max", (double)good, err));
        TRY(hj_result_metric(res, "grid_basin_count_rises_all_draws", (double)grid_rises, err));
        TRY(hj_result_metric(res, "minima_crossing_the_domain_edge_other_draws", (double)exits_other, err));
        hj_result_note(res,
                       "Claim: %zu of the %zu folds that change the number of minima (all %zu draws) create one: "
                       "fraction %.4f, 95%% interval [%.4f, %.4f] (draws, Wilson %.4f; continuation step %.4f), "
                       "at most 0 within %g: %s (%s). %zu of %zu draws have no birth and one basin at eps = %g.",
                       births_total, births_total + removals_total, draws, ph, cl->lo, cl->hi,
                       cm.parts[0].half_width, cm.parts[1].half_width, CLAIM_TOL, hj_verdict_name(cl->verdict),
                       cl->why, good, draws, e1);
    }

    TRY(figures(opt, res, L, &b1, &o, e0, es, e1, err));
    hj_result_note(res, "Continuation found %zu branches and %zu folds between eps = %g and %g "
                        "(eps* = N^(-1/d) = %.3g); %zu of the folds remove a minimum as eps grows.",
                   b1.n_branches, b1.n_folds, e0, e1, es, removing);
    hj_result_note(res, "Basins are counted on a %zux%zu grid over the domain of the continuation: "
                        "the atoms' box widened on each side by %.2g of its longest side, widened "
                        "further (x2, up to 4) while a branch of minima crosses its edge, so that the "
                        "number of minima inside changes only at folds. H tends to 0 (its infimum) "
                        "far from the atoms, so the region that drains out of the grid is one basin, "
                        "the basin of the point at infinity.",
                   grid, grid, o.pad);
    if (births_total > 0)
        hj_result_note(res, "In %zu of %zu atom draws a fold creates a minimum-saddle pair as eps grows "
                            "(basins_by_draw.csv): the number of basins rises by one until the new "
                            "minimum is annihilated at a later fold. Such pairs can live for well under "
                            "1%% of eps, so a basin count on an eps grid can miss them (the grid count "
                            "rose %zu times); the fold list does not.",
                       draws - good, draws, grid_rises);
    if (b1.n_incomplete)
        hj_result_note(res, "%zu branch end(s) stopped before the eps range ended: far from the atoms "
                            "a critical point on a ridge between two atoms becomes exponentially flat "
                            "as eps -> 0 and cannot be followed in double precision.",
                       b1.n_incomplete);
done:
    free(tab), free(y), free(g), free(Bs);
    hj_bifurcation_free(&b1);
    hj_bifurcation_free(&b2);
    hj_landscape_free(L);
    return st;
}
