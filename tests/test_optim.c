/* test_optim.c — optimisers (Adam, SGD, L-BFGS, Adam+L-BFGS) against analytic solutions, hand-written updates and schedule properties. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/optim.h"
#include "naive_ref.h"
#include "optim/optim-impl.h"

/* ---- helpers ------------------------------------------------------------------- */

static double max_abs_diff(const double *a, const double *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) > m || isnan(a[i] - b[i]))
            m = isnan(a[i] - b[i]) ? INFINITY : fabs(a[i] - b[i]);
    return m;
}

/* Solve A x = b (d, d) by Gaussian elimination with partial pivoting (test's own). */
static void gauss_solve(const double *A, const double *b, size_t d, double *x)
{
    long double M[8][9];
    assert_true(d <= 8);
    for (size_t i = 0; i < d; i++) {
        for (size_t j = 0; j < d; j++)
            M[i][j] = A[i * d + j];
        M[i][d] = b[i];
    }
    for (size_t c = 0; c < d; c++) {
        size_t p = c;
        for (size_t r = c + 1; r < d; r++)
            if (fabsl(M[r][c]) > fabsl(M[p][c]))
                p = r;
        for (size_t j = 0; j <= d; j++) {
            long double t = M[c][j];
            M[c][j] = M[p][j];
            M[p][j] = t;
        }
        assert_true(M[c][c] != 0.0L);
        for (size_t r = c + 1; r < d; r++) {
            long double f = M[r][c] / M[c][c];
            for (size_t j = c; j <= d; j++)
                M[r][j] -= f * M[c][j];
        }
    }
    for (size_t i = d; i-- > 0;) {
        long double s = M[i][d];
        for (size_t j = i + 1; j < d; j++)
            s -= M[i][j] * (long double)x[j];
        x[i] = (double)(s / M[i][i]);
    }
}

static hj_train_options base_options(hj_optimizer o)
{
    hj_train_options opt;
    hj_train_options_default(&opt);
    opt.optimizer = o;
    opt.n_data = 1;
    return opt;
}

static void run_ok(hj_objective_fn f, void *ctx, double *x, size_t n, const hj_train_options *opt,
                   hj_train_result *res)
{
    hj_error e;
    hj_error_clear(&e);
    hj_status st = hj_optimize(f, ctx, x, n, opt, res, &e);
    if (st != HJ_OK)
        fail_msg("hj_optimize(%s) failed: %s", hj_optimizer_name(opt->optimizer), e.msg);
}

/* ---- strictly convex quadratic 0.5 x^T A x - b^T x ------------------------------- */

#define QD 5
#define QREC 4096

typedef struct quad {
    double A[QD * QD], b[QD];
    size_t calls;
    size_t nan_at;        /* call number returning a NaN (0: never) */
    int nan_in_grad;      /* the NaN goes into grad[2] instead of the loss */
    size_t fail_at;       /* call number returning HJ_EDOM (0: never) */
    double rec[QREC][QD]; /* params of each call */
    double rec_loss[QREC];
} quad;

static double quad_value(const quad *q, const double *x)
{
    long double s = 0.0L;
    for (size_t i = 0; i < QD; i++) {
        long double Ax = 0.0L;
        for (size_t j = 0; j < QD; j++)
            Ax += (long double)q->A[i * QD + j] * x[j];
        s += 0.5L * x[i] * Ax - (long double)q->b[i] * x[i];
    }
    return (double)s;
}

static hj_status quad_obj(void *ctx, const double *x, const size_t *idx, size_t n_idx,
                          double *loss, double *grad, hj_error *err)
{
    (void)idx, (void)n_idx;
    quad *q = ctx;
    q->calls++;
    if (q->calls <= QREC)
        memcpy(q->rec[q->calls - 1], x, sizeof q->rec[0]);
    if (q->fail_at != 0 && q->calls == q->fail_at)
        return hj_error_set(err, HJ_EDOM, "custom failure %d in the objective", 42);
    double f = 0.0;
    for (size_t i = 0; i < QD; i++) {
        double Ax = 0.0;
        for (size_t j = 0; j < QD; j++)
            Ax += q->A[i * QD + j] * x[j];
        grad[i] = Ax - q->b[i];
        f += 0.5 * x[i] * Ax - q->b[i] * x[i];
    }
    if (q->nan_at != 0 && q->calls >= q->nan_at) {
        if (q->nan_in_grad)
            grad[2] = NAN;
        else
            f = NAN;
    }
    *loss = f;
    if (q->calls <= QREC)
        q->rec_loss[q->calls - 1] = f;
    return HJ_OK;
}

/* A = M^T M / QD + 0.5 I (SPD, eigenvalues >= 0.5), b random. */
static void quad_init(quad *q, uint64_t seed)
{
    memset(q, 0, sizeof *q);
    nr_rng r;
    nr_seed(&r, seed);
    double M[QD * QD];
    nr_fill_normal(&r, M, QD * QD, 1.0);
    for (size_t i = 0; i < QD; i++)
        for (size_t j = 0; j < QD; j++) {
            double s = 0.0;
            for (size_t k = 0; k < QD; k++)
                s += M[k * QD + i] * M[k * QD + j];
            q->A[i * QD + j] = s / QD + (i == j ? 0.5 : 0.0);
        }
    nr_fill_normal(&r, q->b, QD, 1.0);
}

static double quad_trace(const quad *q)
{
    double t = 0.0;
    for (size_t i = 0; i < QD; i++)
        t += q->A[i * QD + i];
    return t;
}

