/* test_claim.c — the three-way verdict rule of SPEC §4 driven through every case (inside,
 * outside, straddling, on the edges, non-finite, one-sided both ways, trends), the Student t
 * quantiles against a numerical integration of the t density written here, and the claim
 * adder's validation, interval combination and convergence rule. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "hjdl/experiment.h"

#define A HJ_VERDICT_AGREES
#define D HJ_VERDICT_DISAGREES
#define I HJ_VERDICT_INCONCLUSIVE

static hj_verdict v(hj_claim_form f, double p, double delta, double lo, double hi)
{
    char why[256] = "";
    hj_verdict r = hj_verdict_decide(f, p, delta, lo, hi, why, sizeof why);
    assert_true(strlen(why) > 10); /* every verdict says why */
    return r;
}

static void equals_should_need_the_interval_inside_the_band(void **state)
{
    (void)state;
    /* band [-0.55, -0.45] */
    assert_int_equal(v(HJ_FORM_EQUALS, -0.5, 0.05, -0.52, -0.48), A);   /* inside */
    assert_int_equal(v(HJ_FORM_EQUALS, -0.5, 0.05, -0.55, -0.45), A);   /* exactly the band */
    assert_int_equal(v(HJ_FORM_EQUALS, -0.5, 0.05, -0.40, -0.30), D);   /* above */
    assert_int_equal(v(HJ_FORM_EQUALS, -0.5, 0.05, -0.90, -0.60), D);   /* below */
    assert_int_equal(v(HJ_FORM_EQUALS, -0.5, 0.05, -0.50, -0.40), I);   /* straddles the top edge */
    assert_int_equal(v(HJ_FORM_EQUALS, -0.5, 0.05, -0.60, -0.50), I);   /* straddles the bottom edge */
    assert_int_equal(v(HJ_FORM_EQUALS, -0.5, 0.05, -0.70, -0.30), I);   /* wider than the band */
    assert_int_equal(v(HJ_FORM_EQUALS, -0.5, 0.05, -0.45, -0.44), I);   /* touches the edge */
    assert_int_equal(v(HJ_FORM_EQUALS, -0.5, 0.0, -0.5, -0.5), A);      /* zero width, zero tolerance */
    /* a tiny interval just outside a zero tolerance disagrees: the tolerance is what matters */
    assert_int_equal(v(HJ_FORM_EQUALS, -0.5, 0.0, -0.478 - 0.006, -0.478 + 0.006), D);
    assert_int_equal(v(HJ_FORM_EQUALS, -0.5, 0.05, -0.478 - 0.006, -0.478 + 0.006), A);
}

static void one_sided_forms_should_mirror_each_other(void **state)
{
    (void)state;
    /* at most 1 (+0.1): limit 1.1 */
    assert_int_equal(v(HJ_FORM_AT_MOST, 1.0, 0.1, 0.2, 0.9), A);
    assert_int_equal(v(HJ_FORM_AT_MOST, 1.0, 0.1, -5.0, 1.1), A);     /* touching the limit */
    assert_int_equal(v(HJ_FORM_AT_MOST, 1.0, 0.1, 1.0, 1.2), I);
    assert_int_equal(v(HJ_FORM_AT_MOST, 1.0, 0.1, 1.15, 1.3), D);
    /* at least as fast as -0.25 (+0.03): the exponent at most -0.22 */
    assert_int_equal(v(HJ_FORM_AS_FAST_AS, -0.25, 0.03, -0.40, -0.30), A); /* faster decay agrees */
    assert_int_equal(v(HJ_FORM_AS_FAST_AS, -0.25, 0.03, -0.25, -0.20), I);
    assert_int_equal(v(HJ_FORM_AS_FAST_AS, -0.25, 0.03, -0.15, -0.05), D); /* slower decay disagrees */
    /* at least 1 (-0.1): limit 0.9 — the mirror image of at most */
    for (int k = 0; k < 4; k++) {
        const double lo[4] = {0.2, -5.0, 1.0, 1.15}, hi[4] = {0.9, 1.1, 1.2, 1.3};
        hj_verdict up = v(HJ_FORM_AT_MOST, 1.0, 0.1, lo[k], hi[k]);
        hj_verdict down = v(HJ_FORM_AT_LEAST, -1.0, 0.1, -hi[k], -lo[k]);
        assert_int_equal(up, down);
    }
    assert_int_equal(v(HJ_FORM_AT_LEAST, 1.0, 0.1, 0.95, 2.0), A);
    assert_int_equal(v(HJ_FORM_AT_LEAST, 1.0, 0.1, 0.5, 0.8), D);
}

