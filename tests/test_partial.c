/* test_partial.c — sharded partial states and streaming top-K vs the dense Hopf–Cole and explain kernels and a long-double reference. */
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

#include "core/kernels.h"
#include "hjdl/hopf.h"
#include "hjdl/influence.h"
#include "hjdl/partial.h"
#include "naive_ref.h"

#define TOL 1e-13

static void expect_close(double got, double ref, double scale, const char *what, size_t i)
{
    double tol = TOL * scale;
    if (!(fabs(got - ref) <= tol)) {
        fprintf(stderr, "%s[%zu]: got %.17g, dense %.17g (|diff| %.3g > tol %.3g)\n", what, i,
                got, ref, fabs(got - ref), tol);
        fail();
    }
}

/* A test problem: atoms, points, metric. */
typedef struct problem {
    size_t N, d, n;
    double *y, *g, *x;   /* (N, d), (N), (n, d) */
    hj_metric *metric;
    double t;
} problem;

static void problem_make(problem *p, size_t N, size_t d, size_t n, double shift, int aniso,
                         uint64_t seed)
{
    nr_rng r;
    nr_seed(&r, seed);
    p->N = N;
    p->d = d;
    p->n = n;
    p->t = 0.7;
    p->y = nr_xmalloc(N * d * sizeof *p->y);
    p->g = nr_xmalloc(N * sizeof *p->g);
    p->x = nr_xmalloc(n * d * sizeof *p->x);
    nr_fill_unif(&r, p->y, N * d, shift - 1.0, shift + 1.0);
    nr_fill_unif(&r, p->g, N, -0.5, 0.5);
    nr_fill_unif(&r, p->x, n * d, shift - 1.0, shift + 1.0);
    p->metric = NULL;
    if (aniso) {
        /* A = B B^T + d I/2, SPD */
        double *B = nr_xmalloc(d * d * sizeof *B), *A = nr_xmalloc(d * d * sizeof *A);
        nr_fill_unif(&r, B, d * d, -0.5, 0.5);
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++) {
                double s = a == b ? 0.5 * (double)d : 0.0;
                for (size_t k = 0; k < d; k++)
                    s += B[a * d + k] * B[b * d + k];
                A[a * d + b] = s;
            }
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < a; b++)
                A[a * d + b] = A[b * d + a];
        assert_int_equal(hj_metric_alloc(&p->metric, A, d, NULL), HJ_OK);
        free(A);
        free(B);
    }
}

static void problem_free(problem *p)
{
    free(p->y);
    free(p->g);
    free(p->x);
    hj_metric_free(p->metric);
}

/* Fold atoms [lo, hi) into fresh states Q and top-K tq (K); empty shard: nothing folded. */
static void fold_shard(const problem *p, size_t lo, size_t hi, double eps, size_t K, double *Q,
                       hj_topk *tq, double *tl, size_t *ti)
{
    const size_t dv = p->d;
    hj_partial_init(Q, p->n, dv);
    hj_topk_init(tq, p->n, K, tl, ti);
    if (hi == lo)
        return;
    hj_atoms sh = {hi - lo, p->d, p->y + lo * p->d, p->g + lo};
    hj_error e = {0};
    hj_status st = hj_partial_atoms(&sh, lo, p->metric, p->x, p->n, p->t, eps, 1, Q, tq, &e);
    if (st != HJ_OK)
        fprintf(stderr, "%s\n", e.msg);
    assert_int_equal(st, HJ_OK);
}

