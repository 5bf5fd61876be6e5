/* test_exp_quadrature_generalization.c — the quadrature (C8) and generalization (C9) experiments in quick mode: every check passes, summary.json is written, claims carry a verdict, and their CSVs agree with independent recomputations. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hjdl/data.h"
#include "hjdl/experiment.h"

#include "exp_support.h"

static int make_tmp(void **state)
{
    return es_make_tmp(state, "qg");
}

/* Run `name` quick into the temp dir; every check must pass, every claim
 * must carry a verdict and the given SPEC id, summary.json must exist and
 * hold one verdict per claim. */
static void run_quick(const es_tmpdir *t, const char *name, const char *spec_id, hj_result *res)
{
    hj_experiment_options o;
    es_quick_options(t, &o);
    es_run(name, &o, res);
    es_assert_checks_pass(res, name, 5, spec_id);
    assert_true(res->n_claims >= 3);
    es_assert_claims(res, spec_id, ES_CLAIM_FINITE);
    es_assert_summary(res, name, 1);
}

/* quadrature: N = m^d and eps = 1/m in every row; the grid error is >= 0 and
 * below the a-priori bound d L h / 2 (the node nearest the kink of each
 * coordinate lies within h/2 of the minimiser, the objective is L-Lipschitz
 * there); two claims per d: the unnormalised LSE's slope equals an OLS fit
 * of log error_plain on log N done here, the normalised one's an OLS fit of
 * log(error / log N); each is an `equals -1/d` claim with tolerance 0.1/d,
 * a reason, and the fit, fit range and grid oscillation parts, the last
 * recomputed here from the two interleaved sub-grids. */
static void quadrature_quick_passes_and_csv_recomputes(void **state)
{
    hj_result res;
    run_quick(*state, "quadrature", "C8", &res);
    assert_int_equal(res.n_claims, 6);
    hj_matrix m = {0};
    es_read_csv(&res, "quadrature.csv", &m);
    assert_int_equal(m.cols, 8);
    static const double dims[3] = {1, 2, 4};
    for (size_t c = 0; c < 3; c++) {
        double lx[128], lu[128], lb[128];
        size_t k = 0;
        for (size_t r = 0; r < m.rows; r++) {
            const double *row = m.data + r * 8;
            if (row[0] != dims[c])
                continue;
            double d = row[0], mm = row[1], N = row[2], eps = row[3];
            assert_true(fabs(N - pow(mm, d)) < 0.5);
            assert_true(fabs(eps - 1.0 / mm) <= 1e-15);
            double h = 4.0 / (mm - 1.0), L = 1.0 + (1.0 + 0.32 + 2.0) / 2.0;
            assert_true(row[5] >= 0.0);
            assert_true(row[5] <= d * L * h / 2.0);
            assert_true(row[4] > 0.0 && row[6] > 0.0 && row[7] > 0.0);
            assert_true(k < 128);
            lx[k] = log(N);
            lu[k] = log(row[7]);
            lb[k++] = log(row[4] / log(N));
        }
        assert_true(k >= 6);
        for (int e = 0; e < 2; e++) {
            const hj_claim *cl = &res.claims[2 * c + (size_t)e];
            const double *ly = e == 0 ? lu : lb;
            const double s = es_ols(lx, ly, k, NULL);
            assert_true(fabs(s - cl->measured) <= 1e-9);
            assert_true(fabs(cl->predicted + 1.0 / dims[c]) <= 1e-15);
            assert_int_equal(cl->form, HJ_FORM_EQUALS);
            assert_true(fabs(cl->tolerance - 0.1 / dims[c]) <= 1e-15);
            assert_true(strlen(cl->tolerance_reason) > 0);
            assert_int_equal(cl->source, e == 0 ? HJ_SOURCE_PAPER : HJ_SOURCE_HJDL);
            assert_non_null(strstr(cl->statement, e == 0 ? "Unnormalised" : "Normalised"));
            assert_int_equal(cl->n_parts, 3);
            assert_string_equal(cl->parts[2].name, "grid oscillation");
            /* the two interleaved sub-grids, fitted here */
            double xs[64], ys[64], osc = 0.0;
            for (size_t par = 0; par < 2; par++) {
                size_t n = 0;
                for (size_t i = par; i < k; i += 2)
                    xs[n] = lx[i], ys[n++] = ly[i];
                osc = fmax(osc, fabs(es_ols(xs, ys, n, NULL) - s));
            }
            assert_true(fabs(cl->parts[2].half_width - osc) <= 1e-9);
            double sum2 = 0.0;
            for (size_t p = 0; p < cl->n_parts; p++)
                sum2 += cl->parts[p].half_width * cl->parts[p].half_width;
            assert_true(fabs(cl->hi - cl->lo - 2.0 * sqrt(sum2)) <= 1e-9);
            assert_int_equal(cl->verdict, hj_verdict_decide(cl->form, cl->predicted, cl->tolerance,
                                                            cl->lo, cl->hi, NULL, 0));
        }
    }
    hj_matrix_free(&m);
    assert_true(es_file_exists(&res, "quadrature_local_slopes.csv"));
    hj_result_free(&res);
}

