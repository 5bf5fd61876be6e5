/* test_exp_pmp.c — the pmp and architectures experiments in quick mode: every check passes, summary.json is written, claims carry a verdict, and their CSVs are consistent with the checks and with independent properties. */
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
    return es_make_tmp(state, "pmp");
}

static void run_quick(const es_tmpdir *t, const char *name, hj_result *res)
{
    const hj_experiment *e = hj_experiment_find(name);
    assert_non_null(e);
    assert_string_equal(e->claims, "C11");
    hj_experiment_options o;
    es_quick_options(t, &o);
    es_run(name, &o, res);
    es_assert_checks_pass(res, name, 1, "C11");
    es_assert_claims(res, NULL, 0);
    es_assert_summary(res, name, 0);
}

/* pmp: the gradient table under the thresholds; both optimisers start from the same loss;
 * the Monte Carlo table: h = T/K, standard errors positive, the control variate reduces
 * them, the bias shrinks from the coarsest to the finest h and the finest plain mean is
 * within 3 standard errors of the exact value. Three claims following SPEC §4 (MSA vs
 * Adam, viscosity = noise, bias order), their values, parts and tolerances recomputed. */
static void pmp_quick_passes_and_tables_hold(void **state)
{
    hj_result res;
    run_quick(*state, "pmp", &res);
    assert_int_equal(res.n_claims, 3);
    hj_matrix m = {0};
    es_read_csv(&res, "resnet_gradients.csv", &m);
    assert_int_equal(m.cols, 4);
    assert_int_equal(m.rows, 2);
    for (size_t r = 0; r < m.rows; r++) {
        assert_true(m.data[r * 4 + 1] <= 1e-12);
        assert_true(m.data[r * 4 + 2] <= 1e-6);
        assert_true(m.data[r * 4 + 3] <= 1e-6);
    }
    hj_matrix_free(&m);

    es_read_csv(&res, "msa_vs_adam.csv", &m);
    assert_int_equal(m.cols, 6);
    assert_true(m.rows >= 2);
    assert_true(fabs(m.data[1] - m.data[2]) <= 1e-12 * m.data[1]);   /* same initial loss */
    assert_true(fabs(m.data[4] - m.data[5]) <= 1e-12 * m.data[4]);
    const double *last = m.data + (m.rows - 1) * 6;
    assert_true(last[1] < m.data[1]);   /* Adam lowered the loss */
    assert_true(fabs(es_metric(&res, "adam_final_loss_geomean") - last[1]) <= 1e-12 * last[1]);
    hj_matrix_free(&m);

    es_read_csv(&res, "noisy_control_mc.csv", &m);
    assert_int_equal(m.cols, 9);
    assert_true(m.rows >= 3);
    for (size_t r = 0; r < m.rows; r++) {
        const double *row = m.data + r * 9;
        assert_true(fabs(row[1] * row[0] - 1.0) <= 1e-15);
        assert_true(row[3] > 0.0 && row[5] > 0.0 && row[5] < row[3]);
        assert_true(fabs(row[7] - fabs(row[2] - row[6])) <= 1e-15);
    }
    const double *first = m.data, *fin = m.data + (m.rows - 1) * 9;
    assert_true(fin[8] < first[8]);
    assert_true(fabs(fin[2] - fin[6]) <= 3.0 * fin[3]);
    assert_true(fabs(es_metric(&res, "mc_exact_value") - fin[6]) <= 1e-15);

    /* MSA vs Adam (hjdl's): the mean log ratio, with its budget part */
    const hj_claim *c = &res.claims[0];
    es_assert_claim_form(c, HJ_SOURCE_HJDL, HJ_FORM_EQUALS, 2);
    assert_true(c->trained && c->predicted == 0.0 && fabs(c->tolerance - log(1.1)) <= 1e-15);
    assert_true(fabs(c->measured - es_metric(&res, "msa_over_adam_final_log_ratio")) <= 1e-15);
    assert_true(fabs(es_claim_part(c, HJ_CLAIM_PART_BUDGET) -
                     fabs(es_metric(&res, "msa_over_adam_final_log_ratio_budget_x2") - c->measured)) <= 1e-12);
    /* viscosity = noise (the paper's): Richardson extrapolation of the two finest control-variate
     * means over the exact value, its parts and its tolerance recomputed from the table */
    c = &res.claims[1];
    es_assert_claim_form(c, HJ_SOURCE_PAPER, HJ_FORM_EQUALS, 2);
    const double *l1 = fin - 9, *l2 = fin - 18, ex = fin[6];
    const double ext = 2.0 * fin[4] - l1[4], ext2 = 2.0 * l1[4] - l2[4];
    assert_true(fabs(c->measured - ext / ex) <= 1e-14);
    assert_true(fabs(es_claim_part(c, "time step") - fabs(ext - ext2) / fabs(ex)) <= 1e-14);
    const size_t M = (size_t)es_param(&res, "mc_paths");
    assert_true(fabs(es_claim_part(c, "Monte Carlo") - hj_student_t975(M - 1) * (2.0 * fin[5] + l1[5]) / fabs(ex)) <=
                1e-14);
    const double hl = es_metric(&res, "eps0_hopf_lax_value");
    assert_true(fabs(c->tolerance - fmax(0.1 * fabs(ex - hl) / fabs(ex), 1e-9)) <= 1e-15);
    assert_true(c->tolerance > 1e-4); /* eps = 0.1: the viscous part is not negligible */
    /* the bias order (hjdl's): the OLS slope of log bias on log h over the fitted rows */
    c = &res.claims[2];
    es_assert_claim_form(c, HJ_SOURCE_HJDL, HJ_FORM_EQUALS, 2);
    double lh[16], lb[16];
    size_t nf = 0;
    for (size_t r = 0; r < m.rows && nf < 16; r++) {
        const double *row = m.data + r * 9;
        if (row[1] <= 0.25 / 4.0 && row[8] > 4.0 * row[5])
            lh[nf] = log(row[1]), lb[nf] = log(row[8]), nf++;
    }
    assert_true(nf >= 3);
    assert_true(fabs(es_ols(lh, lb, nf, NULL) - c->measured) <= 1e-9);
    hj_matrix_free(&m);
    hj_result_free(&res);
}

