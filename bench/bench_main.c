/* bench_main.c — `make bench`'s hjdl side: roofline, kernel timings (perf.h), influence, and the peer-check export.
 *
 * Benchmarks, not tests: nothing here asserts a time. Modes:
 *
 *   hjdl_bench [--quick] [--out DIR] [--threads T]
 *       the roofline of this machine, then each kernel at the sizes of
 *       issue 8 (medians of REPS runs after a warm-up), and the influence
 *       closed form against brute force. Writes DIR/roofline.csv,
 *       DIR/hjdl.csv (one row per kernel x size: the columns bench/report.py
 *       and the Python peers share) and DIR/influence.csv. --quick: fewer
 *       repetitions. DIR defaults to bench-out.
 *
 *   hjdl_bench --export DIR
 *       small problems of every kernel with hjdl's answers as .npy files
 *       (inputs and outputs) plus DIR/meta.txt, for `bench/numpy_peer.py check` and torch_peer.py:
 *       a peer that computes something else is not benchmarked.
 *
 *   hjdl_bench --adam-steps-csv FILE --steps S --grid d:N,d:N,...
 *       seconds per Adam step of the `scaling` model at each (d, N), n = 4000,
 *       S steps (the same subset the peers time for the projection).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/data.h"
#include "hjdl/dataset.h"
#include "hjdl/hopf.h"
#include "hjdl/influence.h"
#include "hjdl/lse.h"
#include "hjdl/model.h"
#include "hjdl/perf.h"
#include "hjdl/rng.h"
#include "hjdl/runtime.h"
#include "hjdl/stats.h"

#define FULL_REPS 7
#define QUICK_REPS 3

static int fail(const hj_error *err)
{
    fprintf(stderr, "hjdl_bench: %s\n", err->msg[0] ? err->msg : hj_status_string(err->code));
    return 1;
}

/* ---- influence: closed form vs brute force (kept from the first `make bench`) ---- */

/* Brute force: P_{-k} for every k by recomputing the Gibbs average without k. */
static void loo_brute(const double *a, size_t N, double eps, const double *v, double *P0, double *delta)
{
    double m = -INFINITY, s = 0.0, acc = 0.0;
    for (size_t j = 0; j < N; j++)
        m = fmax(m, a[j]);
    for (size_t j = 0; j < N; j++) {
        double e = exp((a[j] - m) / eps);
        s += e;
        acc += e * v[j];
    }
    *P0 = acc / s;
    for (size_t k = 0; k < N; k++) {
        double mk = -INFINITY, sk = 0.0, ak = 0.0;
        for (size_t j = 0; j < N; j++)
            if (j != k)
                mk = fmax(mk, a[j]);
        for (size_t j = 0; j < N; j++) {
            if (j == k)
                continue;
            double e = exp((a[j] - mk) / eps);
            sk += e;
            ak += e * v[j];
        }
        delta[k] = ak / sk - *P0;
    }
}

