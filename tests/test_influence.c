/* test_influence.c — closed-form leave-one-out and ablation changes vs brute-force recomputation, and the explain summary vs a naive computation. */
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

#include "hjdl/hopf.h"
#include "hjdl/influence.h"
#include "hjdl/lse.h"
#include "naive_ref.h"

#define U DBL_EPSILON

/* ---- brute force, in long double, written from the definitions -------------- */

/* Gibbs average over the atoms j != skip (skip = N: none) of logits a (N)
 * at eps: P (nv). */
static void bf_average(const double *a, size_t N, double eps, const double *v, size_t nv, size_t skip,
                       long double *P)
{
    long double *z = nr_xmalloc(N * sizeof *z), *pi = nr_xmalloc(N * sizeof *pi);
    size_t M = 0;
    for (size_t j = 0; j < N; j++)
        if (j != skip)
            z[M++] = a[j];
    nr_lse(z, M, eps, pi);
    for (size_t c = 0; c < nv; c++) {
        long double s = 0.0L;
        size_t m = 0;
        for (size_t j = 0; j < N; j++)
            if (j != skip)
                s += pi[m++] * v[j * nv + c];
        P[c] = s;
    }
    free(z);
    free(pi);
}

/* LSE over the atoms j != skip. */
static long double bf_lse(const double *a, size_t N, double eps, size_t skip)
{
    long double *z = nr_xmalloc(N * sizeof *z);
    size_t M = 0;
    for (size_t j = 0; j < N; j++)
        if (j != skip)
            z[M++] = a[j];
    long double F = nr_lse(z, M, eps, NULL);
    free(z);
    return F;
}

/* Random logits: a_j = scale * normal; `ties` copies of the maximum are
 * planted at random positions (exact ties). */
static void random_logits(nr_rng *r, double *a, size_t N, double scale, size_t ties)
{
    nr_fill_normal(r, a, N, scale);
    size_t jm = 0;
    for (size_t j = 1; j < N; j++)
        if (a[j] > a[jm])
            jm = j;
    for (size_t t = 0; t < ties; t++)
        a[(size_t)nr_int(r, 0, (long)N - 1)] = a[jm];
}

/* Closed-form LOO from logits vs brute force on the same logits: the
 * difference must be within tol_rel * max|v| (no logit rounding enters). */
static void check_loo_logits(nr_check *ck, const double *a, size_t N, double eps, const double *v,
                             size_t nv, double tol_rel, const char *tag)
{
    double *P = nr_xmalloc(nv * sizeof *P), *delta = nr_xmalloc(N * nv * sizeof *delta);
    long double *Pb = nr_xmalloc(nv * sizeof *Pb), *Pk = nr_xmalloc(nv * sizeof *Pk);
    hj_error e;
    hj_error_clear(&e);
    hj_status st = hj_influence_loo_logits(a, N, eps, v, nv, P, delta, &e);
    if (!nr_true(ck, st == HJ_OK, "%s: call failed: %s", tag, e.msg))
        goto out;
    const double tol = tol_rel * fmax(nr_max_abs(v, N * nv), 1e-300);
    bf_average(a, N, eps, v, nv, N, Pb);
    for (size_t c = 0; c < nv; c++)
        nr_close(ck, P[c], Pb[c], tol, "%s: P[%zu] N=%zu eps=%g", tag, c, N, eps);
    for (size_t k = 0; k < N; k++) {
        bf_average(a, N, eps, v, nv, k, Pk);
        for (size_t c = 0; c < nv; c++)
            nr_close(ck, delta[k * nv + c], Pk[c] - Pb[c], tol, "%s: delta[%zu][%zu] N=%zu eps=%g", tag, k, c,
                     N, eps);
    }
out:
    free(P), free(delta), free(Pb), free(Pk);
}

/* Closed-form ablation vs brute force on the same logits: |delta - bf| <=
 * tol_rel * (max|a| + eps log N), and relative tol_rel where |bf| is above
 * 1e-6 of that scale (the brute-force difference is exact to ~1e-19 there). */