static void quadratic_every_optimizer_reaches_solution(void **state)
{
    (void)state;
    quad *q = malloc(sizeof *q);
    assert_non_null(q);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        quad_init(q, seed);
        double xs[QD];
        gauss_solve(q->A, q->b, QD, xs);
        const double fstar = quad_value(q, xs);
        for (int o = HJ_OPT_ADAM; o <= HJ_OPT_ADAM_LBFGS; o++) {
            hj_train_options opt = base_options((hj_optimizer)o);
            switch (o) {
            case HJ_OPT_ADAM: opt.lr = 0.02; opt.iters = 6000; break;
            case HJ_OPT_SGD: opt.lr = 1.0 / quad_trace(q); opt.iters = 3000; break;
            case HJ_OPT_LBFGS: opt.iters = 200; break;
            default: opt.lr = 0.02; opt.iters = 200; opt.lbfgs_iters = 200; break;
            }
            double x[QD] = {0};
            hj_train_result res;
            q->calls = 0;
            run_ok(quad_obj, q, x, QD, &opt, &res);
            double dx = max_abs_diff(x, xs, QD);
            if (dx > 1e-6)
                fail_msg("seed %d %s: |x - A^-1 b|_inf = %g > 1e-6", (int)seed,
                         hj_optimizer_name(opt.optimizer), dx);
            /* final_loss is the objective at the returned params */
            assert_true(fabs(res.final_loss - quad_value(q, x)) <= 1e-12 * (1 + fabs(fstar)));
            assert_true(res.final_loss >= fstar - 1e-12 * (1 + fabs(fstar)));
            assert_non_null(res.loss_trace);
            assert_true(res.steps >= 1);
            if (o == HJ_OPT_ADAM || o == HJ_OPT_SGD)
                assert_int_equal(res.steps, opt.iters);
            /* the first trace entry is the loss at the start (x = 0) */
            assert_true(res.loss_trace[0] == 0.0 || o == HJ_OPT_LBFGS);
            assert_int_equal(res.stopped, 0);
            free(res.loss_trace);
        }
    }
    free(q);
}

static void lbfgs_trace_decreases_on_quadratic(void **state)
{
    (void)state;
    quad *q = malloc(sizeof *q);
    assert_non_null(q);
    quad_init(q, 7);
    hj_train_options opt = base_options(HJ_OPT_LBFGS);
    opt.iters = 100;
    double x[QD] = {1, -1, 2, 0.5, 3};
    hj_train_result res;
    run_ok(quad_obj, q, x, QD, &opt, &res);
    assert_true(res.steps >= 2 && res.steps <= opt.iters);
    for (size_t k = 1; k < res.steps; k++)
        assert_true(res.loss_trace[k] <= res.loss_trace[k - 1]);
    free(res.loss_trace);
    free(q);
}

/* ---- Rosenbrock ------------------------------------------------------------------ */

static hj_status rosen_obj(void *ctx, const double *x, const size_t *idx, size_t n_idx,
                           double *loss, double *grad, hj_error *err)
{
    (void)ctx, (void)idx, (void)n_idx, (void)err;
    const double a = 1.0 - x[0], b = x[1] - x[0] * x[0];
    *loss = a * a + 100.0 * b * b;
    grad[0] = -2.0 * a - 400.0 * x[0] * b;
    grad[1] = 200.0 * b;
    return HJ_OK;
}

static void rosenbrock_lbfgs_reaches_minimum(void **state)
{
    (void)state;
    hj_train_options opt = base_options(HJ_OPT_LBFGS);
    opt.iters = 500;
    double x[2] = {-1.2, 1.0};
    hj_train_result res;
    run_ok(rosen_obj, NULL, x, 2, &opt, &res);
    if (fabs(x[0] - 1.0) > 1e-6 || fabs(x[1] - 1.0) > 1e-6)
        fail_msg("L-BFGS ended at (%.17g, %.17g), not (1, 1)", x[0], x[1]);
    assert_true(res.final_loss < 1e-12);
    free(res.loss_trace);
}

static void rosenbrock_adam_makes_steady_progress(void **state)
{
    (void)state;
    hj_train_options opt = base_options(HJ_OPT_ADAM);
    opt.lr = 2e-3;
    opt.iters = 10000;
    double x[2] = {-1.2, 1.0};
    const double f0 = 24.2; /* (1 + 1.2)^2 + 100 (1 - 1.44)^2 */
    hj_train_result res;
    run_ok(rosen_obj, NULL, x, 2, &opt, &res);
    assert_true(fabs(res.loss_trace[0] - f0) < 1e-12);
    /* mean loss over consecutive windows of 1000 steps decreases */
    double prev = INFINITY;
    for (size_t w = 0; w < opt.iters / 1000; w++) {
        double s = 0.0;
        for (size_t k = 0; k < 1000; k++)
            s += res.loss_trace[w * 1000 + k];
        s /= 1000;
        if (!(s < prev))
            fail_msg("window %zu mean loss %g did not drop below %g", w, s, prev);
        prev = s;
    }
    assert_true(res.final_loss < 1e-6 * f0);
    /* and it ends near the minimiser (1, 1) */
    assert_true(hypot(x[0] - 1.0, x[1] - 1.0) < 1e-3);
    free(res.loss_trace);
}

/* ---- hand computations of single updates ------------------------------------------ */

/* linear objective c . x: gradient c everywhere */
static hj_status linear_obj(void *ctx, const double *x, const size_t *idx, size_t n_idx,
                            double *loss, double *grad, hj_error *err)
{
    (void)idx, (void)n_idx, (void)err;
    const double *c = ctx;
    *loss = 0.0;
    for (size_t i = 0; i < 3; i++) {
        *loss += c[i] * x[i];
        grad[i] = c[i];
    }
    return HJ_OK;
}

