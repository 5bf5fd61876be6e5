/* timing.c — timings of the public kernels (LSE forward + pi, an Adam step, Hopf–Cole) on seeded inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/hopf.h"
#include "hjdl/lse.h"
#include "hjdl/model.h"
#include "hjdl/perf.h"
#include "hjdl/rng.h"
#include "perf/perf-impl.h"

#define PERF_ADAM_LR 0.006
#define PERF_ADAM_T 1.0
#define PERF_HC_T 0.5

void hj_perf_inputs_free(hj_perf_inputs *in)
{
    if (in == NULL)
        return;
    free(in->x), free(in->y), free(in->p);
    memset(in, 0, sizeof *in);
}

/* The lse:N model of an adam problem, initialised from seed (parameters as hj_model_init). */
static hj_status adam_model(const hj_perf_size *s, double eps, uint64_t seed, hj_model *m,
                            hj_error *err)
{
    char spec[48];
    hj_arch arch;
    snprintf(spec, sizeof spec, "lse:%zu", s->N);
    hj_status st = hj_arch_parse(spec, s->d, 0, 0, &arch, err);
    if (st != HJ_OK)
        return st;
    return hj_model_init(m, &arch, eps, PERF_ADAM_T, seed, err);
}

hj_status hj_perf_inputs_make(hj_perf_kernel k, const hj_perf_size *s, uint64_t seed,
                              hj_perf_inputs *in, hj_error *err)
{
    if (in == NULL || s == NULL)
        return hj_error_set(err, HJ_EINVAL, "bench: NULL inputs or size");
    memset(in, 0, sizeof *in);
    hj_status st = hj_perf_check_size(k, s, 1e300, err); /* memory: the caller's limit */
    if (st != HJ_OK)
        return st;
    const size_t n = s->n, N = s->N, d = s->d;
    in->kernel = k;
    in->size = *s;
    in->size.eps = hj_perf_eps(k, s);
    in->x = malloc(n * d * sizeof *in->x);
    in->p = malloc((N * d + N) * sizeof *in->p);
    if (k == HJ_PERF_ADAM)
        in->y = malloc(n * sizeof *in->y);
    if (in->x == NULL || in->p == NULL || (k == HJ_PERF_ADAM && in->y == NULL)) {
        hj_perf_inputs_free(in);
        return hj_error_set(err, HJ_ENOMEM, "bench: out of memory for the inputs");
    }
    hj_rng r;
    hj_rng_seed(&r, seed);
    for (size_t i = 0; i < n * d; i++)
        in->x[i] = 4.0 * hj_rng_uniform(&r) - 2.0;
    double *w = in->p, *b = in->p + N * d;
    switch (k) {
    case HJ_PERF_LSE:
        for (size_t j = 0; j < N * d; j++)
            w[j] = hj_rng_normal(&r) / sqrt((double)d);
        for (size_t j = 0; j < N; j++)
            b[j] = 0.1 * hj_rng_normal(&r);
        break;
    case HJ_PERF_ADAM: {
        for (size_t i = 0; i < n; i++) {
            double q = 0.0;
            for (size_t c = 0; c < d; c++)
                q += in->x[i * d + c] * in->x[i * d + c];
            in->y[i] = sqrt(q);
        }
        hj_model m;
        if ((st = adam_model(s, in->size.eps, seed + 1, &m, err)) != HJ_OK) {
            hj_perf_inputs_free(in);
            return st;
        }
        memcpy(in->p, m.params, (N * d + N) * sizeof *in->p);
        hj_model_free(&m);
        in->t = PERF_ADAM_T;
        in->lr = PERF_ADAM_LR;
        break;
    }
    case HJ_PERF_HOPF_COLE:
        for (size_t j = 0; j < N * d; j++)
            w[j] = 4.0 * hj_rng_uniform(&r) - 2.0;
        for (size_t j = 0; j < N; j++)
            b[j] = hj_rng_uniform(&r);
        in->t = PERF_HC_T;
        break;
    }
    return HJ_OK;
}