static void check_ablation_logits(nr_check *ck, const double *a, size_t N, double eps, double tol_rel,
                                  const char *tag)
{
    double F = NAN, *delta = nr_xmalloc(N * sizeof *delta);
    hj_error e;
    hj_error_clear(&e);
    hj_status st = hj_influence_ablation_logits(a, N, eps, &F, delta, &e);
    if (nr_true(ck, st == HJ_OK, "%s: call failed: %s", tag, e.msg)) {
        const double scale = nr_max_abs(a, N) + eps * log((double)N) + 1e-300;
        long double Fb = bf_lse(a, N, eps, N);
        nr_close(ck, F, Fb, tol_rel * scale, "%s: F N=%zu eps=%g", tag, N, eps);
        for (size_t k = 0; k < N; k++) {
            long double d = bf_lse(a, N, eps, k) - Fb;
            double tol = tol_rel * scale;
            if (fabsl(d) > 1e-6 * scale)
                tol = fmin(tol, tol_rel * (double)fabsl(d) + 1e-18 * scale);
            nr_close(ck, delta[k], d, tol, "%s: delta[%zu] N=%zu eps=%g", tag, k, N, eps);
            nr_true(ck, delta[k] <= 0.0, "%s: ablation change %g > 0 at k=%zu", tag, delta[k], k);
        }
    }
    free(delta);
}

/* Naive Hopf–Cole costs c (N) at x and their largest magnitude, the scale
 * of the library's logit rounding (~8 u (max cost + 1)). */
static double naive_costs(const double *y, const double *g, size_t N, size_t d, const long double *Ainv,
                          const double *x, double t, long double *c)
{
    nr_hopf_costs(y, g, N, d, Ainv, x, t, c);
    double cmax = 0.0;
    for (size_t j = 0; j < N; j++)
        cmax = fmax(cmax, (double)fabsl(c[j]));
    return cmax;
}

/* ---- tests -------------------------------------------------------------------- */

/* Random logits over a range of eps from 0 (with planted ties) to 1e3, N
 * from 2 to 300, one or three value columns. */
static void loo_and_ablation_match_brute_force_on_random_logits(void **state)
{
    (void)state;
    nr_check loo, abl;
    nr_check_init(&loo, "LOO vs brute force (logits)");
    nr_check_init(&abl, "ablation vs brute force (logits)");
    nr_rng r;
    nr_seed(&r, 11);
    const size_t Ns[] = {2, 3, 5, 17, 100, 300};
    const double epss[] = {0.0, 1e-3, 0.05, 0.3, 1.0, 7.0, 1e3};
    for (size_t a_ = 0; a_ < sizeof Ns / sizeof Ns[0]; a_++) {
        for (size_t e_ = 0; e_ < sizeof epss / sizeof epss[0]; e_++) {
            for (size_t ties = 0; ties < 3; ties++) {
                const size_t N = Ns[a_], nv = 1 + 2 * (ties % 2);
                double *a = nr_xmalloc(N * sizeof *a), *v = nr_xmalloc(N * nv * sizeof *v);
                random_logits(&r, a, N, 2.0, ties);
                nr_fill_normal(&r, v, N * nv, 3.0);
                check_loo_logits(&loo, a, N, epss[e_], v, nv, 1e-13, "random");
                check_ablation_logits(&abl, a, N, epss[e_], 1e-13, "random");
                free(a), free(v);
            }
        }
    }
    assert_true(nr_check_report(&loo));
    assert_true(nr_check_report(&abl));
}

/* pi_k -> 1: the top weight's complement 1 - pi_k ranges from 1e-13
 * (cancellation in 1 - pi_k) down to below the smallest double (exp of
 * -1e10), and eps = 1e-300. The formulas must stay exact. */
