/* test_exp_influence.c — the influence experiment (C12) in quick mode: every check passes, and its CSVs agree with the metrics by independent recomputation (exponents, Spearman correlations, maxima). */
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
#include "hjdl/plot.h"

#include "exp_support.h"

static int make_tmp(void **state)
{
    return es_make_tmp(state, "influence");
}

/* Average ranks (1-based; ties get the mean of their positions), O(n^2). */
static void naive_ranks(const double *a, size_t n, double *r)
{
    for (size_t i = 0; i < n; i++) {
        double below = 0.0, equal = 0.0;
        for (size_t j = 0; j < n; j++) {
            below += a[j] < a[i];
            equal += a[j] == a[i];
        }
        r[i] = below + (equal + 1.0) / 2.0;
    }
}

/* Pearson correlation of the average ranks. */
static double naive_spearman(const double *a, const double *b, size_t n)
{
    double *ra = malloc(n * sizeof *ra), *rb = malloc(n * sizeof *rb);
    assert_non_null(ra);
    assert_non_null(rb);
    naive_ranks(a, n, ra);
    naive_ranks(b, n, rb);
    double ma = 0.0, mb = 0.0;
    for (size_t i = 0; i < n; i++)
        ma += ra[i], mb += rb[i];
    ma /= (double)n, mb /= (double)n;
    double sab = 0.0, saa = 0.0, sbb = 0.0;
    for (size_t i = 0; i < n; i++) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    free(ra), free(rb);
    return sab / sqrt(saa * sbb);
}

/* Column c of m as a fresh array. */
static double *column(const hj_matrix *m, size_t c)
{
    double *v = malloc((m->rows + 1) * sizeof *v);
    assert_non_null(v);
    for (size_t r = 0; r < m->rows; r++)
        v[r] = m->data[r * m->cols + c];
    return v;
}