/* generalization: rule (a) uses eps = c n^(-2/(d+2)) with c recomputed here
 * (10 points expected within one kernel width b = sqrt(2 eps) at n = 100,
 * unit-ball volumes 2, pi, 4 pi/3); rule (b) picks a power of two in
 * [2^-21, 1]; RMSEs are positive and, for the fixed target at the largest
 * n, below half its standard deviation (sqrt(d/12)); each claim's slope is
 * the OLS slope of the log geometric mean over the two seeds computed here,
 * its "seeds" part t_{0.975,1} x the standard error of the per-seed slopes;
 * the fixed target's claims are "at least as fast as", the bump family's
 * "equals", both predicting -1/(d+2). */
static void generalization_quick_passes_and_csv_recomputes(void **state)
{
    hj_result res;
    run_quick(*state, "generalization", "C9", &res);
    es_assert_claims(&res, "C9", ES_CLAIM_FORMED);
    assert_int_equal(res.n_claims, 12);
    hj_matrix m = {0};
    es_read_csv(&res, "generalization.csv", &m);
    assert_int_equal(m.cols, 7);
    const size_t S = 2, NN = 6;
    assert_int_equal(m.rows, 3 * 2 * 2 * S * NN);
    const double pi = 3.14159265358979323846, vol[3] = {2.0, pi, 4.0 * pi / 3.0};
    for (size_t di = 0; di < 3; di++) {
        const double d = (double)(di + 1);
        const double b0 = pow(10.0 * pow(2.0, d) / (100.0 * vol[di]), 1.0 / d);
        const double c = b0 * b0 / 2.0 * pow(100.0, 2.0 / (d + 2.0));
        for (int tg = 0; tg < 2; tg++)
            for (int rule = 0; rule < 2; rule++) {
                double slopes[2], lx[16], lgm[16] = {0};
                for (size_t s = 0; s < S; s++) {
                    double ly[16];
                    size_t k = 0;
                    double nlast = 0.0, rlast = 0.0;
                    for (size_t r = 0; r < m.rows; r++) {
                        const double *row = m.data + r * 7;
                        if (row[0] != d || row[1] != (double)tg || row[2] != (double)rule || row[3] != (double)s)
                            continue;
                        double n = row[4], eps = row[5], rmse = row[6];
                        if (rule == 0) {
                            assert_true(fabs(eps - c * pow(n, -2.0 / (d + 2.0))) <= 1e-12 * eps);
                        } else {
                            double k2 = -log2(eps);
                            assert_true(fabs(k2 - floor(k2 + 0.5)) < 1e-12 && k2 > -0.5 && k2 < 21.5);
                        }
                        assert_true(isfinite(rmse) && rmse > 0.0);
                        assert_true(k < 16);
                        lx[k] = log(n);
                        ly[k] = log(rmse);
                        lgm[k++] += log(rmse) / (double)S;
                        if (n > nlast) {
                            nlast = n;
                            rlast = rmse;
                        }
                    }
                    assert_int_equal(k, NN);
                    if (tg == 0)
                        assert_true(rlast < 0.5 * sqrt(d / 12.0));
                    slopes[s] = es_ols(lx, ly, k, NULL);
                }
                const hj_claim *cl = &res.claims[(di * 2 + (size_t)tg) * 2 + (size_t)rule];
                assert_true(fabs(cl->measured - es_ols(lx, lgm, NN, NULL)) <= 1e-9);
                double seeds = NAN;
                for (size_t q = 0; q < cl->n_parts; q++)
                    if (strcmp(cl->parts[q].name, "seeds") == 0)
                        seeds = cl->parts[q].half_width;
                /* sd/sqrt(2) = |a - b|/2; t_{0.975, 1} = 12.7062 (the library tabulates 12.706: 1e-4 relative) */
                assert_true(fabs(seeds - 12.7062047 * fabs(slopes[0] - slopes[1]) / 2.0) <= 1e-4 * (seeds + 1e-12));
                assert_true(fabs(cl->predicted + 1.0 / (d + 2.0)) <= 1e-15);
                assert_int_equal(cl->form, tg == 0 ? HJ_FORM_AS_FAST_AS : HJ_FORM_EQUALS);
                assert_true(fabs(cl->tolerance - 0.1 / (d + 2.0)) <= 1e-15);
            }
    }
    hj_matrix_free(&m);
    hj_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(quadrature_quick_passes_and_csv_recomputes, make_tmp, es_drop_tmp),
        cmocka_unit_test_setup_teardown(generalization_quick_passes_and_csv_recomputes, make_tmp, es_drop_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