/* Compare merged states P and top-K top with the dense kernels. */
static void compare_dense(const problem *p, double eps, const double *P, const hj_topk *top,
                          int same_top_logits)
{
    const size_t n = p->n, d = p->d, N = p->N, K = top->K;
    hj_atoms at = {N, d, p->y, p->g};
    double *u = nr_xmalloc(n * sizeof *u), *un = nr_xmalloc(n * sizeof *un);
    double *gr = nr_xmalloc(n * d * sizeof *gr), *H = nr_xmalloc(n * sizeof *H);
    double *u2 = nr_xmalloc(n * sizeof *u2), *un2 = nr_xmalloc(n * sizeof *un2);
    double *gr2 = nr_xmalloc(n * d * sizeof *gr2), *H2 = nr_xmalloc(n * sizeof *H2);
    /* asking for pi keeps hj_hopf_cole_eval on its per-point path (it sends
     * large-N requests without pi through the partial reductions themselves) */
    double *pi_dense = nr_xmalloc(n * N * sizeof *pi_dense);
    hj_hc_out od = {.u = u, .u_norm = un, .grad = gr, .entropy = H, .pi = pi_dense};
    hj_hc_out op = {.u = u2, .u_norm = un2, .grad = gr2, .entropy = H2};
    assert_int_equal(hj_hopf_cole_eval(&at, p->metric, p->x, n, p->t, eps, &od, NULL), HJ_OK);
    double *pit = nr_xmalloc(n * K * sizeof *pit), *pid = nr_xmalloc(n * K * sizeof *pid);
    size_t *idd = nr_xmalloc(n * K * sizeof *idd);
    hj_error e = {0};
    hj_status st = hj_partial_atoms_finish(P, n, d, p->metric, p->x, p->t, eps, 1, &op, top, pit,
                                           &e);
    if (st != HJ_OK)
        fprintf(stderr, "%s\n", e.msg);
    assert_int_equal(st, HJ_OK);
    hj_explain *ex = nr_xmalloc(n * sizeof *ex), *ex2 = nr_xmalloc(n * sizeof *ex2);
    assert_int_equal(hj_explain_atoms(&at, p->metric, p->x, n, p->t, eps, K, ex, pid, idd, NULL),
                     HJ_OK);
    assert_int_equal(hj_partial_explain(P, n, d, eps, N, ex2, NULL), HJ_OK);
    double ymax = 0.0, xmax = 0.0, S = 1.0;
    for (size_t k = 0; k < N * d; k++)
        ymax = fmax(ymax, fabs(p->y[k]));
    for (size_t k = 0; k < n * d; k++)
        xmax = fmax(xmax, fabs(p->x[k]));
    if (p->metric) {
        const double *Ai = hj_metric_Ainv(p->metric);
        S = 0.0;
        for (size_t k = 0; k < d * d; k++)
            S += fabs(Ai[k]);
    }
    const double logN = log((double)N);
    for (size_t i = 0; i < n; i++) {
        const double us = fabs(u[i]) + eps * (logN + 1.0) + 1e-300;
        expect_close(u2[i], u[i], us, "u", i);
        expect_close(un2[i], un[i], fabs(un[i]) + us, "u_norm", i);
        expect_close(H2[i], H[i], fmax(1.0, H[i]), "entropy", i);
        for (size_t k = 0; k < d; k++)
            expect_close(gr2[i * d + k], gr[i * d + k], S * (xmax + ymax) / (2.0 * p->t), "grad",
                         i * d + k);
        expect_close(ex2[i].entropy, ex[i].entropy, fmax(1.0, ex[i].entropy), "explain H", i);
        expect_close(ex2[i].n_eff, ex[i].n_eff, ex[i].n_eff, "n_eff", i);
        assert_int_equal(ex2[i].regime, ex[i].regime);
        for (size_t k = 0; k < K; k++) {
            if (top->index[i * K + k] != idd[i * K + k]) {
                fprintf(stderr, "point %zu slot %zu: index %zu, dense %zu\n", i, k,
                        top->index[i * K + k], idd[i * K + k]);
                fail();
            }
            const double pr = pid[i * K + k];
            const double sc = pr > 0.0 ? pr * fmax(1.0, fabs(log(pr))) : 1e-300;
            if (!(fabs(pit[i * K + k] - pr) <= TOL * sc || (pr < 1e-300 && pit[i * K + k] < 1e-300)))
                expect_close(pit[i * K + k], pr, sc, "pi_top", i * K + k);
            {
                /* the top-K logits are the dense kernels' logits bit for bit: the
                 * direct formula in its natural order (diff, sum of squares, or
                 * sum_p diff_p (A^{-1} diff)_p) */
                const size_t j = top->index[i * K + k];
                const double *Ai = p->metric ? hj_metric_Ainv(p->metric) : NULL;
                double q = 0.0, df[64];
                for (size_t c = 0; c < d; c++)
                    df[c] = p->x[i * d + c] - p->y[j * d + c];
                for (size_t a = 0; a < d; a++) {
                    double row = df[a];
                    if (Ai != NULL) {
                        row = 0.0;
                        for (size_t b = 0; b < d; b++)
                            row += Ai[a * d + b] * df[b];
                    }
                    q += df[a] * row;
                }
                double direct = -(p->g[j] + q / (4.0 * p->t));
                if (memcmp(&direct, &top->logit[i * K + k], sizeof direct) != 0) {
                    fprintf(stderr, "point %zu slot %zu: top logit %.17g, direct %.17g\n", i, k,
                            top->logit[i * K + k], direct);
                    fail();
                }
            }
            if (same_top_logits) {
                /* the top-K logits are the dense logits, bit for bit (recomputed here in
                 * long double: agreement to rounding) */
                long double c[1];
                nr_hopf_costs(p->y + top->index[i * K + k] * d, p->g + top->index[i * K + k], 1, d,
                              NULL, p->x + i * d, p->t, c);
                expect_close(top->logit[i * K + k], (double)-c[0], fabs((double)c[0]) + 1.0,
                             "top logit", i * K + k);
            }
        }
    }
    free(u), free(un), free(gr), free(H), free(u2), free(un2), free(gr2), free(H2), free(pi_dense);
    free(pit), free(pid), free(idd), free(ex), free(ex2);
}