static void adam_step_matches_hand_computation(void **state)
{
    (void)state;
    /* internal kernel from an arbitrary known state (m, v, t = 4) */
    const double lr = 0.05, b1 = 0.8, b2 = 0.99, eps = 1e-6;
    double p[3] = {0.3, -1.2, 2.0}, g[3] = {1.5, -0.25, 0.0};
    double m[3] = {0.1, -0.2, 0.3}, v[3] = {0.04, 0.5, 0.01};
    double pe[3], me[3], ve[3];
    for (size_t i = 0; i < 3; i++) {
        long double mi = 0.8L * m[i] + 0.2L * g[i];
        long double vi = 0.99L * v[i] + 0.01L * (long double)g[i] * g[i];
        long double mhat = mi / (1.0L - 0.8L * 0.8L * 0.8L * 0.8L);
        long double vhat = vi / (1.0L - 0.99L * 0.99L * 0.99L * 0.99L);
        pe[i] = (double)(p[i] - 0.05L * mhat / (sqrtl(vhat) + 1e-6L));
        me[i] = (double)mi;
        ve[i] = (double)vi;
    }
    hj__adam_step(p, g, m, v, 4, 3, lr, b1, b2, eps);
    for (size_t i = 0; i < 3; i++) {
        assert_true(fabs(p[i] - pe[i]) <= 1e-15 * (1 + fabs(pe[i])));
        assert_true(fabs(m[i] - me[i]) <= 1e-16);
        assert_true(fabs(v[i] - ve[i]) <= 1e-16);
    }

    /* through hj_optimize: with a constant gradient c, m_t = (1 - b1^t) c and
     * v_t = (1 - b2^t) c^2, so every bias-corrected step is lr c / (|c| + eps). */
    double c[3] = {2.0, -0.5, 1e-3};
    hj_train_options opt = base_options(HJ_OPT_ADAM);
    opt.lr = 0.01;
    opt.adam_eps = 1e-4;
    for (size_t T = 1; T <= 25; T += 12) {
        opt.iters = T;
        double x[3] = {1.0, 2.0, 3.0}, x0[3] = {1.0, 2.0, 3.0};
        hj_train_result res;
        run_ok(linear_obj, c, x, 3, &opt, &res);
        for (size_t i = 0; i < 3; i++) {
            double expect = x0[i] - (double)T * 0.01 * c[i] / (fabs(c[i]) + 1e-4);
            assert_true(fabs(x[i] - expect) <= 1e-13);
        }
        free(res.loss_trace);
    }

    /* two steps on the quadratic, update written out by hand */
    quad *q = malloc(sizeof *q);
    assert_non_null(q);
    quad_init(q, 11);
    double x[QD] = {0.5, -0.5, 1.0, 0.0, 2.0}, xr[QD], mr[QD] = {0}, vr[QD] = {0};
    memcpy(xr, x, sizeof x);
    opt.lr = 0.1;
    opt.beta1 = 0.7;
    opt.beta2 = 0.9;
    opt.adam_eps = 1e-3;
    opt.iters = 2;
    for (int t = 1; t <= 2; t++) {
        double gr[QD];
        for (size_t i = 0; i < QD; i++) {
            gr[i] = -q->b[i];
            for (size_t j = 0; j < QD; j++)
                gr[i] += q->A[i * QD + j] * xr[j];
        }
        for (size_t i = 0; i < QD; i++) {
            mr[i] = 0.7 * mr[i] + 0.3 * gr[i];
            vr[i] = 0.9 * vr[i] + 0.1 * gr[i] * gr[i];
            double mh = mr[i] / (1 - (t == 1 ? 0.7 : 0.49));
            double vh = vr[i] / (1 - (t == 1 ? 0.9 : 0.81));
            xr[i] -= 0.1 * mh / (sqrt(vh) + 1e-3);
        }
    }
    hj_train_result res;
    run_ok(quad_obj, q, x, QD, &opt, &res);
    assert_true(max_abs_diff(x, xr, QD) <= 1e-14);
    free(res.loss_trace);
    free(q);
}

static void sgd_momentum_step_matches_hand_computation(void **state)
{
    (void)state;
    double p[3] = {1.0, -2.0, 0.5}, g[3] = {0.3, 0.7, -1.1}, vel[3] = {0.2, -0.1, 0.4};
    double pe[3], ve[3];
    for (size_t i = 0; i < 3; i++) {
        ve[i] = 0.9 * vel[i] + g[i];
        pe[i] = p[i] - 0.1 * ve[i];
    }
    hj__sgd_step(p, g, vel, 3, 0.1, 0.9);
    for (size_t i = 0; i < 3; i++) {
        assert_true(fabs(vel[i] - ve[i]) <= 1e-15);
        assert_true(fabs(p[i] - pe[i]) <= 1e-15);
    }

    /* constant gradient c: v_t = c (1 - mu^t) / (1 - mu), so after T steps
     * x = x0 - lr c sum_{t=1..T} (1 - mu^t) / (1 - mu). */
    double c[3] = {2.0, -0.5, 0.25};
    hj_train_options opt = base_options(HJ_OPT_SGD);
    opt.lr = 0.01;
    opt.momentum = 0.6;
    opt.iters = 9;
    double x[3] = {1.0, 2.0, 3.0};
    hj_train_result res;
    run_ok(linear_obj, c, x, 3, &opt, &res);
    double S = 0.0;
    for (int t = 1; t <= 9; t++)
        S += (1.0 - pow(0.6, t)) / 0.4;
    const double x0[3] = {1.0, 2.0, 3.0};
    for (size_t i = 0; i < 3; i++)
        assert_true(fabs(x[i] - (x0[i] - 0.01 * c[i] * S)) <= 1e-13);
    free(res.loss_trace);
}

/* ---- mini-batch schedule -------------------------------------------------------- */

#define SN 10
#define SMAXCALLS 64

typedef struct sched {
    size_t calls;
    size_t n_idx[SMAXCALLS];
    int null_idx[SMAXCALLS];
    size_t idx[SMAXCALLS][SN];
} sched;