static int bench_influence(const char *dir, size_t reps)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/influence.csv", dir);
    FILE *csv = fopen(path, "w");
    if (csv == NULL) {
        perror(path);
        return 1;
    }
    fprintf(csv, "N,closed_s,brute_s,ratio,max_abs_diff\n");
    hj_rng r;
    hj_rng_seed(&r, 1);
    printf("influence: all N leave-one-out changes at one point (median of %zu)\n", reps);
    printf("%8s %14s %14s %10s %12s\n", "N", "closed form s", "brute force s", "ratio", "max |diff|");
    static const size_t Ns[] = {100, 300, 1000, 3000, 10000};
    double xs[5], tc[5], tb[5];
    for (size_t s = 0; s < 5; s++) {
        const size_t N = Ns[s];
        const double eps = 0.5;
        double *a = malloc(N * sizeof *a), *v = malloc(N * sizeof *v);
        double *d1 = malloc(N * sizeof *d1), *d2 = malloc(N * sizeof *d2), P = 0.0, P0 = 0.0;
        if (a == NULL || v == NULL || d1 == NULL || d2 == NULL) {
            fprintf(stderr, "hjdl_bench: out of memory\n");
            return 1;
        }
        for (size_t j = 0; j < N; j++) {
            a[j] = hj_rng_normal(&r);
            v[j] = hj_rng_normal(&r);
        }
        double t1[HJ_PERF_MAX_REPS], t2[HJ_PERF_MAX_REPS];
        const size_t reps_brute = N > 3000 ? 3 : reps;
        hj_influence_loo_logits(a, N, eps, v, 1, &P, d1, NULL); /* warm-up */
        for (size_t k = 0; k < reps; k++) {
            double t0 = hj_perf_now();
            hj_influence_loo_logits(a, N, eps, v, 1, &P, d1, NULL);
            t1[k] = hj_perf_now() - t0;
        }
        for (size_t k = 0; k < reps_brute; k++) {
            double t0 = hj_perf_now();
            loo_brute(a, N, eps, v, &P0, d2);
            t2[k] = hj_perf_now() - t0;
        }
        double diff = fabs(P - P0);
        for (size_t j = 0; j < N; j++)
            diff = fmax(diff, fabs(d1[j] - d2[j]));
        xs[s] = (double)N;
        hj_perf_summary(t1, reps, &tc[s], NULL, NULL);
        hj_perf_summary(t2, reps_brute, &tb[s], NULL, NULL);
        printf("%8zu %14.3e %14.3e %10.1f %12.2e\n", N, tc[s], tb[s], tb[s] / tc[s], diff);
        fprintf(csv, "%zu,%.6e,%.6e,%.6g,%.3e\n", N, tc[s], tb[s], tb[s] / tc[s], diff);
        free(a), free(v), free(d1), free(d2);
    }
    double ec, eb, lp, sec, seb;
    hj_fit_power_law(xs, tc, 5, &ec, &lp, &sec, NULL);
    hj_fit_power_law(xs, tb, 5, &eb, &lp, &seb, NULL);
    printf("fitted cost exponents: closed form N^%.2f +- %.2f, brute force N^%.2f +- %.2f\n\n", ec, sec, eb, seb);
    fclose(csv);
    return 0;
}

/* ---- roofline and kernels -------------------------------------------------- */

static const char *CSV_HEADER =
    "kernel,n,N,d,eps,threads,reps,median_s,min_s,max_s,bound_s,fraction,throughput,check\n";

static void csv_row(FILE *f, const hj_perf_timing *t)
{
    fprintf(f, "%s,%zu,%zu,%zu,%.17g,%zu,%zu,%.6e,%.6e,%.6e,%.6e,%.4f,%.6e,%.17g\n",
            hj_perf_kernel_name(t->kernel), t->size.n, t->size.N, t->size.d, t->size.eps,
            t->threads, t->reps, t->median, t->min, t->max, t->bound, t->fraction, t->throughput,
            t->check);
}

