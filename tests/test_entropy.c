/* test_entropy.c — the attribution-entropy landscape H(x; eps), its gradient and Hessian, against independent computations. */
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

#include "hjdl/entropy.h"
#include "hjdl/hopf.h"
#include "hjdl/lse.h"
#include "naive_ref.h"

#define U DBL_EPSILON

/* ---- helpers ------------------------------------------------------------------- */

typedef struct h_ctx {
    const hj_lse_layer *L;
    size_t comp;
} h_ctx;

/* H through the library (grad, hess not requested). */
static double lib_H(const double *x, void *ctx)
{
    h_ctx *c = ctx;
    double H = NAN;
    hj_error e;
    hj_error_clear(&e);
    if (hj_entropy_eval(c->L, x, &H, NULL, NULL, &e) != HJ_OK)
        fail_msg("hj_entropy_eval failed: %s", e.msg);
    return H;
}

/* Component comp of the library grad H. */
static double lib_gradH(const double *x, void *ctx)
{
    h_ctx *c = ctx;
    double H, *g = nr_xmalloc(c->L->d * sizeof *g);
    hj_error e;
    hj_error_clear(&e);
    if (hj_entropy_eval(c->L, x, &H, g, NULL, &e) != HJ_OK)
        fail_msg("hj_entropy_eval failed: %s", e.msg);
    double v = g[c->comp];
    free(g);
    return v;
}

/* Naive H: -sum pi log pi from long-double Gibbs weights. */
static double naive_H(const double *x, void *ctx)
{
    h_ctx *c = ctx;
    return (double)nr_layer_entropy(c->L->w, c->L->b, c->L->N, c->L->d, c->L->eps, x);
}