static void loo_and_ablation_stay_exact_when_one_weight_dominates(void **state)
{
    (void)state;
    nr_check loo, abl;
    nr_check_init(&loo, "LOO, pi_k -> 1");
    nr_check_init(&abl, "ablation, pi_k -> 1");
    nr_rng r;
    nr_seed(&r, 12);
    for (int rep = 0; rep < 40; rep++) {
        const size_t N = (size_t)nr_int(&r, 2, 60), nv = 2;
        double *a = nr_xmalloc(N * sizeof *a), *v = nr_xmalloc(N * nv * sizeof *v);
        random_logits(&r, a, N, 1.0, 0);
        nr_fill_normal(&r, v, N * nv, 1.0);
        /* the gap between the two largest logits */
        double m1 = -INFINITY, m2 = -INFINITY;
        for (size_t j = 0; j < N; j++) {
            if (a[j] > m1) {
                m2 = m1;
                m1 = a[j];
            } else if (a[j] > m2) {
                m2 = a[j];
            }
        }
        const double gap = m1 - m2;
        const double epss[] = {gap / 30.0, gap / 300.0, gap / 1e4, 1e-10, 1e-300};
        for (size_t e_ = 0; e_ < 5; e_++) {
            if (!(epss[e_] > 0.0))
                continue;
            check_loo_logits(&loo, a, N, epss[e_], v, nv, 1e-13, "dominant");
            check_ablation_logits(&abl, a, N, epss[e_], 1e-13, "dominant");
        }
        /* explicitly: the arg-max's ablation change at tiny eps is the gap */
        double F, *delta = nr_xmalloc(N * sizeof *delta);
        hj_error e;
        hj_error_clear(&e);
        assert_int_equal(hj_influence_ablation_logits(a, N, 1e-300, &F, delta, &e), HJ_OK);
        size_t j1 = 0;
        for (size_t j = 1; j < N; j++)
            if (a[j] > a[j1])
                j1 = j;
        nr_close(&abl, delta[j1], -(long double)gap, 4 * U * fabs(m1), "gap at eps = 1e-300");
        nr_close(&abl, F, m1, 0.0 + U * fabs(m1) + 1e-300, "F = max at eps = 1e-300");
        free(delta);
        free(a), free(v);
    }
    assert_true(nr_check_report(&loo));
    assert_true(nr_check_report(&abl));
}

/* eps = 0 by hand: outside the arg-max set nothing changes; inside a tie of
 * size m, LOO (P - v_k)/(m - 1) and ablation 0; the unique arg-max: the
 * mean over the second set minus v_k, and the gap. */
static void eps_zero_cases_by_hand(void **state)
{
    (void)state;
    hj_error e;
    hj_error_clear(&e);
    /* tie of size 3 at 2.0 (atoms 0, 2, 4) */
    const double a[6] = {2.0, 1.0, 2.0, -1.0, 2.0, 1.0};
    const double v[6] = {1.0, 10.0, 4.0, 20.0, 7.0, 30.0};
    double P, delta[6], F, dab[6];
    assert_int_equal(hj_influence_loo_logits(a, 6, 0.0, v, 1, &P, delta, &e), HJ_OK);
    assert_true(P == 4.0);
    const double want[6] = {(4.0 - 1.0) / 2, 0, 0, 0, (4.0 - 7.0) / 2, 0};
    for (int k = 0; k < 6; k++)
        assert_true(delta[k] == want[k]);
    assert_int_equal(hj_influence_ablation_logits(a, 6, 0.0, &F, dab, &e), HJ_OK);
    assert_true(F == 2.0);
    for (int k = 0; k < 6; k++)
        assert_true(dab[k] == 0.0);
    /* unique arg-max 3.0 (atom 3); second set at 1.0: atoms 1 and 5 */
    const double b[6] = {0.5, 1.0, -2.0, 3.0, 0.0, 1.0};
    assert_int_equal(hj_influence_loo_logits(b, 6, 0.0, v, 1, &P, delta, &e), HJ_OK);
    assert_true(P == 20.0);
    for (int k = 0; k < 6; k++)
        assert_true(delta[k] == (k == 3 ? (10.0 + 30.0) / 2 - 20.0 : 0.0));
    assert_int_equal(hj_influence_ablation_logits(b, 6, 0.0, &F, dab, &e), HJ_OK);
    assert_true(F == 3.0);
    for (int k = 0; k < 6; k++)
        assert_true(dab[k] == (k == 3 ? 1.0 - 3.0 : 0.0));
}

/* Batch APIs on atoms (with and without a metric) and on a layer, against
 * brute force built from the naive Hopf–Cole costs / logits in long double.
 * The library forms its logits in double, so the tolerance allows their
 * rounding, amplified by 1/eps in the weights. */