/* loss = mean over the batch of 0.5 (x - i)^2; records every call's indices */
static hj_status sched_obj(void *ctx, const double *x, const size_t *idx, size_t n_idx,
                           double *loss, double *grad, hj_error *err)
{
    (void)err;
    sched *s = ctx;
    assert_true(s->calls < SMAXCALLS);
    size_t c = s->calls++;
    s->n_idx[c] = n_idx;
    s->null_idx[c] = idx == NULL;
    double f = 0.0, g = 0.0;
    for (size_t k = 0; k < n_idx; k++) {
        size_t i = idx != NULL ? idx[k] : k;
        if (idx != NULL)
            s->idx[c][k] = idx[k];
        f += 0.5 * (x[0] - (double)i) * (x[0] - (double)i);
        g += x[0] - (double)i;
    }
    *loss = f / (double)n_idx;
    grad[0] = g / (double)n_idx;
    return HJ_OK;
}

typedef struct epoch_log {
    size_t n;
    size_t step[SMAXCALLS], epoch[SMAXCALLS];
} epoch_log;

static int log_epochs(const hj_train_progress *p, void *ctx)
{
    epoch_log *l = ctx;
    l->step[l->n] = p->step;
    l->epoch[l->n] = p->epoch;
    l->n++;
    return 0;
}

static void run_sched(sched *s, const hj_train_options *opt)
{
    memset(s, 0, sizeof *s);
    double x[1] = {0.0};
    hj_train_result res;
    run_ok(sched_obj, s, x, 1, opt, &res);
    free(res.loss_trace);
}

static void minibatch_schedule_is_seeded_permutation(void **state)
{
    (void)state;
    static sched a, b, c, d;
    epoch_log log = {0};
    hj_train_options opt = base_options(HJ_OPT_SGD);
    opt.n_data = SN;
    opt.batch = 4;
    opt.epochs = 3;
    opt.iters = 1000; /* ignored: epochs > 0 and batch > 0 */
    opt.seed = 12345;
    opt.report_every = 1;
    opt.callback = log_epochs;
    opt.callback_ctx = &log;
    run_sched(&a, &opt);
    /* 3 epochs x 3 batches (4, 4, 2), then one full-data evaluation */
    assert_int_equal(a.calls, 10);
    for (size_t e = 0; e < 3; e++) {
        int seen[SN] = {0};
        const size_t sizes[3] = {4, 4, 2};
        for (size_t k = 0; k < 3; k++) {
            size_t c0 = 3 * e + k;
            assert_false(a.null_idx[c0]);
            assert_int_equal(a.n_idx[c0], sizes[k]);
            for (size_t i = 0; i < a.n_idx[c0]; i++) {
                assert_true(a.idx[c0][i] < SN);
                seen[a.idx[c0][i]]++;
            }
        }
        for (size_t i = 0; i < SN; i++)
            assert_int_equal(seen[i], 1); /* every epoch is a permutation */
    }
    assert_true(a.null_idx[9] && a.n_idx[9] == SN);
    /* epochs are reshuffled (identical permutations: probability 1/10!) */
    assert_true(memcmp(a.idx[0], a.idx[3], 4 * sizeof(size_t)) != 0 ||
                memcmp(a.idx[1], a.idx[4], 4 * sizeof(size_t)) != 0);
    /* progress reports the completed epochs */
    assert_int_equal(log.n, 9);
    for (size_t k = 0; k < 9; k++) {
        assert_int_equal(log.step[k], k + 1);
        assert_int_equal(log.epoch[k], (k + 1) / 3);
    }

    /* same seed: identical sequence; different seed: different */
    opt.callback = NULL;
    run_sched(&b, &opt);
    assert_int_equal(b.calls, a.calls);
    for (size_t k = 0; k < 9; k++) {
        assert_int_equal(b.n_idx[k], a.n_idx[k]);
        assert_memory_equal(b.idx[k], a.idx[k], a.n_idx[k] * sizeof(size_t));
    }
    opt.seed = 54321;
    run_sched(&c, &opt);
    int differs = 0;
    for (size_t k = 0; k < 9; k++)
        differs |= memcmp(c.idx[k], a.idx[k], a.n_idx[k] * sizeof(size_t)) != 0;
    assert_true(differs);

    /* iteration mode cycles epochs with the same schedule */
    opt.seed = 12345;
    opt.epochs = 0;
    opt.iters = 7;
    run_sched(&d, &opt);
    assert_int_equal(d.calls, 8);
    for (size_t k = 0; k < 7; k++) {
        assert_int_equal(d.n_idx[k], a.n_idx[k]);
        assert_memory_equal(d.idx[k], a.idx[k], a.n_idx[k] * sizeof(size_t));
    }

    /* full batch: idx == NULL, n_idx == n_data for every call */
    opt.batch = 0;
    opt.iters = 5;
    run_sched(&d, &opt);
    assert_int_equal(d.calls, 6);
    for (size_t k = 0; k < 6; k++)
        assert_true(d.null_idx[k] && d.n_idx[k] == SN);
}

static void shuffle_is_uniform_enough(void **state)
{
    (void)state;
    /* position counts of each element over many shuffles of 4 items */
    hj_rng r;
    hj_rng_seed(&r, 99);
    size_t count[4][4] = {{0}};
    const size_t T = 40000;
    for (size_t t = 0; t < T; t++) {
        size_t p[4];
        hj__shuffle(&r, p, 4);
        for (size_t i = 0; i < 4; i++)
            count[p[i]][i]++;
    }
    for (size_t a = 0; a < 4; a++)
        for (size_t i = 0; i < 4; i++) /* expected 10000, sd ~ 87 */
            assert_true(labs((long)count[a][i] - 10000) < 600);
    for (uint64_t bound = 1; bound < 20; bound++)
        for (int k = 0; k < 50; k++)
            assert_true(hj__rng_below(&r, bound) < bound);
}

/* ---- least squares with consistent data (mini-batch convergence) ------------------ */

#define LSN 40
#define LSD 3

typedef struct lsq {
    double a[LSN][LSD], y[LSN], xtrue[LSD];
} lsq;