static void trend_should_follow_the_sign_of_the_interval(void **state)
{
    (void)state;
    assert_int_equal(v(HJ_FORM_TREND, 1.0, 0.0, 0.01, 0.2), A);
    assert_int_equal(v(HJ_FORM_TREND, 1.0, 0.0, -0.2, -0.01), D);
    assert_int_equal(v(HJ_FORM_TREND, 1.0, 0.0, -0.1, 0.1), I);
    assert_int_equal(v(HJ_FORM_TREND, 1.0, 0.0, 0.0, 0.1), I);      /* 0 is in the interval */
    assert_int_equal(v(HJ_FORM_TREND, -1.0, 0.0, -0.3, -0.1), A);
    assert_int_equal(v(HJ_FORM_TREND, -1.0, 0.0, 0.1, 0.3), D);
    assert_int_equal(v(HJ_FORM_TREND, -1.0, 0.0, -0.1, 0.0), I);
}

static void non_finite_should_be_inconclusive(void **state)
{
    (void)state;
    const hj_claim_form forms[5] = {HJ_FORM_EQUALS, HJ_FORM_AT_MOST, HJ_FORM_AT_LEAST,
                                    HJ_FORM_AS_FAST_AS, HJ_FORM_TREND};
    for (int k = 0; k < 5; k++) {
        double p = forms[k] == HJ_FORM_TREND ? 1.0 : 0.5;
        assert_int_equal(v(forms[k], p, 0.0, NAN, 1.0), I);
        assert_int_equal(v(forms[k], p, 0.0, 0.0, NAN), I);
        assert_int_equal(v(forms[k], p, 0.0, -INFINITY, 1.0), I);
        assert_int_equal(v(forms[k], p, 0.0, 0.0, INFINITY), I);
        assert_int_equal(v(forms[k], p, 0.0, 2.0, 1.0), I); /* lo > hi */
        assert_int_equal(v(forms[k], NAN, 0.0, 0.4, 0.6), I);
    }
    assert_int_equal(v(HJ_FORM_EQUALS, 0.5, NAN, 0.4, 0.6), I);
}

/* The t density integrated by Simpson's rule from 0 to q gives 0.475. */
static double t_cdf_half(double q, double nu)
{
    const int n = 20000;
    double h = q / n, s = 0.0;
    const double pi = 3.14159265358979323846;
    const double c = exp(lgamma((nu + 1) / 2) - lgamma(nu / 2)) / sqrt(nu * pi);
    for (int i = 0; i <= n; i++) {
        double x = i * h, f = c * pow(1.0 + x * x / nu, -(nu + 1) / 2);
        s += (i == 0 || i == n ? 1.0 : (i % 2 ? 4.0 : 2.0)) * f;
    }
    return s * h / 3.0;
}

static void student_quantiles_should_match_the_density(void **state)
{
    (void)state;
    const size_t dofs[] = {1, 2, 3, 4, 7, 12, 29, 30, 31, 45, 100, 1000};
    for (size_t k = 0; k < sizeof dofs / sizeof *dofs; k++) {
        double q = hj_student_t975(dofs[k]);
        assert_true(fabs(t_cdf_half(q, (double)dofs[k]) - 0.475) < 2e-5);
    }
    assert_true(fabs(hj_student_t975(0) - 1.959963984540054) < 1e-12);
    assert_true(fabs(hj_claim_half_width_se(0.1, 4) - 0.2776) < 1e-12);
}

