/* test_exp_robust.c — the C10 experiments (robustness, hessian-fmnist, adversarial) in quick mode: every check passes, summary.json is written, their CSVs obey the bounds and reproduce the claims' fits and interval parts when recomputed here, and every claim follows SPEC §4. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "hjdl/data.h"
#include "hjdl/dataset.h"
#include "hjdl/experiment.h"
#include "hjdl/plot.h"

#include "exp_support.h"

static int make_tmp(void **state)
{
    return es_make_tmp(state, "robust");
}

static int have_fashion_mnist(void)
{
    struct stat sb;
    return stat(HJ_FASHION_MNIST_DIR, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The "fit range" part of a pooled sweep, written out here: the OLS slopes over the points
 * whose x lies in the lower / upper ceil(nx/2) of the nx distinct x values (sorted here),
 * and the larger distance of the two from the slope b over all n points. */
static double fit_range(const double *x, const double *y, size_t n, double b)
{
    double xs[64], hx[64], hy[64];
    size_t nx = 0;
    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < nx && xs[k] != x[i])
            k++;
        if (k == nx)
            xs[nx++] = x[i];
    }
    for (size_t i = 1; i < nx; i++)
        for (size_t k = i; k > 0 && xs[k - 1] > xs[k]; k--) {
            double t = xs[k];
            xs[k] = xs[k - 1], xs[k - 1] = t;
        }
    const size_t h = (nx + 1) / 2;
    double worst = 0.0;
    for (int half = 0; half < 2; half++) {
        const double lo = half ? xs[nx - h] : xs[0], hi = half ? xs[nx - 1] : xs[h - 1];
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (x[i] >= lo && x[i] <= hi)
                hx[k] = x[i], hy[k] = y[i], k++;
        worst = fmax(worst, fabs(es_ols(hx, hy, k, NULL) - b));
    }
    return worst;
}

/* The claim's fit, fit-range and budget parts against the OLS slope of (x, y) recomputed
 * here, and the budget part = |slope at twice the budget (metric key2) - slope|. */
static void assert_sweep_parts(const hj_result *res, const hj_claim *c, const double *x, const double *y,
                               size_t n, const char *key2)
{
    double se, b = es_ols(x, y, n, &se);
    assert_true(fabs(b - c->measured) <= 1e-9);
    assert_true(fabs(es_claim_part(c, "fit") - hj_student_t975(n - 2) * se) <= 1e-9);
    assert_true(fabs(es_claim_part(c, "fit range") - fit_range(x, y, n, b)) <= 1e-9);
    assert_true(fabs(es_claim_part(c, HJ_CLAIM_PART_BUDGET) - fabs(es_metric(res, key2) - b)) <= 1e-12);
}

/* Run `name` quick (smaller still under the sanitizers); every check passes,
 * every claim is C10 with a verdict and a rule, summary.json names the experiment. */
static void run_quick(const es_tmpdir *t, const char *name, size_t min_checks, size_t n_claims, hj_result *res)
{
    hj_experiment_options o;
    es_quick_options(t, &o);
#if defined(__SANITIZE_ADDRESS__)
    if (strcmp(name, "robustness") != 0) {
        o.N = 8;
        o.iters = 20;
    }
#endif
    es_run(name, &o, res);
    es_assert_checks_pass(res, name, min_checks, "C10");
    assert_int_equal(res->n_claims, n_claims);
    es_assert_claims(res, "C10", 0);
    es_assert_summary(res, name, 0);
}

/* robustness: per run, the max ratio equals max curvature / bound (the bounds are constants
 * of a trained net); in 1-D the MEB and diameter bounds coincide and neither exceeds the
 * paper's; every profile row lies below its bounds; both claims (the paper's trend, hjdl's
 * exponent -1) follow SPEC §4 and their exponent, fit and fit-range parts are the OLS fits of
 * log max curvature on log eps recomputed here. */
