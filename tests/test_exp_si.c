/* test_exp_si.c — the scaling and intrinsic experiments in quick mode: every check passes, summary.json is written, claims carry a verdict, and the claimed exponents equal slopes recomputed from the raw CSV. */
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

/* Sanitizer builds run fewer training steps so the test stays fast; the
 * properties asserted do not depend on the step count. */
#if defined(__SANITIZE_ADDRESS__)
#define SI_TEST_ITERS 60
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SI_TEST_ITERS 60
#endif
#endif
#ifndef SI_TEST_ITERS
#define SI_TEST_ITERS 0 /* the experiment's quick default */
#endif

#include "exp_support.h"

static int setup(void **state)
{
    return es_make_tmp(state, "si");
}

/* Quick run of `name`: all checks pass, every claim has a verdict and a
 * rule, summary.json names the experiment and holds one verdict per claim. */
static void run_quick(const es_tmpdir *t, const char *name, hj_result *res)
{
    hj_experiment_options o;
    es_quick_options(t, &o);
    o.iters = SI_TEST_ITERS;
    es_run(name, &o, res);
    es_assert_checks_pass(res, name, 5, NULL);
    assert_int_equal(res->n_claims, 3);
    es_assert_claims(res, "C8", ES_CLAIM_STATEMENT);
    es_assert_summary(res, name, 1);
    assert_true(strlen(res->notes) > 0);
}

/* Plain least-squares slope of log y on log x over n points. */
static double ref_loglog_slope(const double *x, const double *y, size_t n)
{
    double mx = 0.0, my = 0.0;
    for (size_t i = 0; i < n; i++) {
        mx += log(x[i]);
        my += log(y[i]);
    }
    mx /= (double)n;
    my /= (double)n;
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        num += (log(x[i]) - mx) * (log(y[i]) - my);
        den += (log(x[i]) - mx) * (log(x[i]) - mx);
    }
    return num / den;
}

/* The verdict rule written out again: inconclusive beyond 0.3 or when not
 * finite, agrees within two standard errors, else disagrees. */
static hj_verdict ref_verdict(double pred, double meas, double unc)
{
    if (!isfinite(meas) || !isfinite(unc) || unc > 0.3)
        return HJ_VERDICT_INCONCLUSIVE;
    return fabs(meas - pred) <= 2.0 * unc ? HJ_VERDICT_AGREES : HJ_VERDICT_DISAGREES;
}

/* The raw table (rows: one run; columns k, N, seed, eps, test, train at the
 * given positions): eps = N^(-1/k), errors positive, and per-(k, seed)
 * slopes whose mean and standard error are the claims' numbers. */
static void recompute_claims(const hj_result *res, const hj_matrix *m, size_t ck, size_t cN,
                             size_t cs, size_t ceps, size_t ctest, size_t ctrain)
{
    const size_t seeds = (size_t)es_param(res, "seeds"), cols = m->cols;
    assert_true(seeds >= 2);
    assert_int_equal(m->rows, (size_t)es_metric(res, "runs"));
    for (size_t r = 0; r < m->rows; r++) {
        const double *row = m->data + r * cols;
        const double eps = pow(row[cN], -1.0 / row[ck]);
        assert_true(fabs(row[ceps] - eps) <= 1e-14 * eps);
        assert_true(isfinite(row[ctest]) && row[ctest] > 0.0);
        assert_true(isfinite(row[ctrain]) && row[ctrain] > 0.0);
    }
    static const double dims[3] = {1.0, 2.0, 4.0};
    for (size_t i = 0; i < 3; i++) {
        double slope[16], x[16], y[16];
        assert_true(seeds <= 16);
        for (size_t s = 0; s < seeds; s++) {
            size_t n = 0;
            for (size_t r = 0; r < m->rows && n < 16; r++) {
                const double *row = m->data + r * cols;
                if (row[ck] == dims[i] && row[cs] == (double)s) {
                    x[n] = row[cN];
                    y[n++] = row[ctest];
                }
            }
            assert_true(n >= 3);
            slope[s] = ref_loglog_slope(x, y, n);
        }
        double mean = 0.0, ss = 0.0;
        for (size_t s = 0; s < seeds; s++)
            mean += slope[s] / (double)seeds;
        for (size_t s = 0; s < seeds; s++)
            ss += (slope[s] - mean) * (slope[s] - mean);
        const double se = sqrt(ss / (double)(seeds - 1)) / sqrt((double)seeds);
        const hj_claim *c = &res->claims[i];
        assert_true(fabs(c->predicted + 1.0 / dims[i]) < 1e-15);
        if (!(fabs(c->measured - mean) <= 1e-10 && fabs(c->uncertainty - se) <= 1e-10))
            fail_msg("claim %zu: measured %.17g +- %.17g, recomputed %.17g +- %.17g", i,
                     c->measured, c->uncertainty, mean, se);
        assert_int_equal(c->verdict, ref_verdict(c->predicted, mean, se));
    }
}

static void scaling_quick_passes_and_claims_recompute(void **state)
{
    hj_result res;
    run_quick(*state, "scaling", &res);
    hj_matrix m = {0};
    es_read_csv(&res, "scaling.csv", &m);
    assert_int_equal(m.cols, 7); /* d, N, seed, eps, test_rmse, train_rmse, seconds */
    recompute_claims(&res, &m, 0, 1, 2, 3, 4, 5);
    hj_matrix_free(&m);
    hj_result_free(&res);
}

static void intrinsic_quick_passes_and_claims_recompute(void **state)
{
    hj_result res;
    run_quick(*state, "intrinsic", &res);
    hj_matrix m = {0};
    es_read_csv(&res, "intrinsic.csv", &m);
    assert_int_equal(m.cols, 8); /* d_int, D, N, seed, eps, test_rmse, train_rmse, seconds */
    for (size_t r = 0; r < m.rows; r++)
        assert_true(m.data[r * 8 + 1] == 32.0);
    recompute_claims(&res, &m, 0, 2, 3, 4, 5, 6);
    hj_matrix_free(&m);
    for (size_t i = 0; i < 3; i++)
        assert_non_null(strstr(res.claims[i].statement, "R^32"));
    hj_result_free(&res);
}

/* Impossible overrides are refused before any training. */
static void bad_overrides_are_refused(void **state)
{
    const es_tmpdir *t = *state;
    const char *names[2] = {"scaling", "intrinsic"};
    for (size_t k = 0; k < 2; k++) {
        hj_experiment_options o;
        hj_result res;
        hj_error err = {0};
        es_quick_options(t, &o);
        o.d = 9;
        assert_int_equal(hj_experiment_run(hj_experiment_find(names[k]), &o, &res, &err), HJ_EINVAL);
        hj_result_free(&res);
        o.d = 0;
        o.N = 3;
        assert_int_equal(hj_experiment_run(hj_experiment_find(names[k]), &o, &res, &err), HJ_EINVAL);
        hj_result_free(&res);
        o.N = 0;
        o.eps = -1.0;
        assert_int_equal(hj_experiment_run(hj_experiment_find(names[k]), &o, &res, &err), HJ_EINVAL);
        assert_non_null(strstr(err.msg, "eps"));
        hj_result_free(&res);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(scaling_quick_passes_and_claims_recompute, setup, es_drop_tmp),
        cmocka_unit_test_setup_teardown(intrinsic_quick_passes_and_claims_recompute, setup, es_drop_tmp),
        cmocka_unit_test_setup_teardown(bad_overrides_are_refused, setup, es_drop_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