static hj_status lsq_obj(void *ctx, const double *x, const size_t *idx, size_t n_idx,
                         double *loss, double *grad, hj_error *err)
{
    (void)err;
    const lsq *L = ctx;
    double f = 0.0;
    memset(grad, 0, LSD * sizeof *grad);
    for (size_t k = 0; k < n_idx; k++) {
        size_t i = idx != NULL ? idx[k] : k;
        double r = -L->y[i];
        for (size_t j = 0; j < LSD; j++)
            r += L->a[i][j] * x[j];
        f += 0.5 * r * r;
        for (size_t j = 0; j < LSD; j++)
            grad[j] += r * L->a[i][j];
    }
    *loss = f / (double)n_idx;
    for (size_t j = 0; j < LSD; j++)
        grad[j] /= (double)n_idx;
    return HJ_OK;
}

static void lsq_init(lsq *L)
{
    nr_rng r;
    nr_seed(&r, 2024);
    nr_fill_normal(&r, &L->a[0][0], LSN * LSD, 1.0);
    nr_fill_normal(&r, L->xtrue, LSD, 1.0);
    for (size_t i = 0; i < LSN; i++) {
        L->y[i] = 0.0;
        for (size_t j = 0; j < LSD; j++)
            L->y[i] += L->a[i][j] * L->xtrue[j];
    }
}

static void minibatch_converges_on_consistent_least_squares(void **state)
{
    (void)state;
    lsq L;
    lsq_init(&L);
    for (int o = HJ_OPT_ADAM; o <= HJ_OPT_SGD; o++) {
        hj_train_options opt = base_options((hj_optimizer)o);
        opt.n_data = LSN;
        opt.batch = 7;
        opt.epochs = o == HJ_OPT_ADAM ? 1500 : 400;
        opt.lr = o == HJ_OPT_ADAM ? 0.01 : 0.02;
        opt.seed = 3;
        double x[LSD] = {0};
        hj_train_result res;
        run_ok(lsq_obj, &L, x, LSD, &opt, &res);
        assert_int_equal(res.steps, opt.epochs * 6); /* ceil(40 / 7) = 6 batches */
        double dx = max_abs_diff(x, L.xtrue, LSD);
        if (dx > 1e-6)
            fail_msg("%s with batch 7: |x - x_true| = %g", hj_optimizer_name(opt.optimizer), dx);
        free(res.loss_trace);
    }
}

static void runs_are_bit_identical(void **state)
{
    (void)state;
    lsq L;
    lsq_init(&L);
    for (int o = HJ_OPT_ADAM; o <= HJ_OPT_ADAM_LBFGS; o++) {
        hj_train_options opt = base_options((hj_optimizer)o);
        opt.n_data = LSN;
        opt.batch = o == HJ_OPT_LBFGS ? 0 : 6;
        opt.iters = 50;
        opt.lbfgs_iters = 10;
        opt.lr = 0.01;
        opt.seed = 77;
        double x1[LSD] = {0.1, 0.2, 0.3}, x2[LSD] = {0.1, 0.2, 0.3};
        hj_train_result r1, r2;
        run_ok(lsq_obj, &L, x1, LSD, &opt, &r1);
        run_ok(lsq_obj, &L, x2, LSD, &opt, &r2);
        assert_memory_equal(x1, x2, sizeof x1);
        assert_int_equal(r1.steps, r2.steps);
        assert_memory_equal(r1.loss_trace, r2.loss_trace, r1.steps * sizeof(double));
        assert_memory_equal(&r1.final_loss, &r2.final_loss, sizeof(double));
        free(r1.loss_trace);
        free(r2.loss_trace);
    }
}

/* ---- callback: early stop, phases ------------------------------------------------- */

typedef struct cb_log {
    size_t n, stop_at;
    size_t step[512];
    double loss[512];
    char phase[512][8];
} cb_log;

static int log_cb(const hj_train_progress *p, void *ctx)
{
    cb_log *l = ctx;
    if (l->n < 512) {
        l->step[l->n] = p->step;
        l->loss[l->n] = p->loss;
        snprintf(l->phase[l->n], sizeof l->phase[0], "%s", p->phase);
    }
    l->n++;
    return l->stop_at != 0 && l->n >= l->stop_at;
}

static void callback_stops_early(void **state)
{
    (void)state;
    quad *q = malloc(sizeof *q);
    cb_log *log = calloc(1, sizeof *log);
    assert_non_null(q);
    assert_non_null(log);
    quad_init(q, 5);
    const hj_optimizer which[3] = {HJ_OPT_ADAM, HJ_OPT_SGD, HJ_OPT_LBFGS};
    for (size_t w = 0; w < 3; w++) {
        hj_train_options opt = base_options(which[w]);
        opt.lr = 0.01;
        opt.iters = 100;
        opt.report_every = 1;
        opt.callback = log_cb;
        opt.callback_ctx = log;
        memset(log, 0, sizeof *log);
        log->stop_at = 3;
        double x[QD] = {3, 2, 1, 0, -1};
        hj_train_result res;
        run_ok(quad_obj, q, x, QD, &opt, &res);
        assert_int_equal(res.stopped, 1);
        assert_int_equal(res.steps, 3);
        assert_int_equal(log->n, 3);
        for (size_t k = 0; k < 3; k++) {
            assert_int_equal(log->step[k], k + 1);
            assert_true(log->loss[k] == res.loss_trace[k]);
        }
        assert_true(fabs(res.final_loss - quad_value(q, x)) <= 1e-12);
        free(res.loss_trace);
    }

    /* report_every = 0: one report, at the end; a stop request there changes nothing */
    hj_train_options opt = base_options(HJ_OPT_ADAM);
    opt.iters = 20;
    opt.callback = log_cb;
    opt.callback_ctx = log;
    memset(log, 0, sizeof *log);
    log->stop_at = 1;
    double x[QD] = {0};
    hj_train_result res;
    run_ok(quad_obj, q, x, QD, &opt, &res);
    assert_int_equal(log->n, 1);
    assert_int_equal(log->step[0], 20);
    assert_int_equal(res.steps, 20);
    assert_int_equal(res.stopped, 0);
    free(res.loss_trace);

    /* report_every = 7 over 20 steps: reports at 7, 14 and the end (20) */
    opt.report_every = 7;
    memset(log, 0, sizeof *log);
    memset(x, 0, sizeof x);
    run_ok(quad_obj, q, x, QD, &opt, &res);
    assert_int_equal(log->n, 3);
    assert_int_equal(log->step[0], 7);
    assert_int_equal(log->step[1], 14);
    assert_int_equal(log->step[2], 20);
    free(res.loss_trace);

    /* adam+lbfgs: a stop at the end of the Adam phase skips L-BFGS */
    opt.optimizer = HJ_OPT_ADAM_LBFGS;
    opt.report_every = 0;
    opt.lbfgs_iters = 50;
    memset(log, 0, sizeof *log);
    log->stop_at = 1;
    memset(x, 0, sizeof x);
    run_ok(quad_obj, q, x, QD, &opt, &res);
    assert_int_equal(res.stopped, 1);
    assert_int_equal(res.steps, 20);
    assert_string_equal(log->phase[0], "adam");
    free(res.loss_trace);
    free(log);
    free(q);
}

