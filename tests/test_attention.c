/* test_attention.c — tiled online-softmax attention vs the two-pass reference, a naive long-double form, finite differences of LSE, the hard limit and errors. */
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

#ifdef _OPENMP
#include <omp.h>
#endif

#include "hjdl/attention.h"

#include "naive_ref.h"

/* ---- helpers written for this test only --------------------------------- */

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
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

static void fill_uniform(double *a, size_t len, double lo, double hi, uint64_t *rng)
{
    for (size_t i = 0; i < len; i++)
        a[i] = lo + (hi - lo) * rng_unif(rng);
}

static void fill_int(double *a, size_t len, int lo, int hi, uint64_t *rng)
{
    for (size_t i = 0; i < len; i++)
        a[i] = (double)(lo + (int)(rng_next(rng) % (uint64_t)(hi - lo + 1)));
}

static double *xalloc(size_t count)
{
    double *p = malloc(count * sizeof *p);
    assert_non_null(p);
    return p;
}

/* Naive attention for query row i in long double: all scores, max, exp,
 * normalise, average. eps == 0: plain mean of v over exact ties of the max.
 * out (dv); *lse; *smax = max_j |s_ij| (a scale for lse errors). */
static void naive_row(const double *q, const double *K, const double *V, size_t m,
                      size_t dk, size_t dv, double eps, long double *out, long double *lse,
                      long double *smax)
{
    long double *s = malloc(m * sizeof *s);
    assert_non_null(s);
    long double M = -INFINITY, amax = 0.0L;
    for (size_t j = 0; j < m; j++) {
        long double acc = 0.0L;
        for (size_t c = 0; c < dk; c++)
            acc += (long double)q[c] * (long double)K[j * dk + c];
        s[j] = acc;
        if (acc > M)
            M = acc;
        if (fabsl(acc) > amax)
            amax = fabsl(acc);
    }
    long double Z = 0.0L;
    for (size_t c = 0; c < dv; c++)
        out[c] = 0.0L;
    for (size_t j = 0; j < m; j++) {
        long double w = eps == 0.0 ? (s[j] == M ? 1.0L : 0.0L) : expl((s[j] - M) / eps);
        Z += w;
        for (size_t c = 0; c < dv; c++)
            out[c] += w * (long double)V[j * dv + c];
    }
    for (size_t c = 0; c < dv; c++)
        out[c] /= Z;
    *lse = eps == 0.0 ? M : M + (long double)eps * logl(Z);
    *smax = amax;
    free(s);
}

/* f(q) = eps log sum_j exp(q . k_j / eps), long double, max-shifted. */
static long double naive_lse(const long double *q, const double *K, size_t m, size_t dk,
                             double eps)
{
    long double M = -INFINITY, S = 0.0L;
    long double *s = malloc(m * sizeof *s);
    assert_non_null(s);
    for (size_t j = 0; j < m; j++) {
        s[j] = 0.0L;
        for (size_t c = 0; c < dk; c++)
            s[j] += q[c] * (long double)K[j * dk + c];
        if (s[j] > M)
            M = s[j];
    }
    for (size_t j = 0; j < m; j++)
        S += expl((s[j] - M) / eps);
    free(s);
    return M + (long double)eps * logl(S);
}

/* Worst errors of one kernel's output against the naive form, normalised by
 * max|V| (outputs are convex combinations of the v_j) and, for lse, by
 * |lse| + eps + max|s_ij|. */
typedef struct errs {
    double out, lse;
} errs;

static errs compare_naive(const double *Q, const double *K, const double *V, size_t n,
                          size_t m, size_t dk, size_t dv, double eps, const double *out,
                          const double *lse)
{
    long double *ro = malloc(dv * sizeof *ro);
    assert_non_null(ro);
    double vs = nr_max_abs(V, m * dv);
    if (vs == 0.0)
        vs = 1.0;
    errs e = {0.0, 0.0};
    for (size_t i = 0; i < n; i++) {
        long double rl, smax;
        naive_row(Q + i * dk, K, V, m, dk, dv, eps, ro, &rl, &smax);
        for (size_t c = 0; c < dv; c++)
            e.out = fmax(e.out, (double)(fabsl((long double)out[i * dv + c] - ro[c]) / vs));
        long double sc = fabsl(rl) + eps + smax;
        if (sc == 0.0L)
            sc = 1.0L;
        e.lse = fmax(e.lse, (double)(fabsl((long double)lse[i] - rl) / sc));
    }
    free(ro);
    return e;
}