static void batch_apis_match_brute_force(void **state)
{
    (void)state;
    nr_check loo, abl;
    nr_check_init(&loo, "batch LOO vs brute force");
    nr_check_init(&abl, "batch ablation vs brute force");
    nr_rng r;
    nr_seed(&r, 13);
    hj_error e;
    hj_error_clear(&e);
    for (int rep = 0; rep < 12; rep++) {
        const size_t N = (size_t)nr_int(&r, 2, 150), d = (size_t)nr_int(&r, 1, 3), n = 4, nv = 2;
        const double t = nr_unif(&r, 0.3, 2.0);
        const double eps = rep % 4 == 0 ? 0.0 : pow(10.0, nr_unif(&r, -2.0, 1.0));
        double *y = nr_xmalloc(N * d * sizeof *y), *g = nr_xmalloc(N * sizeof *g), *v = nr_xmalloc(N * nv * sizeof *v);
        double *x = nr_xmalloc(n * d * sizeof *x), *P = nr_xmalloc(n * nv * sizeof *P);
        double *delta = nr_xmalloc(n * N * nv * sizeof *delta), *u = nr_xmalloc(n * sizeof *u);
        double *du = nr_xmalloc(n * N * sizeof *du), *a = nr_xmalloc(N * sizeof *a);
        long double *c = nr_xmalloc(N * sizeof *c), *Pb = nr_xmalloc(nv * sizeof *Pb), *Pk = nr_xmalloc(nv * sizeof *Pk);
        nr_fill_unif(&r, y, N * d, -1.0, 1.0);
        nr_fill_unif(&r, g, N, 0.0, 0.5);
        nr_fill_normal(&r, v, N * nv, 1.0);
        nr_fill_unif(&r, x, n * d, -1.2, 1.2);
        if (eps == 0.0 && N > 2) {   /* an exact tie: duplicate atom 0 into atom 1 */
            memcpy(y + d, y, d * sizeof *y);
            g[1] = g[0];
            memcpy(x, y, d * sizeof *x);   /* and query at it, so it is the arg-max */
        }
        /* a metric in half of the cases */
        hj_metric *M = NULL;
        long double Ainv[9], *Ai = NULL;
        if (rep % 2 == 1) {
            double A[9] = {0};
            for (size_t i = 0; i < d; i++)
                for (size_t k = 0; k < d; k++)
                    A[i * d + k] = (i == k ? 1.5 : 0.3);
            assert_int_equal(hj_metric_alloc(&M, A, d, &e), HJ_OK);
            assert_int_equal(nr_inverse(A, d, Ainv, NULL), 0);
            Ai = Ainv;
        }
        hj_atoms at = {N, d, y, g};
        assert_int_equal(hj_influence_loo_atoms(&at, M, x, n, t, eps, v, nv, P, delta, &e), HJ_OK);
        assert_int_equal(hj_influence_ablation_atoms(&at, M, x, n, t, eps, u, du, &e), HJ_OK);
        const double vmax = nr_max_abs(v, N * nv);
        for (size_t i = 0; i < n; i++) {
            const double cmax = naive_costs(y, g, N, d, Ai, x + i * d, t, c);
            for (size_t j = 0; j < N; j++)
                a[j] = (double)-c[j];
            /* logits rounding: ~8 u (cmax + 1) absolute; in the weights / eps */
            const double sens = eps > 0.0 ? 8.0 * U * (cmax + 1.0) / eps : 0.0;
            bf_average(a, N, eps, v, nv, N, Pb);
            for (size_t cc = 0; cc < nv; cc++)
                nr_close(&loo, P[i * nv + cc], Pb[cc], (1e-13 + 4 * sens) * vmax, "atoms P rep %d", rep);
            long double ub = -bf_lse(a, N, eps, N);
            nr_close(&abl, u[i], ub, 1e-13 * (cmax + 1.0), "atoms u rep %d", rep);
            for (size_t k = 0; k < N; k++) {
                bf_average(a, N, eps, v, nv, k, Pk);
                for (size_t cc = 0; cc < nv; cc++)
                    nr_close(&loo, delta[(i * N + k) * nv + cc], Pk[cc] - Pb[cc], (1e-13 + 8 * sens) * vmax,
                             "atoms delta rep %d i %zu k %zu", rep, i, k);
                long double db = -bf_lse(a, N, eps, k) - ub;
                nr_close(&abl, du[i * N + k], db, 1e-13 * (cmax + 1.0), "atoms ablation rep %d k %zu", rep, k);
            }
        }
        /* the same data as an LSE layer: w_j = y_j/(2t), b_j = -g_j - |y_j|^2/(4t) (identity metric) */
        if (M == NULL) {
            double *w = nr_xmalloc(N * d * sizeof *w), *b = nr_xmalloc(N * sizeof *b), *f = nr_xmalloc(n * sizeof *f);
            double *df = nr_xmalloc(n * N * sizeof *df), *P2 = nr_xmalloc(n * nv * sizeof *P2);
            double *delta2 = nr_xmalloc(n * N * nv * sizeof *delta2);
            nr_fill_normal(&r, w, N * d, 1.0);
            nr_fill_normal(&r, b, N, 1.0);
            hj_lse_layer L = {N, d, w, b, eps};
            assert_int_equal(hj_influence_ablation(&L, x, n, f, df, &e), HJ_OK);
            assert_int_equal(hj_influence_loo_layer(&L, x, n, v, nv, P2, delta2, &e), HJ_OK);
            long double *z = nr_xmalloc(N * sizeof *z);
            for (size_t i = 0; i < n; i++) {
                nr_logits(w, b, N, d, x + i * d, z);
                const double sc = nr_logit_scale(w, b, N, d, x + i * d);
                for (size_t j = 0; j < N; j++)
                    a[j] = (double)z[j];
                const double sens = eps > 0.0 ? 8.0 * U * (sc + 1.0) / eps : 0.0;
                long double Fb = bf_lse(a, N, eps, N);
                nr_close(&abl, f[i], Fb, 1e-13 * (sc + 1.0), "layer f rep %d", rep);
                bf_average(a, N, eps, v, nv, N, Pb);
                for (size_t cc = 0; cc < nv; cc++)
                    nr_close(&loo, P2[i * nv + cc], Pb[cc], (1e-13 + 4 * sens) * vmax, "layer P rep %d", rep);
                for (size_t k = 0; k < N; k++) {
                    nr_close(&abl, df[i * N + k], bf_lse(a, N, eps, k) - Fb, 1e-13 * (sc + 1.0),
                             "layer ablation rep %d k %zu", rep, k);
                    bf_average(a, N, eps, v, nv, k, Pk);
                    for (size_t cc = 0; cc < nv; cc++)
                        nr_close(&loo, delta2[(i * N + k) * nv + cc], Pk[cc] - Pb[cc], (1e-13 + 8 * sens) * vmax,
                                 "layer delta rep %d k %zu", rep, k);
                }
            }
            free(z), free(w), free(b), free(f), free(df), free(P2), free(delta2);
        }
        hj_metric_free(M);
        free(y), free(g), free(v), free(x), free(P), free(delta), free(u), free(du), free(a);
        free(c), free(Pb), free(Pk);
    }
    assert_true(nr_check_report(&loo));
    assert_true(nr_check_report(&abl));
}