static void adam_lbfgs_runs_both_phases(void **state)
{
    (void)state;
    quad *q = malloc(sizeof *q);
    cb_log *log = calloc(1, sizeof *log);
    assert_non_null(q);
    assert_non_null(log);
    quad_init(q, 9);
    hj_train_options opt = base_options(HJ_OPT_ADAM_LBFGS);
    opt.lr = 0.05;
    opt.iters = 30;
    opt.lbfgs_iters = 100;
    opt.report_every = 1;
    opt.callback = log_cb;
    opt.callback_ctx = log;
    double x[QD] = {1, 1, 1, 1, 1};
    hj_train_result res;
    run_ok(quad_obj, q, x, QD, &opt, &res);

    size_t n_adam = 0, n_lbfgs = 0;
    for (size_t k = 0; k < log->n; k++) {
        if (strcmp(log->phase[k], "adam") == 0) {
            assert_int_equal(n_lbfgs, 0); /* Adam comes first */
            assert_int_equal(log->step[k], ++n_adam);
        } else {
            assert_string_equal(log->phase[k], "lbfgs");
            assert_int_equal(log->step[k], ++n_lbfgs);
        }
        assert_true(log->loss[k] == res.loss_trace[k]);
    }
    assert_int_equal(n_adam, 30);
    assert_true(n_lbfgs >= 1 && n_lbfgs <= 100);
    assert_int_equal(res.steps, n_adam + n_lbfgs);

    /* the same as Adam alone, then L-BFGS alone from Adam's end point */
    double y[QD] = {1, 1, 1, 1, 1};
    hj_train_options o2 = opt;
    o2.callback = NULL;
    o2.optimizer = HJ_OPT_ADAM;
    hj_train_result r1, r2;
    run_ok(quad_obj, q, y, QD, &o2, &r1);
    o2.optimizer = HJ_OPT_LBFGS;
    o2.iters = 100;
    run_ok(quad_obj, q, y, QD, &o2, &r2);
    assert_memory_equal(x, y, sizeof x);
    assert_int_equal(r1.steps, n_adam);
    assert_int_equal(r2.steps, n_lbfgs);
    assert_memory_equal(res.loss_trace, r1.loss_trace, n_adam * sizeof(double));
    assert_memory_equal(res.loss_trace + n_adam, r2.loss_trace, n_lbfgs * sizeof(double));
    free(r1.loss_trace);
    free(r2.loss_trace);
    free(res.loss_trace);
    free(log);
    free(q);
}

/* ---- failures: NaN, objective errors ------------------------------------------------ */

static void nan_loss_stops_and_restores_params(void **state)
{
    (void)state;
    quad *q = malloc(sizeof *q);
    assert_non_null(q);
    for (int o = HJ_OPT_ADAM; o <= HJ_OPT_SGD; o++) {
        for (int in_grad = 0; in_grad <= 1; in_grad++) {
            quad_init(q, 4);
            q->nan_at = 6;
            q->nan_in_grad = in_grad;
            hj_train_options opt = base_options((hj_optimizer)o);
            opt.lr = 0.01;
            opt.iters = 100;
            double x[QD] = {1, 2, 3, 4, 5};
            hj_train_result res;
            hj_error e;
            hj_error_clear(&e);
            hj_status st = hj_optimize(quad_obj, q, x, QD, &opt, &res, &e);
            assert_int_equal(st, HJ_ENAN);
            assert_int_equal(e.code, HJ_ENAN);
            assert_non_null(strstr(e.msg, "step 6"));
            assert_non_null(strstr(e.msg, in_grad ? "gradient[2]" : "loss is NaN"));
            /* back at the point of step 5, the last finite one */
            assert_memory_equal(x, q->rec[4], sizeof x);
            assert_null(res.loss_trace);
            assert_int_equal(res.steps, 5);
            assert_true(isnan(res.final_loss));
        }
    }

    /* L-BFGS: NaN at the 8th evaluation; params = the best finite evaluated point */
    quad_init(q, 4);
    q->nan_at = 8;
    hj_train_options opt = base_options(HJ_OPT_LBFGS);
    opt.iters = 100;
    double x[QD] = {1, 2, 3, 4, 5};
    hj_train_result res;
    hj_error e;
    hj_error_clear(&e);
    hj_status st = hj_optimize(quad_obj, q, x, QD, &opt, &res, &e);
    assert_int_equal(st, HJ_ENAN);
    assert_non_null(strstr(e.msg, "evaluation 8"));
    assert_int_equal(q->calls, 8); /* the objective is not called after the failure */
    size_t best = 0;
    for (size_t k = 1; k < 7; k++)
        if (q->rec_loss[k] < q->rec_loss[best])
            best = k;
    assert_memory_equal(x, q->rec[best], sizeof x);
    free(q);
}

