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

hj_status hj_perf_lse_forward(const hj_perf_size *s, const hj_perf_options *opt,
                              const hj_roofline *roof, hj_perf_timing *t, hj_error *err)
{
    hj_perf_options def;
    hj_perf_inputs in;
    memset(&in, 0, sizeof in);
    hj_status st = begin(HJ_PERF_LSE, s, &opt, &def, t, &in, err);
    if (st != HJ_OK)
        return st;
    const size_t n = in.size.n, N = in.size.N, d = in.size.d;
    double *f = malloc(n * sizeof *f), *pi = malloc(n * N * sizeof *pi);
    if (f == NULL || pi == NULL) {
        free(f), free(pi);
        hj_perf_inputs_free(&in);
        return hj_error_set(err, HJ_ENOMEM, "lse: out of memory for f and pi (%zu x %zu)", n, N);
    }
    perf_threads pt;
    hj__perf_threads_enter(&pt, opt->threads);
    hj_lse_layer L = {N, d, in.p, in.p + N * d, in.size.eps};
    for (size_t r = 0; r < opt->warmup + opt->reps && st == HJ_OK; r++) {
        const double t0 = hj_perf_now();
        st = hj_lse_forward(&L, in.x, n, f, pi, NULL, err);
        const double el = hj_perf_now() - t0;
        if (r >= opt->warmup)
            t->samples[r - opt->warmup] = el;
    }
    hj__perf_threads_leave(&pt);
    if (st == HJ_OK) {
        double sum = 0.0;
        for (size_t i = 0; i < n; i++)
            sum += f[i];
        t->check = sum;
        st = finish(HJ_PERF_LSE, &in, pt.used, opt->reps, roof, t, err);
    }
    free(f), free(pi);
    hj_perf_inputs_free(&in);
    return st;
}

hj_status hj_perf_adam_step(const hj_perf_size *s, const hj_perf_options *opt,
                            const hj_roofline *roof, hj_perf_timing *t, hj_error *err)
{
    hj_perf_options def;
    hj_perf_inputs in;
    memset(&in, 0, sizeof in);
    hj_status st = begin(HJ_PERF_ADAM, s, &opt, &def, t, &in, err);
    if (st != HJ_OK)
        return st;
    const size_t P = in.size.N * in.size.d + in.size.N;
    hj_model m;
    if ((st = adam_model(&in.size, in.size.eps, opt->seed + 1, &m, err)) != HJ_OK) {
        hj_perf_inputs_free(&in);
        return st;
    }
    hj_train_options o;
    hj_train_options_default(&o);
    o.optimizer = HJ_OPT_ADAM;
    o.lr = in.lr;
    o.iters = opt->adam_steps;
    o.batch = 0;
    o.seed = opt->seed;
    perf_threads pt;
    hj__perf_threads_enter(&pt, opt->threads);
    double final_loss = NAN;
    for (size_t r = 0; r < opt->warmup + opt->reps && st == HJ_OK; r++) {
        memcpy(m.params, in.p, P * sizeof *m.params); /* every run trains from the same start */
        hj_train_result res;
        memset(&res, 0, sizeof res);
        const double t0 = hj_perf_now();
        st = hj_model_train(&m, in.x, in.y, in.size.n, &o, &res, err);
        const double el = hj_perf_now() - t0;
        free(res.loss_trace);
        final_loss = res.final_loss;
        if (r >= opt->warmup)
            t->samples[r - opt->warmup] = el / (double)opt->adam_steps;
    }
    hj__perf_threads_leave(&pt);
    if (st == HJ_OK) {
        t->check = final_loss;
        st = finish(HJ_PERF_ADAM, &in, pt.used, opt->reps, roof, t, err);
    }
    hj_model_free(&m);
    hj_perf_inputs_free(&in);
    return st;
}

hj_status hj_perf_hopf_cole(const hj_perf_size *s, const hj_perf_options *opt,
                            const hj_roofline *roof, hj_perf_timing *t, hj_error *err)
{
    hj_perf_options def;
    hj_perf_inputs in;
    memset(&in, 0, sizeof in);
    hj_status st = begin(HJ_PERF_HOPF_COLE, s, &opt, &def, t, &in, err);
    if (st != HJ_OK)
        return st;
    const size_t n = in.size.n, N = in.size.N, d = in.size.d;
    double *u = malloc(n * sizeof *u), *grad = malloc(n * d * sizeof *grad);
    if (u == NULL || grad == NULL) {
        free(u), free(grad);
        hj_perf_inputs_free(&in);
        return hj_error_set(err, HJ_ENOMEM, "hopf-cole: out of memory for the outputs");
    }
    hj_atoms atoms = {N, d, in.p, in.p + N * d};
    hj_hc_out out;
    memset(&out, 0, sizeof out);
    out.u = u;
    out.grad = grad;
    perf_threads pt;
    hj__perf_threads_enter(&pt, opt->threads);
    for (size_t r = 0; r < opt->warmup + opt->reps && st == HJ_OK; r++) {
        const double t0 = hj_perf_now();
        st = hj_hopf_cole_eval(&atoms, NULL, in.x, n, in.t, in.size.eps, &out, err);
        const double el = hj_perf_now() - t0;
        if (r >= opt->warmup)
            t->samples[r - opt->warmup] = el;
    }
    hj__perf_threads_leave(&pt);
    if (st == HJ_OK) {
        double sum = 0.0;
        for (size_t i = 0; i < n; i++)
            sum += u[i];
        t->check = sum;
        st = finish(HJ_PERF_HOPF_COLE, &in, pt.used, opt->reps, roof, t, err);
    }
    free(u), free(grad);
    hj_perf_inputs_free(&in);
    return st;
}

hj_status hj_perf_time(hj_perf_kernel k, const hj_perf_size *s, const hj_perf_options *o,
                       const hj_roofline *roof, hj_perf_timing *t, hj_error *err)
{
    switch (k) {
    case HJ_PERF_LSE:
        return hj_perf_lse_forward(s, o, roof, t, err);
    case HJ_PERF_ADAM:
        return hj_perf_adam_step(s, o, roof, t, err);
    case HJ_PERF_HOPF_COLE:
        return hj_perf_hopf_cole(s, o, roof, t, err);
    }
    return hj_error_set(err, HJ_EINVAL, "bench: unknown kernel %d", (int)k);
}
