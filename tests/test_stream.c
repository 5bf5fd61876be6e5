/* test_stream.c — streamed, sharded Hopf–Cole solve and explain over an atom file (stream.h) vs a direct sum over all atoms; a simulated 3-process shard; agreed failures. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hjdl/partial.h"
#include "hjdl/rng.h"
#include "hjdl/stream.h"

enum { N = 301, D = 2, NX = 7, K = 4 };

typedef struct fixture {
    char path[64];
    double y[N * D], g[N], x[NX * D];
} fixture;

/* Atoms y ~ U[-2, 2]^2, g = |y|^2/4 + U[0, 1] written as CSV (%.17g: exact). */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    hj_rng r;
    hj_rng_seed(&r, 77);
    snprintf(f->path, sizeof f->path, "test_stream_%ld.csv", (long)getpid());
    FILE *fp = fopen(f->path, "w");
    if (f == NULL || fp == NULL)
        return -1;
    fputs("y1,y2,g\n", fp);
    for (size_t j = 0; j < N; j++) {
        f->y[j * D] = hj_rng_range(&r, -2, 2), f->y[j * D + 1] = hj_rng_range(&r, -2, 2);
        f->g[j] = (f->y[j * D] * f->y[j * D] + f->y[j * D + 1] * f->y[j * D + 1]) / 4 +
                  hj_rng_uniform(&r);
        fprintf(fp, "%.17g,%.17g,%.17g\n", f->y[j * D], f->y[j * D + 1], f->g[j]);
    }
    fclose(fp);
    for (size_t i = 0; i < NX * D; i++)
        f->x[i] = hj_rng_range(&r, -2.5, 2.5);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    remove(f->path);
    free(f);
    return 0;
}

/* The logits a_j = -(g_j + |x - y_j|^2/(4t)) of point xi, written out directly. */
static void logits(const fixture *f, const double *xi, double t, double *a)
{
    for (size_t j = 0; j < N; j++) {
        const double d0 = xi[0] - f->y[j * D], d1 = xi[1] - f->y[j * D + 1];
        a[j] = -(f->g[j] + (d0 * d0 + d1 * d1) / (4.0 * t));
    }
}

/* Direct reference: u, grad u, entropy and the Gibbs weights over all atoms. */
static void reference(const fixture *f, const double *xi, double t, double eps, double *u,
                      double *grad, double *H, double *pi)
{
    double a[N], m = -INFINITY, s = 0.0, ybar[D] = {0, 0};
    logits(f, xi, t, a);
    for (size_t j = 0; j < N; j++)
        m = fmax(m, a[j]);
    for (size_t j = 0; j < N; j++)
        s += (pi[j] = exp((a[j] - m) / eps));
    *H = 0.0;
    for (size_t j = 0; j < N; j++) {
        pi[j] /= s;
        ybar[0] += pi[j] * f->y[j * D], ybar[1] += pi[j] * f->y[j * D + 1];
        if (pi[j] > 0)
            *H -= pi[j] * log(pi[j]);
    }
    *u = -(m + eps * log(s));
    for (size_t k = 0; k < D; k++)
        grad[k] = (xi[k] - ybar[k]) / (2.0 * t);
}

/* A group of P processes simulated in one: the processes run one after the
 * other, highest rank first; each rank > 0 leaves its states in the group,
 * rank 0's merge takes them all. agree fails when `fail_rank` failed. */
typedef struct sim_group {
    int P;
    double *states[4];
    hj_topk topk[4];
    size_t n, w;
    int failed;   /* a rank that failed (-1: none so far) */
} sim_group;

typedef struct sim_proc {
    sim_group *grp;
    int rank;
} sim_proc;

static hj_status sim_agree(void *ctx, hj_status local, const hj_error *local_err, hj_error *err)
{
    sim_proc *p = ctx;
    if (local != HJ_OK && p->grp->failed < 0)
        p->grp->failed = p->rank;
    if (local != HJ_OK) {
        char msg[HJ_ERROR_MSG_LEN]; /* err may be local_err itself */
        snprintf(msg, sizeof msg, "%s", local_err->msg);
        return hj_error_set(err, local, "rank %d failed: %s", p->rank, msg);
    }
    if (p->grp->failed >= 0) /* a peer that ran before failed */
        return hj_error_set(err, HJ_EIO, "rank %d failed", p->grp->failed);
    return HJ_OK;
}

