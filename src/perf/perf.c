/* perf.c — the bookkeeping of measurements: kernel names, sizes, work counts, memory estimates, options, summaries. */
#include "hjdl/perf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/runtime.h"
#include "perf/perf-impl.h"

static const char *const KERNEL_NAMES[HJ_PERF_N_KERNELS] = {"lse", "adam", "hopf-cole"};

double hj_perf_now(void) { return hj_now_seconds(); }

const char *hj_perf_kernel_name(hj_perf_kernel k)
{
    return (unsigned)k < HJ_PERF_N_KERNELS ? KERNEL_NAMES[k] : NULL;
}

hj_status hj_perf_kernel_parse(const char *name, hj_perf_kernel *k, hj_error *err)
{
    if (name == NULL || k == NULL)
        return hj_error_set(err, HJ_EINVAL, "bench: NULL kernel name");
    for (int i = 0; i < HJ_PERF_N_KERNELS; i++)
        if (strcmp(name, KERNEL_NAMES[i]) == 0) {
            *k = (hj_perf_kernel)i;
            return HJ_OK;
        }
    return hj_error_set(err, HJ_EINVAL, "unknown kernel '%s' (kernels: lse, adam, hopf-cole)", name);
}

hj_perf_size hj_perf_default_size(hj_perf_kernel k)
{
    hj_perf_size s = {4000, 1000, 2, NAN};
    if (k == HJ_PERF_HOPF_COLE) {
        s.n = 100;
        s.N = 1000000;
    }
    return s;
}

double hj_perf_eps(hj_perf_kernel k, const hj_perf_size *s)
{
    if (!isnan(s->eps))
        return s->eps;
    if (k == HJ_PERF_ADAM)
        return pow((double)s->N, -1.0 / (double)(s->d ? s->d : 1));
    return 0.5;
}

hj_status hj_perf_work_count(hj_perf_kernel k, const hj_perf_size *s, hj_perf_work *w,
                             hj_error *err)
{
    if (s == NULL || w == NULL)
        return hj_error_set(err, HJ_EINVAL, "bench: NULL size or work");
    const double nN = (double)s->n * (double)s->N, d = (double)s->d;
    switch (k) {
    case HJ_PERF_LSE:
        w->exps = nN, w->fmas = nN * d, w->bytes = 8.0 * nN;
        return HJ_OK;
    case HJ_PERF_ADAM:
    case HJ_PERF_HOPF_COLE:
        w->exps = nN, w->fmas = 2.0 * nN * d, w->bytes = 0.0;
        return HJ_OK;
    }
    return hj_error_set(err, HJ_EINVAL, "bench: unknown kernel %d", (int)k);
}

/* a * b in doubles; the estimates below are far from 2^53 when they matter. */
hj_status hj_perf_memory_bytes(hj_perf_kernel k, const hj_perf_size *s, size_t threads,
                               double *bytes, hj_error *err)
{
    if (s == NULL || bytes == NULL)
        return hj_error_set(err, HJ_EINVAL, "bench: NULL size");
    const double n = (double)s->n, N = (double)s->N, d = (double)s->d;
    const double T = (double)(threads ? threads : 1), P = N * d + N;
    double doubles;
    switch (k) {
    case HJ_PERF_LSE: /* x, w, b, f, pi, per-thread logits and weights */
        doubles = n * d + P + n + n * N + T * 2.0 * N;
        break;
    case HJ_PERF_ADAM: { /* data, parameters and optimiser state, the training workspace */
        const double cap = n < PERF_TRAIN_CHUNK ? n : PERF_TRAIN_CHUNK;
        doubles = n * d + 2.0 * n + 10.0 * P + cap * (3.0 * N + 4.0 * d + 8.0);
        break;
    }
    case HJ_PERF_HOPF_COLE: /* x, atoms, u, grad, per-thread scratch */
        doubles = 2.0 * n * d + P + n + T * (3.0 * N + 2.0 * d + 2.0 * d * d);
        break;
    default:
        return hj_error_set(err, HJ_EINVAL, "bench: unknown kernel %d", (int)k);
    }
    *bytes = 8.0 * doubles;
    if (!isfinite(*bytes) || *bytes > 1e30)
        return hj_error_set(err, HJ_ERANGE, "bench: memory estimate overflows");
    return HJ_OK;
}

double hj_perf_memory_limit(void)
{
    double limit = 2.0 * 1024 * 1024 * 1024;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f == NULL)
        return limit;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        unsigned long long kb;
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
            limit = 0.75 * 1024.0 * (double)kb;
            break;
        }
    }
    fclose(f);
    return limit;
}

/* "12.3 MB" style text for a byte count. */
static void human_bytes(double b, char *buf, size_t len)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    size_t u = 0;
    while (b >= 1000.0 && u + 1 < sizeof units / sizeof units[0]) {
        b /= 1000.0;
        u++;
    }
    snprintf(buf, len, "%.1f %s", b, units[u]);
}