/* Whole problem in s shards of random sizes (some empty), merged in random order and grouping. */
static void run_sharded(const problem *p, double eps, size_t K, size_t nshards, uint64_t seed)
{
    nr_rng r;
    nr_seed(&r, seed);
    const size_t n = p->n, w = hj_partial_width(p->d);
    size_t *cut = nr_xmalloc((nshards + 1) * sizeof *cut);
    cut[0] = 0;
    cut[nshards] = p->N;
    for (size_t s = 1; s < nshards; s++)
        cut[s] = (size_t)nr_int(&r, 0, (long)p->N);
    for (size_t a = 1; a < nshards; a++) /* sort the cuts */
        for (size_t b = a; b > 1 && cut[b - 1] > cut[b]; b--) {
            size_t tmp = cut[b];
            cut[b] = cut[b - 1];
            cut[b - 1] = tmp;
        }
    double **Q = nr_xmalloc(nshards * sizeof *Q);
    hj_topk *tq = nr_xmalloc(nshards * sizeof *tq);
    for (size_t s = 0; s < nshards; s++) {
        Q[s] = nr_xmalloc(n * w * sizeof **Q);
        fold_shard(p, cut[s], cut[s + 1], eps, K, Q[s], &tq[s],
                   nr_xmalloc(n * K * sizeof(double)), nr_xmalloc(n * K * sizeof(size_t)));
    }
    /* random grouping: merge two random live states until one is left */
    size_t live = nshards;
    while (live > 1) {
        size_t a = (size_t)nr_int(&r, 0, (long)live - 1), b;
        do
            b = (size_t)nr_int(&r, 0, (long)live - 1);
        while (b == a);
        hj_partial_merge(Q[a], Q[b], n, p->d, eps);
        hj_topk_merge(&tq[a], &tq[b]);
        free(Q[b]);
        free(tq[b].logit);
        free(tq[b].index);
        Q[b] = Q[live - 1];
        tq[b] = tq[live - 1];
        live--;
    }
    compare_dense(p, eps, Q[0], &tq[0], 0);
    free(Q[0]);
    free(tq[0].logit);
    free(tq[0].index);
    free(Q);
    free(tq);
    free(cut);
}

static void test_single_and_sharded(void **state)
{
    (void)state;
    const size_t dims[] = {1, 3, 16};
    const double eps_list[] = {0.3, 0.02, 0.0};
    uint64_t seed = 11;
    for (size_t di = 0; di < 3; di++)
        for (int aniso = 0; aniso <= 1; aniso++)
            for (size_t ei = 0; ei < 3; ei++) {
                problem p;
                problem_make(&p, 257, dims[di], 6, 0.0, aniso, seed++);
                run_sharded(&p, eps_list[ei], 5, 1, seed++);
                run_sharded(&p, eps_list[ei], 5, 9, seed++);
                run_sharded(&p, eps_list[ei], 1, 4, seed++);
                run_sharded(&p, eps_list[ei], p.N, 5, seed++);
                problem_free(&p);
            }
}

