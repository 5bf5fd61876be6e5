/* test_lse.c — the LSE layer (forward, Gibbs weights, gradient, Hessian, softplus, tropical limit) against independent computations. */
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
#include "hjdl/lse.h"
#include "naive_ref.h"

#define U DBL_EPSILON

static const double EPS_LIST[] = {1e-6, 1e-3, 0.1, 1.0, 10.0, 1e3};
#define N_EPS (sizeof EPS_LIST / sizeof EPS_LIST[0])

/* ---- helpers ------------------------------------------------------------------- */

/* f of the layer at x, through the library (n = 1, f only). */
static double lib_f(const hj_lse_layer *L, const double *x)
{
    double f = NAN;
    hj_error e;
    hj_error_clear(&e);
    hj_status st = hj_lse_forward(L, x, 1, &f, NULL, NULL, &e);
    if (st != HJ_OK)
        fail_msg("hj_lse_forward failed: %s", e.msg);
    return f;
}

typedef struct fd_ctx {
    const hj_lse_layer *L;
    size_t comp;    /* gradient component for grad_fn */
} fd_ctx;

static double f_fn(const double *x, void *ctx)
{
    return lib_f(((fd_ctx *)ctx)->L, x);
}

/* Component comp of the library gradient. */
static double grad_fn(const double *x, void *ctx)
{
    fd_ctx *c = ctx;
    double f, *g = nr_xmalloc(c->L->d * sizeof *g);
    hj_error e;
    hj_error_clear(&e);
    if (hj_lse_forward(c->L, x, 1, &f, NULL, g, &e) != HJ_OK)
        fail_msg("hj_lse_forward failed: %s", e.msg);
    double v = g[c->comp];
    free(g);
    return v;
}

/* Component comp of the naive (long double) gradient. */
static double naive_grad_fn(const double *x, void *ctx)
{
    fd_ctx *c = ctx;
    long double *g = nr_xmalloc(c->L->d * sizeof *g);
    nr_lse_layer(c->L->w, c->L->b, c->L->N, c->L->d, c->L->eps, x, NULL, NULL, g, NULL);
    double v = (double)g[c->comp];
    free(g);
    return v;
}

/* ---- hj_lse_vec vs naive ------------------------------------------------------- */

static void lse_vec_should_match_naive(void **state)
{
    (void)state;
    nr_check cf, cp, cs;
    nr_check_init(&cf, "lse_vec f vs naive");
    nr_check_init(&cp, "lse_vec pi vs naive");
    nr_check_init(&cs, "lse_vec sum pi = 1");
    nr_rng r;
    nr_seed(&r, 101);
    const size_t Ns[] = {1, 2, 5, 37, 200};
    const double scales[] = {1.0, 100.0};
    for (size_t a = 0; a < sizeof Ns / sizeof Ns[0]; a++)
        for (size_t s = 0; s < 2; s++)
            for (int draw = 0; draw < 4; draw++) {
                size_t N = Ns[a];
                double *z = nr_xmalloc(N * sizeof *z), *pi = nr_xmalloc(N * sizeof *pi);
                long double *zl = nr_xmalloc(N * sizeof *zl), *pr = nr_xmalloc(N * sizeof *pr);
                nr_fill_normal(&r, z, N, scales[s]);
                for (size_t j = 0; j < N; j++)
                    zl[j] = z[j];
                double mz = nr_max_abs(z, N);
                for (size_t ie = 0; ie < N_EPS; ie++) {
                    double eps = EPS_LIST[ie];
                    long double fr = nr_lse(zl, N, eps, pr);
                    double f = hj_lse_vec(z, N, eps, pi);
                    double f2 = hj_lse_vec(z, N, eps, NULL);
                    double tolf = fmax(1e-13 * (mz + eps * log((double)N)), DBL_MIN);
                    nr_close(&cf, f, fr, tolf, "N=%zu scale=%g draw=%d eps=%g", N, scales[s], draw, eps);
                    nr_close(&cf, f2, fr, tolf, "(pi=NULL) N=%zu scale=%g draw=%d eps=%g", N, scales[s],
                             draw, eps);
                    long double sum = 0.0L;
                    for (size_t j = 0; j < N; j++) {
                        nr_close(&cp, pi[j], pr[j], 1e-13 * (double)pr[j] * (1.0 + mz / eps) + 1e-300,
                                 "N=%zu scale=%g draw=%d eps=%g j=%zu", N, scales[s], draw, eps, j);
                        sum += pi[j];
                    }
                    nr_close(&cs, (double)sum, 1.0L, (double)(N + 16) * U, "N=%zu scale=%g draw=%d eps=%g",
                             N, scales[s], draw, eps);
                }
                free(z);
                free(pi);
                free(zl);
                free(pr);
            }
    int ok = nr_check_report(&cf);
    ok &= nr_check_report(&cp);
    ok &= nr_check_report(&cs);
    assert_true(ok);
}

/* ---- hj_lse_forward (f, pi, grad) and hj_lse_hessian vs naive --------------------- */