static int bench_kernels(const char *dir, const hj_perf_options *o)
{
    hj_error err = {0};
    char path[1024];
    hj_roofline roof;
    printf("roofline (%zu threads, %s kernels, median of %zu): ",
           o->threads ? o->threads : hj_get_threads(), hj_kernels(), o->reps);
    fflush(stdout);
    if (hj_perf_roofline(o, &roof, &err) != HJ_OK)
        return fail(&err);
    printf("R_exp %.3g exp/s, R_fma %.3g FMA/s (the larger of %s dgemm %zu^3 %.3g and the "
           "kernels' FMA loop %.3g), B_write %.3g GB/s\n\n", roof.r_exp, roof.r_fma,
           roof.blas ? "OpenBLAS" : "plain-loop", roof.gemm_n, roof.r_fma_gemm, roof.r_fma_loop,
           roof.b_write / 1e9);
    snprintf(path, sizeof path, "%s/roofline.csv", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    fprintf(f, "threads,r_exp,r_fma,b_write,gemm_n,write_bytes,exp_len,blas,r_fma_gemm,r_fma_loop\n"
               "%zu,%.6e,%.6e,%.6e,%zu,%zu,%zu,%d,%.6e,%.6e\n",
            roof.threads, roof.r_exp, roof.r_fma, roof.b_write, roof.gemm_n, roof.write_bytes,
            roof.exp_len, roof.blas, roof.r_fma_gemm, roof.r_fma_loop);
    fclose(f);

    static const struct {
        hj_perf_kernel k;
        hj_perf_size s;
    } CASES[] = {
        {HJ_PERF_LSE, {4000, 1000, 2, NAN}},  {HJ_PERF_LSE, {4000, 1000, 64, NAN}},
        {HJ_PERF_ADAM, {4000, 200, 2, NAN}},  {HJ_PERF_ADAM, {4000, 500, 1, NAN}},
        {HJ_PERF_ADAM, {4000, 1000, 4, NAN}}, {HJ_PERF_HOPF_COLE, {100, 1000000, 2, NAN}},
    };
    snprintf(path, sizeof path, "%s/hjdl.csv", dir);
    if ((f = fopen(path, "w")) == NULL) {
        perror(path);
        return 1;
    }
    fputs(CSV_HEADER, f);
    printf("hjdl kernels (median of %zu; adam: seconds per step, %zu steps per run)\n", o->reps,
           o->adam_steps);
    printf("%-10s %6s %8s %4s %9s %12s %12s %12s %9s\n", "kernel", "n", "N", "d", "eps", "median s",
           "min s", "bound s", "roofline");
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        hj_perf_timing t;
        if (hj_perf_time(CASES[c].k, &CASES[c].s, o, &roof, &t, &err) != HJ_OK) {
            fclose(f);
            return fail(&err);
        }
        printf("%-10s %6zu %8zu %4zu %9.4g %12.4e %12.4e %12.4e %8.1f%%\n",
               hj_perf_kernel_name(t.kernel), t.size.n, t.size.N, t.size.d, t.size.eps, t.median,
               t.min, t.bound, 100.0 * t.fraction);
        fflush(stdout);
        csv_row(f, &t);
    }
    fclose(f);
    printf("\n");
    return 0;
}

/* ---- the peer check export ------------------------------------------------- */

static hj_status write_npy(const char *dir, const char *name, const double *data, size_t rows,
                           size_t cols, hj_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.npy", dir, name);
    hj_matrix m = {rows, cols, (double *)data, NULL};
    return hj_npy_write(path, &m, err);
}