static void robustness_quick_passes_and_csv_recomputes(void **state)
{
    hj_result res;
    run_quick(*state, "robustness", 6, 2, &res);
    hj_matrix m = {0}, p = {0};
    es_read_csv(&res, "robustness.csv", &m);
    es_read_csv(&res, "profile.csv", &p);
    assert_int_equal(m.cols, 14);
    assert_true(m.rows >= 6 && m.rows <= 64);
    double lx[64], ly[64];
    for (size_t r = 0; r < m.rows; r++) {
        const double *row = m.data + r * 14;
        for (int k = 0; k < 3; k++)
            assert_true(fabs(row[7 + k] - row[3] / row[4 + k]) <= 1e-12 * row[7 + k]);
        assert_true(fabs(row[5] - row[6]) <= 1e-9 * row[5]);
        assert_true(row[5] <= row[4] * (1.0 + 1e-15));
        assert_true(row[3] <= row[5]);
        assert_true(row[10] == 0.0);
        lx[r] = log(row[0]);
        ly[r] = log(row[3]);
    }
    /* the paper's trend and hjdl's exponent -1, on the same measured exponent */
    es_assert_claim_form(&res.claims[0], HJ_SOURCE_PAPER, HJ_FORM_TREND, 3);
    es_assert_claim_form(&res.claims[1], HJ_SOURCE_HJDL, HJ_FORM_EQUALS, 3);
    assert_true(res.claims[1].trained && res.claims[1].predicted == -1.0 && res.claims[1].tolerance == 0.1);
    assert_sweep_parts(&res, &res.claims[0], lx, ly, m.rows, "curvature_exponent_budget_x2");
    assert_true(res.claims[1].measured == res.claims[0].measured);
    /* the local slopes figure's table: slopes of log(mean over seeds) between consecutive eps */
    hj_matrix ls = {0};
    es_read_csv(&res, "robustness_local_slopes.csv", &ls);
    const size_t S = m.rows / 6;
    assert_int_equal(ls.rows, 5);
    assert_int_equal(ls.cols, 2);
    for (size_t e = 0; e + 1 < 6; e++) {
        double a = 0.0, b = 0.0;
        for (size_t s = 0; s < S; s++)
            a += m.data[(e * S + s) * 14 + 3] / (double)S, b += m.data[((e + 1) * S + s) * 14 + 3] / (double)S;
        const double e0 = m.data[e * S * 14], e1 = m.data[(e + 1) * S * 14];
        assert_true(fabs(ls.data[e * 2] - sqrt(e0 * e1)) <= 1e-12 * e1);
        assert_true(fabs(ls.data[e * 2 + 1] - log(b / a) / log(e1 / e0)) <= 1e-9);
    }
    hj_matrix_free(&ls);
    if (hj_plot_available()) { /* every figure rendered (a label gnuplot refuses leaves none) */
        assert_true(es_file_exists(&res, "robustness_bounds.png") && es_file_exists(&res, "robustness_profile.png"));
        assert_true(es_file_exists(&res, "robustness_local_slopes.png"));
    }
    assert_int_equal(p.cols, 6);
    for (size_t r = 0; r < p.rows; r++) {
        const double *row = p.data + r * 6;
        assert_true(row[2] >= 0.0 && row[2] <= row[3] && row[2] <= row[4] && row[2] <= row[5]);
    }
    hj_matrix_free(&m);
    hj_matrix_free(&p);
    hj_result_free(&res);
}

/* hessian-fmnist: every (point, predicted class) row lies below its class's three bounds;
 * the three claims follow SPEC §4; the curvature exponent (with its fit and fit-range parts)
 * is the OLS fit of log median curvature on log eps, the bound exponent that of log paper bound. */