static void lse_forward_should_match_naive(void **state)
{
    (void)state;
    nr_check cf, cp, cs, cg, ch;
    nr_check_init(&cf, "forward f vs naive");
    nr_check_init(&cp, "forward pi vs naive");
    nr_check_init(&cs, "forward sum pi = 1");
    nr_check_init(&cg, "forward grad vs naive E_pi[w]");
    nr_check_init(&ch, "hessian vs naive Cov_pi(w)/eps");
    nr_rng r;
    nr_seed(&r, 202);
    const size_t shapes[][2] = {{1, 1}, {3, 2}, {17, 5}, {64, 3}, {200, 10}};
    const size_t n = 5;
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
        size_t N = shapes[sh][0], d = shapes[sh][1];
        double *w = nr_xmalloc(N * d * sizeof *w), *b = nr_xmalloc(N * sizeof *b);
        double *x = nr_xmalloc(n * d * sizeof *x), *f = nr_xmalloc(n * sizeof *f);
        double *f2 = nr_xmalloc(n * sizeof *f2);
        double *pi = nr_xmalloc(n * N * sizeof *pi), *g = nr_xmalloc(n * d * sizeof *g);
        double *H = nr_xmalloc(d * d * sizeof *H);
        long double *pr = nr_xmalloc(N * sizeof *pr), *gr = nr_xmalloc(d * sizeof *gr);
        long double *cr = nr_xmalloc(d * d * sizeof *cr);
        nr_random_layer(&r, N, d, 1.5, 1.0, w, b);
        nr_fill_unif(&r, x, n * d, -2.0, 2.0);
        double mw = nr_max_row_norm(w, N, d);
        for (size_t ie = 0; ie < N_EPS; ie++) {
            double eps = EPS_LIST[ie];
            hj_lse_layer L = {N, d, w, b, eps};
            hj_error e;
            hj_error_clear(&e);
            assert_int_equal(hj_lse_check(&L, &e), HJ_OK);
            assert_int_equal(hj_lse_forward(&L, x, n, f, pi, g, &e), HJ_OK);
            assert_int_equal(hj_lse_forward(&L, x, n, f2, NULL, NULL, &e), HJ_OK);
            for (size_t i = 0; i < n; i++) {
                const double *xi = x + i * d;
                long double fr;
                nr_lse_layer(w, b, N, d, eps, xi, &fr, pr, gr, cr);
                double Zs = nr_logit_scale(w, b, N, d, xi);
                double kappa = 1.0 + Zs / eps;
                double tolf = 1e-13 * (Zs + eps * log((double)N));
                nr_close(&cf, f[i], fr, tolf, "N=%zu d=%zu eps=%g i=%zu", N, d, eps, i);
                nr_close(&cf, f2[i], fr, tolf, "(f only) N=%zu d=%zu eps=%g i=%zu", N, d, eps, i);
                long double sum = 0.0L;
                for (size_t j = 0; j < N; j++) {
                    nr_close(&cp, pi[i * N + j], pr[j], 1e-13 * (double)pr[j] * kappa + 1e-300,
                             "N=%zu d=%zu eps=%g i=%zu j=%zu", N, d, eps, i, j);
                    sum += pi[i * N + j];
                }
                nr_close(&cs, (double)sum, 1.0L, (double)(N + 16) * U, "N=%zu d=%zu eps=%g i=%zu", N, d,
                         eps, i);
                for (size_t k = 0; k < d; k++)
                    nr_close(&cg, g[i * d + k], gr[k], (1e-13 * kappa + (double)(N + 8) * U) * mw,
                             "N=%zu d=%zu eps=%g i=%zu k=%zu", N, d, eps, i, k);
                assert_int_equal(hj_lse_hessian(&L, xi, H, &e), HJ_OK);
                double tolh = (4e-13 * kappa + (double)(N + 8) * U) * mw * mw / eps;
                for (size_t k = 0; k < d * d; k++)
                    nr_close(&ch, H[k], cr[k] / eps, tolh, "N=%zu d=%zu eps=%g i=%zu entry=%zu", N, d, eps,
                             i, k);
            }
        }
        free(w);
        free(b);
        free(x);
        free(f);
        free(f2);
        free(pi);
        free(g);
        free(H);
        free(pr);
        free(gr);
        free(cr);
    }
    int ok = nr_check_report(&cf);
    ok &= nr_check_report(&cp);
    ok &= nr_check_report(&cs);
    ok &= nr_check_report(&cg);
    ok &= nr_check_report(&ch);
    assert_true(ok);
}

/* ---- eps = 0 and tiny eps with exact ties (integer data) ---------------------------- */

static void eps0_should_give_exact_max_and_uniform_ties(void **state)
{
    (void)state;
    nr_check c;
    nr_check_init(&c, "eps=0 / tiny eps exact ties");
    nr_rng r;
    nr_seed(&r, 303);
    const size_t N = 7, d = 3;
    double w[7 * 3], b[7], x[3], f, pi[7], g[3], H[9], z[7];
    for (int rep = 0; rep < 40; rep++) {
        size_t k = (size_t)(rep % 4) + 1; /* number of tied neurons */
        for (size_t j = 0; j < N * d; j++)
            w[j] = (double)nr_int(&r, -3, 3);
        for (size_t j = 0; j < N; j++)
            b[j] = (double)nr_int(&r, -5, 5);
        for (size_t q = 0; q < d; q++)
            x[q] = (double)nr_int(&r, -2, 2);
        /* tie set: k distinct random indices */
        int in_tie[7] = {0};
        size_t tie[4];
        for (size_t i = 0; i < k;) {
            size_t j = (size_t)nr_int(&r, 0, (long)N - 1);
            if (!in_tie[j]) {
                in_tie[j] = 1;
                tie[i++] = j;
            }
        }
        /* tied rows: w0 distinct (i - 1), w1 random, w2 shared = 2 */
        for (size_t i = 0; i < k; i++) {
            w[tie[i] * d + 0] = (double)i - 1.0;
            w[tie[i] * d + 2] = 2.0;
        }
        double M = -1e9;
        for (size_t j = 0; j < N; j++) {
            z[j] = b[j];
            for (size_t q = 0; q < d; q++)
                z[j] += w[j * d + q] * x[q];
            if (!in_tie[j] && z[j] > M)
                M = z[j];
        }
        M += 2.0; /* gap >= 2 to every other neuron */
        if (rep % 5 == 0)
            M = 0.0; /* also the case max = 0 (draws where another logit reaches 0 are skipped) */
        for (size_t i = 0; i < k; i++) {
            size_t j = tie[i];
            double s = 0.0;
            for (size_t q = 0; q < d; q++)
                s += w[j * d + q] * x[q];
            b[j] = M - s;
            z[j] = M;
        }
        int gap_ok = 1; /* others strictly below M by >= 1 (integers) */
        for (size_t j = 0; j < N; j++)
            if (!in_tie[j] && z[j] >= M)
                gap_ok = 0;
        if (!gap_ok)
            continue; /* the max = 0 variant may collide; skip that draw */

        hj_lse_layer L = {N, d, w, b, 0.0};
        hj_error e;
        hj_error_clear(&e);
        assert_int_equal(hj_lse_forward(&L, x, 1, &f, pi, g, &e), HJ_OK);
        nr_true(&c, f == M, "rep=%d eps=0: f=%.17g != max %.17g", rep, f, M);
        double gm[3] = {0, 0, 0};
        for (size_t i = 0; i < k; i++)
            for (size_t q = 0; q < d; q++)
                gm[q] += w[tie[i] * d + q] / (double)k;
        for (size_t j = 0; j < N; j++)
            nr_close(&c, pi[j], in_tie[j] ? 1.0L / (long double)k : 0.0L, 2 * U,
                     "rep=%d eps=0 k=%zu pi_%zu", rep, k, j);
        for (size_t q = 0; q < d; q++)
            nr_close(&c, g[q], gm[q], 8 * U * 3.0, "rep=%d eps=0 k=%zu grad_%zu", rep, k, q);
        /* hj_lse_vec on the exact logits */
        double fv = hj_lse_vec(z, N, 0.0, pi);
        nr_true(&c, fv == M, "rep=%d lse_vec eps=0: f=%.17g != %.17g", rep, fv, M);
        for (size_t j = 0; j < N; j++)
            nr_close(&c, pi[j], in_tie[j] ? 1.0L / (long double)k : 0.0L, 2 * U,
                     "rep=%d lse_vec eps=0 k=%zu pi_%zu", rep, k, j);
        /* Hessian at eps = 0: 0 where Cov is 0, infinite where it is not. Exact
         * integer covariance: k^2 Cov_ab = k sum w_a w_b - sum w_a sum w_b. */
        assert_int_equal(hj_lse_hessian(&L, x, H, &e), HJ_OK);
        for (size_t a = 0; a < d; a++)
            for (size_t bb = 0; bb < d; bb++) {
                double sab = 0, sa = 0, sb = 0;
                for (size_t i = 0; i < k; i++) {
                    sab += w[tie[i] * d + a] * w[tie[i] * d + bb];
                    sa += w[tie[i] * d + a];
                    sb += w[tie[i] * d + bb];
                }
                double kc = (double)k * sab - sa * sb;
                double h = H[a * d + bb];
                if (kc == 0.0)
                    nr_true(&c, h == 0.0, "rep=%d k=%zu hess[%zu][%zu]=%g, expected 0 (Cov = 0)", rep, k, a,
                            bb, h);
                else if (a == bb)
                    nr_true(&c, isinf(h) && h > 0, "rep=%d k=%zu hess[%zu][%zu]=%g, expected +inf", rep, k,
                            a, bb, h);
                else
                    nr_true(&c, isinf(h), "rep=%d k=%zu hess[%zu][%zu]=%g, expected infinite (Cov=%g/k^2)",
                            rep, k, a, bb, h, kc);
            }
        /* entropy at eps = 0: log k */
        double Hent;
        assert_int_equal(hj_entropy_eval(&L, x, &Hent, NULL, NULL, &e), HJ_OK);
        nr_close(&c, Hent, logl((long double)k), 4 * U, "rep=%d eps=0 entropy k=%zu", rep, k);

        /* tiny eps > 0: f = M + eps log k (other terms below exp(-1/eps)),
         * tied pi equal and = 1/k, others 0. */
        const double tiny[] = {1e-300, 1e-200, 1e-20, 1e-12, 1e-4};
        for (size_t it = 0; it < 5; it++) {
            double eps = tiny[it];
            L.eps = eps;
            assert_int_equal(hj_lse_forward(&L, x, 1, &f, pi, g, &e), HJ_OK);
            long double fa = (long double)M + (long double)eps * logl((long double)k);
            nr_close(&c, f, fa, 4 * U * (fabs(M) + eps * log((double)k)) + DBL_MIN,
                     "rep=%d k=%zu eps=%g f = max + eps log k (M=%g)", rep, k, eps, M);
            for (size_t j = 0; j < N; j++) {
                nr_close(&c, pi[j], in_tie[j] ? 1.0L / (long double)k : 0.0L, (double)(k + 8) * U,
                         "rep=%d k=%zu eps=%g pi_%zu", rep, k, eps, j);
                if (in_tie[j])
                    nr_true(&c, pi[j] == pi[tie[0]], "rep=%d eps=%g tied pi differ: %.17g vs %.17g", rep, eps,
                            pi[j], pi[tie[0]]);
            }
            for (size_t q = 0; q < d; q++)
                nr_close(&c, g[q], gm[q], 32 * U * 3.0, "rep=%d k=%zu eps=%g grad_%zu", rep, k, eps, q);
            double fv2 = hj_lse_vec(z, N, eps, pi);
            nr_close(&c, fv2, fa, 4 * U * (fabs(M) + eps * log((double)k)) + DBL_MIN,
                     "rep=%d k=%zu eps=%g lse_vec f", rep, k, eps);
            for (size_t j = 0; j < N; j++)
                nr_close(&c, pi[j], in_tie[j] ? 1.0L / (long double)k : 0.0L, (double)(k + 8) * U,
                         "rep=%d k=%zu eps=%g lse_vec pi_%zu", rep, k, eps, j);
        }
    }
    assert_true(nr_check_report(&c));
}