static double max_diff(const double *a, const double *b, size_t len)
{
    double d = 0.0;
    for (size_t i = 0; i < len; i++)
        d = fmax(d, fabs(a[i] - b[i]));
    return d;
}

typedef struct shape {
    size_t n, m, dk, dv;
} shape;

/* Runs forward, reference and the naive form on one problem; returns the
 * worst of the three pairwise normalised errors. */
static double check_problem(const double *Q, const double *K, const double *V, shape s,
                            double eps)
{
    double *o1 = xalloc(s.n * s.dv), *o2 = xalloc(s.n * s.dv);
    double *l1 = xalloc(s.n), *l2 = xalloc(s.n);
    hj_error err = {0};
    if (hj_attention_forward(Q, K, V, s.n, s.m, s.dk, s.dv, eps, o1, l1, &err) != HJ_OK)
        fail_msg("forward: %s", err.msg);
    if (hj_attention_reference(Q, K, V, s.n, s.m, s.dk, s.dv, eps, o2, l2, &err) != HJ_OK)
        fail_msg("reference: %s", err.msg);
    double vs = nr_max_abs(V, s.m * s.dv);
    double ls = nr_max_abs(l2, s.n) + eps;
    double d_out = max_diff(o1, o2, s.n * s.dv) / (vs > 0.0 ? vs : 1.0);
    double d_lse = max_diff(l1, l2, s.n) / (ls > 0.0 ? ls : 1.0);
    errs ef = compare_naive(Q, K, V, s.n, s.m, s.dk, s.dv, eps, o1, l1);
    errs er = compare_naive(Q, K, V, s.n, s.m, s.dk, s.dv, eps, o2, l2);
    double worst = fmax(fmax(d_out, d_lse), fmax(fmax(ef.out, ef.lse), fmax(er.out, er.lse)));
    if (worst > 1e-13)
        fail_msg("n=%zu m=%zu dk=%zu dv=%zu eps=%g: fwd-ref out %.3g lse %.3g; fwd-naive out "
                 "%.3g lse %.3g; ref-naive out %.3g lse %.3g",
                 s.n, s.m, s.dk, s.dv, eps, d_out, d_lse, ef.out, ef.lse, er.out, er.lse);
    /* lse is optional and does not change out */
    double *o3 = xalloc(s.n * s.dv);
    assert_int_equal(hj_attention_forward(Q, K, V, s.n, s.m, s.dk, s.dv, eps, o3, NULL, NULL),
                     HJ_OK);
    assert_true(memcmp(o1, o3, s.n * s.dv * sizeof *o1) == 0);
    free(o1);
    free(o2);
    free(o3);
    free(l1);
    free(l2);
    return worst;
}

/* ---- tests -------------------------------------------------------------- */

static void forward_should_match_reference_on_random_shapes(void **state)
{
    (void)state;
    const shape shapes[] = {{1, 1, 1, 1},   {3, 1, 4, 2},     {5, 64, 8, 3},
                            {4, 65, 3, 5},  {7, 200, 16, 16}, {2, 127, 1, 1},
                            {3, 1000, 32, 8}, {16, 129, 64, 64}, {9, 63, 5, 7}};
    uint64_t rng = 2024;
    double worst = 0.0;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        shape s = shapes[k];
        double *Q = xalloc(s.n * s.dk), *K = xalloc(s.m * s.dk), *V = xalloc(s.m * s.dv);
        fill_uniform(Q, s.n * s.dk, -1.0, 1.0, &rng);
        fill_uniform(K, s.m * s.dk, -1.0, 1.0, &rng);
        fill_uniform(V, s.m * s.dv, -2.0, 3.0, &rng);
        const double eps_list[] = {sqrt((double)s.dk), 1.0, 0.05, 1e-3};
        for (size_t e = 0; e < 4; e++)
            worst = fmax(worst, check_problem(Q, K, V, s, eps_list[e]));
        free(Q);
        free(K);
        free(V);
    }
    printf("random shapes: worst normalised error among forward/reference/naive %.3g "
           "(<= 1e-13)\n",
           worst);
}