/* Fill the summary fields of t from its samples and the roofline. */
static hj_status finish(hj_perf_kernel k, const hj_perf_inputs *in, size_t threads, size_t reps,
                        const hj_roofline *roof, hj_perf_timing *t, hj_error *err)
{
    t->kernel = k;
    t->size = in->size;
    t->threads = threads;
    t->reps = reps;
    hj_perf_summary(t->samples, reps, &t->median, &t->min, &t->max);
    hj_status st = hj_perf_work_count(k, &in->size, &t->work, err);
    if (st != HJ_OK)
        return st;
    t->throughput = (double)in->size.n * (double)in->size.N / t->median;
    t->bound = roof ? hj_perf_bound_seconds(roof, &t->work) : NAN;
    t->fraction = roof ? t->bound / t->median : NAN;
    return HJ_OK;
}

/* Common prologue: options, size, threads, inputs. */
static hj_status begin(hj_perf_kernel k, const hj_perf_size *s, const hj_perf_options **opt,
                       hj_perf_options *def, hj_perf_timing *t, hj_perf_inputs *in, hj_error *err)
{
    if (*opt == NULL) {
        hj_perf_options_default(def);
        *opt = def;
    }
    if (s == NULL || t == NULL)
        return hj_error_set(err, HJ_EINVAL, "bench: NULL size or timing");
    memset(t, 0, sizeof *t);
    hj_status st = hj_perf_options_check(*opt, err);
    if (st == HJ_OK)
        st = hj_perf_check_size(k, s, (*opt)->max_bytes, err);
    if (st == HJ_OK)
        st = hj_perf_inputs_make(k, s, (*opt)->seed, in, err);
    return st;
}

/* The kernel-specific state of one timing: its outputs (lse, hopf-cole) or
 * its model, training options and last result (adam). */
typedef struct perf_job {
    hj_perf_kernel k;
    const hj_perf_inputs *in;
    double *out, *aux;     /* lse: f (n), pi (n, N); hopf-cole: u (n), grad (n, d) */
    hj_lse_layer L;        /* lse */
    hj_atoms atoms;        /* hopf-cole */
    hj_hc_out hc;          /* hopf-cole: u and grad */
    hj_model m;            /* adam */
    hj_train_options o;    /* adam */
    hj_train_result res;   /* adam: of the last run */
} perf_job;

/* Allocate the outputs or build the model of kernel k on inputs in. */
static hj_status job_open(perf_job *j, hj_perf_kernel k, const hj_perf_inputs *in,
                          const hj_perf_options *opt, hj_error *err)
{
    memset(j, 0, sizeof *j);
    j->k = k;
    j->in = in;
    const size_t n = in->size.n, N = in->size.N, d = in->size.d;
    switch (k) {
    case HJ_PERF_LSE:
        j->out = malloc(n * sizeof *j->out), j->aux = malloc(n * N * sizeof *j->aux);
        if (j->out == NULL || j->aux == NULL)
            return hj_error_set(err, HJ_ENOMEM, "lse: out of memory for f and pi (%zu x %zu)", n, N);
        j->L = (hj_lse_layer){N, d, in->p, in->p + N * d, in->size.eps};
        return HJ_OK;
    case HJ_PERF_ADAM:
        hj_train_options_default(&j->o);
        j->o.optimizer = HJ_OPT_ADAM;
        j->o.lr = in->lr;
        j->o.iters = opt->adam_steps;
        j->o.batch = 0;
        j->o.seed = opt->seed;
        return adam_model(&in->size, in->size.eps, opt->seed + 1, &j->m, err);
    case HJ_PERF_HOPF_COLE:
        j->out = malloc(n * sizeof *j->out), j->aux = malloc(n * d * sizeof *j->aux);
        if (j->out == NULL || j->aux == NULL)
            return hj_error_set(err, HJ_ENOMEM, "hopf-cole: out of memory for the outputs");
        j->atoms = (hj_atoms){N, d, in->p, in->p + N * d};
        j->hc.u = j->out;
        j->hc.grad = j->aux;
        return HJ_OK;
    }
    return hj_error_set(err, HJ_EINVAL, "bench: unknown kernel %d", (int)k);
}