/* ---- duplicated neurons (dyadic data: all logits exact) ---------------------------- */

static void duplicated_neuron_should_act_as_bias_shift_eps_log2(void **state)
{
    (void)state;
    nr_check c;
    nr_check_init(&c, "duplicated neuron");
    nr_rng r;
    nr_seed(&r, 404);
    const size_t N = 9, d = 4;
    double w[9 * 4], b[9], x[4], pi[9], pi2[8], g[4], g2[4], f, f2;
    double b2[8];
    for (int rep = 0; rep < 30; rep++) {
        for (size_t j = 0; j < N * d; j++)
            w[j] = nr_dyadic(&r, 24, 8);
        for (size_t j = 0; j < N; j++)
            b[j] = nr_dyadic(&r, 24, 8);
        for (size_t q = 0; q < d; q++)
            x[q] = nr_dyadic(&r, 16, 8);
        /* neuron N-1 duplicates neuron 0; every other rep make it the arg-max */
        memcpy(w + (N - 1) * d, w, d * sizeof *w);
        if (rep % 2 == 0)
            b[0] = 40.0;
        b[N - 1] = b[0];
        long double zl[9];
        nr_logits(w, b, N, d, x, zl);
        long double zmax = zl[0];
        for (size_t j = 1; j < N; j++)
            if (zl[j] > zmax)
                zmax = zl[j];
        int dup_is_max = (zl[0] == zmax);

        hj_lse_layer L = {N, d, w, b, 0.0};
        hj_error e;
        hj_error_clear(&e);
        assert_int_equal(hj_lse_forward(&L, x, 1, &f, pi, g, &e), HJ_OK);
        nr_true(&c, (long double)f == zmax, "rep=%d eps=0 f=%.17g != max %.17Lg", rep, f, zmax);
        nr_true(&c, pi[0] == pi[N - 1], "rep=%d eps=0 pi_0=%.17g pi_dup=%.17g", rep, pi[0], pi[N - 1]);
        if (dup_is_max) {
            size_t k = 0;
            for (size_t j = 0; j < N; j++)
                k += (zl[j] == zmax);
            nr_close(&c, pi[0], 1.0L / (long double)k, 2 * U, "rep=%d eps=0 pi_0 (ties k=%zu)", rep, k);
        }
        for (size_t ie = 0; ie < N_EPS; ie++) {
            double eps = EPS_LIST[ie];
            L.eps = eps;
            assert_int_equal(hj_lse_forward(&L, x, 1, &f, pi, g, &e), HJ_OK);
            nr_true(&c, pi[0] == pi[N - 1], "rep=%d eps=%g pi_0=%.17g pi_dup=%.17g", rep, eps, pi[0],
                    pi[N - 1]);
            /* reduced layer: drop the duplicate, shift b_0 by eps log 2 */
            memcpy(b2, b, (N - 1) * sizeof *b);
            b2[0] = (double)((long double)b[0] + (long double)eps * logl(2.0L));
            hj_lse_layer L2 = {N - 1, d, w, b2, eps};
            assert_int_equal(hj_lse_forward(&L2, x, 1, &f2, pi2, g2, &e), HJ_OK);
            double Zs = nr_logit_scale(w, b, N, d, x) + eps;
            nr_close(&c, f, f2, 1e-13 * (Zs + eps * log((double)N)), "rep=%d eps=%g f(dup) vs f(shifted)", rep,
                     eps);
            nr_close(&c, 2.0 * pi[0], pi2[0], 1e-13 * pi2[0] * (1.0 + Zs / eps) + 1e-300,
                     "rep=%d eps=%g 2 pi_0(dup) vs pi_0(shifted)", rep, eps);
            double mw = nr_max_row_norm(w, N, d);
            for (size_t q = 0; q < d; q++)
                nr_close(&c, g[q], g2[q], (1e-13 * (1.0 + Zs / eps) + 32 * U) * mw,
                         "rep=%d eps=%g grad_%zu dup vs shifted", rep, eps, q);
        }
    }
    assert_true(nr_check_report(&c));
}

