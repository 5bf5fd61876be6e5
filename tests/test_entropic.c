/* test_entropic.c — the iterative entropic solvers against a naive long-double softmax/LSE, optimality, limits and errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/entropic.h"

/* ---- helpers written for this test only --------------------------------- */

/* splitmix64: a small deterministic generator. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = (*s += 0x9E3779B97F4A7C15ULL);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static double rng_unif(uint64_t *s) /* [0, 1) */
{
    return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

/* Naive closed form in long double: f = m + eps log sum exp((z - m)/eps),
 * p = normalised exp((z - m)/eps). eps > 0. */
static long double naive_lse(const double *z, size_t N, double eps, long double *p)
{
    long double m = z[0];
    for (size_t j = 1; j < N; j++)
        if (z[j] > m)
            m = z[j];
    long double s = 0.0L;
    for (size_t j = 0; j < N; j++) {
        long double e = expl(((long double)z[j] - m) / (long double)eps);
        p[j] = e;
        s += e;
    }
    for (size_t j = 0; j < N; j++)
        p[j] /= s;
    return m + (long double)eps * logl(s);
}

/* Primal objective F(q) = sum q z + eps H(q), long double, 0 log 0 = 0. */
static long double primal(const double *z, const long double *q, size_t N, double eps)
{
    long double lin = 0.0L, h = 0.0L;
    for (size_t j = 0; j < N; j++) {
        lin += q[j] * (long double)z[j];
        if (q[j] > 0.0L)
            h -= q[j] * logl(q[j]);
    }
    return lin + (long double)eps * h;
}

static double rel_err(double got, long double ref)
{
    long double d = fabsl((long double)got - ref);
    long double s = fabsl(ref);
    return (double)(s > 0.0L ? d / s : d);
}

/* Component-wise relative error of pi, with DBL_MIN as the floor so that
 * entries that underflow in double (but not in long double) compare as 0. */
static double pi_err(const double *pi, const long double *ref, size_t N)
{
    double worst = 0.0;
    for (size_t j = 0; j < N; j++) {
        long double den = ref[j] > (long double)DBL_MIN ? ref[j] : (long double)DBL_MIN;
        double e = (double)(fabsl((long double)pi[j] - ref[j]) / den);
        if (e > worst)
            worst = e;
    }
    return worst;
}

static const double EPS_GRID[] = {1e-6, 1e-3, 0.1, 1.0, 10.0, 1e3};
static const size_t N_GRID[] = {1, 2, 3, 10, 257, 2000};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void random_logits(double *z, size_t N, double offset, uint64_t *rng)
{
    for (size_t j = 0; j < N; j++)
        z[j] = offset + 6.0 * (rng_unif(rng) - 0.5);
}

/* ---- tests -------------------------------------------------------------- */

static void dual_newton_should_match_naive_softmax(void **state)
{
    (void)state;
    uint64_t rng = 12345;
    double worst_v = 0.0, worst_p = 0.0;
    size_t worst_it = 0;
    for (size_t a = 0; a < NELEM(N_GRID); a++) {
        size_t N = N_GRID[a];
        double *z = malloc(N * sizeof *z), *pi = malloc(N * sizeof *pi);
        long double *ref = malloc(N * sizeof *ref);
        assert_non_null(z);
        assert_non_null(pi);
        assert_non_null(ref);
        for (size_t e = 0; e < NELEM(EPS_GRID); e++)
            for (int sign = -1; sign <= 1; sign += 2) {
                double eps = EPS_GRID[e];
                random_logits(z, N, 5.0 * sign, &rng);
                long double fref = naive_lse(z, N, eps, ref);
                hj_entropic_result res;
                hj_error err = {0};
                hj_status st = hj_entropic_dual_newton(z, N, eps, 1e-14, 200, pi, &res, &err);
                if (st != HJ_OK)
                    fail_msg("N=%zu eps=%g: %s", N, eps, err.msg);
                double ev = rel_err(res.value, fref), ep = pi_err(pi, ref, N);
                if (ev > 1e-13 || ep > 1e-12)
                    fail_msg("N=%zu eps=%g: value rel err %.3g, pi rel err %.3g", N, eps, ev,
                             ep);
                assert_true(res.kkt_residual <= 1e-14);
                worst_v = fmax(worst_v, ev);
                worst_p = fmax(worst_p, ep);
                if (res.iterations > worst_it)
                    worst_it = res.iterations;
            }
        free(z);
        free(pi);
        free(ref);
    }
    printf("dual Newton vs naive: worst value rel err %.3g (<= 1e-13), pi %.3g (<= 1e-12), "
           "max iterations %zu\n",
           worst_v, worst_p, worst_it);
    assert_true(worst_it <= 60);
}

static void dual_newton_should_handle_large_n(void **state)
{
    (void)state;
    uint64_t rng = 99;
    size_t N = 100000;
    double *z = malloc(N * sizeof *z), *pi = malloc(N * sizeof *pi);
    long double *ref = malloc(N * sizeof *ref);
    assert_non_null(z);
    assert_non_null(pi);
    assert_non_null(ref);
    random_logits(z, N, 1.0, &rng);
    const double eps_list[] = {1e-3, 1.0, 1e3};
    for (size_t e = 0; e < NELEM(eps_list); e++) {
        hj_entropic_result res;
        hj_error err = {0};
        long double fref = naive_lse(z, N, eps_list[e], ref);
        hj_status st = hj_entropic_dual_newton(z, N, eps_list[e], 1e-14, 200, pi, &res, &err);
        if (st != HJ_OK)
            fail_msg("eps=%g: %s", eps_list[e], err.msg);
        double ev = rel_err(res.value, fref), ep = pi_err(pi, ref, N);
        printf("N=%zu eps=%g: value rel err %.3g, pi rel err %.3g, %zu iterations\n", N,
               eps_list[e], ev, ep, res.iterations);
        assert_true(ev <= 1e-13);
        assert_true(ep <= 1e-12);
    }
    free(z);
    free(pi);
    free(ref);
}

static void mirror_descent_should_agree_with_dual_newton(void **state)
{
    (void)state;
    uint64_t rng = 777;
    double worst_v = 0.0, worst_p = 0.0, worst_r = 0.0;
    for (size_t a = 0; a < NELEM(N_GRID); a++) {
        size_t N = N_GRID[a];
        double *z = malloc(N * sizeof *z), *p1 = malloc(N * sizeof *p1),
               *p2 = malloc(N * sizeof *p2);
        long double *ref = malloc(N * sizeof *ref);
        assert_non_null(z);
        assert_non_null(p1);
        assert_non_null(p2);
        assert_non_null(ref);
        for (size_t e = 0; e < NELEM(EPS_GRID); e++) {
            double eps = EPS_GRID[e];
            random_logits(z, N, (a % 2) ? 4.0 : -4.0, &rng);
            long double fref = naive_lse(z, N, eps, ref);
            hj_entropic_result r1, r2;
            hj_error err = {0};
            assert_int_equal(hj_entropic_dual_newton(z, N, eps, 1e-14, 200, p1, &r1, &err),
                             HJ_OK);
            hj_status st = hj_entropic_mirror_descent(z, N, eps, 1e-14, 10000, p2, &r2, &err);
            if (st != HJ_OK)
                fail_msg("N=%zu eps=%g: %s", N, eps, err.msg);
            double l1 = 0.0, l1ref = 0.0;
            for (size_t j = 0; j < N; j++) {
                l1 += fabs(p1[j] - p2[j]);
                l1ref += (double)fabsl((long double)p2[j] - ref[j]);
            }
            double ev = rel_err(r2.value, (long double)r1.value);
            double evref = rel_err(r2.value, fref);
            if (ev > 1e-13 || evref > 1e-13 || l1 > 1e-12 || l1ref > 1e-12)
                fail_msg("N=%zu eps=%g: MD vs Newton value %.3g l1 %.3g; MD vs naive value "
                         "%.3g l1 %.3g",
                         N, eps, ev, l1, evref, l1ref);
            worst_v = fmax(worst_v, fmax(ev, evref));
            worst_p = fmax(worst_p, fmax(l1, l1ref));
            worst_r = fmax(worst_r, r2.kkt_residual);
            assert_true(r2.iterations <= 200);
        }
        free(z);
        free(p1);
        free(p2);
        free(ref);
    }
    printf("mirror descent vs Newton and naive: worst value rel err %.3g (<= 1e-13), pi l1 "
           "%.3g (<= 1e-12), stationarity residual %.3g\n",
           worst_v, worst_p, worst_r);
    assert_true(worst_r <= 1e-11);
}

/* The value is the maximum of F over the simplex: F(q) <= value at random
 * points q, and (where no weight underflows) value - F(q) = eps KL(q || pi)
 * with pi from the naive closed form. */
static void value_should_dominate_primal_at_perturbed_points(void **state)
{
    (void)state;
    uint64_t rng = 4242;
    const size_t N = 12;
    double z[12], pi[12];
    long double ref[12], q[12];
    const double eps_list[] = {1e-3, 0.1, 1.0, 10.0};
    double worst_id = 0.0;
    size_t checked = 0;
    for (size_t e = 0; e < NELEM(eps_list); e++) {
        double eps = eps_list[e];
        random_logits(z, N, 0.7, &rng);
        naive_lse(z, N, eps, ref);
        hj_entropic_result res;
        assert_int_equal(hj_entropic_dual_newton(z, N, eps, 1e-15, 200, pi, &res, NULL),
                         HJ_OK);
        for (int trial = 0; trial < 300; trial++) {
            int kind = trial % 3;
            long double s = 0.0L;
            for (size_t j = 0; j < N; j++) {
                double g = rng_unif(&rng) - 0.5;
                if (kind == 0) /* multiplicative perturbation of the optimum */
                    q[j] = (long double)pi[j] * expl(g * (trial % 2 ? 1e-3 : 0.3));
                else if (kind == 1) /* a random interior point */
                    q[j] = rng_unif(&rng);
                else /* a random point of a low-dimensional face */
                    q[j] = (rng_unif(&rng) < 0.3) ? rng_unif(&rng) : 0.0;
                s += q[j];
            }
            if (s == 0.0L)
                continue;
            for (size_t j = 0; j < N; j++)
                q[j] /= s;
            long double F = primal(z, q, N, eps);
            long double scale = fabsl((long double)res.value) + (long double)eps;
            if (F > (long double)res.value + 1e-14L * scale)
                fail_msg("eps=%g trial %d: F(q) = %.17Lg exceeds value %.17g", eps, trial, F,
                         res.value);
            if (eps >= 0.1) {
                long double kl = 0.0L;
                for (size_t j = 0; j < N; j++)
                    if (q[j] > 0.0L)
                        kl += q[j] * logl(q[j] / ref[j]);
                long double gap = (long double)res.value - F;
                double d = (double)(fabsl(gap - eps * kl) / scale);
                worst_id = fmax(worst_id, d);
                checked++;
            }
        }
    }
    printf("optimality: value - F(q) = eps KL(q||pi) to %.3g (relative to |value| + eps) "
           "over %zu points\n",
           worst_id, checked);
    assert_true(worst_id <= 1e-13);
}

static void eps_zero_should_split_pi_over_exact_ties(void **state)
{
    (void)state;
    const double z[] = {1.0, 3.0, -2.0, 3.0, 0.5, 3.0, 2.9999999999999996};
    const size_t N = NELEM(z);
    double pi[NELEM(z)];
    hj_entropic_result res;
    assert_int_equal(hj_entropic_dual_newton(z, N, 0.0, 1e-12, 10, pi, &res, NULL), HJ_OK);
    assert_true(res.value == 3.0);
    assert_true(res.iterations == 0);
    assert_true(res.kkt_residual <= 4 * DBL_EPSILON);
    for (size_t j = 0; j < N; j++) {
        double want = (z[j] == 3.0) ? 1.0 / 3.0 : 0.0;
        assert_true(fabs(pi[j] - want) <= DBL_EPSILON);
    }
    /* unique maximiser: a vertex; pi and res may be omitted */
    const double z2[] = {-1.0, 7.5, 2.0};
    double p2[3];
    assert_int_equal(hj_entropic_dual_newton(z2, 3, 0.0, 1e-12, 10, p2, NULL, NULL), HJ_OK);
    assert_true(p2[0] == 0.0 && p2[1] == 1.0 && p2[2] == 0.0);
    assert_int_equal(hj_entropic_dual_newton(z2, 3, 0.0, 1e-12, 10, NULL, &res, NULL), HJ_OK);
    assert_true(res.value == 7.5);
}

/* eps = 1e-300: the value is max z + eps log(#ties), pi uniform on the ties,
 * even for logits of +-1e300 whose gaps overflow when divided by eps. */
static void tiny_eps_should_give_the_tropical_limit(void **state)
{
    (void)state;
    const double eps = 1e-300;
    const double z1[] = {1e300, -1e300, 1e300, 0.0, 1e300, -5.0};
    double pi[6];
    hj_entropic_result res;
    hj_error err = {0};
    for (int solver = 0; solver < 2; solver++) {
        hj_status st = solver == 0
                           ? hj_entropic_dual_newton(z1, 6, eps, 1e-14, 200, pi, &res, &err)
                           : hj_entropic_mirror_descent(z1, 6, eps, 1e-14, 200, pi, &res, &err);
        if (st != HJ_OK)
            fail_msg("solver %d: %s", solver, err.msg);
        assert_true(isfinite(res.value));
        assert_true(rel_err(res.value, 1e300L + eps * logl(3.0L)) <= 1e-15);
        for (size_t j = 0; j < 6; j++)
            assert_true(fabs(pi[j] - (z1[j] == 1e300 ? 1.0 / 3.0 : 0.0)) <= 1e-15);
    }
    /* max 0 with two ties: the whole value is eps log 2 */
    const double z2[] = {0.0, -1.0, 0.0, -1e300};
    assert_int_equal(hj_entropic_dual_newton(z2, 4, eps, 1e-15, 200, pi, &res, NULL), HJ_OK);
    printf("eps=1e-300, ties at 0: value %.17g, eps log 2 = %.17g\n", res.value,
           eps * log(2.0));
    assert_true(rel_err(res.value, (long double)eps * logl(2.0L)) <= 1e-13);
    assert_true(fabs(pi[0] - 0.5) <= 1e-15 && fabs(pi[2] - 0.5) <= 1e-15);
    assert_true(pi[1] == 0.0 && pi[3] == 0.0);
    /* gaps of order eps itself: a genuine softmax at the bottom of the range */
    const double z3[] = {0.0, 1e-300, 1e-300, 3e-300};
    long double ref[4];
    long double fref = naive_lse(z3, 4, eps, ref);
    for (int solver = 0; solver < 2; solver++) {
        hj_status st = solver == 0
                           ? hj_entropic_dual_newton(z3, 4, eps, 1e-15, 200, pi, &res, &err)
                           : hj_entropic_mirror_descent(z3, 4, eps, 1e-15, 500, pi, &res, &err);
        if (st != HJ_OK)
            fail_msg("solver %d: %s", solver, err.msg);
        assert_true(rel_err(res.value, fref) <= 1e-13);
        assert_true(pi_err(pi, ref, 4) <= 1e-12);
    }
}

/* eps = 1e300: value = mean z + eps log N + O(1/eps), pi uniform; and with
 * logits of +-1e300 (z/eps = O(1)) the naive long-double form still applies. */
static void huge_eps_should_give_the_uniform_limit(void **state)
{
    (void)state;
    const double eps = 1e300;
    uint64_t rng = 31;
    double z[9], pi[9];
    random_logits(z, 9, 2.0, &rng);
    long double mean = 0.0L;
    for (size_t j = 0; j < 9; j++)
        mean += z[j] / 9.0L;
    hj_entropic_result res;
    hj_error err = {0};
    for (int solver = 0; solver < 2; solver++) {
        hj_status st = solver == 0
                           ? hj_entropic_dual_newton(z, 9, eps, 1e-15, 200, pi, &res, &err)
                           : hj_entropic_mirror_descent(z, 9, eps, 1e-15, 200, pi, &res, &err);
        if (st != HJ_OK)
            fail_msg("solver %d: %s", solver, err.msg);
        assert_true(isfinite(res.value));
        assert_true(rel_err(res.value, mean + (long double)eps * logl(9.0L)) <= 1e-15);
        for (size_t j = 0; j < 9; j++)
            assert_true(fabs(pi[j] - 1.0 / 9.0) <= 1e-15);
    }
    const double z2[] = {1e300, -1e300, 0.5e300, -0.25e300};
    long double ref[4];
    long double fref = naive_lse(z2, 4, eps, ref);
    for (int solver = 0; solver < 2; solver++) {
        hj_status st = solver == 0
                           ? hj_entropic_dual_newton(z2, 4, eps, 1e-15, 200, pi, &res, &err)
                           : hj_entropic_mirror_descent(z2, 4, eps, 1e-15, 500, pi, &res, &err);
        if (st != HJ_OK)
            fail_msg("solver %d: %s", solver, err.msg);
        assert_true(isfinite(res.value));
        assert_true(rel_err(res.value, fref) <= 1e-13);
        assert_true(pi_err(pi, ref, 4) <= 1e-12);
    }
}

static void expect_error(hj_status got, hj_status want, const hj_error *err)
{
    assert_int_equal(got, want);
    assert_int_equal(err->code, want);
    assert_true(strlen(err->msg) > 0);
}

static void bad_arguments_should_be_rejected(void **state)
{
    (void)state;
    const double z[] = {1.0, 2.0, 3.0};
    double pi[3];
    hj_entropic_result res;
    hj_error err;
    typedef hj_status (*solver_fn)(const double *, size_t, double, double, size_t, double *,
                                   hj_entropic_result *, hj_error *);
    solver_fn solvers[] = {hj_entropic_dual_newton, hj_entropic_mirror_descent};
    for (int s = 0; s < 2; s++) {
        solver_fn f = solvers[s];
        hj_error_clear(&err);
        expect_error(f(z, 0, 1.0, 1e-12, 10, pi, &res, &err), HJ_EINVAL, &err);
        hj_error_clear(&err);
        expect_error(f(NULL, 3, 1.0, 1e-12, 10, pi, &res, &err), HJ_EINVAL, &err);
        hj_error_clear(&err);
        expect_error(f(z, 3, -1.0, 1e-12, 10, pi, &res, &err), HJ_EINVAL, &err);
        hj_error_clear(&err);
        expect_error(f(z, 3, NAN, 1e-12, 10, pi, &res, &err), HJ_EINVAL, &err);
        hj_error_clear(&err);
        expect_error(f(z, 3, INFINITY, 1e-12, 10, pi, &res, &err), HJ_EINVAL, &err);
        hj_error_clear(&err);
        expect_error(f(z, 3, 1.0, 0.0, 10, pi, &res, &err), HJ_EINVAL, &err);
        hj_error_clear(&err);
        expect_error(f(z, 3, 1.0, -1e-3, 10, pi, &res, &err), HJ_EINVAL, &err);
        hj_error_clear(&err);
        expect_error(f(z, 3, 1.0, NAN, 10, pi, &res, &err), HJ_EINVAL, &err);
        const double zn[] = {1.0, NAN, 3.0};
        const double zi[] = {1.0, -INFINITY, 3.0};
        hj_error_clear(&err);
        expect_error(f(zn, 3, 1.0, 1e-12, 10, pi, &res, &err), HJ_ENAN, &err);
        hj_error_clear(&err);
        expect_error(f(zi, 3, 1.0, 1e-12, 10, pi, &res, &err), HJ_ENAN, &err);
        /* err may be NULL */
        assert_int_equal(f(z, 0, 1.0, 1e-12, 10, pi, &res, NULL), HJ_EINVAL);
    }
    hj_error_clear(&err);
    expect_error(hj_entropic_mirror_descent(z, 3, 0.0, 1e-12, 10, pi, &res, &err), HJ_EINVAL,
                 &err);
}

/* Budget exhausted or tol below rounding: HJ_EMAXITER with the last iterate
 * reported. */
static void exhausted_budget_should_report_emaxiter(void **state)
{
    (void)state;
    uint64_t rng = 5;
    double z[100], pi[100];
    random_logits(z, 100, 0.0, &rng);
    hj_entropic_result res;
    hj_error err;
    hj_error_clear(&err);
    expect_error(hj_entropic_dual_newton(z, 100, 0.01, 1e-14, 1, pi, &res, &err), HJ_EMAXITER,
                 &err);
    assert_true(res.iterations == 1);
    assert_true(res.kkt_residual > 1e-14);
    assert_true(isfinite(res.value));
    hj_error_clear(&err);
    expect_error(hj_entropic_mirror_descent(z, 100, 0.01, 1e-14, 3, pi, &res, &err),
                 HJ_EMAXITER, &err);
    assert_true(res.iterations == 3);
    assert_true(isfinite(res.value));
    /* the iterate is a distribution even when unconverged */
    double s = 0.0;
    for (size_t j = 0; j < 100; j++)
        s += pi[j];
    assert_true(fabs(s - 1.0) <= 1e-13);
    /* tol that double precision cannot reach: the solver either lands on
     * |sum pi - 1| == 0 exactly or stops once the bracket is at rounding
     * level, never running through the 1e6-step budget */
    size_t stalls = 0;
    for (int trial = 0; trial < 20; trial++) {
        random_logits(z, 100, 0.0, &rng);
        hj_error_clear(&err);
        hj_status st = hj_entropic_dual_newton(z, 100, 0.5, 1e-300, 1000000, pi, &res, &err);
        assert_true(st == HJ_OK || st == HJ_EMAXITER);
        assert_true(res.iterations < 1000);
        if (st == HJ_OK) {
            assert_true(res.kkt_residual <= 1e-300);
        } else {
            expect_error(st, HJ_EMAXITER, &err);
            assert_true(res.kkt_residual <= 1e-14);
            stalls++;
        }
    }
    printf("unreachable tol: %zu of 20 runs stopped at rounding level, the rest hit 0\n",
           stalls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dual_newton_should_match_naive_softmax),
        cmocka_unit_test(dual_newton_should_handle_large_n),
        cmocka_unit_test(mirror_descent_should_agree_with_dual_newton),
        cmocka_unit_test(value_should_dominate_primal_at_perturbed_points),
        cmocka_unit_test(eps_zero_should_split_pi_over_exact_ties),
        cmocka_unit_test(tiny_eps_should_give_the_tropical_limit),
        cmocka_unit_test(huge_eps_should_give_the_uniform_limit),
        cmocka_unit_test(bad_arguments_should_be_rejected),
        cmocka_unit_test(exhausted_budget_should_report_emaxiter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