/* The GEMM path far from the origin (centring) and the threaded path. */
static void test_far_and_threaded(void **state)
{
    (void)state;
    problem p;
    problem_make(&p, 3000, 12, 9, 1000.0, 0, 77);
    run_sharded(&p, 0.05, 10, 3, 78);
    run_sharded(&p, 0.0, 10, 3, 79);
    problem_free(&p);
    problem_make(&p, 2000, 4, 40, 0.0, 1, 80);
    run_sharded(&p, 0.1, 7, 2, 81);
    problem_free(&p);
    problem_make(&p, 1500, 16, 24, 0.0, 0, 82);
    run_sharded(&p, 0.01, 7, 2, 83);
    problem_free(&p);
}

/* Atoms in tight clusters around the points, far from the block centre:
 * the GEMM expansion cancels there and must fall back to the direct formula. */
static void test_clustered(void **state)
{
    (void)state;
    problem p;
    problem_make(&p, 4800, 12, 6, 0.0, 0, 95); /* several atom tiles after the first */
    nr_rng r;
    nr_seed(&r, 96);
    for (size_t j = 0; j < p.N; j++)
        for (size_t c = 0; c < p.d; c++)
            p.y[j * p.d + c] = p.x[(j % p.n) * p.d + c] + nr_unif(&r, -1e-4, 1e-4);
    for (size_t j = 0; j < p.N; j++)
        p.g[j] = 0.0;
    run_sharded(&p, 1e-8, 1, 2, 97);
    run_sharded(&p, 1e-9, 3, 1, 98);
    problem_free(&p);
}

/* eps = 0 with exact ties across shard boundaries: duplicated atoms. */
static void test_eps0_ties(void **state)
{
    (void)state;
    for (size_t d = 2; d <= 10; d += 8) {
        problem p;
        problem_make(&p, 120, d, 5, 0.0, 0, 90 + d);
        /* atoms 30..59 duplicate 0..29, then 60..119 duplicate 0..59: 4 copies of each */
        memcpy(p.y + 30 * d, p.y, 30 * d * sizeof *p.y);
        memcpy(p.g + 30, p.g, 30 * sizeof *p.g);
        memcpy(p.y + 60 * d, p.y, 60 * d * sizeof *p.y);
        memcpy(p.g + 60, p.g, 60 * sizeof *p.g);
        for (uint64_t s = 0; s < 6; s++) {
            run_sharded(&p, 0.0, 6, 2 + s, 200 + s);
            run_sharded(&p, 0.0, 1, 7, 300 + s);
        }
        /* the number of ties is exact: entropy log 4 at every point */
        double *P = nr_xmalloc(p.n * hj_partial_width(d) * sizeof *P);
        hj_partial_init(P, p.n, d);
        hj_atoms at = {p.N, d, p.y, p.g};
        assert_int_equal(hj_partial_atoms(&at, 0, NULL, p.x, p.n, p.t, 0.0, 1, P, NULL, NULL),
                         HJ_OK);
        for (size_t i = 0; i < p.n; i++)
            assert_true(P[i * hj_partial_width(d) + 1] == 4.0);
        free(P);
        problem_free(&p);
    }
}

static void test_eps_extreme(void **state)
{
    (void)state;
    const double eps_list[] = {1e-300, 1e300};
    for (size_t ei = 0; ei < 2; ei++)
        for (size_t d = 2; d <= 9; d += 7) {
            problem p;
            problem_make(&p, 200, d, 4, 0.0, (int)(d == 9), 400 + d + ei);
            run_sharded(&p, eps_list[ei], 4, 1, 500);
            run_sharded(&p, eps_list[ei], 4, 6, 501);
            problem_free(&p);
        }
}