/* ---- explain ------------------------------------------------------------------ */

typedef struct ranked {
    long double p;
    long double cost;   /* tie-break among equal weights: smaller cost (larger logit) first */
    size_t j;
} ranked;

static int by_p_desc(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (a->p != b->p)
        return a->p > b->p ? -1 : 1;
    if (a->cost != b->cost)
        return a->cost < b->cost ? -1 : 1;
    return a->j < b->j ? -1 : (a->j > b->j);
}

/* The documented regime thresholds, written out here. */
static int naive_regime(long double H, size_t N)
{
    if (N <= 1)
        return 0;
    long double h = H / logl((long double)N);
    return h < 1.0L / 3.0L ? 0 : (h > 2.0L / 3.0L ? 2 : 1);
}

/* Entropy, n_eff, regime and top-K against the naive Gibbs weights, sort and
 * thresholds, for atoms and a layer, eps = 0 with ties included. */
static void explain_matches_naive_summary(void **state)
{
    (void)state;
    nr_check ck;
    nr_check_init(&ck, "explain vs naive");
    nr_rng r;
    nr_seed(&r, 14);
    hj_error e;
    hj_error_clear(&e);
    int seen[3] = {0, 0, 0};
    for (int rep = 0; rep < 60; rep++) {
        const size_t N = (size_t)nr_int(&r, 1, 200), d = (size_t)nr_int(&r, 1, 3), n = 5;
        const size_t K = (size_t)nr_int(&r, 0, (long)(N < 7 ? N : 7));
        const double t = 0.5;
        const double eps = rep % 5 == 0 ? 0.0 : pow(10.0, nr_unif(&r, -3.0, 1.5));
        double *y = nr_xmalloc(N * d * sizeof *y), *g = nr_xmalloc(N * sizeof *g), *x = nr_xmalloc(n * d * sizeof *x);
        nr_fill_unif(&r, y, N * d, -1.0, 1.0);
        for (size_t j = 0; j < N; j++)
            g[j] = rep % 5 == 0 ? (double)nr_int(&r, 0, 2) : nr_unif(&r, 0.0, 0.3);
        if (rep % 5 == 0) {   /* eps = 0 ties: atoms on a small integer lattice, queries at lattice points */
            for (size_t i = 0; i < N * d; i++)
                y[i] = (double)nr_int(&r, -2, 2);
        }
        for (size_t i = 0; i < n * d; i++)
            x[i] = rep % 5 == 0 ? (double)nr_int(&r, -2, 2) : nr_unif(&r, -1.2, 1.2);
        hj_explain *out = nr_xmalloc(n * sizeof *out);
        double *pt = nr_xmalloc((n * K + 1) * sizeof *pt);
        size_t *it = nr_xmalloc((n * K + 1) * sizeof *it);
        hj_atoms at = {N, d, y, g};
        hj_status st = hj_explain_atoms(&at, NULL, x, n, t, eps, K, out, pt, it, &e);
        if (!nr_true(&ck, st == HJ_OK, "explain_atoms failed: %s", e.msg))
            continue;
        long double *pi = nr_xmalloc(N * sizeof *pi);
        ranked *rk = nr_xmalloc(N * sizeof *rk);
        long double *cst = nr_xmalloc(N * sizeof *cst);
        for (size_t i = 0; i < n; i++) {
            long double u, H;
            nr_hopf(y, g, N, d, NULL, x + i * d, t, eps, &u, pi, NULL, NULL, NULL, &H);
            /* the library's logits carry rounding ~8 u (max cost + 1); in the
             * weights it is amplified by 1/eps, in H by up to 2 (log N + 1) times that */
            const double cmax = naive_costs(y, g, N, d, NULL, x + i * d, t, cst);
            const double sens = eps > 0.0 ? 8.0 * U * (cmax + 1.0) / eps : 0.0;
            const double Htol = 1e-13 + 2.0 * (log((double)N) + 1.0) * sens;
            nr_close(&ck, out[i].entropy, H, Htol, "entropy rep %d i %zu eps %g", rep, i, eps);
            nr_close(&ck, out[i].n_eff, expl(H), 2.0 * Htol * (double)expl(H), "n_eff rep %d i %zu", rep, i);
            int reg = naive_regime(H, N);
            /* a point within 1e-9 of a threshold may fall either way */
            long double hN = N > 1 ? H / logl((long double)N) : 0.0L;
            int near = N > 1 && (fabsl(hN - 1.0L / 3.0L) < 1e-9L || fabsl(hN - 2.0L / 3.0L) < 1e-9L);
            nr_true(&ck, near || (int)out[i].regime == reg, "regime %d != naive %d (h = %Lg)", (int)out[i].regime,
                    reg, hN);
            seen[reg]++;
            for (size_t j = 0; j < N; j++)
                rk[j] = (ranked){pi[j], cst[j], j};
            qsort(rk, N, sizeof *rk, by_p_desc);
            for (size_t k = 0; k < K; k++) {
                nr_close(&ck, pt[i * K + k], rk[k].p, (1e-13 + 4.0 * sens) * (double)rk[k].p + 1e-300,
                         "pi_top rep %d i %zu k %zu", rep, i, k);
                /* indices must agree unless the naive weights tie within rounding */
                const long double rt = 1e-13L + 8.0L * sens;
                int close_tie = k + 1 < N && fabsl(rk[k].p - rk[k + 1].p) <= rt * rk[k].p;
                close_tie |= k > 0 && fabsl(rk[k].p - rk[k - 1].p) <= rt * rk[k].p;
                nr_true(&ck, it[i * K + k] == rk[k].j || (close_tie && eps > 0.0),
                        "idx_top rep %d i %zu k %zu: %zu != %zu", rep, i, k, it[i * K + k], rk[k].j);
            }
        }
        /* the layer API on the mapped weights gives the same summary */
        if (N >= 1 && eps > 0.0) {
            double *w = nr_xmalloc(N * d * sizeof *w), *b = nr_xmalloc(N * sizeof *b);
            assert_int_equal(hj_atoms_to_weights(y, g, N, d, t, NULL, w, b, &e), HJ_OK);
            hj_lse_layer L = {N, d, w, b, eps};
            hj_explain *o2 = nr_xmalloc(n * sizeof *o2);
            assert_int_equal(hj_explain_layer(&L, x, n, 0, o2, NULL, NULL, &e), HJ_OK);
            for (size_t i = 0; i < n; i++) {
                long double u, H;
                nr_hopf(y, g, N, d, NULL, x + i * d, t, eps, &u, pi, NULL, NULL, NULL, &H);
                /* the mapped weights add rounding of the same order as the costs' */
                const double cmax = naive_costs(y, g, N, d, NULL, x + i * d, t, cst);
                const double sens = 32.0 * U * (cmax + 1.0 + (double)nr_quadratic(NULL, x + i * d, d, t)) / eps;
                nr_close(&ck, o2[i].entropy, H, 1e-13 + 2.0 * (log((double)N) + 1.0) * sens,
                         "layer entropy rep %d i %zu", rep, i);
            }
            free(w), free(b), free(o2);
        }
        free(cst), free(pi), free(rk), free(out), free(pt), free(it), free(y), free(g), free(x);
    }
    assert_true(nr_check_report(&ck));
    /* the test data must exercise every regime */
    assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
}