static void claim_add_should_combine_parts_and_validate(void **state)
{
    (void)state;
    hj_result r;
    memset(&r, 0, sizeof r);
    hj_error e = {0};
    hj_claim_spec s = {"C8", HJ_SOURCE_PAPER, "slope of the RMSE in N", "the rate is O(N^(-1/d))",
                       HJ_FORM_EQUALS, -0.5, 0.05, "a 10 % difference in the exponent matters", 0};
    hj_claim_measurement m = {-0.49, {{"", 0}}, 0};
    assert_int_equal(hj_claim_part(&m, "seeds", 0.03, &e), HJ_OK);
    assert_int_equal(hj_claim_part(&m, "fit range", -0.04, &e), HJ_OK); /* sign ignored */
    assert_int_equal(hj_result_claim_add(&r, &s, &m, &e), HJ_OK);
    const hj_claim *c = &r.claims[0];
    assert_true(fabs(c->hi - c->lo - 2 * 0.05) < 1e-15); /* 0.03 and 0.04 in quadrature */
    assert_true(fabs(c->measured + 0.49) < 1e-15 && c->n_parts == 2);
    assert_int_equal(c->verdict, HJ_VERDICT_INCONCLUSIVE); /* [-0.54, -0.44] straddles -0.45 */
    assert_int_equal(c->source, HJ_SOURCE_PAPER);
    assert_true(strstr(c->rule, "[-0.55, -0.45]") != NULL);

    /* a trained claim needs the budget part, and is not decided while it exceeds delta */
    s.trained = 1;
    assert_int_equal(hj_result_claim_add(&r, &s, &m, &e), HJ_EINVAL);
    assert_true(strstr(e.msg, HJ_CLAIM_PART_BUDGET) != NULL);
    hj_claim_measurement t = {-0.5, {{"", 0}}, 0};
    assert_int_equal(hj_claim_part(&t, "seeds", 0.001, &e), HJ_OK);
    assert_int_equal(hj_claim_part(&t, HJ_CLAIM_PART_BUDGET, 0.08, &e), HJ_OK);
    assert_int_equal(hj_result_claim_add(&r, &s, &t, &e), HJ_OK);
    assert_int_equal(r.claims[1].verdict, HJ_VERDICT_INCONCLUSIVE);
    assert_true(strstr(r.claims[1].why, "not converged") != NULL);
    t.parts[1].half_width = 0.01;
    assert_int_equal(hj_result_claim_add(&r, &s, &t, &e), HJ_OK);
    assert_int_equal(r.claims[2].verdict, HJ_VERDICT_AGREES);

    /* validation */
    hj_claim_spec bad = s;
    bad.trained = 0;
    bad.tolerance = -1;
    assert_int_equal(hj_result_claim_add(&r, &bad, &m, &e), HJ_EINVAL);
    bad.tolerance = 0.1, bad.tolerance_reason = "";
    assert_int_equal(hj_result_claim_add(&r, &bad, &m, &e), HJ_EINVAL);
    bad.tolerance_reason = "x", bad.paper_words = NULL;
    assert_int_equal(hj_result_claim_add(&r, &bad, &m, &e), HJ_EINVAL);
    bad.source = HJ_SOURCE_HJDL, bad.form = HJ_FORM_TREND;
    assert_int_equal(hj_result_claim_add(&r, &bad, &m, &e), HJ_EINVAL); /* p = -0.5, delta 0.1 */
    bad.predicted = 1.0, bad.tolerance = 0.0;
    assert_int_equal(hj_result_claim_add(&r, &bad, &m, &e), HJ_OK);
    assert_int_equal(r.n_claims, 4);
    for (size_t k = 0; k < HJ_CLAIM_MAX_PARTS - 2; k++)
        assert_int_equal(hj_claim_part(&m, "more", 0.0, &e), HJ_OK);
    assert_int_equal(hj_claim_part(&m, "one too many", 0.0, &e), HJ_EINVAL);
    hj_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(equals_should_need_the_interval_inside_the_band),
        cmocka_unit_test(one_sided_forms_should_mirror_each_other),
        cmocka_unit_test(trend_should_follow_the_sign_of_the_interval),
        cmocka_unit_test(non_finite_should_be_inconclusive),
        cmocka_unit_test(student_quantiles_should_match_the_density),
        cmocka_unit_test(claim_add_should_combine_parts_and_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