static int export_checks(const char *dir)
{
    hj_error err = {0};
    if (hj_make_dirs(dir, &err) != HJ_OK)
        return fail(&err);
    char path[1024];
    snprintf(path, sizeof path, "%s/meta.txt", dir);
    FILE *meta = fopen(path, "w");
    if (meta == NULL) {
        perror(path);
        return 1;
    }
    int rc = 1;
    hj_perf_inputs in;
    memset(&in, 0, sizeof in);
    double *f = NULL, *pi = NULL, *u = NULL, *grad = NULL, *trace = NULL;
    hj_model m = {0};
    int have_model = 0;

    /* lse: f and pi */
    const hj_perf_size ls = {50, 40, 3, 0.3};
    if (hj_perf_inputs_make(HJ_PERF_LSE, &ls, 7, &in, &err) != HJ_OK)
        goto done;
    f = malloc(ls.n * sizeof *f), pi = malloc(ls.n * ls.N * sizeof *pi);
    if (f == NULL || pi == NULL)
        goto oom;
    hj_lse_layer L = {ls.N, ls.d, in.p, in.p + ls.N * ls.d, ls.eps};
    if (hj_lse_forward(&L, in.x, ls.n, f, pi, NULL, &err) != HJ_OK ||
        write_npy(dir, "lse_x", in.x, ls.n, ls.d, &err) != HJ_OK ||
        write_npy(dir, "lse_w", in.p, ls.N, ls.d, &err) != HJ_OK ||
        write_npy(dir, "lse_b", in.p + ls.N * ls.d, ls.N, 1, &err) != HJ_OK ||
        write_npy(dir, "lse_f", f, ls.n, 1, &err) != HJ_OK ||
        write_npy(dir, "lse_pi", pi, ls.n, ls.N, &err) != HJ_OK)
        goto done;
    fprintf(meta, "lse_eps %.17g\n", ls.eps);
    hj_perf_inputs_free(&in);

    /* adam: the loss before each of S steps, and the final parameters */
    const hj_perf_size as = {200, 30, 2, NAN};
    const size_t S = 5;
    if (hj_perf_inputs_make(HJ_PERF_ADAM, &as, 7, &in, &err) != HJ_OK)
        goto done;
    char spec[32];
    hj_arch arch;
    snprintf(spec, sizeof spec, "lse:%zu", as.N);
    if (hj_arch_parse(spec, as.d, 0, 0, &arch, &err) != HJ_OK ||
        hj_model_init(&m, &arch, in.size.eps, in.t, 7, &err) != HJ_OK)
        goto done;
    have_model = 1;
    const size_t P = as.N * as.d + as.N;
    memcpy(m.params, in.p, P * sizeof *m.params);
    hj_train_options o;
    hj_train_options_default(&o);
    o.optimizer = HJ_OPT_ADAM;
    o.lr = in.lr;
    o.iters = S;
    hj_train_result tr;
    memset(&tr, 0, sizeof tr);
    if (hj_model_train(&m, in.x, in.y, as.n, &o, &tr, &err) != HJ_OK)
        goto done;
    trace = tr.loss_trace;
    if (trace == NULL || tr.steps != S) {
        fprintf(stderr, "hjdl_bench: Adam export: expected a loss trace of %zu steps\n", S);
        goto done;
    }
    if (write_npy(dir, "adam_x", in.x, as.n, as.d, &err) != HJ_OK ||
        write_npy(dir, "adam_y", in.y, as.n, 1, &err) != HJ_OK ||
        write_npy(dir, "adam_p0", in.p, P, 1, &err) != HJ_OK ||
        write_npy(dir, "adam_loss", trace, S, 1, &err) != HJ_OK ||
        write_npy(dir, "adam_p", m.params, P, 1, &err) != HJ_OK)
        goto done;
    fprintf(meta, "adam_eps %.17g\nadam_lr %.17g\nadam_steps %zu\nadam_N %zu\nadam_d %zu\n"
                  "adam_final_loss %.17g\nadam_beta1 %.17g\nadam_beta2 %.17g\nadam_adam_eps %.17g\n",
            in.size.eps, in.lr, S, as.N, as.d, tr.final_loss, o.beta1, o.beta2, o.adam_eps);
    hj_perf_inputs_free(&in);

    /* hopf-cole: u and grad u */
    const hj_perf_size hs = {20, 500, 2, 0.2};
    if (hj_perf_inputs_make(HJ_PERF_HOPF_COLE, &hs, 7, &in, &err) != HJ_OK)
        goto done;
    u = malloc(hs.n * sizeof *u), grad = malloc(hs.n * hs.d * sizeof *grad);
    if (u == NULL || grad == NULL)
        goto oom;
    hj_atoms atoms = {hs.N, hs.d, in.p, in.p + hs.N * hs.d};
    hj_hc_out out;
    memset(&out, 0, sizeof out);
    out.u = u, out.grad = grad;
    if (hj_hopf_cole_eval(&atoms, NULL, in.x, hs.n, in.t, hs.eps, &out, &err) != HJ_OK ||
        write_npy(dir, "hc_x", in.x, hs.n, hs.d, &err) != HJ_OK ||
        write_npy(dir, "hc_y", in.p, hs.N, hs.d, &err) != HJ_OK ||
        write_npy(dir, "hc_g", in.p + hs.N * hs.d, hs.N, 1, &err) != HJ_OK ||
        write_npy(dir, "hc_u", u, hs.n, 1, &err) != HJ_OK ||
        write_npy(dir, "hc_grad", grad, hs.n, hs.d, &err) != HJ_OK)
        goto done;
    fprintf(meta, "hc_eps %.17g\nhc_t %.17g\n", hs.eps, in.t);
    rc = 0;
    goto done;
oom:
    hj_error_set(&err, HJ_ENOMEM, "out of memory");
done:
    if (rc != 0 && err.code != HJ_OK)
        fail(&err);
    if (fclose(meta) != 0)
        rc = 1;
    hj_perf_inputs_free(&in);
    if (have_model)
        hj_model_free(&m);
    free(f), free(pi), free(u), free(grad), free(trace);
    if (rc == 0)
        printf("exported the peer-check problems to %s\n", dir);
    return rc;
}