/* Integer Q and K make every score exact, so scores of ~1e3..1e4 with small
 * eps test the kernels, not the conditioning of the dot product. */
static void forward_should_match_reference_for_large_logits(void **state)
{
    (void)state;
    uint64_t rng = 7;
    shape s = {6, 300, 4, 3};
    double *Q = xalloc(s.n * s.dk), *K = xalloc(s.m * s.dk), *V = xalloc(s.m * s.dv);
    fill_int(Q, s.n * s.dk, -40, 40, &rng);
    fill_int(K, s.m * s.dk, -40, 40, &rng);
    fill_uniform(V, s.m * s.dv, -1.0, 1.0, &rng);
    const double eps_list[] = {0.0, 1e-3, 0.5, 5.0, 50.0, 500.0, 1e5};
    double worst = 0.0;
    for (size_t e = 0; e < sizeof eps_list / sizeof eps_list[0]; e++)
        worst = fmax(worst, check_problem(Q, K, V, s, eps_list[e]));
    printf("logits up to %g: worst normalised error %.3g (<= 1e-13)\n", 4.0 * 40 * 40, worst);
    free(Q);
    free(K);
    free(V);
}

/* m = 1: the only weight is 1, so out = v_0 and lse = q . k_0. */
static void single_key_should_return_its_value(void **state)
{
    (void)state;
    const double Q[] = {0.5, -2.0, 3.0, 1.0, 1.0, 1.0}; /* (2, 3) */
    const double K[] = {1.5, 0.25, -1.0};              /* (1, 3) */
    const double V[] = {7.0, -3.5};                    /* (1, 2) */
    const double eps_list[] = {0.0, 1e-300, 1.0, 1e300};
    for (size_t e = 0; e < 4; e++) {
        double out[4], lse[2];
        assert_int_equal(hj_attention_forward(Q, K, V, 2, 1, 3, 2, eps_list[e], out, lse, NULL),
                         HJ_OK);
        for (size_t i = 0; i < 2; i++) {
            assert_true(out[2 * i] == 7.0 && out[2 * i + 1] == -3.5);
            double s = Q[3 * i] * K[0] + Q[3 * i + 1] * K[1] + Q[3 * i + 2] * K[2];
            assert_true(fabs(lse[i] - s) <= 1e-15 * fabs(s));
        }
    }
}

/* With V = K the output is grad_q f(q), f(q) = eps log sum exp(q.k_j/eps):
 * central differences of a separately written long-double LSE. */
static void values_equal_keys_should_give_grad_of_lse(void **state)
{
    (void)state;
    uint64_t rng = 555;
    const size_t n = 5, m = 70, d = 6;
    double *Q = xalloc(n * d), *K = xalloc(m * d), *out = xalloc(n * d), *lse = xalloc(n);
    fill_uniform(Q, n * d, -1.0, 1.0, &rng);
    fill_uniform(K, m * d, -1.0, 1.0, &rng);
    const double eps_list[] = {sqrt((double)d), 0.3, 5.0};
    const long double h = 1e-5L;
    double worst = 0.0;
    for (size_t e = 0; e < 3; e++) {
        double eps = eps_list[e];
        assert_int_equal(hj_attention_forward(Q, K, K, n, m, d, d, eps, out, lse, NULL), HJ_OK);
        double ks = nr_max_abs(K, m * d);
        for (size_t i = 0; i < n; i++) {
            long double q[6];
            for (size_t c = 0; c < d; c++)
                q[c] = Q[i * d + c];
            for (size_t c = 0; c < d; c++) {
                long double keep = q[c];
                q[c] = keep + h;
                long double fp = naive_lse(q, K, m, d, eps);
                q[c] = keep - h;
                long double fm = naive_lse(q, K, m, d, eps);
                q[c] = keep;
                double fd = (double)((fp - fm) / (2.0L * h));
                double rel = fabs(out[i * d + c] - fd) / ks;
                worst = fmax(worst, rel);
            }
            /* and lse itself is f(q) */
            long double f = naive_lse(q, K, m, d, eps);
            assert_true(fabsl((long double)lse[i] - f) <= 1e-14L * (fabsl(f) + eps));
        }
    }
    printf("V = K vs central differences of LSE: worst error %.3g relative to max|k| "
           "(<= 1e-7)\n",
           worst);
    assert_true(worst <= 1e-7);
    free(Q);
    free(K);
    free(out);
    free(lse);
}