static void objective_error_propagates(void **state)
{
    (void)state;
    quad *q = malloc(sizeof *q);
    assert_non_null(q);
    for (int o = HJ_OPT_ADAM; o <= HJ_OPT_ADAM_LBFGS; o++) {
        quad_init(q, 8);
        q->fail_at = o == HJ_OPT_ADAM_LBFGS ? 15 : 4; /* 15: inside the L-BFGS phase */
        hj_train_options opt = base_options((hj_optimizer)o);
        opt.lr = 0.01;
        opt.iters = 10;
        opt.lbfgs_iters = 50;
        double x[QD] = {1, 2, 3, 4, 5}, x0[QD] = {1, 2, 3, 4, 5};
        hj_train_result res;
        hj_error e;
        hj_error_clear(&e);
        hj_status st = hj_optimize(quad_obj, q, x, QD, &opt, &res, &e);
        assert_int_equal(st, HJ_EDOM);
        assert_int_equal(e.code, HJ_EDOM);
        if (strstr(e.msg, "custom failure 42 in the objective") == NULL)
            fail_msg("%s: message lost: %s", hj_optimizer_name(opt.optimizer), e.msg);
        assert_null(res.loss_trace);
        assert_int_equal(q->calls, q->fail_at);
        if (o == HJ_OPT_ADAM || o == HJ_OPT_SGD) {
            assert_non_null(strstr(e.msg, "step 4"));
            assert_memory_equal(x, q->rec[2], sizeof x); /* point of step 3 */
        } else if (o == HJ_OPT_LBFGS) {
            assert_non_null(strstr(e.msg, "lbfgs"));
        } else {
            assert_non_null(strstr(e.msg, "lbfgs"));
            assert_int_equal(res.steps >= 10, 1);
        }
        /* in every case params are finite and no worse than the start */
        assert_true(quad_value(q, x) <= quad_value(q, x0));
    }
    /* err == NULL is allowed */
    quad_init(q, 8);
    q->fail_at = 1;
    hj_train_options opt = base_options(HJ_OPT_ADAM);
    double x[QD] = {0};
    hj_train_result res;
    assert_int_equal(hj_optimize(quad_obj, q, x, QD, &opt, &res, NULL), HJ_EDOM);
    free(q);
}

/* gradient of the wrong sign: liblbfgs's line search cannot decrease the loss */
static hj_status wrong_grad_obj(void *ctx, const double *x, const size_t *idx, size_t n_idx,
                                double *loss, double *grad, hj_error *err)
{
    (void)ctx, (void)idx, (void)n_idx, (void)err;
    *loss = 0.5 * (x[0] * x[0] + 4.0 * x[1] * x[1]);
    grad[0] = -x[0];
    grad[1] = -4.0 * x[1];
    return HJ_OK;
}

static void lbfgs_failure_without_decrease_is_an_error(void **state)
{
    (void)state;
    hj_train_options opt = base_options(HJ_OPT_LBFGS);
    opt.iters = 50;
    double x[2] = {1.0, -0.5};
    const double x0[2] = {1.0, -0.5};
    hj_train_result res;
    hj_error e;
    hj_error_clear(&e);
    hj_status st = hj_optimize(wrong_grad_obj, NULL, x, 2, &opt, &res, &e);
    assert_int_equal(st, HJ_EMAXITER);
    assert_non_null(strstr(e.msg, "lbfgs"));
    assert_non_null(strstr(e.msg, "liblbfgs code"));
    assert_memory_equal(x, x0, sizeof x); /* nothing better was found */
    assert_null(res.loss_trace);
}

/* 0.5 |x - c|^2 with c integer: at x = c the gradient is exactly zero */
static hj_status center_obj(void *ctx, const double *x, const size_t *idx, size_t n_idx,
                            double *loss, double *grad, hj_error *err)
{
    (void)ctx, (void)idx, (void)n_idx, (void)err;
    *loss = 0.0;
    for (size_t i = 0; i < 3; i++) {
        double r = x[i] - (double)(i + 1);
        *loss += 0.5 * r * r;
        grad[i] = r;
    }
    return HJ_OK;
}

static void lbfgs_at_the_minimum_returns_at_once(void **state)
{
    (void)state;
    cb_log *log = calloc(1, sizeof *log);
    assert_non_null(log);
    hj_train_options opt = base_options(HJ_OPT_LBFGS);
    opt.iters = 50;
    opt.callback = log_cb;
    opt.callback_ctx = log;
    double x[3] = {1, 2, 3};
    hj_train_result res;
    run_ok(center_obj, NULL, x, 3, &opt, &res);
    assert_int_equal(res.steps, 0);
    assert_null(res.loss_trace);
    assert_true(res.final_loss == 0.0);
    assert_true(x[0] == 1 && x[1] == 2 && x[2] == 3);
    /* the end-of-phase report still comes, with step 0 and the starting loss */
    assert_int_equal(log->n, 1);
    assert_int_equal(log->step[0], 0);
    assert_true(log->loss[0] == 0.0);
    free(log);
}

/* ---- options and names ----------------------------------------------------------- */

static void expect_invalid(const hj_train_options *o, const char *want)
{
    hj_error e;
    hj_error_clear(&e);
    assert_int_equal(hj_train_options_check(o, &e), HJ_EINVAL);
    assert_int_equal(e.code, HJ_EINVAL);
    if (strstr(e.msg, want) == NULL)
        fail_msg("expected '%s' in '%s'", want, e.msg);
    /* hj_optimize refuses the same options without calling the objective */
    quad *q1 = calloc(1, sizeof *q1);
    assert_non_null(q1);
    double x[QD] = {0};
    hj_train_result res;
    assert_int_equal(hj_optimize(quad_obj, q1, x, QD, o, &res, NULL), HJ_EINVAL);
    assert_int_equal(q1->calls, 0);
    assert_null(res.loss_trace);
    free(q1);
}