/* ---- per-step Adam times on a (d, N) grid, for the scaling projection ----- */

static int adam_grid(const char *csv_path, const char *grid, size_t steps, const hj_perf_options *base)
{
    FILE *f = fopen(csv_path, "w");
    if (f == NULL) {
        perror(csv_path);
        return 1;
    }
    fputs(CSV_HEADER, f);
    hj_perf_options o = *base;
    o.adam_steps = steps;
    const char *p = grid;
    while (*p) {
        unsigned long d, N;
        int used = 0;
        if (sscanf(p, "%lu:%lu%n", &d, &N, &used) != 2) {
            fprintf(stderr, "hjdl_bench: --grid: expected d:N[,d:N...] at '%s'\n", p);
            fclose(f);
            return 1;
        }
        p += used;
        if (*p == ',')
            p++;
        hj_perf_size s = {4000, (size_t)N, (size_t)d, NAN};
        hj_perf_timing t;
        hj_error err = {0};
        if (hj_perf_adam_step(&s, &o, NULL, &t, &err) != HJ_OK) {
            fclose(f);
            return fail(&err);
        }
        csv_row(f, &t);
        printf("  adam d = %lu, N = %4lu: %.3e s per step\n", d, N, t.median);
        fflush(stdout);
    }
    fclose(f);
    return 0;
}

/* ---- sequence models: Adam on row-sequential Fashion-MNIST -------------------------- */

/* Mini-batch objective over the training images (n, 784) read as 28 steps of 28
 * pixels: the batch gathered, then hj_model_loss_grad (what hj_model_train does, with a
 * workspace of one batch). idx == NULL (hj_optimize's closing evaluation): the mean loss
 * alone, chunk by chunk, and a zero gradient: it is reported, never stepped on. */
typedef struct seq_ctx {
    hj_model *m;
    hj_workspace *ws;
    size_t cap;
    const double *x, *y;
    double *xb, *yb;
    /* progress: step times, epoch bookkeeping (the callback's) */
    size_t steps_per_epoch, steps_done;
    double *t_step;       /* (iters + 1) wall clock after each step, t_step[0] the start */
    double epoch_loss;    /* sum of the batch losses of the current epoch */
    hj_workspace *ws_eval;
    const double *x_test, *y_test;
    size_t n_test;
    double t_epoch0;
    double train_total;   /* seconds of training over the epochs so far */
    FILE *csv;
} seq_ctx;

static hj_status seq_objective(void *vctx, const double *params, const size_t *idx, size_t n_idx,
                               double *loss, double *grad, hj_error *err)
{
    seq_ctx *c = vctx;
    const size_t d = c->m->arch.d_in;
    if (idx == NULL) {
        double acc = 0.0;
        for (size_t s = 0; s < n_idx; s += c->cap) {
            const size_t len = n_idx - s < c->cap ? n_idx - s : c->cap;
            double l;
            hj_status st = hj_model_loss_grad(c->m, params, c->ws, c->x + s * d, c->y + s, len, &l, NULL, err);
            if (st != HJ_OK)
                return st;
            acc += l * (double)len;
        }
        *loss = acc / (double)n_idx;
        memset(grad, 0, c->m->arch.n_params * sizeof *grad);
        return HJ_OK;
    }
    for (size_t k = 0; k < n_idx; k++) {
        memcpy(c->xb + k * d, c->x + idx[k] * d, d * sizeof *c->xb);
        c->yb[k] = c->y[idx[k]];
    }
    return hj_model_loss_grad(c->m, params, c->ws, c->xb, c->yb, n_idx, loss, grad, err);
}

