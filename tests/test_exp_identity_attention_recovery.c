/* test_exp_identity_attention_recovery.c — the identity, attention and recovery experiments in quick mode: every check passes, summary.json is written, claims carry a verdict, and their CSVs agree with independent recomputations. */
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

static int setup(void **state)
{
    return es_make_tmp(state, "iar");
}

/* Run experiment `name` in quick mode into the scratch dir and assert the
 * outcome every experiment must have. res is left filled for the caller. */
static void run_quick(const es_tmpdir *t, const char *name, hj_result *res)
{
    hj_experiment_options o;
    es_quick_options(t, &o);
    es_run(name, &o, res);
    es_assert_checks_pass(res, name, 1, NULL);
    for (size_t i = 0; i < res->checks.n; i++)
        assert_true(res->checks.items[i].claim[0] == 'C');
    es_assert_claims(res, NULL, ES_CLAIM_STATEMENT);
    /* summary.json exists and names the experiment, with a verdict per claim */
    es_assert_summary(res, name, 1);
}

/* identity: checks of the whole verify suite are included; the C1 table has
 * eps = 0 first and rounding-level errors; on the tropical arrow the sup
 * stays below eps log N and, at the smallest eps, equals eps log 2 at the
 * kinks (two-neuron ties, where f_eps - f_0 = eps log(1 + e^{-gap/eps})
 * with gap = 0 for the tied pair and the others exponentially small). */
static void identity_quick_passes_and_tables_hold(void **state)
{
    hj_result res;
    run_quick(*state, "identity", &res);
    assert_true(es_metric(&res, "verify_checks") >= 50);
    assert_true(res.checks.n > (size_t)es_metric(&res, "verify_checks"));
    hj_matrix m = {0};
    es_read_csv(&res, "c1_identity_vs_eps.csv", &m);
    assert_int_equal(m.cols, 3);
    assert_true(m.rows >= 8);
    assert_true(m.data[0] == 0.0);
    for (size_t r = 1; r < m.rows; r++) {
        assert_true(m.data[r * 3] > m.data[(r - 1) * 3]);
        assert_true(m.data[r * 3 + 1] <= 1e-13);
    }
    assert_true(fabs(m.data[1 * 3] - 1e-6) < 1e-18);
    assert_true(fabs(m.data[(m.rows - 1) * 3] - 1e3) < 1e-9);
    hj_matrix_free(&m);

    es_read_csv(&res, "tropical_arrow.csv", &m);
    const double N = es_param(&res, "tropical_N");
    assert_int_equal(m.cols, 7);
    for (size_t r = 0; r < m.rows; r++) {
        const double *row = m.data + r * 7, eps = row[0];
        assert_true(fabs(row[3] - eps * log(N)) <= 1e-15 * eps * log(N));
        assert_true(row[1] >= 0.0 && row[1] <= eps * log(N));
    }
    if (es_metric(&res, "tropical_kinks_on_points") > 0) {
        const double eps = m.data[0], kink = m.data[5];
        assert_true(fabs(kink / (eps * log(2.0)) - 1.0) < 1e-6);
    }
    hj_matrix_free(&m);

    /* the diagram: every vertex column close to the Hopf–Cole column; the
     * eps -> 0 gap inside [0, eps log N] */
    es_read_csv(&res, "diagram.csv", &m);
    assert_int_equal(m.cols, 11);
    for (size_t r = 0; r < m.rows; r++) {
        const double *row = m.data + r * 11;
        assert_true(fabs(row[1] - row[2]) < 1e-12);
        assert_true(fabs(row[4] - row[2]) < 1e-12);
        assert_true(fabs(row[3] - row[2]) < 1e-3);
        assert_true(fabs(row[6] - row[7]) < 2e-2);
        assert_true(row[9] >= -1e-14 && row[9] <= row[10]);
    }
    hj_matrix_free(&m);
    hj_result_free(&res);
}

/* attention: d_k = 4..64 with eps = sqrt(d_k) and errors under the
 * thresholds; per-layer entropies are normalised into [0, 1]. */
static void attention_quick_passes_and_tables_hold(void **state)
{
    hj_result res;
    run_quick(*state, "attention", &res);
    hj_matrix m = {0};
    es_read_csv(&res, "attention_vs_dk.csv", &m);
    assert_int_equal(m.rows, 5);
    assert_int_equal(m.cols, 6);
    static const double dks[] = {4, 8, 16, 32, 64};
    for (size_t r = 0; r < 5; r++) {
        const double *row = m.data + r * 6;
        assert_true(row[0] == dks[r]);
        assert_true(fabs(row[1] - sqrt(dks[r])) < 1e-15);
        assert_true(row[2] <= 1e-13);
        assert_true(row[3] <= 1e-7);
    }
    hj_matrix_free(&m);
    es_read_csv(&res, "transformer_layers.csv", &m);
    assert_int_equal(m.rows, 4);
    for (size_t r = 0; r < m.rows; r++) {
        const double *row = m.data + r * m.cols;
        assert_true(row[0] == (double)(r + 1));
        for (size_t k = 6; k < 8; k++)
            assert_true(row[k] >= 0.0 && row[k] <= 1.0 + 1e-12);
    }
    hj_matrix_free(&m);
    assert_true(es_metric(&res, "timing_tiled_seconds") > 0.0);
    assert_true(es_metric(&res, "timing_reference_seconds") > 0.0);
    hj_result_free(&res);
}