/* hj_explain_pi on random probability vectors vs the naive entropy and sort. */
static void explain_pi_matches_naive(void **state)
{
    (void)state;
    nr_check ck;
    nr_check_init(&ck, "explain_pi vs naive");
    nr_rng r;
    nr_seed(&r, 15);
    hj_error e;
    hj_error_clear(&e);
    for (int rep = 0; rep < 50; rep++) {
        const size_t N = (size_t)nr_int(&r, 1, 300), K = (size_t)nr_int(&r, 0, (long)N);
        double *p = nr_xmalloc(N * sizeof *p), *pt = nr_xmalloc((K + 1) * sizeof *pt);
        size_t *it = nr_xmalloc((K + 1) * sizeof *it);
        long double *pl = nr_xmalloc(N * sizeof *pl);
        ranked *rk = nr_xmalloc(N * sizeof *rk);
        long double s = 0.0L;
        for (size_t j = 0; j < N; j++) {
            /* some exact zeros and repeated values (ties) */
            p[j] = nr_int(&r, 0, 4) == 0 ? 0.0 : (double)nr_int(&r, 1, 8) * pow(nr_unif(&r, 0, 1), 3.0 * (rep % 3));
            s += p[j];
        }
        if (s == 0.0L) {
            p[0] = 1.0;
            s = 1.0L;
        }
        for (size_t j = 0; j < N; j++)
            p[j] = (double)(p[j] / s);
        long double s2 = 0.0L;
        for (size_t j = 0; j < N; j++)
            s2 += p[j];
        for (size_t j = 0; j < N; j++) {
            pl[j] = p[j] / s2;
            rk[j] = (ranked){p[j], 0.0L, j};
        }
        hj_explain out;
        assert_int_equal(hj_explain_pi(p, N, K, &out, pt, it, &e), HJ_OK);
        long double H = nr_entropy(pl, N);
        nr_close(&ck, out.entropy, H, 1e-12, "entropy rep %d", rep);
        nr_true(&ck, (int)out.regime == naive_regime(H, N) ||
                         (N > 1 && (fabsl(H / logl(N) - 1.0L / 3) < 1e-9L || fabsl(H / logl(N) - 2.0L / 3) < 1e-9L)),
                "regime rep %d", rep);
        qsort(rk, N, sizeof *rk, by_p_desc);
        for (size_t k = 0; k < K; k++) {
            nr_true(&ck, pt[k] == (double)rk[k].p, "pi_top rep %d k %zu", rep, k);
            nr_true(&ck, it[k] == rk[k].j, "idx_top rep %d k %zu: %zu != %zu", rep, k, it[k], rk[k].j);
        }
        free(p), free(pt), free(it), free(pl), free(rk);
    }
    assert_true(nr_check_report(&ck));
}