/* Test accuracy and mean test loss of the model at its current parameters. */
static hj_status seq_evaluate(seq_ctx *c, double *acc, double *loss, hj_error *err)
{
    const size_t C = c->m->arch.n_classes, d = c->m->arch.d_in, cap = 500;
    double *F = malloc(cap * C * sizeof *F);
    if (F == NULL)
        return hj_error_set(err, HJ_ENOMEM, "out of memory");
    size_t right = 0;
    double total = 0.0;
    for (size_t s = 0; s < c->n_test; s += cap) {
        const size_t len = c->n_test - s < cap ? c->n_test - s : cap;
        hj_status st = hj_model_forward(c->m, c->ws_eval, c->x_test + s * d, len, F, err);
        if (st != HJ_OK) {
            free(F);
            return st;
        }
        for (size_t i = 0; i < len; i++) {
            const double *f = F + i * C;
            size_t best = 0, label = (size_t)c->y_test[s + i];
            double mx = f[0], se = 0.0;
            for (size_t k = 1; k < C; k++)
                if (f[k] > f[best])
                    best = k, mx = f[k];
            for (size_t k = 0; k < C; k++)
                se += exp(f[k] - mx);
            total += mx + log(se) - f[label];
            right += best == label;
        }
    }
    free(F);
    *acc = (double)right / (double)c->n_test;
    *loss = total / (double)c->n_test;
    return HJ_OK;
}

/* Every step: its end time; at the end of each epoch (with test data) the test accuracy,
 * one line on stdout and in the CSV. */