static hj_status sim_reduce_partial(void *ctx, double *P, size_t n, size_t dv, double eps,
                                    hj_error *err)
{
    (void)err;
    sim_proc *p = ctx;
    const size_t w = hj_partial_width(dv);
    if (p->rank > 0) {
        p->grp->states[p->rank] = malloc(n * w * sizeof *P);
        memcpy(p->grp->states[p->rank], P, n * w * sizeof *P);
        return HJ_OK;
    }
    for (int r = 1; r < p->grp->P; r++)
        hj_partial_merge(P, p->grp->states[r], n, dv, eps);
    return HJ_OK;
}

static hj_status sim_reduce_topk(void *ctx, hj_topk *tk, hj_error *err)
{
    (void)err;
    sim_proc *p = ctx;
    if (p->rank > 0) {
        hj_topk *c = &p->grp->topk[p->rank];
        double *lg = malloc(tk->n * tk->K * sizeof *lg);
        size_t *ix = malloc(tk->n * tk->K * sizeof *ix);
        hj_topk_init(c, tk->n, tk->K, lg, ix);
        memcpy(lg, tk->logit, tk->n * tk->K * sizeof *lg);
        memcpy(ix, tk->index, tk->n * tk->K * sizeof *ix);
        return HJ_OK;
    }
    for (int r = 1; r < p->grp->P; r++)
        hj_topk_merge(tk, &p->grp->topk[r]);
    return HJ_OK;
}

static void sim_free(sim_group *g)
{
    for (int r = 0; r < 4; r++) {
        free(g->states[r]);
        free(g->topk[r].logit);
        free(g->topk[r].index);
    }
}

static hj_shard sim_shard(sim_proc *p)
{
    hj_shard s = {p->rank, p->grp->P, p, sim_agree, sim_reduce_partial, sim_reduce_topk};
    return s;
}

/* The atom file at path, opened (asserted). */
static hj_rows *open_rows(const char *path)
{
    hj_rows *rows = NULL;
    hj_error e = {0};
    assert_int_equal(hj_stream_open(path, &rows, &e), HJ_OK);
    return rows;
}

static void solve_should_match_the_direct_sum_in_tiles_and_shards(void **state)
{
    const fixture *f = *state;
    const double t = 0.7, eps = 0.15;
    double ru[NX], rg[NX * D], rH[NX], pi[N];
    for (size_t i = 0; i < NX; i++)
        reference(f, f->x + i * D, t, eps, &ru[i], rg + i * D, &rH[i], pi);
    static const size_t TILES[] = {0, 1, 13, 300, 301, 1000};
    for (int P = 1; P <= 3; P++)
        for (size_t k = 0; k < sizeof TILES / sizeof TILES[0]; k++) {
            sim_group grp = {P, {NULL}, {{0}}, 0, 0, -1};
            double u[NX], gr[NX * D], H[NX];
            for (int r = P - 1; r >= 0; r--) {
                sim_proc proc = {&grp, r};
                hj_shard sh = sim_shard(&proc);
                hj_rows *rows = open_rows(f->path);
                hj_error e = {0};
                hj_hc_out out = {0};
                out.u = u, out.grad = gr, out.entropy = H;
                assert_int_equal(hj_stream_solve(rows, NULL, f->x, NX, t, eps, TILES[k],
                                                 P == 1 ? NULL : &sh, &out, &e),
                                 HJ_OK);
                hj_rows_close(rows);
            }
            for (size_t i = 0; i < NX; i++) {
                assert_true(fabs(u[i] - ru[i]) <= 1e-13 * fmax(1.0, fabs(ru[i])));
                assert_true(fabs(H[i] - rH[i]) <= 1e-12);
                for (size_t c = 0; c < D; c++)
                    assert_true(fabs(gr[i * D + c] - rg[i * D + c]) <= 1e-12);
            }
            sim_free(&grp);
        }
}