static void hessian_fmnist_quick_passes_and_csv_recomputes(void **state)
{
    if (!have_fashion_mnist()) {
        print_message("SKIP: Fashion-MNIST (dataset-fashion-mnist) is not installed\n");
        skip();
    }
    hj_result res;
    run_quick(*state, "hessian-fmnist", 6, 3, &res);
    hj_matrix m = {0}, p = {0};
    es_read_csv(&res, "hessian_fmnist.csv", &m);
    es_read_csv(&res, "points.csv", &p);
    assert_int_equal(p.cols, 8);
    for (size_t r = 0; r < p.rows; r++) {
        const double *row = p.data + r * 8;
        assert_true(row[4] >= 0.0 && row[4] <= row[5] && row[4] <= row[6] && row[4] <= row[7]);
        assert_true(row[6] <= row[5] * (1.0 + 1e-15)); /* MEB bound never above the paper's */
    }
    assert_int_equal(m.cols, 15);
    double lx[64], ly[64], lb[64];
    assert_true(m.rows >= 5 && m.rows <= 64);
    for (size_t r = 0; r < m.rows; r++) {
        lx[r] = log(m.data[r * 15]);
        ly[r] = log(m.data[r * 15 + 3]);
        lb[r] = log(m.data[r * 15 + 5]);
        assert_true(m.data[r * 15 + 12] == 0.0);
    }
    es_assert_claim_form(&res.claims[0], HJ_SOURCE_PAPER, HJ_FORM_TREND, 3);
    es_assert_claim_form(&res.claims[1], HJ_SOURCE_HJDL, HJ_FORM_EQUALS, 3);
    es_assert_claim_form(&res.claims[2], HJ_SOURCE_HJDL, HJ_FORM_EQUALS, 3);
    assert_true(res.claims[1].trained && res.claims[2].trained);
    assert_sweep_parts(&res, &res.claims[1], lx, ly, m.rows, "median_curvature_exponent_budget_x2");
    assert_sweep_parts(&res, &res.claims[2], lx, lb, m.rows, "paper_bound_exponent_budget_x2");
    hj_matrix_free(&m);
    hj_matrix_free(&p);
    hj_result_free(&res);
}

/* adversarial: certified accuracy is non-increasing in the radius and never above PGD
 * robust accuracy, which never exceeds the clean accuracy on the attacked points; each
 * claim is a trend following SPEC §4 whose slope, fit and fit-range parts are the OLS fits of
 * robust accuracy on log10 eps recomputed here. */
static void adversarial_quick_passes_and_csv_recomputes(void **state)
{
    if (!have_fashion_mnist()) {
        print_message("SKIP: Fashion-MNIST (dataset-fashion-mnist) is not installed\n");
        skip();
    }
    hj_result res;
    run_quick(*state, "adversarial", 4, 4, &res);
    hj_matrix m = {0};
    es_read_csv(&res, "adversarial.csv", &m);
    assert_int_equal(m.cols, 16);
    assert_true(m.rows >= 5 && m.rows <= 64);
    double lx[64], ly[64];
    for (size_t r = 0; r < m.rows; r++) {
        const double *row = m.data + r * 16;
        for (int q = 0; q < 4; q++) {
            assert_true(row[7 + q] <= row[3 + q]);
            assert_true(row[3 + q] <= row[14]);
            if (q > 0)
                assert_true(row[7 + q] <= row[7 + q - 1]);
        }
        assert_true(row[15] == 0.0);
        assert_true(row[13] <= 1.0);
    }
    for (int q = 0; q < 4; q++) {
        for (size_t r = 0; r < m.rows; r++) {
            lx[r] = log10(m.data[r * 16]);
            ly[r] = m.data[r * 16 + 3 + q];
        }
        es_assert_claim_form(&res.claims[q], HJ_SOURCE_HJDL, HJ_FORM_TREND, 3);
        assert_true(res.claims[q].predicted == 1.0);
        char key[64];
        snprintf(key, sizeof key, "robust_acc_slope_per_decade_rho_%g_budget_x2", q == 0 ? 0.25 : q == 1 ? 0.5 : q == 2 ? 1.0 : 2.0);
        assert_sweep_parts(&res, &res.claims[q], lx, ly, m.rows, key);
    }
    if (hj_plot_available()) { /* accuracy and radii in separate figures, and the local slopes */
        assert_true(es_file_exists(&res, "adversarial_accuracy.png") && es_file_exists(&res, "adversarial_radius.png"));
        assert_true(es_file_exists(&res, "adversarial_local_slopes.png"));
    }
    hj_matrix_free(&m);
    hj_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(robustness_quick_passes_and_csv_recomputes),
        cmocka_unit_test(hessian_fmnist_quick_passes_and_csv_recomputes),
        cmocka_unit_test(adversarial_quick_passes_and_csv_recomputes),
    };
    return cmocka_run_group_tests(tests, make_tmp, es_drop_tmp);
}