static int seq_progress(const hj_train_progress *p, void *vctx)
{
    seq_ctx *c = vctx;
    c->steps_done = p->step;
    c->t_step[p->step] = hj_now_seconds();
    c->epoch_loss += p->loss;
    if (c->x_test == NULL || p->step % c->steps_per_epoch != 0)
        return 0;
    const double t_train = c->t_step[p->step] - c->t_epoch0;
    c->train_total += t_train;
    double acc = NAN, tloss = NAN;
    hj_error err = {0};
    if (seq_evaluate(c, &acc, &tloss, &err) != HJ_OK) {
        fail(&err);
        return 1;
    }
    const size_t e = p->step / c->steps_per_epoch;
    const double mean_loss = c->epoch_loss / (double)c->steps_per_epoch;
    printf("epoch %2zu  train %.1f s  batch loss %.4f  test loss %.4f  test accuracy %.4f\n", e, t_train,
           mean_loss, tloss, acc);
    fflush(stdout);
    if (c->csv) {
        fprintf(c->csv, "%zu,%.3f,%.6f,%.6f,%.6f\n", e, t_train, mean_loss, tloss, acc);
        fflush(c->csv);
    }
    c->epoch_loss = 0.0;
    c->t_epoch0 = hj_now_seconds(); /* the evaluation is not training time */
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* `--seq-time ARCH`: seconds per Adam step (batch 128) over `batches` steps after
 * `warm` warm-up steps, extrapolated to an epoch of 60000 images (ceil(60000/128) = 469
 * steps); one CSV row. `--seq-train ARCH`: `epochs` epochs, the test accuracy after each
 * (CSV: epoch, train seconds, mean batch loss, test loss, test accuracy). */
static int seq_fashion(const char *spec, double eps, double lr, size_t epochs, size_t batches,
                       size_t warm, size_t threads, const char *csv_path, uint64_t seed)
{
    hj_error err = {0};
    hj_dataset ds;
    memset(&ds, 0, sizeof ds);
    if (hj_dataset_load("fashion-mnist", NULL, &ds, &err) != HJ_OK)
        return fail(&err);
    const size_t T = 28, D = 28, n = ds.x_train.rows, batch = 128;
    hj_arch a;
    hj_model m;
    int rc = 1, have_model = 0;
    seq_ctx c;
    memset(&c, 0, sizeof c);
    if (hj_arch_parse_sequence(spec, T, D, ds.n_classes, 0, &a, &err) != HJ_OK ||
        hj_model_init(&m, &a, eps, 1.0, seed, &err) != HJ_OK)
        goto done;
    have_model = 1;
    c.m = &m, c.cap = batch, c.x = ds.x_train.data, c.y = ds.y_train.data;
    c.steps_per_epoch = (n + batch - 1) / batch;
    const size_t iters = epochs ? epochs * c.steps_per_epoch : warm + batches;
    c.xb = malloc(batch * a.d_in * sizeof *c.xb);
    c.yb = malloc(batch * sizeof *c.yb);
    c.t_step = malloc((iters + 1) * sizeof *c.t_step);
    if (c.xb == NULL || c.yb == NULL || c.t_step == NULL) {
        hj_error_set(&err, HJ_ENOMEM, "out of memory");
        goto done;
    }
    if (hj_workspace_alloc(&c.ws, &m, batch, &err) != HJ_OK)
        goto done;
    if (epochs) {
        c.x_test = ds.x_test.data, c.y_test = ds.y_test.data, c.n_test = ds.x_test.rows;
        if (hj_workspace_alloc(&c.ws_eval, &m, 500, &err) != HJ_OK)
            goto done;
        if (csv_path && (c.csv = fopen(csv_path, "w")) == NULL) {
            hj_error_set(&err, HJ_EIO, "cannot write %s", csv_path);
            goto done;
        }
        if (c.csv)
            fprintf(c.csv, "epoch,train_seconds,batch_loss,test_loss,test_accuracy\n");
        printf("%s on row-sequential Fashion-MNIST: eps %g, Adam lr %g, batch %zu, %zu epochs, "
               "%zu threads, %zu parameters\n", spec, eps, lr, batch, epochs, threads, a.n_params);
    }
    hj_train_options o;
    hj_train_options_default(&o);
    o.optimizer = HJ_OPT_ADAM, o.lr = lr, o.batch = batch, o.iters = iters, o.n_data = n;
    o.seed = seed, o.report_every = 1, o.callback = seq_progress, o.callback_ctx = &c;
    hj_train_result res;
    memset(&res, 0, sizeof res);
    c.t_step[0] = c.t_epoch0 = hj_now_seconds();
    hj_status st = hj_optimize(seq_objective, &c, m.params, a.n_params, &o, &res, &err);
    free(res.loss_trace);
    if (st != HJ_OK)
        goto done;
    if (epochs) {
        printf("total training time %.1f s over %zu epochs (test evaluations excluded)\n", c.train_total, epochs);
    } else {
        double *dt = malloc(batches * sizeof *dt), sum = 0.0;
        if (dt == NULL)
            goto done;
        for (size_t k = 0; k < batches; k++)
            sum += dt[k] = c.t_step[warm + k + 1] - c.t_step[warm + k];
        qsort(dt, batches, sizeof *dt, cmp_double);
        const double med = dt[batches / 2], mean = sum / (double)batches;
        printf("hjdl %s: %.4f s per batch of %zu (median of %zu; mean %.4f), %.1f s per epoch "
               "(x %zu batches)\n", spec, med, batch, batches, mean, med * (double)c.steps_per_epoch,
               c.steps_per_epoch);
        FILE *f = csv_path ? fopen(csv_path, "w") : NULL;
        if (csv_path && f == NULL) {
            perror(csv_path);
            free(dt);
            goto done;
        }
        if (f) {
            /* the spec is quoted: it has commas */
            fprintf(f, "impl,arch,threads,batch,batches,median_batch_s,mean_batch_s,epoch_s\n"
                       "hjdl,\"%s\",%zu,%zu,%zu,%.6f,%.6f,%.3f\n", spec, threads, batch, batches, med, mean,
                    med * (double)c.steps_per_epoch);
            fclose(f);
        }
        free(dt);
    }
    rc = 0;
done:
    if (rc != 0 && err.code != HJ_OK)
        fail(&err);
    if (c.csv)
        fclose(c.csv);
    hj_workspace_free(c.ws);
    hj_workspace_free(c.ws_eval);
    free(c.xb), free(c.yb), free(c.t_step);
    if (have_model)
        hj_model_free(&m);
    hj_dataset_free(&ds);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = "bench-out", *export_dir = NULL, *grid = NULL, *grid_csv = NULL;
    const char *seq_arch = NULL, *seq_csv = NULL;
    int quick = 0, seq_train = 0;
    size_t threads = 0, steps = 50, epochs = 10, batches = 40, warm = 3;
    double eps = 1.0, lr = 1e-3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const int has = i + 1 < argc;
        if (strcmp(a, "--quick") == 0)
            quick = 1;
        else if (strcmp(a, "--out") == 0 && has)
            dir = argv[++i];
        else if (strcmp(a, "--export") == 0 && has)
            export_dir = argv[++i];
        else if (strcmp(a, "--threads") == 0 && has)
            threads = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--grid") == 0 && has)
            grid = argv[++i];
        else if (strcmp(a, "--adam-steps-csv") == 0 && has)
            grid_csv = argv[++i];
        else if (strcmp(a, "--steps") == 0 && has)
            steps = (size_t)strtoul(argv[++i], NULL, 10);
        else if ((strcmp(a, "--seq-time") == 0 || strcmp(a, "--seq-train") == 0) && has) {
            seq_train = strcmp(a, "--seq-train") == 0;
            seq_arch = argv[++i];
        } else if (strcmp(a, "--csv") == 0 && has)
            seq_csv = argv[++i];
        else if (strcmp(a, "--epochs") == 0 && has)
            epochs = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--batches") == 0 && has)
            batches = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--eps") == 0 && has)
            eps = strtod(argv[++i], NULL);
        else if (strcmp(a, "--lr") == 0 && has)
            lr = strtod(argv[++i], NULL);
        else {
            fprintf(stderr, "usage: hjdl_bench [--quick] [--out DIR] [--threads T]\n"
                            "       hjdl_bench --export DIR\n"
                            "       hjdl_bench --adam-steps-csv FILE --grid d:N,... [--steps S] [--threads T]\n"
                            "       hjdl_bench --seq-time ARCH [--batches B] [--csv FILE] [--threads T] [--eps E]\n"
                            "       hjdl_bench --seq-train ARCH [--epochs E] [--lr LR] [--eps E] [--csv FILE] [--threads T]\n");
            return 2;
        }
    }
    if (export_dir)
        return export_checks(export_dir);

    hj_perf_options o;
    hj_perf_options_default(&o);
    o.threads = threads;
    o.reps = quick ? QUICK_REPS : FULL_REPS;
    if (threads)
        hj_set_threads(threads);
    if (seq_arch) {
        if (!(eps >= 0.0) || !(lr > 0.0) || (seq_train ? epochs == 0 : batches == 0)) {
            fprintf(stderr, "hjdl_bench: --seq-*: need eps >= 0, lr > 0, epochs / batches >= 1\n");
            return 2;
        }
        return seq_fashion(seq_arch, eps, lr, seq_train ? epochs : 0, batches, warm,
                           hj_get_threads(), seq_csv, 1);
    }
    if (grid || grid_csv) {
        if (!grid || !grid_csv || steps == 0) {
            fprintf(stderr, "hjdl_bench: --adam-steps-csv needs --grid and --steps >= 1\n");
            return 2;
        }
        o.reps = 1;
        return adam_grid(grid_csv, grid, steps, &o);
    }
    hj_error err = {0};
    if (hj_make_dirs(dir, &err) != HJ_OK)
        return fail(&err);
    int rc = bench_kernels(dir, &o);
    if (rc == 0)
        rc = bench_influence(dir, o.reps);
    if (rc == 0)
        printf("written: %s/roofline.csv, %s/hjdl.csv, %s/influence.csv\n", dir, dir, dir);
    return rc;
}