hj_status hj_perf_check_size(hj_perf_kernel k, const hj_perf_size *s, double max_bytes,
                             hj_error *err)
{
    const char *name = hj_perf_kernel_name(k);
    if (name == NULL)
        return hj_error_set(err, HJ_EINVAL, "bench: unknown kernel %d", (int)k);
    if (s == NULL)
        return hj_error_set(err, HJ_EINVAL, "bench: NULL size");
    if (s->n == 0 || s->N == 0 || s->d == 0)
        return hj_error_set(err, HJ_EINVAL, "%s: n, N and d must be >= 1 (got n = %zu, N = %zu, d = %zu)",
                            name, s->n, s->N, s->d);
    const double eps = hj_perf_eps(k, s);
    if (!isfinite(eps) || eps < 0.0 || (k == HJ_PERF_ADAM && eps == 0.0))
        return hj_error_set(err, HJ_EINVAL, "%s: eps must be finite and %s (got %g)", name,
                            k == HJ_PERF_ADAM ? "> 0" : ">= 0", eps);
    double bytes;
    hj_status st = hj_perf_memory_bytes(k, s, 64, &bytes, err);
    if (st != HJ_OK)
        return st;
    const double limit = max_bytes > 0.0 ? max_bytes : hj_perf_memory_limit();
    if (bytes > limit) {
        char need[32], have[32];
        human_bytes(bytes, need, sizeof need);
        human_bytes(limit, have, sizeof have);
        return hj_error_set(err, HJ_EINVAL,
                            "%s at n = %zu, N = %zu, d = %zu needs about %s of memory (limit %s): "
                            "choose smaller sizes", name, s->n, s->N, s->d, need, have);
    }
    return HJ_OK;
}

void hj_perf_options_default(hj_perf_options *o)
{
    memset(o, 0, sizeof *o);
    o->reps = 5;
    o->warmup = 1;
    o->threads = 0;
    o->seed = 1;
    o->max_bytes = 0.0;
    o->adam_steps = 20;
    o->gemm_n = 2000;
    o->write_bytes = (size_t)256 * 1024 * 1024;
    o->exp_len = 1024;
}

hj_status hj_perf_options_check(const hj_perf_options *o, hj_error *err)
{
    if (o == NULL)
        return hj_error_set(err, HJ_EINVAL, "bench: NULL options");
    if (o->reps < 1 || o->reps > HJ_PERF_MAX_REPS)
        return hj_error_set(err, HJ_EINVAL, "bench: reps must be between 1 and %d (got %zu)",
                            HJ_PERF_MAX_REPS, o->reps);
    if (o->warmup > 100)
        return hj_error_set(err, HJ_EINVAL, "bench: at most 100 warm-up runs (got %zu)", o->warmup);
    if (o->threads > 1024)
        return hj_error_set(err, HJ_EINVAL, "bench: at most 1024 threads (got %zu)", o->threads);
    if (o->adam_steps < 1 || o->adam_steps > 100000)
        return hj_error_set(err, HJ_EINVAL, "bench: adam steps must be between 1 and 100000 (got %zu)",
                            o->adam_steps);
    if (o->gemm_n < 8 || o->gemm_n > 20000)
        return hj_error_set(err, HJ_EINVAL, "bench: roofline GEMM size must be between 8 and 20000 (got %zu)",
                            o->gemm_n);
    if (o->write_bytes < 4096 || o->write_bytes > ((size_t)1 << 36))
        return hj_error_set(err, HJ_EINVAL, "bench: roofline store array must be between 4 KiB and 64 GiB "
                            "(got %zu bytes)", o->write_bytes);
    if (o->exp_len < 16 || o->exp_len > 65536)
        return hj_error_set(err, HJ_EINVAL, "bench: roofline exp buffer must be 16..65536 doubles (got %zu)",
                            o->exp_len);
    if (!(o->max_bytes >= 0.0) || !isfinite(o->max_bytes))
        return hj_error_set(err, HJ_EINVAL, "bench: memory limit must be finite and >= 0");
    return HJ_OK;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void hj_perf_summary(const double *v, size_t n, double *median, double *min, double *max)
{
    double tmp[HJ_PERF_MAX_REPS];
    double *s = n <= HJ_PERF_MAX_REPS ? tmp : malloc(n * sizeof *s);
    if (n == 0 || s == NULL) {
        if (median)
            *median = NAN;
        if (min)
            *min = NAN;
        if (max)
            *max = NAN;
        return;
    }
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    if (median)
        *median = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    if (min)
        *min = s[0];
    if (max)
        *max = s[n - 1];
    if (s != tmp)
        free(s);
}

double hj_perf_bound_seconds(const hj_roofline *r, const hj_perf_work *w)
{
    if (r == NULL || w == NULL || !(r->r_exp > 0.0) || !(r->r_fma > 0.0) || !(r->b_write > 0.0))
        return NAN;
    const double compute = w->exps / r->r_exp + w->fmas / r->r_fma;
    const double memory = w->bytes / r->b_write;
    return compute > memory ? compute : memory;
}