/* architectures: five rows with the co-state errors under the thresholds, the text table
 * with a header and five rows, entropies normalised into [0, 1], trained transformers
 * better than predicting the mean target. */
static void architectures_quick_passes_and_tables_hold(void **state)
{
    hj_result res;
    run_quick(*state, "architectures", &res);
    hj_matrix m = {0};
    es_read_csv(&res, "architectures.csv", &m);
    assert_int_equal(m.rows, 5);
    assert_int_equal(m.cols, 6);
    for (size_t r = 0; r < 5; r++) {
        const double *row = m.data + r * 6;
        assert_true(row[0] == (double)r);
        assert_true(row[1] > 0.0);
        if (r < 4)
            assert_true(row[2] >= 0.0 && row[2] <= 1e-12);
        assert_true(row[3] >= 0.0 && row[3] <= 1e-6);
    }
    assert_true(m.data[3 * 6 + 5] >= 0.0 && m.data[3 * 6 + 5] <= 1e-10);   /* SSM Riccati */
    hj_matrix_free(&m);
    es_read_csv(&res, "transformer_entropy.csv", &m);
    assert_int_equal(m.cols, 5);
    for (size_t i = 0; i < m.rows; i++)
        for (size_t k = 1; k < 5; k++)
            assert_true(m.data[i * 5 + k] >= 0.0 && m.data[i * 5 + k] <= 1.0 + 1e-12);
    hj_matrix_free(&m);
    assert_true(es_metric(&res, "transformer_mean_test_mse") < es_metric(&res, "transformer_mean_baseline_mse"));
    assert_true(es_metric(&res, "transformer_first_test_mse") < es_metric(&res, "transformer_first_baseline_mse"));
    char path[1200];
    snprintf(path, sizeof path, "%s/architectures_table.csv", res.dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int lines = 0, ch;
    while ((ch = fgetc(f)) != EOF)
        lines += ch == '\n';
    fclose(f);
    assert_int_equal(lines, 6);
    hj_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pmp_quick_passes_and_tables_hold),
        cmocka_unit_test(architectures_quick_passes_and_tables_hold),
    };
    return cmocka_run_group_tests(tests, setup, es_drop_tmp);
}