static void options_check_reports_the_option(void **state)
{
    (void)state;
    hj_train_options o;
    hj_train_options_default(&o);
    assert_int_equal(o.optimizer, HJ_OPT_ADAM);
    assert_true(o.lr == 1e-3 && o.beta1 == 0.9 && o.beta2 == 0.999 && o.adam_eps == 1e-8);
    assert_true(o.momentum == 0.9 && o.iters == 1000 && o.batch == 0);
    assert_int_equal(hj_train_options_check(&o, NULL), HJ_OK);

    hj_train_options b = o;
    b.lr = -1;
    expect_invalid(&b, "lr must be > 0");
    expect_invalid(&b, "(got -1)");
    b = o;
    b.lr = NAN;
    expect_invalid(&b, "lr");
    b = o;
    b.beta1 = 1.0;
    expect_invalid(&b, "beta1 must be in [0, 1)");
    b = o;
    b.beta2 = -0.1;
    expect_invalid(&b, "beta2 must be in [0, 1)");
    b = o;
    b.adam_eps = 0.0;
    expect_invalid(&b, "adam_eps");
    b = o;
    b.momentum = 1.5;
    expect_invalid(&b, "momentum must be in [0, 1)");
    b = o;
    b.n_data = 400;
    b.batch = 500;
    expect_invalid(&b, "batch 500 exceeds the 400 data points");
    b = o;
    b.iters = 0;
    expect_invalid(&b, "iters must be > 0");
    b.epochs = 3; /* epochs without batch does not count */
    expect_invalid(&b, "epochs applies only with batch > 0");
    b.n_data = 10;
    b.batch = 5;
    assert_int_equal(hj_train_options_check(&b, NULL), HJ_OK);
    b = o;
    b.optimizer = HJ_OPT_LBFGS;
    b.iters = 0;
    expect_invalid(&b, "iters must be > 0 for lbfgs");
    b = o;
    b.optimizer = HJ_OPT_ADAM_LBFGS;
    b.lbfgs_iters = 0;
    expect_invalid(&b, "lbfgs_iters must be > 0");
    b = o;
    b.optimizer = (hj_optimizer)17;
    expect_invalid(&b, "optimizer 17");

    hj_error e;
    hj_error_clear(&e);
    assert_int_equal(hj_train_options_check(NULL, &e), HJ_EINVAL);

    /* bad arguments of hj_optimize */
    double x[2] = {0, 0};
    hj_train_result res;
    assert_int_equal(hj_optimize(NULL, NULL, x, 2, &o, &res, &e), HJ_EINVAL);
    assert_int_equal(hj_optimize(rosen_obj, NULL, NULL, 2, &o, &res, &e), HJ_EINVAL);
    assert_int_equal(hj_optimize(rosen_obj, NULL, x, 0, &o, &res, &e), HJ_EINVAL);
    /* the defaults leave n_data = 0: fine for the check, not for a run */
    assert_int_equal(hj_optimize(rosen_obj, NULL, x, 2, &o, &res, &e), HJ_EINVAL);
    assert_non_null(strstr(e.msg, "n_data"));
    o.n_data = 1;
    x[1] = INFINITY;
    assert_int_equal(hj_optimize(rosen_obj, NULL, x, 2, &o, &res, &e), HJ_ENAN);
    assert_non_null(strstr(e.msg, "params[1]"));
}

static void optimizer_names_round_trip(void **state)
{
    (void)state;
    const char *names[4] = {"adam", "sgd", "lbfgs", "adam+lbfgs"};
    const hj_optimizer vals[4] = {HJ_OPT_ADAM, HJ_OPT_SGD, HJ_OPT_LBFGS, HJ_OPT_ADAM_LBFGS};
    for (size_t k = 0; k < 4; k++) {
        assert_string_equal(hj_optimizer_name(vals[k]), names[k]);
        hj_optimizer o = (hj_optimizer)99;
        assert_int_equal(hj_optimizer_parse(names[k], &o, NULL), HJ_OK);
        assert_int_equal(o, vals[k]);
    }
    hj_error e;
    hj_error_clear(&e);
    hj_optimizer o = HJ_OPT_SGD;
    assert_int_equal(hj_optimizer_parse("adamw", &o, &e), HJ_EINVAL);
    assert_int_equal(o, HJ_OPT_SGD);
    assert_non_null(strstr(e.msg, "adamw"));
    assert_non_null(strstr(e.msg, "adam, sgd, lbfgs, adam+lbfgs"));
    assert_int_equal(hj_optimizer_parse(NULL, &o, &e), HJ_EINVAL);
    assert_string_equal(hj_optimizer_name((hj_optimizer)42), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quadratic_every_optimizer_reaches_solution),
        cmocka_unit_test(lbfgs_trace_decreases_on_quadratic),
        cmocka_unit_test(rosenbrock_lbfgs_reaches_minimum),
        cmocka_unit_test(rosenbrock_adam_makes_steady_progress),
        cmocka_unit_test(adam_step_matches_hand_computation),
        cmocka_unit_test(sgd_momentum_step_matches_hand_computation),
        cmocka_unit_test(minibatch_schedule_is_seeded_permutation),
        cmocka_unit_test(shuffle_is_uniform_enough),
        cmocka_unit_test(minibatch_converges_on_consistent_least_squares),
        cmocka_unit_test(runs_are_bit_identical),
        cmocka_unit_test(callback_stops_early),
        cmocka_unit_test(adam_lbfgs_runs_both_phases),
        cmocka_unit_test(nan_loss_stops_and_restores_params),
        cmocka_unit_test(objective_error_propagates),
        cmocka_unit_test(lbfgs_failure_without_decrease_is_an_error),
        cmocka_unit_test(lbfgs_at_the_minimum_returns_at_once),
        cmocka_unit_test(options_check_reports_the_option),
        cmocka_unit_test(optimizer_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