static void explain_should_find_the_largest_weights_in_any_shard(void **state)
{
    const fixture *f = *state;
    const double t = 0.5, eps = 0.05;
    for (int P = 1; P <= 3; P++) {
        sim_group grp = {P, {NULL}, {{0}}, 0, 0, -1};
        double pt[NX * K];
        size_t it[NX * K];
        hj_explain sum[NX];
        for (int r = P - 1; r >= 0; r--) {
            sim_proc proc = {&grp, r};
            hj_shard sh = sim_shard(&proc);
            hj_rows *rows = open_rows(f->path);
            hj_error e = {0};
            assert_int_equal(hj_stream_explain(rows, f->x, NX, t, eps, K, 17, P == 1 ? NULL : &sh,
                                               sum, pt, it, &e),
                             HJ_OK);
            hj_rows_close(rows);
        }
        for (size_t i = 0; i < NX; i++) {
            double u, gr[D], H, pi[N];
            reference(f, f->x + i * D, t, eps, &u, gr, &H, pi);
            assert_true(fabs(sum[i].entropy - H) <= 1e-12);
            assert_true(fabs(sum[i].n_eff - exp(H)) <= 1e-11 * exp(H));
            for (size_t k = 0; k < K; k++) {
                /* brute force: the k-th largest weight is it[k]'s, and no other is larger */
                size_t above = 0;
                for (size_t j = 0; j < N; j++)
                    above += pi[j] > pi[it[i * K + k]];
                assert_int_equal(above, k);
                assert_true(fabs(pt[i * K + k] - pi[it[i * K + k]]) <= 1e-12);
            }
        }
        sim_free(&grp);
    }
}

static void a_failing_shard_should_stop_every_process_with_its_message(void **state)
{
    const fixture *f = *state;
    /* rank 1 holds rows [101, 201) of 3 processes: a bad row there */
    char bad[64];
    snprintf(bad, sizeof bad, "test_stream_bad_%ld.csv", (long)getpid());
    FILE *in = fopen(f->path, "r"), *out = fopen(bad, "w");
    assert_non_null(in);
    assert_non_null(out);
    char line[256];
    for (size_t k = 0; fgets(line, sizeof line, in); k++)
        fputs(k == 150 ? "1e200,0,0\n" : line, out);
    fclose(in), fclose(out);
    sim_group grp = {3, {NULL}, {{0}}, 0, 0, -1};
    hj_status st[3];
    hj_error e[3];
    for (int r = 2; r >= 0; r--) {
        sim_proc proc = {&grp, r};
        hj_shard sh = sim_shard(&proc);
        hj_rows *rows = open_rows(bad);
        memset(&e[r], 0, sizeof e[r]);
        double u[NX];
        hj_hc_out o = {0};
        o.u = u;
        st[r] = hj_stream_solve(rows, NULL, f->x, NX, 1.0, 0.1, 0, &sh, &o, &e[r]);
        hj_rows_close(rows);
    }
    assert_int_equal(st[2], HJ_OK); /* rank 2 ran first: nobody had failed yet */
    assert_int_equal(st[1], HJ_ERANGE);
    assert_non_null(strstr(e[1].msg, "rank 1 failed: atoms row 150, column 1"));
    assert_int_not_equal(st[0], HJ_OK);
    assert_non_null(strstr(e[0].msg, "rank 1 failed"));
    sim_free(&grp);
    remove(bad);
    /* a one-process explain refuses K > N before reading */
    hj_rows *rows = open_rows(f->path);
    hj_error e1 = {0};
    double pt[NX];
    size_t it[NX];
    assert_int_equal(hj_stream_explain(rows, f->x, 1, 1.0, 0.1, N + 1, 0, NULL, NULL, pt, it, &e1),
                     HJ_EINVAL);
    hj_rows_close(rows);
}

static void ranges_should_tile_the_rows_in_rank_order(void **state)
{
    (void)state;
    for (size_t n = 0; n < 40; n++)
        for (int P = 1; P <= 7; P++) {
            size_t next = 0;
            for (int r = 0; r < P; r++) {
                size_t b, e;
                hj_stream_range(n, r, P, &b, &e);
                assert_int_equal(b, next);
                assert_true(e - b == n / (size_t)P || e - b == n / (size_t)P + 1);
                assert_true(e - b >= n / (size_t)P + ((size_t)r < n % (size_t)P));
                next = e;
            }
            assert_int_equal(next, n);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(solve_should_match_the_direct_sum_in_tiles_and_shards),
        cmocka_unit_test(explain_should_find_the_largest_weights_in_any_shard),
        cmocka_unit_test(a_failing_shard_should_stop_every_process_with_its_message),
        cmocka_unit_test(ranges_should_tile_the_rows_in_rank_order),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