/* ---- extreme eps and logits ----------------------------------------------------------- */

static int all_finite(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

static void extreme_eps_and_logits_should_give_analytic_limits(void **state)
{
    (void)state;
    nr_check c;
    nr_check_init(&c, "extreme eps / logits");
    double pi[8];
    long double L2 = logl(2.0L);

    /* eps -> 0 with ties at max 0: f = eps log 2 exactly (to rounding) */
    {
        const double z[4] = {0.0, 0.0, -1.0, -3.0};
        const double epss[] = {1e-300, 1e-200, 1e-100, 1e-20};
        for (size_t i = 0; i < 4; i++) {
            double f = hj_lse_vec(z, 4, epss[i], pi);
            nr_close(&c, f, (long double)epss[i] * L2, 4 * U * epss[i], "z=(0,0,-1,-3) eps=%g f = eps log 2",
                     epss[i]);
            nr_close(&c, pi[0], 0.5L, 4 * U, "z=(0,0,-1,-3) eps=%g pi_0", epss[i]);
            nr_close(&c, pi[1], 0.5L, 4 * U, "z=(0,0,-1,-3) eps=%g pi_1", epss[i]);
            nr_close(&c, pi[2], 0.0L, 1e-300, "z=(0,0,-1,-3) eps=%g pi_2", epss[i]);
            nr_close(&c, pi[3], 0.0L, 1e-300, "z=(0,0,-1,-3) eps=%g pi_3", epss[i]);
        }
    }
    /* eps = 1e-300, logits +-1e300 with a tie at the top */
    {
        const double z[4] = {1e300, -1e300, 1e300, 5.0};
        double f = hj_lse_vec(z, 4, 1e-300, pi);
        nr_close(&c, f, (long double)1e300, 4 * U * 1e300, "z=(1e300,-1e300,1e300,5) eps=1e-300 f");
        nr_close(&c, pi[0], 0.5L, 4 * U, "z=(1e300,-1e300,1e300,5) eps=1e-300 pi_0");
        nr_close(&c, pi[2], 0.5L, 4 * U, "z=(1e300,-1e300,1e300,5) eps=1e-300 pi_2");
        nr_close(&c, pi[1], 0.0L, 1e-300, "z=(1e300,-1e300,1e300,5) eps=1e-300 pi_1");
        nr_close(&c, pi[3], 0.0L, 1e-300, "z=(1e300,-1e300,1e300,5) eps=1e-300 pi_3");
    }
    /* eps = 1 and eps = 1e-300 with logits +-1e300: unique max */
    {
        const double z[3] = {-1e300, 1e300, -5e299};
        const double epss[] = {1e-300, 1.0, 1e100};
        for (size_t i = 0; i < 3; i++) {
            double f = hj_lse_vec(z, 3, epss[i], pi);
            nr_close(&c, f, (long double)1e300, 4 * U * 1e300, "z=(-1e300,1e300,-5e299) eps=%g f", epss[i]);
            nr_close(&c, pi[1], 1.0L, 4 * U, "z=(-1e300,1e300,-5e299) eps=%g pi_1", epss[i]);
            nr_close(&c, pi[0] + pi[2], 0.0L, 1e-300, "z=(-1e300,1e300,-5e299) eps=%g pi_0+pi_2", epss[i]);
        }
    }
    /* all logits -1e300 (eps tiny): f = -1e300, pi uniform */
    {
        const double z[3] = {-1e300, -1e300, -1e300};
        double f = hj_lse_vec(z, 3, 1e-300, pi);
        nr_close(&c, f, -(long double)1e300, 4 * U * 1e300, "z=-1e300 x3 eps=1e-300 f");
        for (size_t j = 0; j < 3; j++)
            nr_close(&c, pi[j], 1.0L / 3.0L, 4 * U, "z=-1e300 x3 eps=1e-300 pi_%zu", j);
        f = hj_lse_vec(z, 3, 1.0, pi);
        nr_close(&c, f, -(long double)1e300, 4 * U * 1e300, "z=-1e300 x3 eps=1 f");
    }
    /* eps = 1e300 with logits O(1e300): a = z/eps is O(1), evaluate exactly */
    {
        const double z[3] = {1e300, -1e300, 5e299};
        double f = hj_lse_vec(z, 3, 1e300, pi);
        long double S = expl(1.0L) + expl(-1.0L) + expl(0.5L);
        nr_close(&c, f, (long double)1e300 * logl(S), 8 * U * 1e300, "z=(1e300,-1e300,5e299) eps=1e300 f");
        nr_close(&c, pi[0], expl(1.0L) / S, 8 * U, "z=(1e300,-1e300,5e299) eps=1e300 pi_0");
        nr_close(&c, pi[1], expl(-1.0L) / S, 8 * U, "z=(1e300,-1e300,5e299) eps=1e300 pi_1");
        nr_close(&c, pi[2], expl(0.5L) / S, 8 * U, "z=(1e300,-1e300,5e299) eps=1e300 pi_2");
        const double z3[3] = {1e300, 1e300, 1e300};
        f = hj_lse_vec(z3, 3, 1e300, pi);
        nr_close(&c, f, (long double)1e300 * (1.0L + logl(3.0L)), 8 * U * 1e300, "z=1e300 x3 eps=1e300 f");
        nr_true(&c, all_finite(pi, 3), "z=1e300 x3 eps=1e300: pi not finite");
    }
    /* eps -> inf: f = eps log N + mean z + Var z/(2 eps) + O(eps^-2), pi -> 1/N */
    {
        nr_rng r;
        nr_seed(&r, 505);
        const double epss[] = {1e3, 1e6, 1e10, 1e100, 1e300};
        for (int rep = 0; rep < 10; rep++) {
            size_t N = (size_t)nr_int(&r, 2, 8);
            double z[8];
            nr_fill_normal(&r, z, N, 2.0);
            long double mean = 0, var = 0;
            for (size_t j = 0; j < N; j++)
                mean += z[j];
            mean /= (long double)N;
            for (size_t j = 0; j < N; j++)
                var += (z[j] - mean) * (z[j] - mean);
            var /= (long double)N;
            for (size_t i = 0; i < 5; i++) {
                double eps = epss[i];
                double f = hj_lse_vec(z, N, eps, pi);
                long double lim = (long double)eps * logl((long double)N) + mean;
                nr_true(&c, isfinite(f), "eps=%g f not finite", eps);
                nr_close(&c, f, lim, (double)(var / eps) + 8 * U * (eps * log((double)N) + 8.0),
                         "rep=%d N=%zu eps=%g f vs eps log N + mean z", rep, N, eps);
                for (size_t j = 0; j < N; j++)
                    nr_close(&c, pi[j], 1.0L / (long double)N, 4.0 * nr_max_abs(z, N) / eps + 8 * U,
                             "rep=%d N=%zu eps=%g pi_%zu vs 1/N", rep, N, eps, j);
            }
        }
    }
    /* the layer at extreme eps: finite outputs with the right limits */
    {
        nr_rng r;
        nr_seed(&r, 606);
        const size_t N = 12, d = 3;
        double w[12 * 3], b[12], x[3], f, p[12], g[3], H[9];
        long double zl[12];
        for (int rep = 0; rep < 10; rep++) {
            nr_random_layer(&r, N, d, 1.0, 1.0, w, b);
            nr_fill_unif(&r, x, d, -2, 2);
            nr_logits(w, b, N, d, x, zl);
            size_t jm = 0;
            for (size_t j = 1; j < N; j++)
                if (zl[j] > zl[jm])
                    jm = j;
            double Zs = nr_logit_scale(w, b, N, d, x);
            double mw = nr_max_row_norm(w, N, d);
            hj_error e;
            hj_error_clear(&e);
            hj_lse_layer L = {N, d, w, b, 1e-300};
            assert_int_equal(hj_lse_forward(&L, x, 1, &f, p, g, &e), HJ_OK);
            assert_int_equal(hj_lse_hessian(&L, x, H, &e), HJ_OK);
            nr_true(&c, isfinite(f) && all_finite(p, N) && all_finite(g, d) && all_finite(H, d * d),
                    "rep=%d eps=1e-300: non-finite output", rep);
            nr_close(&c, f, zl[jm], 1e-13 * Zs, "rep=%d eps=1e-300 layer f = max z", rep);
            nr_close(&c, p[jm], 1.0L, (double)(N + 8) * U, "rep=%d eps=1e-300 layer pi_argmax", rep);
            for (size_t q = 0; q < d; q++)
                nr_close(&c, g[q], w[jm * d + q], 8 * U * mw, "rep=%d eps=1e-300 layer grad_%zu = w_argmax",
                         rep, q);
            L.eps = 1e300;
            assert_int_equal(hj_lse_forward(&L, x, 1, &f, p, g, &e), HJ_OK);
            assert_int_equal(hj_lse_hessian(&L, x, H, &e), HJ_OK);
            nr_true(&c, isfinite(f) && all_finite(p, N) && all_finite(g, d) && all_finite(H, d * d),
                    "rep=%d eps=1e300: non-finite output", rep);
            nr_close(&c, f, (long double)1e300 * logl((long double)N), 8 * U * 1e300 * log((double)N),
                     "rep=%d eps=1e300 layer f = eps log N", rep);
            for (size_t j = 0; j < N; j++)
                nr_close(&c, p[j], 1.0L / (long double)N, 8 * U, "rep=%d eps=1e300 layer pi_%zu", rep, j);
            for (size_t q = 0; q < d; q++) {
                long double m = 0;
                for (size_t j = 0; j < N; j++)
                    m += w[j * d + q];
                nr_close(&c, g[q], m / (long double)N, (double)(N + 8) * U * mw,
                         "rep=%d eps=1e300 layer grad_%zu = mean w", rep, q);
            }
            for (size_t q = 0; q < d * d; q++)
                nr_true(&c, fabs(H[q]) <= mw * mw / 1e300 * (1 + 1e-12), "rep=%d eps=1e300 |hess|=%g > bound",
                        rep, H[q]);
        }
    }
    assert_true(nr_check_report(&c));
}

/* ---- softplus vs ReLU --------------------------------------------------------------- */

static double sp_fn(const double *x, void *ctx)
{
    return hj_softplus(x[0], *(const double *)ctx);
}

static void softplus_should_approach_relu_at_rate_eps_log2(void **state)
{
    (void)state;
    nr_check c, cb;
    nr_check_init(&c, "softplus vs naive / lse_vec / FD");
    nr_check_init(&cb, "0 <= softplus - relu <= eps log 2");
    for (size_t ie = 0; ie < N_EPS; ie++) {
        double eps = EPS_LIST[ie];
        for (int s = -80; s <= 80 + 5; s++) {
            double z = (s <= 80) ? eps * 0.5 * s : (double[]){-3.0, -0.5, 0.0, 0.5, 3.0}[s - 81];
            double sp = hj_softplus(z, eps);
            double relu = z > 0 ? z : 0.0;
            double diff = sp - relu;
            nr_true(&cb, diff >= 0.0, "eps=%g z=%.17g softplus-relu=%g < 0", eps, z, diff);
            nr_true(&cb, diff <= eps * log(2.0) * (1 + 4 * U) + 2 * U * fabs(z),
                    "eps=%g z=%.17g softplus-relu=%.17g > eps log2=%.17g", eps, z, diff, eps * log(2.0));
            long double zz[2] = {0.0L, z};
            long double ref = nr_lse(zz, 2, eps, NULL);
            double tol = 8 * U * (fabs(z) + eps);
            nr_close(&c, sp, ref, tol, "softplus eps=%g z=%.17g", eps, z);
            double zv[2] = {0.0, z};
            nr_close(&c, hj_lse_vec(zv, 2, eps, NULL), ref, tol, "lse_vec(0,z) eps=%g z=%.17g", eps, z);
            double gr = hj_softplus_grad(z, eps);
            long double lg = 1.0L / (1.0L + expl(-(long double)z / (long double)eps));
            nr_close(&c, gr, lg, 32 * U, "softplus_grad vs logistic eps=%g z=%.17g", eps, z);
            double xx[1] = {z};
            double epsv = eps;
            double fd = nr_fd1(sp_fn, &epsv, xx, 0, 1e-3 * eps);
            /* FD round-off: u |softplus| / h with h ~ 1e-3 eps */
            nr_close(&c, gr, fd, 1e-8 + 4e-13 * (fabs(z) / eps + 1.0), "softplus_grad vs FD eps=%g z=%.17g", eps, z);
        }
    }
    /* eps = 0: exactly ReLU, gradient 1 / 0.5 / 0 */
    const double zs[] = {-7.25, -1e-300, 0.0, 1e-300, 3.5, 1e300, -1e300};
    for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++) {
        double z = zs[i];
        nr_true(&c, hj_softplus(z, 0.0) == (z > 0 ? z : 0.0), "softplus(%g, 0) = %g != relu", z,
                hj_softplus(z, 0.0));
        double ge = z > 0 ? 1.0 : (z < 0 ? 0.0 : 0.5);
        nr_true(&c, hj_softplus_grad(z, 0.0) == ge, "softplus_grad(%g, 0) = %g != %g", z,
                hj_softplus_grad(z, 0.0), ge);
    }
    /* extremes */
    nr_close(&c, hj_softplus(1e300, 1e-300), (long double)1e300, 4 * U * 1e300, "softplus(1e300, 1e-300)");
    nr_close(&c, hj_softplus(-1e300, 1e-300), 0.0L, 1e-300, "softplus(-1e300, 1e-300)");
    nr_close(&c, hj_softplus(1e300, 1e300), (long double)1e300 * log1pl(expl(1.0L)), 8 * U * 1e300, "softplus(1e300, 1e300)");
    nr_close(&c, hj_softplus(0.0, 1e300), (long double)1e300 * logl(2.0L), 8 * U * 1e300, "softplus(0, 1e300)");
    nr_close(&c, hj_softplus(0.0, 1e-300), (long double)1e-300 * logl(2.0L), 8 * U * 1e-300, "softplus(0, 1e-300)");
    nr_close(&c, hj_softplus(-1e300, 1.0), 0.0L, 1e-300, "softplus(-1e300, 1)");
    nr_close(&c, hj_softplus(1e300, 1.0), (long double)1e300, 4 * U * 1e300, "softplus(1e300, 1)");
    nr_close(&c, hj_softplus_grad(1e300, 1e-300), 1.0L, 0.0 + 4 * U, "softplus_grad(1e300, 1e-300)");
    nr_close(&c, hj_softplus_grad(-1e300, 1e-300), 0.0L, 1e-300, "softplus_grad(-1e300, 1e-300)");
    nr_close(&c, hj_softplus_grad(0.0, 1e300), 0.5L, 4 * U, "softplus_grad(0, 1e300)");
    nr_close(&c, hj_softplus_grad(1e300, 1e300), 1.0L / (1.0L + expl(-1.0L)), 8 * U, "softplus_grad(1e300, 1e300)");
    int ok = nr_check_report(&c);
    ok &= nr_check_report(&cb);
    assert_true(ok);
}