/* eps -> 0 with a unique arg-max: |out - v_argmax| <= 2 max|v| (m-1) e^{-gap/eps}
 * and 0 <= lse - max <= eps log(1 + (m-1) e^{-gap/eps}); eps = 0 gives v_argmax. */
static void small_eps_should_approach_hard_attention(void **state)
{
    (void)state;
    uint64_t rng = 99;
    const size_t n = 8, m = 150, dk = 5, dv = 4;
    double *Q = xalloc(n * dk), *K = xalloc(m * dk), *V = xalloc(m * dv);
    double *out = xalloc(n * dv), *lse = xalloc(n);
    fill_uniform(Q, n * dk, -1.0, 1.0, &rng);
    fill_uniform(K, m * dk, -1.0, 1.0, &rng);
    fill_uniform(V, m * dv, -1.0, 1.0, &rng);
    double vs = nr_max_abs(V, m * dv);
    const double eps_list[] = {0.1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-300, 0.0};
    for (size_t e = 0; e < sizeof eps_list / sizeof eps_list[0]; e++) {
        double eps = eps_list[e];
        assert_int_equal(hj_attention_forward(Q, K, V, n, m, dk, dv, eps, out, lse, NULL),
                         HJ_OK);
        for (size_t i = 0; i < n; i++) {
            /* top two scores and the arg-max, computed here */
            double s1 = -INFINITY, s2 = -INFINITY;
            size_t jmax = 0;
            for (size_t j = 0; j < m; j++) {
                double s = 0.0;
                for (size_t c = 0; c < dk; c++)
                    s += Q[i * dk + c] * K[j * dk + c];
                if (s > s1) {
                    s2 = s1;
                    s1 = s;
                    jmax = j;
                } else if (s > s2) {
                    s2 = s;
                }
            }
            double gap = s1 - s2;
            assert_true(gap > 0.0);
            double tail = eps == 0.0 ? 0.0 : (double)(m - 1) * exp(-gap / eps);
            double err = 0.0;
            for (size_t c = 0; c < dv; c++)
                err = fmax(err, fabs(out[i * dv + c] - V[jmax * dv + c]));
            assert_true(err <= 2.0 * vs * tail + 4e-16 * vs);
            double excess = lse[i] - s1;
            double bound = eps == 0.0 ? 0.0 : eps * log1p(tail);
            assert_true(excess >= -1e-15 * fabs(s1));
            assert_true(excess <= bound + 1e-15 * fabs(s1) + 4.0 * DBL_EPSILON * eps);
            if (eps == 0.0) {
                for (size_t c = 0; c < dv; c++)
                    assert_true(out[i * dv + c] == V[jmax * dv + c]);
                assert_true(lse[i] == s1);
            }
        }
    }
    free(Q);
    free(K);
    free(V);
    free(out);
    free(lse);
}

/* Keys drawn from a 5 x 5 integer grid: every query sees exact ties. eps = 0
 * averages v over them (naive form); small eps converges to that average. */