/* Bad input: every refusal has a status and a message; nothing is written. */
static void bad_input_is_refused(void **state)
{
    (void)state;
    nr_check ck;
    nr_check_init(&ck, "errors");
    hj_error e;
    const double a[3] = {0.0, 1.0, 2.0}, v[3] = {1, 2, 3};
    /* outputs hold a sentinel that every refusal must leave in place */
    const double S = -7.25;
    double P = S, delta[3] = {S, S, S}, F = S;
    hj_explain out = {S, S, HJ_REGIME_MIXED};
    double pt[4] = {S, S, S, S};
    size_t it[4] = {77, 77, 77, 77};
    hj_error_clear(&e);
    nr_expect_error(&ck, hj_influence_loo_logits(a, 1, 0.1, v, 1, &P, delta, &e), &e, "LOO with N = 1");
    hj_error_clear(&e);
    nr_expect_error(&ck, hj_influence_ablation_logits(a, 1, 0.1, &F, delta, &e), &e, "ablation with N = 1");
    hj_error_clear(&e);
    nr_expect_error(&ck, hj_influence_loo_logits(a, 3, -0.1, v, 1, &P, delta, &e), &e, "negative eps");
    hj_error_clear(&e);
    nr_expect_error(&ck, hj_influence_loo_logits(a, 3, NAN, v, 1, &P, delta, &e), &e, "NaN eps");
    const double an[3] = {0.0, NAN, 1.0};
    hj_error_clear(&e);
    nr_expect_error(&ck, hj_influence_ablation_logits(an, 3, 0.1, &F, delta, &e), &e, "NaN logit");
    const double vn[3] = {0.0, INFINITY, 1.0};
    hj_error_clear(&e);
    nr_expect_error(&ck, hj_influence_loo_logits(a, 3, 0.1, vn, 1, &P, delta, &e), &e, "Inf value");
    hj_error_clear(&e);
    nr_expect_error(&ck, hj_explain_logits(a, 3, 0.1, 4, &out, pt, it, &e), &e, "K > N");
    const double pbad[3] = {0.5, 0.6, 0.1};
    hj_error_clear(&e);
    nr_expect_error(&ck, hj_explain_pi(pbad, 3, 1, &out, pt, it, &e), &e, "weights not summing to 1");
    const double pneg[3] = {1.5, -0.5, 0.0};
    hj_error_clear(&e);
    nr_expect_error(&ck, hj_explain_pi(pneg, 3, 1, &out, pt, it, &e), &e, "negative weight");
    const double y[4] = {0, 0, 1, 1}, g[2] = {0, 0}, x[2] = {0.5, 0.5}, xn[2] = {0.5, NAN};
    hj_atoms at = {2, 2, y, g};
    double dd[4] = {S, S, S, S};
    hj_error_clear(&e);
    nr_expect_error(&ck, hj_influence_loo_atoms(&at, NULL, x, 1, 0.0, 0.1, v, 1, &P, dd, &e), &e, "t = 0");
    hj_error_clear(&e);
    nr_expect_error(&ck, hj_influence_loo_atoms(&at, NULL, xn, 1, 1.0, 0.1, v, 1, &P, dd, &e), &e, "NaN point");
    hj_metric *M = NULL;
    const double A3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    assert_int_equal(hj_metric_alloc(&M, A3, 3, &e), HJ_OK);
    hj_error_clear(&e);
    nr_expect_error(&ck, hj_explain_atoms(&at, M, x, 1, 1.0, 0.1, 1, &out, pt, it, &e), &e, "metric of wrong dimension");
    hj_metric_free(M);
    hj_lse_layer L = {1, 2, y, g, 0.1};
    hj_error_clear(&e);
    nr_expect_error(&ck, hj_influence_ablation(&L, x, 1, &F, dd, &e), &e, "layer with one neuron");
    nr_true(&ck, P == S && F == S, "a refusal wrote P or F");
    nr_true(&ck, out.entropy == S && out.n_eff == S && out.regime == HJ_REGIME_MIXED, "a refusal wrote the summary");
    for (int k = 0; k < 4; k++)
        nr_true(&ck, (k >= 3 || delta[k] == S) && dd[k] == S && pt[k] == S && it[k] == 77,
                "a refusal wrote output entry %d", k);
    assert_true(nr_check_report(&ck));
    /* N = 1 is fine for explain: one atom, entropy 0, particle */
    assert_int_equal(hj_explain_logits(a, 1, 0.3, 1, &out, pt, it, &e), HJ_OK);
    assert_true(out.entropy == 0.0 && out.n_eff == 1.0 && out.regime == HJ_REGIME_PARTICLE);
    assert_true(pt[0] == 1.0 && it[0] == 0);
    assert_string_equal(hj_regime_name(HJ_REGIME_WAVE), "wave");
    assert_true(fabs(hj_critical_eps(1000, 3) - 0.1) < 1e-15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loo_and_ablation_match_brute_force_on_random_logits),
        cmocka_unit_test(loo_and_ablation_stay_exact_when_one_weight_dominates),
        cmocka_unit_test(eps_zero_cases_by_hand),
        cmocka_unit_test(batch_apis_match_brute_force),
        cmocka_unit_test(explain_matches_naive_summary),
        cmocka_unit_test(explain_pi_matches_naive),
        cmocka_unit_test(bad_input_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