static void influence_quick_passes_and_csv_recomputes(void **state)
{
    hj_experiment_options o;
    es_quick_options(*state, &o);
    hj_result res;
    es_run("influence", &o, &res);

    /* every check passes; (a) alone gives 6, (b) 6 more when the data set is installed */
    const int fm = es_metric(&res, "fmnist_available") == 1.0;
    es_assert_checks_pass(&res, "influence", (size_t)(fm ? 12 : 6), "C12");
    /* hjdl's rank-correlation claims: 2 per trained model (retraining vs Koh-Liang, vs the Gibbs LOO),
     * then the neuron-level one (closed-form ablation vs retraining) */
    assert_int_equal(res.n_claims, fm ? 5 : 0);
    es_assert_claims(&res, "C12", ES_CLAIM_FORMED | ES_CLAIM_FINITE);
    assert_true(es_file_exists(&res, "summary.json"));

    /* exactness table: 4 N x 2 points x 7 cases; eps per case from the documented rules */
    hj_matrix m = {0};
    es_read_csv(&res, "influence_exactness.csv", &m);
    assert_int_equal(m.cols, 6);
    assert_int_equal(m.rows, 4 * 2 * 7);
    double worst[3][2] = {{0}};
    for (size_t r = 0; r < m.rows; r++) {
        const double *row = m.data + r * 6;
        const double N = row[0], c = row[2], eps = row[3], es = pow(N, -1.0 / 3.0);
        assert_true(c >= 0 && c <= 6);
        if (c <= 1)
            assert_true(eps == 0.0);
        else if (c == 2)
            assert_true(eps >= 1.0 / 30.0);   /* gap >= the planted margin 1 */
        else if (c == 3)
            assert_true(eps >= 1e-10 && eps < 1e-8);
        else
            assert_true(fabs(eps - (c == 4 ? 0.1 : c == 5 ? 1.0 : 10.0) * es) <= 1e-14 * es);
        assert_true(row[4] >= 0.0 && row[4] <= 1e-12);
        assert_true(row[5] >= 0.0 && row[5] <= 1e-12);
        const int g = c <= 1 ? 0 : c <= 3 ? 1 : 2;
        worst[g][0] = fmax(worst[g][0], row[4]);
        worst[g][1] = fmax(worst[g][1], row[5]);
    }
    static const char *const gk[3] = {"eps0", "dominant", "regular"};
    for (int g = 0; g < 3; g++) {
        char key[96];
        snprintf(key, sizeof key, "max_rel_diff_loo_%s", gk[g]);
        assert_true(es_metric(&res, key) == worst[g][0]);
        snprintf(key, sizeof key, "max_rel_diff_ablation_%s", gk[g]);
        assert_true(es_metric(&res, key) == worst[g][1]);
    }
    hj_matrix_free(&m);

    /* timing: exponents are OLS slopes on logs, recomputed here; brute force
     * costs more than the closed form at the largest N */
    es_read_csv(&res, "influence_timing.csv", &m);
    assert_int_equal(m.cols, 5);
    assert_int_equal(m.rows, 4);
    static const char *const tk[4] = {"loo_closed_form", "loo_brute_force", "ablation_closed_form",
                                      "ablation_brute_force"};
    double lx[4], ly[4];
    for (int w = 0; w < 4; w++) {
        for (size_t r = 0; r < 4; r++) {
            assert_true(m.data[r * 5 + 1 + (size_t)w] > 0.0);
            lx[r] = log(m.data[r * 5]);
            ly[r] = log(m.data[r * 5 + 1 + (size_t)w]);
        }
        char key[96];
        snprintf(key, sizeof key, "time_exponent_%s", tk[w]);
        assert_true(fabs(es_metric(&res, key) - es_ols(lx, ly, 4, NULL)) <= 1e-9);
    }
    const double *last = m.data + 3 * 5;
    assert_true(fabs(es_metric(&res, "speedup_at_Nmax_loo") - last[2] / last[1]) <= 1e-12 * last[2] / last[1]);
    assert_true(last[2] > last[1] && last[4] > last[3]);
    hj_matrix_free(&m);

    if (fm) {
        /* per-model tables: Spearman correlations recomputed from the columns */
        static const char *const tag[2] = {"lse_class4", "lse_class1"};
        for (int k = 0; k < 2; k++) {
            char file[128], key[128];
            snprintf(file, sizeof file, "influence_fmnist_removed_%s.csv", tag[k]);
            es_read_csv(&res, file, &m);
            assert_int_equal(m.cols, 7);
            assert_int_equal(m.rows, 15);
            snprintf(key, sizeof key, "spearman_retrain_n_removed_%s", tag[k]);
            assert_true(es_metric(&res, key) == 15.0);
            for (size_t r = 0; r < m.rows; r++) {
                const double *row = m.data + r * 7;
                assert_true(row[0] >= 0 && row[0] < 100 && (row[1] == 0 || row[1] == 1));
                assert_true(row[3] < row[2]);   /* the retraining lowered its loss */
                for (size_t q = 0; q < r; q++)
                    assert_true(m.data[q * 7] != row[0]);   /* distinct removed points */
            }
            double *R = column(&m, 4), *KL = column(&m, 5), *G = column(&m, 6);
            snprintf(key, sizeof key, "spearman_retrain_vs_koh_liang_%s", tag[k]);
            assert_true(fabs(es_metric(&res, key) - naive_spearman(R, KL, m.rows)) <= 1e-12);
            snprintf(key, sizeof key, "spearman_retrain_vs_gibbs_proxy_%s", tag[k]);
            assert_true(fabs(es_metric(&res, key) - naive_spearman(R, G, m.rows)) <= 1e-12);
            snprintf(key, sizeof key, "model_cg_relative_residual_%s", tag[k]);
            assert_true(es_metric(&res, key) <= 1e-6);
            /* the claims: rho from the table, its Fisher part tanh(atanh(rho) +- 1.96/sqrt(n - 3)),
             * its budget part |rho(2 steps) - rho(steps)| from the doubled run's table */
            hj_matrix m2 = {0};
            snprintf(file, sizeof file, "influence_fmnist_removed_%s_budget2x.csv", tag[k]);
            es_read_csv(&res, file, &m2);
            double *R2 = column(&m2, 4), *KL2 = column(&m2, 5), *G2 = column(&m2, 6);
            for (int c = 0; c < 2; c++) {
                const hj_claim *cl = &res.claims[2 * k + c];
                const double rho = naive_spearman(R, c == 0 ? KL : G, m.rows);
                const double rho2 = naive_spearman(R2, c == 0 ? KL2 : G2, m2.rows);
                assert_true(cl->trained && cl->form == HJ_FORM_AT_LEAST && cl->source == HJ_SOURCE_HJDL);
                assert_true(fabs(cl->measured - rho) <= 1e-12);
                const double z = atanh(rho), h = 1.959963984540054 / sqrt(15.0 - 3.0);
                const double fw = fmax(tanh(z + h) - rho, rho - tanh(z - h));
                assert_true(fabs(cl->parts[0].half_width - fw) <= 1e-12);
                assert_true(fabs(cl->parts[1].half_width - fabs(rho2 - rho)) <= 1e-12);
            }
            free(R2), free(KL2), free(G2);
            hj_matrix_free(&m2);
            free(R), free(KL), free(G);
            hj_matrix_free(&m);
        }
        /* neuron level: 2 x 16 neurons of lse-class:16; the closed form equals the brute-force column,
         * the claim's rho and its parts recomputed from this table and the doubled budget's */
        {
            hj_matrix m2 = {0};
            es_read_csv(&res, "influence_neurons_lse_class.csv", &m);
            es_read_csv(&res, "influence_neurons_lse_class_budget2x.csv", &m2);
            assert_int_equal(m.cols, 7);
            assert_int_equal(m.rows, 32);
            assert_int_equal(m2.rows, 32);
            for (size_t r = 0; r < m.rows; r++) {
                const double *row = m.data + r * 7;
                assert_true(row[0] == (double)r && row[1] == (double)(r >= 16));
                assert_true(row[2] >= 0.0 && row[2] <= 1.0);
                assert_true(isfinite(row[3]) && isfinite(row[5]));
                assert_true(fabs(row[3] - row[4]) <= 1e-12 * fmax(1.0, fabs(row[4])) + 1e-12);
            }
            double *A = column(&m, 3), *R = column(&m, 5), *A2 = column(&m2, 3), *R2 = column(&m2, 5);
            const hj_claim *cl = &res.claims[4];
            const double rho = naive_spearman(A, R, 32), rho2 = naive_spearman(A2, R2, 32);
            assert_true(cl->trained && cl->form == HJ_FORM_AT_LEAST && cl->source == HJ_SOURCE_HJDL);
            assert_true(fabs(cl->measured - rho) <= 1e-12);
            const double z = atanh(rho), h = 1.959963984540054 / sqrt(32.0 - 3.0);
            assert_true(fabs(cl->parts[0].half_width - fmax(tanh(z + h) - rho, rho - tanh(z - h))) <= 1e-12);
            assert_true(fabs(cl->parts[1].half_width - fabs(rho2 - rho)) <= 1e-12);
            free(A), free(R), free(A2), free(R2);
            hj_matrix_free(&m2);
            hj_matrix_free(&m);
        }
        /* Gibbs classifier table: per-point correlations and their mean */
        es_read_csv(&res, "influence_fmnist_gibbs.csv", &m);
        assert_int_equal(m.cols, 6);
        assert_int_equal(m.rows, 40);
        double s = 0.0, s2 = 0.0;
        for (size_t r = 0; r < m.rows; r++) {
            const double *row = m.data + r * 6;
            assert_true(row[2] > 0.0 && row[2] <= 1.0 + 1e-15);
            assert_true(row[3] >= 0.0 && row[3] <= log(100.0) + 1e-12);
            assert_true(fabs(row[4]) <= 1.0 + 1e-12 && fabs(row[5]) <= 1.0 + 1e-12);
            s += row[4];
            s2 += row[5];
        }
        assert_true(fabs(es_metric(&res, "gibbs_spearman_pi_vs_abs_loo_mean") - s / 40.0) <= 1e-12);
        assert_true(fabs(es_metric(&res, "gibbs_spearman_pi_vs_abs_loss_loo_mean") - s2 / 40.0) <= 1e-12);
        hj_matrix_free(&m);
    }
    if (hj_plot_available()) {
        assert_true(es_file_exists(&res, "influence_timing.png"));
        if (fm)
            assert_true(es_file_exists(&res, "influence_retrain_vs_koh_liang.svg"));
    }
    hj_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(influence_quick_passes_and_csv_recomputes, make_tmp, es_drop_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