/* P (+) Q == Q (+) P bit for bit, and grouping changes only rounding. */
static void test_merge_algebra(void **state)
{
    (void)state;
    problem p;
    problem_make(&p, 300, 3, 8, 0.0, 0, 600);
    const size_t n = p.n, d = p.d, w = hj_partial_width(d);
    const double eps_list[] = {0.05, 0.0};
    for (size_t ei = 0; ei < 2; ei++) {
        const double eps = eps_list[ei];
        double *A = nr_xmalloc(n * w * sizeof *A), *B = nr_xmalloc(n * w * sizeof *B);
        double *C = nr_xmalloc(n * w * sizeof *C), *E = nr_xmalloc(n * w * sizeof *E);
        double *X1 = nr_xmalloc(n * w * sizeof *X1), *X2 = nr_xmalloc(n * w * sizeof *X2);
        double tl[4][8 * 3];
        size_t ti[4][8 * 3];
        hj_topk ta, tb, tc, te;
        fold_shard(&p, 0, 100, eps, 3, A, &ta, tl[0], ti[0]);
        fold_shard(&p, 100, 170, eps, 3, B, &tb, tl[1], ti[1]);
        fold_shard(&p, 170, 300, eps, 3, C, &tc, tl[2], ti[2]);
        fold_shard(&p, 5, 5, eps, 3, E, &te, tl[3], ti[3]); /* empty */
        /* commutativity */
        memcpy(X1, A, n * w * sizeof *X1);
        hj_partial_merge(X1, B, n, d, eps);
        memcpy(X2, B, n * w * sizeof *X2);
        hj_partial_merge(X2, A, n, d, eps);
        assert_memory_equal(X1, X2, n * w * sizeof *X1);
        /* empty is the identity, bit for bit, on either side */
        memcpy(X2, X1, n * w * sizeof *X2);
        hj_partial_merge(X2, E, n, d, eps);
        assert_memory_equal(X1, X2, n * w * sizeof *X1);
        memcpy(X2, E, n * w * sizeof *X2);
        hj_partial_merge(X2, X1, n, d, eps);
        assert_memory_equal(X1, X2, n * w * sizeof *X1);
        /* associativity: (A+B)+C vs A+(B+C) */
        hj_partial_merge(X1, C, n, d, eps);
        memcpy(X2, B, n * w * sizeof *X2);
        hj_partial_merge(X2, C, n, d, eps);
        double *Y = nr_xmalloc(n * w * sizeof *Y);
        memcpy(Y, A, n * w * sizeof *Y);
        hj_partial_merge(Y, X2, n, d, eps);
        for (size_t k = 0; k < n * w; k++)
            assert_true(fabs(X1[k] - Y[k]) <= 1e-14 * (fabs(X1[k]) + fabs(X1[(k / w) * w + 1])));
        free(A), free(B), free(C), free(E), free(X1), free(X2), free(Y);
    }
    problem_free(&p);
}

/* hj_partial_fold_logits vs a long-double reference written from the definitions. */
static void test_fold_logits_naive(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 700);
    const size_t n = 3, N = 500, dv = 2, K = 6;
    const double eps_list[] = {1.0, 0.01, 0.0, 1e-300};
    double *a = nr_xmalloc(n * N * sizeof *a), *v = nr_xmalloc(N * dv * sizeof *v);
    long double *z = nr_xmalloc(N * sizeof *z), *pi = nr_xmalloc(N * sizeof *pi);
    for (size_t ei = 0; ei < 4; ei++) {
        const double eps = eps_list[ei];
        for (size_t k = 0; k < n * N; k++)
            a[k] = nr_unif(&r, -3.0, 3.0);
        a[5] = -INFINITY;           /* an excluded atom */
        a[N + 7] = a[N + 300];      /* an exact tie */
        nr_fill_unif(&r, v, N * dv, -2.0, 2.0);
        const size_t w = hj_partial_width(dv);
        double *P = nr_xmalloc(n * w * sizeof *P), tl[3 * 6];
        size_t ti[3 * 6];
        hj_partial_init(P, n, dv);
        hj_topk tk;
        hj_topk_init(&tk, n, K, tl, ti);
        /* tiles of random widths: copy each tile's columns */
        double *tile = nr_xmalloc(n * N * sizeof *tile);
        for (size_t j0 = 0; j0 < N;) {
            size_t T = (size_t)nr_int(&r, 0, 60);
            if (T > N - j0)
                T = N - j0;
            for (size_t i = 0; i < n; i++)
                memcpy(tile + i * T, a + i * N + j0, T * sizeof *tile);
            assert_int_equal(hj_partial_fold_logits(tile, n, T, j0, T ? v + j0 * dv : NULL, T ? dv : 0,
                                                    eps, P, &tk, NULL),
                             T ? HJ_OK : HJ_OK);
            j0 += T;
        }
        free(tile);
        for (size_t i = 0; i < n; i++) {
            const double *rec = P + i * w;
            for (size_t j = 0; j < N; j++)
                z[j] = a[i * N + j];
            long double F = nr_lse(z, N, eps, pi);
            long double H = nr_entropy(pi, N);
            double Fp = rec[0] + eps * log(rec[1]);
            expect_close(Fp, (double)F, fabsl(F) + eps * 7.0, "F", i);
            double Hp = log(rec[1]) - (eps > 0.0 ? (rec[2] / rec[1]) / eps : 0.0);
            expect_close(Hp, (double)H, fmax(1.0, (double)H), "H", i);
            for (size_t c = 0; c < dv; c++) {
                long double Ev = 0.0L;
                for (size_t j = 0; j < N; j++)
                    Ev += pi[j] * v[j * dv + c];
                expect_close(rec[3 + c] / rec[1], (double)Ev, 2.0, "E[v]", i);
            }
            /* top-K: brute force, the K largest, ties to the smaller index */
            unsigned char *used = calloc(N, 1);
            for (size_t k = 0; k < K; k++) {
                size_t best = SIZE_MAX;
                for (size_t j = 0; j < N; j++)
                    if (!used[j] && (best == SIZE_MAX || a[i * N + j] > a[i * N + best]))
                        best = j;
                used[best] = 1;
                assert_int_equal(ti[i * K + k], best);
                assert_true(tl[i * K + k] == a[i * N + best]);
            }
            free(used);
        }
        free(P);
    }
    free(a), free(v), free(z), free(pi);
}