static int all_finite(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

/* ---- hj_entropy_vec ---------------------------------------------------------------- */

static void entropy_vec_should_match_naive(void **state)
{
    (void)state;
    nr_check c;
    nr_check_init(&c, "hj_entropy_vec vs naive");
    nr_rng r;
    nr_seed(&r, 2001);
    const size_t Ns[] = {1, 2, 10, 100, 1000};
    for (size_t a = 0; a < 5; a++)
        for (int rep = 0; rep < 6; rep++) {
            size_t N = Ns[a];
            double *p = nr_xmalloc(N * sizeof *p);
            long double *pl = nr_xmalloc(N * sizeof *pl), s = 0;
            for (size_t j = 0; j < N; j++) {
                double v = nr_unif(&r, 0.0, 1.0);
                v = (rep % 3 == 0) ? v * v * v * v : v; /* skewed */
                if (rep % 2 == 1 && nr_unif(&r, 0, 1) < 0.3)
                    v = 0.0; /* zeros: 0 log 0 = 0 */
                p[j] = v;
                s += v;
            }
            if (s == 0.0L) {
                p[0] = 1.0;
                s = 1.0L;
            }
            for (size_t j = 0; j < N; j++) {
                p[j] = (double)(p[j] / s);
                pl[j] = p[j];
            }
            double lN = log((double)N);
            nr_close(&c, hj_entropy_vec(p, N), nr_entropy(pl, N), (double)(N + 8) * U * (1.0 + lN),
                     "N=%zu rep=%d", N, rep);
            /* uniform: log N; one-hot: 0 */
            for (size_t j = 0; j < N; j++)
                p[j] = 1.0 / (double)N;
            nr_close(&c, hj_entropy_vec(p, N), logl((long double)N), (double)(N + 8) * U * (1.0 + lN), "uniform N=%zu",
                     N);
            memset(p, 0, N * sizeof *p);
            p[N / 2] = 1.0;
            nr_true(&c, hj_entropy_vec(p, N) == 0.0, "one-hot N=%zu: H = %g != 0", N, hj_entropy_vec(p, N));
            free(p);
            free(pl);
        }
    assert_true(nr_check_report(&c));
}

/* ---- H vs naive, batch vs single --------------------------------------------------- */

static void entropy_should_match_naive_and_stay_in_range(void **state)
{
    (void)state;
    nr_check c, cr;
    nr_check_init(&c, "entropy_eval / batch vs naive -sum pi log pi");
    nr_check_init(&cr, "0 <= H <= log N, finite, limits");
    nr_rng r;
    nr_seed(&r, 2002);
    const size_t shapes[][2] = {{1, 1}, {3, 2}, {20, 3}, {150, 6}};
    const double epss[] = {1e-300, 1e-6, 1e-3, 0.2, 1.0, 3.0, 100.0, 1e300};
    const size_t n = 5;
    for (size_t sh = 0; sh < 4; sh++) {
        size_t N = shapes[sh][0], d = shapes[sh][1];
        double *w = nr_xmalloc(N * d * sizeof *w), *b = nr_xmalloc(N * sizeof *b), *x = nr_xmalloc(n * d * sizeof *x);
        double Hb[5], *g = nr_xmalloc(d * sizeof *g), *Hs = nr_xmalloc(d * d * sizeof *Hs);
        nr_random_layer(&r, N, d, 1.5, 1.0, w, b);
        nr_fill_unif(&r, x, n * d, -2, 2);
        double lN = log((double)N);
        for (size_t ie = 0; ie < sizeof epss / sizeof epss[0]; ie++) {
            double eps = epss[ie];
            hj_lse_layer L = {N, d, w, b, eps};
            hj_error e;
            hj_error_clear(&e);
            assert_int_equal(hj_entropy_batch(&L, x, n, Hb, &e), HJ_OK);
            for (size_t i = 0; i < n; i++) {
                const double *xi = x + i * d;
                double H, H2;
                assert_int_equal(hj_entropy_eval(&L, xi, &H, g, Hs, &e), HJ_OK);
                assert_int_equal(hj_entropy_eval(&L, xi, &H2, NULL, NULL, &e), HJ_OK);
                long double Hr = nr_layer_entropy(w, b, N, d, eps, xi);
                double Zs = nr_logit_scale(w, b, N, d, xi);
                double tol = 1e-13 * (1.0 + Zs / eps) * (1.0 + lN) + (double)(N + 8) * U * (1.0 + lN);
                if (eps >= 1e-3 && eps <= 100.0) {
                    nr_close(&c, H, Hr, tol, "N=%zu d=%zu eps=%g i=%zu eval", N, d, eps, i);
                    nr_close(&c, H2, Hr, tol, "N=%zu d=%zu eps=%g i=%zu eval (H only)", N, d, eps, i);
                    nr_close(&c, Hb[i], Hr, tol, "N=%zu d=%zu eps=%g i=%zu batch", N, d, eps, i);
                }
                /* the true values are finite (at eps = 1e-300 pi is one-hot: grad = hess = 0) */
                nr_true(&cr, isfinite(H) && isfinite(Hb[i]), "N=%zu eps=%g i=%zu: H = %g, batch %g not finite", N, eps,
                        i, H, Hb[i]);
                nr_true(&cr, all_finite(g, d), "N=%zu eps=%g i=%zu: grad H not finite (grad[0] = %g)", N, eps, i, g[0]);
                nr_true(&cr, all_finite(Hs, d * d), "N=%zu eps=%g i=%zu: hess H not finite (hess[0] = %g)", N, eps, i,
                        Hs[0]);
                nr_true(&cr, H >= 0.0 && H <= lN * (1 + 1e-14) + 1e-15 && Hb[i] >= 0.0 &&
                                 Hb[i] <= lN * (1 + 1e-14) + 1e-15,
                        "N=%zu eps=%g i=%zu: H=%.17g / batch %.17g outside [0, log N=%.17g]", N, eps, i, H, Hb[i], lN);
                if (eps == 1e300)
                    nr_close(&cr, H, lN, 1e-12 * (1.0 + lN), "N=%zu eps=1e300 i=%zu: H = log N", N, i);
                if (eps == 1e-300) /* unique arg-max (continuous random data): H = 0 */
                    nr_close(&cr, H, 0.0L, 1e-300, "N=%zu eps=1e-300 i=%zu: H = 0", N, i);
            }
        }
        free(w);
        free(b);
        free(x);
        free(g);
        free(Hs);
    }
    int ok = nr_check_report(&c);
    ok &= nr_check_report(&cr);
    assert_true(ok);
}

/* ---- grad H and hess H vs finite differences ------------------------------------------ */

static void entropy_derivatives_should_match_finite_differences(void **state)
{
    (void)state;
    nr_check cg, cgn, ch, chn;
    nr_check_init(&cg, "grad H vs FD of library H");
    nr_check_init(&cgn, "grad H vs FD of naive H");
    nr_check_init(&ch, "hess H vs FD of library grad H");
    nr_check_init(&chn, "hess H vs second differences of naive H");
    nr_rng r;
    nr_seed(&r, 2003);
    const size_t shapes[][2] = {{3, 1}, {10, 2}, {30, 3}, {6, 3}};
    const double epss[] = {0.2, 1.0, 3.0};
    for (size_t sh = 0; sh < 4; sh++)
        for (int rep = 0; rep < 3; rep++) {
            size_t N = shapes[sh][0], d = shapes[sh][1];
            double *w = nr_xmalloc(N * d * sizeof *w), *b = nr_xmalloc(N * sizeof *b), x[3], g[3], Hs[9], H;
            nr_random_layer(&r, N, d, 1.5, 0.5, w, b);
            nr_fill_unif(&r, x, d, -1.5, 1.5);
            double mw = nr_max_row_norm(w, N, d);
            double Zs = nr_logit_scale(w, b, N, d, x);
            for (size_t ie = 0; ie < 3; ie++) {
                double eps = epss[ie];
                hj_lse_layer L = {N, d, w, b, eps};
                hj_error e;
                hj_error_clear(&e);
                assert_int_equal(hj_entropy_eval(&L, x, &H, g, Hs, &e), HJ_OK);
                /* H's n-th derivative is bounded by ~ (1 + log N + Zs/eps) (2 max|w| / eps)^n;
                 * step h (2 max|w|) / eps = 0.01 puts the 4th-order truncation near 1e-8/30 of that. */
                double k1 = 2.0 * mw / eps, Lsc = 1.0 + log((double)N) + Zs / eps;
                double h = 0.01 / k1;
                double tg = 1e-8 * Lsc * k1 + 64 * U * Lsc / h;
                double th = 1e-7 * Lsc * k1 * k1 + 64 * U * Lsc / (h * h);
                h_ctx ctx = {&L, 0};
                for (size_t k = 0; k < d; k++) {
                    nr_close(&cg, g[k], nr_fd1(lib_H, &ctx, x, k, h), tg, "N=%zu d=%zu rep=%d eps=%g k=%zu", N, d, rep,
                             eps, k);
                    nr_close(&cgn, g[k], nr_fd1(naive_H, &ctx, x, k, h), tg, "N=%zu d=%zu rep=%d eps=%g k=%zu", N, d, rep,
                             eps, k);
                    h_ctx cc = {&L, k};
                    for (size_t l = 0; l < d; l++) {
                        nr_close(&ch, Hs[k * d + l], nr_fd1(lib_gradH, &cc, x, l, h), th,
                                 "N=%zu d=%zu rep=%d eps=%g hess[%zu][%zu]", N, d, rep, eps, k, l);
                        nr_close(&chn, Hs[k * d + l], nr_fd2(naive_H, &ctx, x, k, l, 2.0 * h), th,
                                 "N=%zu d=%zu rep=%d eps=%g hess[%zu][%zu]", N, d, rep, eps, k, l);
                    }
                }
            }
            free(w);
            free(b);
        }
    int ok = nr_check_report(&cg);
    ok &= nr_check_report(&cgn);
    ok &= nr_check_report(&ch);
    ok &= nr_check_report(&chn);
    assert_true(ok);
}

/* ---- the Hopf–Cole form grad H = Cov_pi(y, -log pi)/(2 t eps) -------------------------- */

static void entropy_gradient_should_equal_hopf_cole_covariance_form(void **state)
{
    (void)state;
    nr_check c;
    nr_check_init(&c, "grad H (mapped weights) = Cov_pi(y, -log pi)/(2 t eps) (pi from atoms)");
    nr_rng r;
    nr_seed(&r, 2004);
    const size_t shapes[][2] = {{4, 1}, {12, 2}, {40, 3}};
    const double epss[] = {0.2, 1.0, 3.0};
    const double ts[] = {0.5, 1.0, 2.5};
    for (size_t sh = 0; sh < 3; sh++)
        for (size_t it = 0; it < 3; it++) {
            size_t N = shapes[sh][0], d = shapes[sh][1];
            double t = ts[it];
            double *y = nr_xmalloc(N * d * sizeof *y), *gg = nr_xmalloc(N * sizeof *gg);
            double *w = nr_xmalloc(N * d * sizeof *w), *b = nr_xmalloc(N * sizeof *b), x[3], g[3], H, Hhc;
            long double *pi = nr_xmalloc(N * sizeof *pi);
            nr_fill_unif(&r, y, N * d, -2, 2);
            nr_fill_unif(&r, gg, N, -1, 1);
            nr_fill_unif(&r, x, d, -2, 2);
            hj_error e;
            hj_error_clear(&e);
            assert_int_equal(hj_atoms_to_weights(y, gg, N, d, t, NULL, w, b, &e), HJ_OK);
            hj_atoms a = {N, d, y, gg};
            for (size_t ie = 0; ie < 3; ie++) {
                double eps = epss[ie];
                hj_lse_layer L = {N, d, w, b, eps};
                assert_int_equal(hj_entropy_eval(&L, x, &H, g, NULL, &e), HJ_OK);
                hj_hc_out o;
                memset(&o, 0, sizeof o);
                o.entropy = &Hhc;
                assert_int_equal(hj_hopf_cole_eval(&a, NULL, x, 1, t, eps, &o, &e), HJ_OK);
                long double Hr;
                nr_hopf(y, gg, N, d, NULL, x, t, eps, NULL, pi, NULL, NULL, NULL, &Hr);
                double Cs = 0.0; /* scale of the costs: max_j |g_j| + (|x|^2 + |y_j|^2)/(2t) */
                for (size_t j = 0; j < N; j++) {
                    double s2 = 0.0;
                    for (size_t k = 0; k < d; k++)
                        s2 += x[k] * x[k] + y[j * d + k] * y[j * d + k];
                    Cs = fmax(Cs, fabs(gg[j]) + s2 / (2 * t));
                }
                double kappa = 1.0 + Cs / eps, lN = log((double)N);
                nr_close(&c, H, Hr, 1e-13 * kappa * (1 + lN) + (double)(N + 8) * U * (1 + lN),
                         "N=%zu d=%zu t=%g eps=%g H(mapped weights) vs naive H(atoms)", N, d, t, eps);
                nr_close(&c, Hhc, Hr, 1e-13 * kappa * (1 + lN) + (double)(N + 8) * U * (1 + lN),
                         "N=%zu d=%zu t=%g eps=%g hopf_cole entropy vs naive", N, d, t, eps);
                for (size_t k = 0; k < d; k++) {
                    long double ybar = 0, cov = 0, scale = 0;
                    for (size_t j = 0; j < N; j++)
                        ybar += pi[j] * y[j * d + k];
                    for (size_t j = 0; j < N; j++) {
                        long double l = (pi[j] > 0) ? logl(pi[j]) : 0.0L;
                        cov += pi[j] * (y[j * d + k] - ybar) * (-l - Hr);
                        scale += pi[j] * fabsl(y[j * d + k] - ybar) * (fabsl(l) + Hr + 1.0L);
                    }
                    long double ref = cov / (2.0L * t * eps);
                    double tol = 1e-12 * kappa * (double)(scale / (2.0L * t * eps)) + 1e-13 * kappa * 4.0 / (2 * t * eps);
                    nr_close(&c, g[k], ref, tol, "N=%zu d=%zu t=%g eps=%g grad_%zu", N, d, t, eps, k);
                }
            }
            free(y);
            free(gg);
            free(w);
            free(b);
            free(pi);
        }
    assert_true(nr_check_report(&c));
}

/* ---- eps = 0: H = log(#ties), derivatives 0 ----------------------------------------------- */

static void entropy_at_eps0_should_be_log_of_tie_count(void **state)
{
    (void)state;
    nr_check c;
    nr_check_init(&c, "eps = 0 entropy");
    nr_rng r;
    nr_seed(&r, 2005);
    const size_t N = 8, d = 2;
    double w[16], b[8], x[2], H, g[2], Hs[4], Hb;
    for (int rep = 0; rep < 40; rep++) {
        size_t k = (size_t)(rep % 5) + 1;
        for (size_t j = 0; j < N * d; j++)
            w[j] = (double)nr_int(&r, -3, 3);
        for (size_t j = 0; j < N; j++)
            b[j] = (double)nr_int(&r, -4, 4);
        x[0] = (double)nr_int(&r, -2, 2);
        x[1] = (double)nr_int(&r, -2, 2);
        double z[8], M = -1e9;
        for (size_t j = 0; j < N; j++) {
            z[j] = b[j] + w[j * d] * x[0] + w[j * d + 1] * x[1];
            if (j >= k && z[j] > M)
                M = z[j];
        }
        M += 1.0;
        for (size_t j = 0; j < k; j++) /* the first k neurons tie at the max */
            b[j] = M - w[j * d] * x[0] - w[j * d + 1] * x[1];
        hj_lse_layer L = {N, d, w, b, 0.0};
        hj_error e;
        hj_error_clear(&e);
        assert_int_equal(hj_entropy_eval(&L, x, &H, g, Hs, &e), HJ_OK);
        assert_int_equal(hj_entropy_batch(&L, x, 1, &Hb, &e), HJ_OK);
        nr_close(&c, H, logl((long double)k), 4 * U, "rep=%d k=%zu H = log k", rep, k);
        nr_close(&c, Hb, logl((long double)k), 4 * U, "rep=%d k=%zu batch H = log k", rep, k);
        for (size_t q = 0; q < d; q++)
            nr_true(&c, g[q] == 0.0, "rep=%d k=%zu eps=0 grad_%zu = %g != 0", rep, k, q, g[q]);
        for (size_t q = 0; q < d * d; q++)
            nr_true(&c, Hs[q] == 0.0, "rep=%d k=%zu eps=0 hess[%zu] = %g != 0", rep, k, q, Hs[q]);
        /* and the small-eps limit approaches it: |H(eps) - log k| small at eps = 1e-3 (gap >= 1) */
        L.eps = 1e-3;
        assert_int_equal(hj_entropy_eval(&L, x, &H, NULL, NULL, &e), HJ_OK);
        nr_close(&c, H, logl((long double)k), 1e-12, "rep=%d k=%zu eps=1e-3 H -> log k", rep, k);
    }
    assert_true(nr_check_report(&c));
}

/* ---- error paths ------------------------------------------------------------------------- */

static void invalid_arguments_should_be_refused_with_message(void **state)
{
    (void)state;
    nr_check c;
    nr_check_init(&c, "entropy error paths");
    double w[4] = {1, 0, 0, 1}, b[2] = {0, 0.5}, x[2] = {0.1, 0.2}, xn[2] = {NAN, 0}, H, g[2], Hs[4], Hb[1];
    struct {
        const char *what;
        hj_lse_layer L;
    } bad[] = {
        {"eps < 0", {2, 2, w, b, -0.5}}, {"eps = NaN", {2, 2, w, b, NAN}}, {"N = 0", {0, 2, w, b, 1.0}},
        {"w = NULL", {2, 2, NULL, b, 1.0}}, {"b = NULL", {2, 2, w, NULL, 1.0}},
    };
    char what[128];
    hj_error e;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hj_error_clear(&e);
        snprintf(what, sizeof what, "hj_entropy_eval(%s)", bad[i].what);
        nr_expect_error(&c, hj_entropy_eval(&bad[i].L, x, &H, g, Hs, &e), &e, what);
        hj_error_clear(&e);
        snprintf(what, sizeof what, "hj_entropy_batch(%s)", bad[i].what);
        nr_expect_error(&c, hj_entropy_batch(&bad[i].L, x, 1, Hb, &e), &e, what);
    }
    hj_lse_layer L = {2, 2, w, b, 1.0};
    hj_error_clear(&e);
    nr_expect_error(&c, hj_entropy_eval(&L, xn, &H, g, Hs, &e), &e, "hj_entropy_eval(NaN in x)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_entropy_eval(&L, NULL, &H, g, Hs, &e), &e, "hj_entropy_eval(x = NULL)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_entropy_eval(&L, x, NULL, g, Hs, &e), &e, "hj_entropy_eval(H = NULL)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_entropy_batch(&L, xn, 1, Hb, &e), &e, "hj_entropy_batch(NaN in x)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_entropy_batch(&L, x, 1, NULL, &e), &e, "hj_entropy_batch(H = NULL)");
    nr_true(&c, hj_entropy_eval(&bad[0].L, x, &H, g, Hs, NULL) != HJ_OK, "hj_entropy_eval(eps<0, err=NULL) OK");
    hj_error_clear(&e);
    nr_true(&c, hj_entropy_eval(&L, x, &H, g, Hs, &e) == HJ_OK && e.msg[0] == '\0',
            "valid hj_entropy_eval did not succeed cleanly: %s", e.msg);
    assert_true(nr_check_report(&c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entropy_vec_should_match_naive),
        cmocka_unit_test(entropy_should_match_naive_and_stay_in_range),
        cmocka_unit_test(entropy_derivatives_should_match_finite_differences),
        cmocka_unit_test(entropy_gradient_should_equal_hopf_cole_covariance_form),
        cmocka_unit_test(entropy_at_eps0_should_be_log_of_tie_count),
        cmocka_unit_test(invalid_arguments_should_be_refused_with_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