/* Untimed set-up of a run: adam trains every run from the same start. */
static void job_reset(perf_job *j)
{
    if (j->k != HJ_PERF_ADAM)
        return;
    const hj_perf_size *s = &j->in->size;
    memcpy(j->m.params, j->in->p, (s->N * s->d + s->N) * sizeof *j->m.params);
    free(j->res.loss_trace);
    memset(&j->res, 0, sizeof j->res);
}

/* One run of the kernel: the timed part. */
static hj_status job_run(perf_job *j, hj_error *err)
{
    const hj_perf_inputs *in = j->in;
    switch (j->k) {
    case HJ_PERF_LSE:
        return hj_lse_forward(&j->L, in->x, in->size.n, j->out, j->aux, NULL, err);
    case HJ_PERF_ADAM:
        return hj_model_train(&j->m, in->x, in->y, in->size.n, &j->o, &j->res, err);
    case HJ_PERF_HOPF_COLE:
        return hj_hopf_cole_eval(&j->atoms, NULL, in->x, in->size.n, in->t, in->size.eps, &j->hc,
                                 err);
    }
    return hj_error_set(err, HJ_EINVAL, "bench: unknown kernel %d", (int)j->k);
}

/* The timing's check: adam the final loss of the last run; else sum_i of f or u. */
static double job_check(const perf_job *j)
{
    if (j->k == HJ_PERF_ADAM)
        return j->res.final_loss;
    double sum = 0.0;
    for (size_t i = 0; i < j->in->size.n; i++)
        sum += j->out[i];
    return sum;
}

static void job_close(perf_job *j)
{
    free(j->out), free(j->aux);
    free(j->res.loss_trace);
    hj_model_free(&j->m);
}

hj_status hj_perf_time(hj_perf_kernel k, const hj_perf_size *s, const hj_perf_options *opt,
                       const hj_roofline *roof, hj_perf_timing *t, hj_error *err)
{
    if ((unsigned)k >= HJ_PERF_N_KERNELS)
        return hj_error_set(err, HJ_EINVAL, "bench: unknown kernel %d", (int)k);
    hj_perf_options def;
    hj_perf_inputs in;
    memset(&in, 0, sizeof in);
    hj_status st = begin(k, s, &opt, &def, t, &in, err);
    if (st != HJ_OK)
        return st;
    perf_job j;
    if ((st = job_open(&j, k, &in, opt, err)) == HJ_OK) {
        /* a sample is the seconds of a run, per step for adam */
        const double per_run = k == HJ_PERF_ADAM ? (double)opt->adam_steps : 1.0;
        perf_threads pt;
        hj__perf_threads_enter(&pt, opt->threads);
        for (size_t r = 0; r < opt->warmup + opt->reps && st == HJ_OK; r++) {
            job_reset(&j);
            const double t0 = hj_perf_now();
            st = job_run(&j, err);
            const double el = hj_perf_now() - t0;
            if (r >= opt->warmup)
                t->samples[r - opt->warmup] = el / per_run;
        }
        hj__perf_threads_leave(&pt);
        if (st == HJ_OK) {
            t->check = job_check(&j);
            st = finish(k, &in, pt.used, opt->reps, roof, t, err);
        }
    }
    job_close(&j);
    hj_perf_inputs_free(&in);
    return st;
}

hj_status hj_perf_lse_forward(const hj_perf_size *s, const hj_perf_options *o,
                              const hj_roofline *roof, hj_perf_timing *t, hj_error *err)
{
    return hj_perf_time(HJ_PERF_LSE, s, o, roof, t, err);
}

hj_status hj_perf_adam_step(const hj_perf_size *s, const hj_perf_options *o,
                            const hj_roofline *roof, hj_perf_timing *t, hj_error *err)
{
    return hj_perf_time(HJ_PERF_ADAM, s, o, roof, t, err);
}

hj_status hj_perf_hopf_cole(const hj_perf_size *s, const hj_perf_options *o,
                            const hj_roofline *roof, hj_perf_timing *t, hj_error *err)
{
    return hj_perf_time(HJ_PERF_HOPF_COLE, s, o, roof, t, err);
}