/* ---- tropical limit and its rate ------------------------------------------------------ */

static void tropical_gap_should_obey_eps_logN_and_sharp_bound(void **state)
{
    (void)state;
    nr_check c;
    nr_check_init(&c, "tropical bounds");
    nr_rng r;
    nr_seed(&r, 707);
    const size_t Ns[] = {2, 5, 50, 500};
    const double epss[] = {1e-9, 1e-6, 1e-3, 0.03, 0.1, 0.3, 1.0, 10.0, 100.0, 1e3};
    const size_t d = 3, n = 6;
    for (size_t a = 0; a < 4; a++) {
        size_t N = Ns[a];
        double *w = nr_xmalloc(N * d * sizeof *w), *b = nr_xmalloc(N * sizeof *b);
        double x[6 * 3], f0[6], fe[6];
        long double *zl = nr_xmalloc(N * sizeof *zl);
        nr_random_layer(&r, N, d, 1.0, 0.5, w, b);
        nr_fill_unif(&r, x, n * d, -2, 2);
        hj_lse_layer L = {N, d, w, b, 0.0};
        hj_error e;
        hj_error_clear(&e);
        assert_int_equal(hj_lse_forward(&L, x, n, f0, NULL, NULL, &e), HJ_OK);
        for (size_t ie = 0; ie < sizeof epss / sizeof epss[0]; ie++) {
            double eps = epss[ie];
            L.eps = eps;
            assert_int_equal(hj_lse_forward(&L, x, n, fe, NULL, NULL, &e), HJ_OK);
            for (size_t i = 0; i < n; i++) {
                nr_logits(w, b, N, d, x + i * d, zl);
                long double z1 = -INFINITY, z2 = -INFINITY;
                for (size_t j = 0; j < N; j++) {
                    if (zl[j] > z1) {
                        z2 = z1;
                        z1 = zl[j];
                    } else if (zl[j] > z2) {
                        z2 = zl[j];
                    }
                }
                double gap = (double)(z1 - z2);
                double Zs = nr_logit_scale(w, b, N, d, x + i * d);
                double slack = 16 * U * (Zs + eps * log((double)N));
                double diff = fe[i] - f0[i];
                nr_true(&c, fabsl((long double)f0[i] - z1) <= 16 * U * Zs, "N=%zu i=%zu f_0=%.17g != max z=%.17Lg",
                        N, i, f0[i], z1);
                nr_true(&c, diff >= -slack, "N=%zu eps=%g i=%zu f_eps - f_0 = %g < 0", N, eps, i, diff);
                nr_true(&c, diff <= eps * log((double)N) + slack, "N=%zu eps=%g i=%zu f_eps - f_0 = %.17g > eps log N = %.17g",
                        N, eps, i, diff, eps * log((double)N));
                double sharp = eps * log1p((double)(N - 1) * exp(-gap / eps));
                double lower = eps * log1p(exp(-gap / eps));
                nr_true(&c, diff <= sharp * (1 + 1e-12) + slack,
                        "N=%zu eps=%g i=%zu f_eps - f_0 = %.17g > eps log(1+(N-1)e^{-gap/eps}) = %.17g (gap %g)", N,
                        eps, i, diff, sharp, gap);
                nr_true(&c, diff >= lower * (1 - 1e-12) - slack,
                        "N=%zu eps=%g i=%zu f_eps - f_0 = %.17g < eps log(1+e^{-gap/eps}) = %.17g (gap %g)", N, eps,
                        i, diff, lower, gap);
            }
        }
        free(w);
        free(b);
        free(zl);
    }
    assert_true(nr_check_report(&c));
}