/* recovery: D recomputed from the atom table (sum_j pibar_j |g_j - |y_j||)
 * matches the D table; the usages of a run sum to 1 (the Gibbs weights are a
 * distribution at every point); one claim, the paper's trend, following SPEC
 * §4, whose slope and parts are recomputed from the D table. */
static void recovery_quick_passes_and_D_recomputes(void **state)
{
    hj_result res;
    run_quick(*state, "recovery", &res);
    assert_int_equal(res.n_claims, 1);
    assert_string_equal(res.claims[0].claim, "C7");
    hj_matrix A = {0}, D = {0};
    es_read_csv(&res, "recovery_atoms.csv", &A);
    es_read_csv(&res, "recovery_D.csv", &D);
    const size_t N = (size_t)es_param(&res, "neurons");
    assert_int_equal(A.cols, 6);
    assert_int_equal(A.rows, D.rows * N);
    for (size_t r = 0; r < D.rows; r++) {
        double sum = 0.0, usage = 0.0;
        for (size_t j = 0; j < N; j++) {
            const double *a = A.data + (r * N + j) * 6;
            assert_true(a[0] == D.data[r * D.cols] && a[1] == D.data[r * D.cols + 1]);
            assert_true(a[5] >= 0.0 && a[5] <= 1.0 + 1e-12);
            sum += a[5] * fabs(a[4] - fabs(a[3]));
            usage += a[5];
        }
        assert_true(fabs(sum - D.data[r * D.cols + 2]) <= 1e-12 * fmax(1.0, sum));
        assert_true(fabs(usage - 1.0) < 1e-12);
        /* training decreased the loss */
        assert_true(D.data[r * D.cols + 4] < D.data[r * D.cols + 3]);
    }
    /* the ratio metric is the ratio of the seed means of D */
    double m_hi = 0.0, m_lo = 0.0;
    size_t n_hi = 0, n_lo = 0;
    for (size_t r = 0; r < D.rows; r++) {
        double eps = D.data[r * D.cols], d = D.data[r * D.cols + 2];
        if (fabs(eps - 0.5) < 1e-12)
            m_hi += d, n_hi++;
        if (fabs(eps - 0.04) < 1e-12)
            m_lo += d, n_lo++;
    }
    assert_true(n_hi > 0 && n_hi == n_lo);
    double R = (m_lo / (double)n_lo) / (m_hi / (double)n_hi);
    assert_true(fabs(R - es_metric(&res, "D_ratio_eps0.04_over_eps0.5")) <= 1e-12 * R);
    /* the claim (the paper's trend): the mean over seeds of the per-seed OLS slope of log D on
     * log eps, its seed and fit-range parts, recomputed from the D table (rows: eps, then seed) */
    const hj_claim *c = &res.claims[0];
    es_assert_claim_form(c, HJ_SOURCE_PAPER, HJ_FORM_TREND, 3);
    assert_true(c->predicted == 1.0);
    const size_t S = n_hi, ne = D.rows / S;
    assert_int_equal(ne, 3);
    double b[16], bl[16], bu[16], mb = 0.0, ml = 0.0, mu = 0.0;
    assert_true(S >= 2 && S <= 16);
    for (size_t s = 0; s < S; s++) {
        double lx[3], ly[3]; /* increasing eps: 0.04, 0.1, 0.5 (the table runs 0.5, 0.1, 0.04) */
        for (size_t e = 0; e < 3; e++) {
            const double *row = D.data + ((2 - e) * S + s) * D.cols;
            assert_true(row[1] == (double)s);
            lx[e] = log(row[0]), ly[e] = log(row[2]);
        }
        b[s] = es_ols(lx, ly, 3, NULL);
        bl[s] = (ly[1] - ly[0]) / (lx[1] - lx[0]);
        bu[s] = (ly[2] - ly[1]) / (lx[2] - lx[1]);
        mb += b[s] / (double)S, ml += bl[s] / (double)S, mu += bu[s] / (double)S;
    }
    double ss = 0.0;
    for (size_t s = 0; s < S; s++)
        ss += (b[s] - mb) * (b[s] - mb);
    assert_true(fabs(mb - c->measured) <= 1e-9);
    assert_true(fabs(es_claim_part(c, "seeds") - hj_student_t975(S - 1) * sqrt(ss / (double)(S - 1) / (double)S)) <=
                1e-9);
    assert_true(fabs(es_claim_part(c, "fit range") - fmax(fabs(ml - mb), fabs(mu - mb))) <= 1e-9);
    assert_true(fabs(es_claim_part(c, HJ_CLAIM_PART_BUDGET) -
                     fabs(es_metric(&res, "log_D_vs_log_eps_slope_budget_x2") - mb)) <= 1e-12);
    hj_matrix_free(&A);
    hj_matrix_free(&D);
    hj_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(identity_quick_passes_and_tables_hold, setup, es_drop_tmp),
        cmocka_unit_test_setup_teardown(attention_quick_passes_and_tables_hold, setup, es_drop_tmp),
        cmocka_unit_test_setup_teardown(recovery_quick_passes_and_D_recomputes, setup, es_drop_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
