/* test_stats.c — slopes, standard errors and rank correlations against hand/closed-form values. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hjdl/experiment.h"
#include "hjdl/stats.h"

static void exact_line_should_have_zero_standard_error(void **state)
{
    (void)state;
    double x[5] = {1, 2, 3, 4, 5}, y[5];
    for (int i = 0; i < 5; i++)
        y[i] = 1.5 - 2.0 * x[i];
    double b, a, se;
    assert_int_equal(hj_fit_line(x, y, 5, &b, &a, &se, NULL), HJ_OK);
    assert_true(fabs(b + 2.0) < 1e-14 && fabs(a - 1.5) < 1e-13 && se < 1e-14);
}

/* y = (0, 1, 1, 3) at x = (0, 1, 2, 3): by hand, slope 0.9, intercept -0.1,
 * residuals (0.1, 0.2, -0.7, 0.4), RSS 0.7, se = sqrt(0.7 / 2 / 5). */
static void noisy_line_should_match_hand_computation(void **state)
{
    (void)state;
    double x[4] = {0, 1, 2, 3}, y[4] = {0, 1, 1, 3}, b, a, se;
    assert_int_equal(hj_fit_line(x, y, 4, &b, &a, &se, NULL), HJ_OK);
    assert_true(fabs(b - 0.9) < 1e-14);
    assert_true(fabs(a + 0.1) < 1e-14);
    assert_true(fabs(se - sqrt(0.07)) < 1e-14);
}

static void power_law_should_recover_its_exponent(void **state)
{
    (void)state;
    double x[6] = {10, 20, 50, 100, 200, 500}, y[6], e, lp, se;
    for (int i = 0; i < 6; i++)
        y[i] = 3.0 * pow(x[i], -0.5);
    assert_int_equal(hj_fit_power_law(x, y, 6, &e, &lp, &se, NULL), HJ_OK);
    assert_true(fabs(e + 0.5) < 1e-12 && fabs(lp - log(3.0)) < 1e-11);
    y[2] = -1.0;
    assert_int_equal(hj_fit_power_law(x, y, 6, &e, &lp, &se, NULL), HJ_EDOM);
    assert_int_equal(hj_fit_line(x, y, 2, &e, &lp, &se, NULL), HJ_EINVAL);
}

/* Spearman of (1,2,2,4) and (10,30,20,40): ranks (1,2.5,2.5,4) and (1,3,2,4);
 * Pearson of the ranks = 4.5 / sqrt(4.5 * 5). */
static void spearman_should_use_average_ranks(void **state)
{
    (void)state;
    double a[4] = {1, 2, 2, 4}, b[4] = {10, 30, 20, 40}, rho;
    assert_int_equal(hj_spearman(a, b, 4, &rho, NULL), HJ_OK);
    assert_true(fabs(rho - 4.5 / sqrt(22.5)) < 1e-14);
    double c[5] = {5, 4, 3, 2, 1}, d[5] = {1, 2, 3, 4, 5};
    assert_int_equal(hj_spearman(c, d, 5, &rho, NULL), HJ_OK);
    assert_true(fabs(rho + 1.0) < 1e-15);
}

static void mean_and_sd_should_match_hand_values(void **state)
{
    (void)state;
    double m, sd, v[3] = {1, 2, 6};
    hj_mean_sd(v, 3, &m, &sd);
    assert_true(fabs(m - 3.0) < 1e-15 && fabs(sd - sqrt(7.0)) < 1e-15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_line_should_have_zero_standard_error),
        cmocka_unit_test(noisy_line_should_match_hand_computation),
        cmocka_unit_test(power_law_should_recover_its_exponent),
        cmocka_unit_test(spearman_should_use_average_ranks),
        cmocka_unit_test(mean_and_sd_should_match_hand_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