static void hard_attention_should_average_exact_ties(void **state)
{
    (void)state;
    uint64_t rng = 31337;
    shape s = {10, 200, 2, 3};
    double *Q = xalloc(s.n * s.dk), *K = xalloc(s.m * s.dk), *V = xalloc(s.m * s.dv);
    double *out = xalloc(s.n * s.dv), *lse = xalloc(s.n);
    long double ro[3];
    fill_int(Q, s.n * s.dk, -3, 3, &rng);
    fill_int(K, s.m * s.dk, -2, 2, &rng);
    fill_uniform(V, s.m * s.dv, -1.0, 1.0, &rng);
    for (size_t i = 0; i < s.n; i++) /* no zero query: it would tie all keys */
        if (Q[i * 2] == 0.0 && Q[i * 2 + 1] == 0.0)
            Q[i * 2] = 1.0;
    check_problem(Q, K, V, s, 0.0);
    assert_int_equal(hj_attention_forward(Q, K, V, s.n, s.m, s.dk, s.dv, 0.0, out, lse, NULL),
                     HJ_OK);
    size_t min_ties = s.m;
    for (size_t i = 0; i < s.n; i++) {
        long double rl, smax;
        naive_row(Q + i * 2, K, V, s.m, 2, 3, 0.0, ro, &rl, &smax);
        size_t ties = 0;
        for (size_t j = 0; j < s.m; j++)
            ties += (Q[i * 2] * K[j * 2] + Q[i * 2 + 1] * K[j * 2 + 1] == (double)rl);
        if (ties < min_ties)
            min_ties = ties;
        for (size_t c = 0; c < 3; c++)
            assert_true(fabsl((long double)out[i * 3 + c] - ro[c]) <= 1e-14L);
        assert_true(lse[i] == (double)rl);
    }
    printf("hard attention: every query had >= %zu tied keys\n", min_ties);
    assert_true(min_ties >= 2);
    /* integer scores: the gap to the next distinct score is >= 1 */
    double hard[30];
    memcpy(hard, out, sizeof hard);
    const double eps_list[] = {0.05, 0.02, 0.01};
    for (size_t e = 0; e < 3; e++) {
        assert_int_equal(
            hj_attention_forward(Q, K, V, s.n, s.m, s.dk, s.dv, eps_list[e], out, lse, NULL),
            HJ_OK);
        double bound = 2.0 * (double)s.m * exp(-1.0 / eps_list[e]) + 1e-14;
        assert_true(max_diff(out, hard, 30) <= bound);
    }
    free(Q);
    free(K);
    free(V);
    free(out);
    free(lse);
}

/* Queries are independent: any thread count gives the same bits. */
static void thread_count_should_not_change_the_bits(void **state)
{
    (void)state;
    uint64_t rng = 8;
    shape s = {50, 300, 16, 8};
    double *Q = xalloc(s.n * s.dk), *K = xalloc(s.m * s.dk), *V = xalloc(s.m * s.dv);
    double *o1 = xalloc(s.n * s.dv), *o2 = xalloc(s.n * s.dv), *l1 = xalloc(s.n),
           *l2 = xalloc(s.n);
    fill_uniform(Q, s.n * s.dk, -1.0, 1.0, &rng);
    fill_uniform(K, s.m * s.dk, -1.0, 1.0, &rng);
    fill_uniform(V, s.m * s.dv, -1.0, 1.0, &rng);
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
#endif
    assert_int_equal(hj_attention_forward(Q, K, V, s.n, s.m, s.dk, s.dv, 4.0, o1, l1, NULL),
                     HJ_OK);
#ifdef _OPENMP
    omp_set_num_threads(3);
#endif
    assert_int_equal(hj_attention_forward(Q, K, V, s.n, s.m, s.dk, s.dv, 4.0, o2, l2, NULL),
                     HJ_OK);
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    assert_true(memcmp(o1, o2, s.n * s.dv * sizeof *o1) == 0);
    assert_true(memcmp(l1, l2, s.n * sizeof *l1) == 0);
    free(Q);
    free(K);
    free(V);
    free(o1);
    free(o2);
    free(l1);
    free(l2);
}