static void test_errors(void **state)
{
    (void)state;
    double a[4] = {0.0, NAN, 1.0, 2.0}, P[2 * 3];
    hj_error e = {0};
    hj_partial_init(P, 2, 0);
    assert_int_equal(hj_partial_fold_logits(a, 2, 2, 0, NULL, 0, 0.1, P, NULL, &e), HJ_ENAN);
    a[1] = INFINITY;
    assert_int_equal(hj_partial_fold_logits(a, 2, 2, 0, NULL, 0, 0.1, P, NULL, &e), HJ_EDOM);
    assert_int_equal(hj_partial_fold_logits(a, 2, 2, 0, NULL, 0, -1.0, P, NULL, &e), HJ_EINVAL);
    /* empty states cannot be finished */
    double u[2];
    hj_hc_out o = {.u = u};
    double x[2] = {0.0, 0.0};
    assert_int_equal(hj_partial_atoms_finish(P, 2, 1, NULL, x, 1.0, 0.1, 0, &o, NULL, NULL, &e),
                     HJ_EINVAL);
    hj_explain ex[2];
    assert_int_equal(hj_partial_explain(P, 2, 0, 0.1, 5, ex, &e), HJ_EINVAL);
    /* fields that partial states cannot give */
    a[1] = 0.5;
    assert_int_equal(hj_partial_fold_logits(a, 2, 2, 0, NULL, 0, 0.1, P, NULL, &e), HJ_OK);
    double lap[2];
    hj_hc_out o2 = {.lap = lap};
    assert_int_equal(hj_partial_atoms_finish(P, 2, 1, NULL, x, 1.0, 0.1, 0, &o2, NULL, NULL, &e),
                     HJ_EINVAL);
    assert_int_equal(hj_partial_atoms_finish(P, 2, 1, NULL, x, 1.0, 0.1, 0, &o, NULL, NULL, &e),
                     HJ_OK);
}

int main(void)
{
    hj_error e;
    if (hj__kernels_check(&e) != HJ_OK) { /* a set this CPU lacks: ctest counts it skipped */
        printf("skipped: %s\n", e.msg);
        return 77;
    }
    printf("kernel set in force: %s\n", hj__kernels_name(hj__kernels()));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_and_sharded), cmocka_unit_test(test_far_and_threaded),
        cmocka_unit_test(test_eps0_ties),         cmocka_unit_test(test_eps_extreme),
        cmocka_unit_test(test_merge_algebra),     cmocka_unit_test(test_fold_logits_naive),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_clustered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
