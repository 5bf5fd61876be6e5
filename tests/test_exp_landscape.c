/* test_exp_landscape.c — the bifurcation and phase experiments (C13) in quick mode: every check passes, summary.json carries the claims, and their CSVs agree with independent recomputations. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "exp_support.h"
#include "landscape_support.h"
#include "hjdl/data.h"
#include "hjdl/experiment.h"
#include "hjdl/landscape.h"

static int make_tmp(void **state)
{
    return es_make_tmp(state, "landscape");
}

/* Run `name` quick (seeds atom draws; 0: the default) into the scratch dir:
 * every check passes and belongs to C13, every claim has a verdict, a rule
 * and the SPEC id, summary.json names the experiment with one verdict per
 * claim. */
static void run_quick(const es_tmpdir *t, const char *name, size_t seeds, hj_result *res)
{
    hj_experiment_options o;
    es_quick_options(t, &o);
    o.seeds = seeds;
    es_run(name, &o, res);
    es_assert_checks_pass(res, name, 4, "C13");
    assert_true(res->n_claims >= 1);
    es_assert_claims(res, "C13", ES_CLAIM_STATEMENT);
    es_assert_summary(res, name, 1);
}

/* bifurcation: each listed fold is, by finite differences of the naive H
 * built from atoms.csv, a critical point whose Hessian has a vanishing
 * eigenvalue (relative to the other); the fold list is sorted in eps; at the
 * compared eps values grid and continuation agree and at least 20 were
 * compared; the basin counts across the folds changed by the predicted
 * amounts; the claim follows SPEC §4 and its fraction and Wilson part are
 * recomputed from the fold list. */
static void bifurcation_quick_passes_and_folds_are_singular(void **state)
{
    hj_result res;
    run_quick(*state, "bifurcation", 1, &res); /* one draw: fast under the sanitizers */
    hj_matrix at = {0}, fo = {0}, mc = {0}, bf = {0};
    es_read_csv(&res, "atoms.csv", &at);
    es_read_csv(&res, "folds.csv", &fo);
    es_read_csv(&res, "minima_grid_vs_continuation.csv", &mc);
    es_read_csv(&res, "basins_across_folds.csv", &bf);
    const size_t N = at.rows;
    assert_int_equal(N, 16);
    double y[32], g[16];
    for (size_t j = 0; j < N; j++)
        y[2 * j] = at.data[3 * j], y[2 * j + 1] = at.data[3 * j + 1], g[j] = at.data[3 * j + 2];
    /* the atoms are SPEC's: 8 with g = 0 near (-1,-1), 8 with g = 1 near (1,1) */
    for (size_t j = 0; j < N; j++) {
        double c = j < 8 ? -1.0 : 1.0;
        assert_true(g[j] == (j < 8 ? 0.0 : 1.0));
        assert_true(fabs(y[2 * j] - c) < 2.0 && fabs(y[2 * j + 1] - c) < 2.0);
    }
    assert_int_equal(fo.cols, 8); /* eps,x_1,x_2,type,H,direction,lambda_rel,check */
    assert_true(fo.rows >= 3);
    double worst_g = 0.0, worst_l = 0.0;
    for (size_t i = 0; i < fo.rows; i++) {
        const double *r = fo.data + i * fo.cols;
        if (i > 0)
            assert_true(r[0] >= fo.data[(i - 1) * fo.cols]);
        double gr[2], hs[3];
        ls_naive_fd_2d(y, g, N, 1.0, r[0], r + 1, 2e-4 * sqrt(r[0]), gr, hs);
        const double gn = hypot(gr[0], gr[1]);
        double tr = 0.5 * (hs[0] + hs[2]), dd = sqrt(0.25 * (hs[0] - hs[2]) * (hs[0] - hs[2]) + hs[1] * hs[1]);
        double l1 = tr - dd, l2 = tr + dd;
        double big = fmax(fabs(l1), fabs(l2)), small = fmin(fabs(l1), fabs(l2));
        worst_g = fmax(worst_g, gn * r[0] / fmax(big * r[0] * r[0], 1e-300));
        worst_l = fmax(worst_l, small / big);
        assert_true(r[3] == 0.0 || r[3] == 1.0); /* minimum-saddle or saddle-maximum */
        assert_true(r[7] == 1.0);
    }
    printf("  %zu folds: max |grad H| / (|lambda_max| eps) %.1e, max |lambda_min/lambda_max| %.1e (finite differences)\n",
           fo.rows, worst_g, worst_l);
    assert_true(worst_g <= 1e-5);
    assert_true(worst_l <= 1e-3);
    assert_true(mc.rows >= 20);
    for (size_t i = 0; i < mc.rows; i++)
        assert_true(mc.data[i * 4 + 1] == mc.data[i * 4 + 2]);
    for (size_t i = 0; i < bf.rows; i++) {
        const double *r = bf.data + i * 7;
        assert_true(r[2] < r[0] && r[3] > r[0]);
        assert_true(r[5] - r[4] == r[6]);
    }
    /* the claim (the paper's, one draw here): the fraction of minimum-changing folds (type 0)
     * that create a minimum as eps grows (direction > 0; and minima entering the domain), with
     * the Wilson 95 % interval made symmetric about it, recomputed from the fold list */
    double births = es_metric(&res, "minima_crossing_the_domain_edge"), removals = 0.0;
    for (size_t i = 0; i < fo.rows; i++) {
        const double *r = fo.data + i * fo.cols;
        if (r[3] == 0.0)
            births += r[5] > 0.0, removals += r[5] < 0.0;
    }
    const hj_claim *c = &res.claims[0];
    assert_int_equal(res.n_claims, 1);
    es_assert_claim_form(c, HJ_SOURCE_PAPER, HJ_FORM_AT_MOST, 2);
    assert_true(c->predicted == 0.0 && c->tolerance == 0.05);
    const double n = births + removals, ph = births / n, z = 1.959963984540054;
    assert_true(removals >= 1.0);
    assert_true(fabs(c->measured - ph) <= 1e-15);
    const double w_lo = (ph + z * z / (2 * n) - z * sqrt(ph * (1 - ph) / n + z * z / (4 * n * n))) / (1 + z * z / n);
    const double w_hi = (ph + z * z / (2 * n) + z * sqrt(ph * (1 - ph) / n + z * z / (4 * n * n))) / (1 + z * z / n);
    assert_true(fabs(es_claim_part(c, "draws (Wilson)") - fmax(ph - w_lo, w_hi - ph)) <= 1e-12);
    assert_true(es_claim_part(c, "continuation step") == 0.0); /* same folds under step halving (check) */
    hj_matrix_free(&at), hj_matrix_free(&fo), hj_matrix_free(&mc), hj_matrix_free(&bf);
    hj_result_free(&res);
}

