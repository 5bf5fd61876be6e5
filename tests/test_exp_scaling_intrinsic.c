/* test_exp_scaling_intrinsic.c — the scaling and intrinsic experiments in quick mode: every check passes, summary.json is written, claims carry a verdict, and the claimed exponents equal slopes recomputed from the raw CSV. */
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
static void run_quick(const es_tmpdir *t, const char *name, size_t n_claims, hj_result *res)
{
    hj_experiment_options o;
    es_quick_options(t, &o);
    o.iters = SI_TEST_ITERS;
    es_run(name, &o, res);
    es_assert_checks_pass(res, name, 5, NULL);
    assert_int_equal(res->n_claims, n_claims);
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

/* The raw table's columns (0-based) of one experiment. */
typedef struct cols {
    size_t k, N, seed, factor, eps, test[2], val[2], train[2];
} cols;

/* Mean over the seeds of per-seed slopes of test RMSE on N (grid indices
 * [g0, g1) of the sorted distinct N of dimension k) at budget b, by rule 0
 * (eps factor 1) or 1 (the factor with the smallest validation RMSE). */
static double ref_exponent(const hj_matrix *m, const cols *c, double k, size_t seeds, int b, int rule,
                           size_t g0, size_t g1, double *per_seed)
{
    double Ns[16];
    size_t nN = 0;
    for (size_t r = 0; r < m->rows; r++) {
        const double *row = m->data + r * m->cols;
        if (row[c->k] != k)
            continue;
        size_t j = 0;
        while (j < nN && Ns[j] != row[c->N])
            j++;
        if (j == nN && nN < 16)
            Ns[nN++] = row[c->N];
    }
    for (size_t i = 1; i < nN; i++) /* insertion sort */
        for (size_t j = i; j > 0 && Ns[j - 1] > Ns[j]; j--) {
            double t = Ns[j];
            Ns[j] = Ns[j - 1], Ns[j - 1] = t;
        }
    double mean = 0.0;
    for (size_t s = 0; s < seeds; s++) {
        double x[16], y[16];
        size_t n = 0;
        for (size_t g = g0; g < g1; g++) {
            double best_val = INFINITY, test = NAN;
            for (size_t r = 0; r < m->rows; r++) {
                const double *row = m->data + r * m->cols;
                if (row[c->k] != k || row[c->N] != Ns[g] || row[c->seed] != (double)s)
                    continue;
                if (rule == 0 ? row[c->factor] == 1.0 : row[c->val[b]] < best_val) {
                    best_val = row[c->val[b]];
                    test = row[c->test[b]];
                }
            }
            assert_true(isfinite(test) && test > 0.0);
            x[n] = Ns[g], y[n++] = test;
        }
        per_seed[s] = ref_loglog_slope(x, y, n);
        mean += per_seed[s] / (double)seeds;
    }
    return mean;
}

/* The raw table: eps = factor N^(-1/k), errors positive; every claim's
 * number, seeds part, fit-range part and budget part recomputed from it,
 * the form, tolerance 0.1/k with a reason, and trained = 1. */
static void recompute_claims(const hj_result *res, const hj_matrix *m, const cols *c, int validated)
{
    const size_t seeds = (size_t)es_param(res, "seeds");
    assert_int_equal(seeds, 2); /* the t quantile below is t_{0.975, 1} */
    assert_int_equal(m->rows, (size_t)es_metric(res, "runs"));
    for (size_t r = 0; r < m->rows; r++) {
        const double *row = m->data + r * m->cols;
        const double eps = row[c->factor] * pow(row[c->N], -1.0 / row[c->k]);
        assert_true(fabs(row[c->eps] - eps) <= 1e-14 * eps);
        for (int b = 0; b < 2; b++)
            assert_true(isfinite(row[c->test[b]]) && row[c->test[b]] > 0.0 &&
                        isfinite(row[c->train[b]]) && row[c->train[b]] > 0.0);
    }
    static const double dims[3] = {1.0, 2.0, 4.0};
    const size_t per_dim = validated ? 2 : 1;
    for (size_t i = 0; i < 3; i++)
        for (size_t rule = 0; rule < per_dim; rule++) {
            const hj_claim *cl = &res->claims[i * per_dim + rule];
            double ps[16];
            const double e1 = ref_exponent(m, c, dims[i], seeds, 0, (int)rule, 0, 3, ps);
            const double e2 = ref_exponent(m, c, dims[i], seeds, 1, (int)rule, 0, 3, ps);
            const double seeds_half = 12.706 * fabs(ps[0] - ps[1]) / sqrt(2.0) / sqrt(2.0);
            const double lo = ref_exponent(m, c, dims[i], seeds, 1, (int)rule, 0, 2, ps);
            const double hi = ref_exponent(m, c, dims[i], seeds, 1, (int)rule, 1, 3, ps);
            if (!(fabs(cl->measured - e2) <= 1e-10))
                fail_msg("claim %zu: measured %.17g, recomputed %.17g", i, cl->measured, e2);
            assert_int_equal(cl->n_parts, 3);
            assert_string_equal(cl->parts[0].name, "seeds");
            assert_true(fabs(cl->parts[0].half_width - seeds_half) <= 1e-3 * seeds_half + 1e-12);
            assert_string_equal(cl->parts[1].name, "fit range");
            assert_true(fabs(cl->parts[1].half_width - fmax(fabs(lo - e2), fabs(hi - e2))) <= 1e-10);
            assert_string_equal(cl->parts[2].name, HJ_CLAIM_PART_BUDGET);
            assert_true(fabs(cl->parts[2].half_width - fabs(e2 - e1)) <= 1e-10);
            assert_true(fabs(cl->predicted + 1.0 / dims[i]) < 1e-15);
            assert_true(fabs(cl->tolerance - 0.1 / dims[i]) < 1e-15);
            assert_true(strlen(cl->tolerance_reason) > 0);
            assert_int_equal(cl->trained, 1);
            assert_int_equal(cl->form, rule == 0 ? HJ_FORM_EQUALS : HJ_FORM_AS_FAST_AS);
            assert_int_equal(cl->source, rule == 0 ? HJ_SOURCE_PAPER : HJ_SOURCE_HJDL);
            assert_true(cl->provisional);
            if (fabs(e2 - e1) > cl->tolerance)
                assert_int_equal(cl->verdict, HJ_VERDICT_INCONCLUSIVE);
        }
}

static void scaling_quick_passes_and_claims_recompute(void **state)
{
    hj_result res;
    run_quick(*state, "scaling", 6, &res);
    hj_matrix m = {0};
    es_read_csv(&res, "scaling.csv", &m);
    /* d, N, seed, eps_factor, eps, test/val/train at B, at 2B, seconds */
    assert_int_equal(m.cols, 12);
    const cols c = {0, 1, 2, 3, 4, {5, 8}, {6, 9}, {7, 10}};
    recompute_claims(&res, &m, &c, 1);
    hj_matrix_free(&m);
    assert_true(es_file_exists(&res, "scaling_local_slopes.csv"));
    hj_result_free(&res);
}

static void intrinsic_quick_passes_and_claims_recompute(void **state)
{
    hj_result res;
    run_quick(*state, "intrinsic", 3, &res);
    hj_matrix m = {0};
    es_read_csv(&res, "intrinsic.csv", &m);
    assert_int_equal(m.cols, 13); /* d_int, D, then as scaling */
    for (size_t r = 0; r < m.rows; r++)
        assert_true(m.data[r * 13 + 1] == 32.0 && m.data[r * 13 + 4] == 1.0);
    const cols c = {0, 2, 3, 4, 5, {6, 9}, {7, 10}, {8, 11}};
    recompute_claims(&res, &m, &c, 0);
    hj_matrix_free(&m);
    for (size_t i = 0; i < 3; i++)
        assert_non_null(strstr(res.claims[i].statement, "curved"));
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