/* ---- gradient and Hessian vs finite differences ---------------------------------------- */

static void gradient_and_hessian_should_match_finite_differences(void **state)
{
    (void)state;
    nr_check cg, ch, ch2, chn;
    nr_check_init(&cg, "grad vs FD of f");
    nr_check_init(&ch, "hessian vs FD of library grad");
    nr_check_init(&chn, "hessian vs FD of naive grad");
    nr_check_init(&ch2, "hessian vs second differences of f");
    nr_rng r;
    nr_seed(&r, 808);
    const size_t ds[] = {1, 2, 3, 6};
    const size_t Ns[] = {2, 8, 40, 8};
    const double epss[] = {0.01, 0.1, 1.0, 5.0, 100.0};
    for (size_t a = 0; a < 4; a++) {
        size_t N = Ns[a], d = ds[a];
        double *w = nr_xmalloc(N * d * sizeof *w), *b = nr_xmalloc(N * sizeof *b);
        double *g = nr_xmalloc(d * sizeof *g), *H = nr_xmalloc(d * d * sizeof *H), *x = nr_xmalloc(d * sizeof *x);
        for (int rep = 0; rep < 3; rep++) {
            nr_random_layer(&r, N, d, 1.5, 0.5, w, b);
            nr_fill_unif(&r, x, d, -1.5, 1.5);
            double mw = nr_max_row_norm(w, N, d);
            double Zs = nr_logit_scale(w, b, N, d, x);
            for (size_t ie = 0; ie < sizeof epss / sizeof epss[0]; ie++) {
                double eps = epss[ie];
                hj_lse_layer L = {N, d, w, b, eps};
                hj_error e;
                hj_error_clear(&e);
                double f;
                assert_int_equal(hj_lse_forward(&L, x, 1, &f, NULL, g, &e), HJ_OK);
                assert_int_equal(hj_lse_hessian(&L, x, H, &e), HJ_OK);
                fd_ctx ctx = {&L, 0};
                double h = 2e-3 * eps / mw;
                for (size_t k = 0; k < d; k++) {
                    double fd = nr_fd1(f_fn, &ctx, x, k, h);
                    nr_close(&cg, g[k], fd, 1e-8 * mw + 1e-11 * Zs * mw / eps, "N=%zu d=%zu rep=%d eps=%g k=%zu", N,
                             d, rep, eps, k);
                }
                if (eps > 5.0)
                    continue; /* Hessian FD at eps in {0.01, 0.1, 1, 5} */
                double sc = mw * mw / eps;
                for (size_t k = 0; k < d; k++) {
                    fd_ctx cc = {&L, k};
                    for (size_t l = 0; l < d; l++) {
                        double fdg = nr_fd1(grad_fn, &cc, x, l, h);
                        nr_close(&ch, H[k * d + l], fdg, 1e-9 * sc, "N=%zu d=%zu rep=%d eps=%g H[%zu][%zu]", N, d,
                                 rep, eps, k, l);
                        double fdn = nr_fd1(naive_grad_fn, &cc, x, l, h);
                        nr_close(&chn, H[k * d + l], fdn, 1e-9 * sc, "N=%zu d=%zu rep=%d eps=%g H[%zu][%zu]", N, d,
                                 rep, eps, k, l);
                        double fd2 = nr_fd2(f_fn, &ctx, x, k, l, 1e-2 * eps / mw);
                        nr_close(&ch2, H[k * d + l], fd2, 1e-6 * sc + 1e-10 * Zs * sc / eps,
                                 "N=%zu d=%zu rep=%d eps=%g H[%zu][%zu]", N, d, rep, eps, k, l);
                    }
                }
            }
        }
        free(w);
        free(b);
        free(g);
        free(H);
        free(x);
    }
    int ok = nr_check_report(&cg);
    ok &= nr_check_report(&ch);
    ok &= nr_check_report(&chn);
    ok &= nr_check_report(&ch2);
    assert_true(ok);
}