/* phase: the synthetic curves equal H/log N of the naive H at the three
 * queries (atoms regenerated from the documented generator and seed 1), and
 * at each reported eps_half the naive H equals log N / 2. */
static void phase_quick_passes_and_curves_recompute(void **state)
{
    hj_result res;
    run_quick(*state, "phase", 0, &res);
    hj_matrix cu = {0}, tr = {0};
    es_read_csv(&res, "phase_synthetic.csv", &cu);
    es_read_csv(&res, "transitions_synthetic.csv", &tr);
    double y[32], g[16];
    hj_landscape_two_clusters(8, 0.4, 1, y, g);
    const double q[3][2] = {{-1, -1}, {1, 1}, {0, 0}}, logN = log(16.0);
    double worst = 0.0;
    assert_int_equal(cu.cols, 4);
    assert_true(cu.rows >= 30);
    for (size_t i = 0; i < cu.rows; i++) {
        const double *r = cu.data + i * 4;
        for (int k = 0; k < 3; k++)
            worst = fmax(worst, fabs((double)ls_naive_H(y, g, 16, 2, 1.0, r[0], q[k]) / logN - r[1 + k]));
    }
    double worst_half = 0.0;
    for (size_t i = 0; i < tr.rows; i++) {
        const double *r = tr.data + i * 6;
        if (r[0] != 1.0)
            continue;
        worst_half = fmax(worst_half, fabs((double)ls_naive_H(y, g, 16, 2, 1.0, r[4], r + 2) - 0.5 * logN));
        assert_true(fabs(log10(r[4] / 0.25) - r[5]) <= 1e-12);
    }
    printf("  phase curves vs naive H: %.1e; H(eps_half) - log N/2: %.1e\n", worst, worst_half);
    assert_true(worst <= 1e-12);
    assert_true(worst_half <= 1e-9);
    /* the scaling claims: one per unit-cube dimension (and Fashion-MNIST when
     * installed), "equals -1/d", each slope the OLS slope of the log geometric
     * mean of eps_c over the draws against log N, recomputed here */
    es_assert_claims(&res, "C13", ES_CLAIM_FORMED);
    assert_true(res.n_claims >= 2 && res.n_claims <= 3);
    for (int d = 1; d <= 2; d++) {
        char file[64], want[64];
        snprintf(file, sizeof file, "scaling_cube_d%d.csv", d);
        snprintf(want, sizeof want, "unit cube, d = %d", d);
        hj_matrix sc = {0};
        es_read_csv(&res, file, &sc);
        assert_int_equal(sc.cols, 4);
        double lx[16], ly[16];
        size_t n = 0;
        for (size_t i = 0; i < sc.rows; i++) {
            const double *r = sc.data + i * 4;
            assert_true(r[2] > 0.0 && isfinite(r[2]));
            assert_true(fabs(r[3] - pow(r[0], -1.0 / d)) <= 1e-15);
            size_t k = 0;
            while (k < n && lx[k] != log(r[0]))
                k++;
            if (k == n) {
                assert_true(n < 16);
                lx[n] = log(r[0]), ly[n++] = 0.0;
            }
        }
        const double draws = (double)sc.rows / (double)n;
        for (size_t i = 0; i < sc.rows; i++)
            for (size_t k = 0; k < n; k++)
                if (lx[k] == log(sc.data[i * 4]))
                    ly[k] += log(sc.data[i * 4 + 2]) / draws;
        const hj_claim *cl = NULL;
        for (size_t c = 0; c < res.n_claims; c++)
            if (strstr(res.claims[c].statement, want) != NULL)
                cl = &res.claims[c];
        assert_non_null(cl);
        assert_int_equal(cl->form, HJ_FORM_EQUALS);
        assert_true(fabs(cl->predicted + 1.0 / d) <= 1e-15);
        assert_true(fabs(cl->measured - es_ols(lx, ly, n, NULL)) <= 1e-9);
        hj_matrix_free(&sc);
    }
    hj_matrix_free(&cu), hj_matrix_free(&tr);
    hj_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bifurcation_quick_passes_and_folds_are_singular, make_tmp, es_drop_tmp),
        cmocka_unit_test_setup_teardown(phase_quick_passes_and_curves_recompute, make_tmp, es_drop_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