typedef hj_status (*attn_fn)(const double *, const double *, const double *, size_t, size_t,
                             size_t, size_t, double, double *, double *, hj_error *);

static void expect(hj_status got, hj_status want, hj_error *err)
{
    assert_int_equal(got, want);
    assert_int_equal(err->code, want);
    assert_true(strlen(err->msg) > 0);
    hj_error_clear(err);
}

static void bad_arguments_should_be_rejected(void **state)
{
    (void)state;
    double Q[4] = {1, 2, 3, 4}, K[6] = {1, 0, 0, 1, 1, 1}, V[3] = {1, 2, 3};
    double out[2], lse[2];
    hj_error err;
    hj_error_clear(&err);
    attn_fn fns[] = {hj_attention_forward, hj_attention_reference};
    for (int k = 0; k < 2; k++) {
        attn_fn f = fns[k];
        /* shapes: Q (2,2), K (3,2), V (3,1) */
        assert_int_equal(f(Q, K, V, 2, 3, 2, 1, 1.0, out, lse, &err), HJ_OK);
        expect(f(NULL, K, V, 2, 3, 2, 1, 1.0, out, lse, &err), HJ_EINVAL, &err);
        expect(f(Q, NULL, V, 2, 3, 2, 1, 1.0, out, lse, &err), HJ_EINVAL, &err);
        expect(f(Q, K, NULL, 2, 3, 2, 1, 1.0, out, lse, &err), HJ_EINVAL, &err);
        expect(f(Q, K, V, 2, 3, 2, 1, 1.0, NULL, lse, &err), HJ_EINVAL, &err);
        expect(f(Q, K, V, 0, 3, 2, 1, 1.0, out, lse, &err), HJ_EINVAL, &err);
        expect(f(Q, K, V, 2, 0, 2, 1, 1.0, out, lse, &err), HJ_EINVAL, &err);
        expect(f(Q, K, V, 2, 3, 0, 1, 1.0, out, lse, &err), HJ_EINVAL, &err);
        expect(f(Q, K, V, 2, 3, 2, 0, 1.0, out, lse, &err), HJ_EINVAL, &err);
        expect(f(Q, K, V, 2, 3, 2, 1, -1.0, out, lse, &err), HJ_EINVAL, &err);
        expect(f(Q, K, V, 2, 3, 2, 1, NAN, out, lse, &err), HJ_EINVAL, &err);
        expect(f(Q, K, V, 2, 3, 2, 1, INFINITY, out, lse, &err), HJ_EINVAL, &err);
        double Qn[4] = {1, NAN, 3, 4}, Kn[6] = {1, 0, 0, 1, INFINITY, 1}, Vn[3] = {1, 2, NAN};
        expect(f(Qn, K, V, 2, 3, 2, 1, 1.0, out, lse, &err), HJ_ENAN, &err);
        expect(f(Q, Kn, V, 2, 3, 2, 1, 1.0, out, lse, &err), HJ_ENAN, &err);
        expect(f(Q, K, Vn, 2, 3, 2, 1, 1.0, out, lse, &err), HJ_ENAN, &err);
        /* finite inputs whose scores overflow */
        double Qb[2] = {1e200, 1e200}, Kb[2] = {1e200, 1e200}, Vb[1] = {1.0};
        expect(f(Qb, Kb, Vb, 1, 1, 2, 1, 1.0, out, lse, &err), HJ_ERANGE, &err);
        assert_int_equal(f(NULL, K, V, 2, 3, 2, 1, 1.0, out, lse, NULL), HJ_EINVAL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forward_should_match_reference_on_random_shapes),
        cmocka_unit_test(forward_should_match_reference_for_large_logits),
        cmocka_unit_test(single_key_should_return_its_value),
        cmocka_unit_test(values_equal_keys_should_give_grad_of_lse),
        cmocka_unit_test(small_eps_should_approach_hard_attention),
        cmocka_unit_test(hard_attention_should_average_exact_ties),
        cmocka_unit_test(thread_count_should_not_change_the_bits),
        cmocka_unit_test(bad_arguments_should_be_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