/* ---- Hessian norm, curvature bound, Lipschitz -------------------------------------------- */

static void hessian_norm_should_equal_lambda_max_and_respect_bounds(void **state)
{
    (void)state;
    nr_check cn, cb, cl;
    nr_check_init(&cn, "hessian_norm vs lambda_max(own Cov)/eps");
    nr_check_init(&cb, "curvature bound max|w|^2/eps never violated");
    nr_check_init(&cl, "Lipschitz |grad f| <= max|w_j|");
    nr_rng r;
    nr_seed(&r, 909);
    const size_t ds[] = {1, 2, 3, 5, 8};
    const size_t Ns[] = {2, 10, 50};
    const double epss[] = {1e-6, 1e-3, 0.1, 1.0, 10.0, 1e3};
    const size_t n = 4;
    for (size_t a = 0; a < 5; a++)
        for (size_t bn = 0; bn < 3; bn++) {
            size_t d = ds[a], N = Ns[bn];
            double *w = nr_xmalloc(N * d * sizeof *w), *b = nr_xmalloc(N * sizeof *b);
            double *x = nr_xmalloc(n * d * sizeof *x), *g = nr_xmalloc(n * d * sizeof *g), f[4], nrm[4];
            long double *C = nr_xmalloc(d * d * sizeof *C);
            nr_random_layer(&r, N, d, 2.0, 1.0, w, b);
            nr_fill_unif(&r, x, n * d, -3, 3);
            x[0] *= 100.0; /* one far-away point */
            double mw = nr_max_row_norm(w, N, d);
            for (size_t ie = 0; ie < sizeof epss / sizeof epss[0]; ie++) {
                double eps = epss[ie];
                hj_lse_layer L = {N, d, w, b, eps};
                hj_error e;
                hj_error_clear(&e);
                assert_int_equal(hj_lse_hessian_norm(&L, x, n, nrm, &e), HJ_OK);
                assert_int_equal(hj_lse_forward(&L, x, n, f, NULL, g, &e), HJ_OK);
                double bound = hj_lse_curvature_bound(&L);
                nr_close(&cb, bound, (long double)mw * mw / eps, 8 * U * mw * mw / eps,
                         "curvature_bound d=%zu N=%zu eps=%g vs own max|w|^2/eps", d, N, eps);
                nr_close(&cl, hj_lse_lipschitz(&L), mw, 4 * U * mw, "lipschitz d=%zu N=%zu vs own max|w|", d, N);
                for (size_t i = 0; i < n; i++) {
                    long double fr;
                    nr_lse_layer(w, b, N, d, eps, x + i * d, &fr, NULL, NULL, C);
                    long double lam = nr_sym_eigmax(C, d);
                    double Zs = nr_logit_scale(w, b, N, d, x + i * d);
                    double tol = (1e-12 * (1.0 + Zs / eps) + (double)(N + 8) * U) * mw * mw / eps;
                    nr_close(&cn, nrm[i], lam / eps, tol, "d=%zu N=%zu eps=%g i=%zu (Jacobi)", d, N, eps, i);
                    if (d == 2) {
                        long double p = C[0], q = C[1], s = C[3];
                        long double lam2 = 0.5L * (p + s) + sqrtl(0.25L * (p - s) * (p - s) + q * q);
                        nr_close(&cn, nrm[i], lam2 / eps, tol, "d=2 N=%zu eps=%g i=%zu (closed form)", N, eps, i);
                    }
                    nr_true(&cb, nrm[i] <= bound * (1 + 1e-12), "d=%zu N=%zu eps=%g i=%zu ||hess||=%.17g > bound %.17g",
                            d, N, eps, i, nrm[i], bound);
                    long double gn = 0;
                    for (size_t k = 0; k < d; k++)
                        gn += (long double)g[i * d + k] * g[i * d + k];
                    nr_true(&cl, sqrtl(gn) <= mw * (1 + 1e-13), "d=%zu N=%zu eps=%g i=%zu |grad|=%.17Lg > %.17g", d, N,
                            eps, i, sqrtl(gn), mw);
                }
            }
            /* eps = 0: bound +inf, gradient still within max|w_j| */
            hj_lse_layer L0 = {N, d, w, b, 0.0};
            double b0 = hj_lse_curvature_bound(&L0);
            nr_true(&cb, isinf(b0) && b0 > 0, "curvature bound at eps=0 is %g, expected +inf", b0);
            hj_error e;
            hj_error_clear(&e);
            assert_int_equal(hj_lse_forward(&L0, x, n, f, NULL, g, &e), HJ_OK);
            for (size_t i = 0; i < n; i++) {
                long double gn = 0;
                for (size_t k = 0; k < d; k++)
                    gn += (long double)g[i * d + k] * g[i * d + k];
                nr_true(&cl, sqrtl(gn) <= mw * (1 + 1e-13), "eps=0 d=%zu N=%zu i=%zu |grad|=%.17Lg > %.17g", d, N, i,
                        sqrtl(gn), mw);
            }
            free(w);
            free(b);
            free(x);
            free(g);
            free(C);
        }
    int ok = nr_check_report(&cn);
    ok &= nr_check_report(&cb);
    ok &= nr_check_report(&cl);
    assert_true(ok);
}

/* ---- error paths ------------------------------------------------------------------------- */

/* A NaN logit must surface: f = NaN and every weight NaN, with or without
 * pi, at any eps and wherever the NaN sits (first entry, inside a vector,
 * last of a ragged tail); +-inf and finite neighbours do not change that. */
static void nan_logit_should_give_nan(void **state)
{
    (void)state;
    const size_t Ns[] = {1, 7, 8, 9, 300};
    const double epss[] = {0.0, 1e-300, 0.1, 1e300};
    for (size_t a = 0; a < sizeof Ns / sizeof *Ns; a++) {
        const size_t N = Ns[a];
        double *z = malloc(N * sizeof *z), *pi = malloc(N * sizeof *pi);
        assert_non_null(z);
        assert_non_null(pi);
        const size_t where[3] = {0, N / 2, N - 1};
        for (size_t e = 0; e < sizeof epss / sizeof *epss; e++)
            for (int w = 0; w < 3; w++) {
                for (size_t j = 0; j < N; j++)
                    z[j] = j % 3 == 1 ? -INFINITY : 0.25 * (double)j;
                z[where[w]] = NAN;
                assert_true(isnan(hj_lse_vec(z, N, epss[e], NULL)));
                assert_true(isnan(hj_lse_vec(z, N, epss[e], pi)));
                for (size_t j = 0; j < N; j++)
                    assert_true(isnan(pi[j]));
            }
        free(z);
        free(pi);
    }
}

static void invalid_arguments_should_be_refused_with_message(void **state)
{
    (void)state;
    nr_check c;
    nr_check_init(&c, "lse error paths");
    double w[6] = {1, 2, 3, 4, 5, 6}, b[3] = {0, 1, 2}, x[2] = {0.5, -0.5}, f[1], pi[3], g[2], H[4], nrm[1];
    double xn[2] = {NAN, 0.0}, wn[6] = {1, 2, NAN, 4, 5, 6}, bi[3] = {0, INFINITY, 2};
    struct {
        const char *what;
        hj_lse_layer L;
    } bad[] = {
        {"eps < 0", {3, 2, w, b, -1.0}},
        {"eps = NaN", {3, 2, w, b, NAN}},
        {"eps = +inf", {3, 2, w, b, INFINITY}},
        {"N = 0", {0, 2, w, b, 1.0}},
        {"d = 0", {3, 0, w, b, 1.0}},
        {"w = NULL", {3, 2, NULL, b, 1.0}},
        {"b = NULL", {3, 2, w, NULL, 1.0}},
        {"NaN in w", {3, 2, wn, b, 1.0}},
        {"inf in b", {3, 2, w, bi, 1.0}},
    };
    char what[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hj_error e;
        hj_error_clear(&e);
        snprintf(what, sizeof what, "hj_lse_check(%s)", bad[i].what);
        nr_expect_error(&c, hj_lse_check(&bad[i].L, &e), &e, what);
        hj_error_clear(&e);
        snprintf(what, sizeof what, "hj_lse_forward(%s)", bad[i].what);
        nr_expect_error(&c, hj_lse_forward(&bad[i].L, x, 1, f, pi, g, &e), &e, what);
        hj_error_clear(&e);
        snprintf(what, sizeof what, "hj_lse_hessian(%s)", bad[i].what);
        nr_expect_error(&c, hj_lse_hessian(&bad[i].L, x, H, &e), &e, what);
        hj_error_clear(&e);
        snprintf(what, sizeof what, "hj_lse_hessian_norm(%s)", bad[i].what);
        nr_expect_error(&c, hj_lse_hessian_norm(&bad[i].L, x, 1, nrm, &e), &e, what);
        /* err may be NULL */
        nr_true(&c, hj_lse_forward(&bad[i].L, x, 1, f, pi, g, NULL) != HJ_OK, "hj_lse_forward(%s, err=NULL) OK",
                bad[i].what);
    }
    hj_lse_layer L = {3, 2, w, b, 1.0};
    hj_error e;
    hj_error_clear(&e);
    nr_expect_error(&c, hj_lse_forward(&L, xn, 1, f, pi, g, &e), &e, "hj_lse_forward(NaN in x)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_lse_forward(&L, NULL, 1, f, pi, g, &e), &e, "hj_lse_forward(x = NULL)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_lse_forward(&L, x, 1, NULL, pi, g, &e), &e, "hj_lse_forward(f = NULL)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_lse_forward(NULL, x, 1, f, pi, g, &e), &e, "hj_lse_forward(L = NULL)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_lse_hessian(&L, xn, H, &e), &e, "hj_lse_hessian(NaN in x)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_lse_hessian(&L, x, NULL, &e), &e, "hj_lse_hessian(hess = NULL)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_lse_hessian_norm(&L, xn, 1, nrm, &e), &e, "hj_lse_hessian_norm(NaN in x)");
    hj_error_clear(&e);
    nr_expect_error(&c, hj_lse_hessian_norm(&L, x, 1, NULL, &e), &e, "hj_lse_hessian_norm(norm = NULL)");
    /* a valid call leaves err untouched and succeeds */
    hj_error_clear(&e);
    nr_true(&c, hj_lse_forward(&L, x, 1, f, pi, g, &e) == HJ_OK && e.code == HJ_OK && e.msg[0] == '\0',
            "valid hj_lse_forward did not succeed cleanly: %s", e.msg);
    assert_true(nr_check_report(&c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lse_vec_should_match_naive),
        cmocka_unit_test(lse_forward_should_match_naive),
        cmocka_unit_test(eps0_should_give_exact_max_and_uniform_ties),
        cmocka_unit_test(duplicated_neuron_should_act_as_bias_shift_eps_log2),
        cmocka_unit_test(extreme_eps_and_logits_should_give_analytic_limits),
        cmocka_unit_test(softplus_should_approach_relu_at_rate_eps_log2),
        cmocka_unit_test(tropical_gap_should_obey_eps_logN_and_sharp_bound),
        cmocka_unit_test(gradient_and_hessian_should_match_finite_differences),
        cmocka_unit_test(hessian_norm_should_equal_lambda_max_and_respect_bounds),
        cmocka_unit_test(nan_logit_should_give_nan),
        cmocka_unit_test(invalid_arguments_should_be_refused_with_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
