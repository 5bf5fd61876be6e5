/* roofline.c — this machine's limits: vector exp rate, dgemm multiply-add rate, store bandwidth. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef HJDL_HAVE_OPENMP
#include <omp.h>
#endif
#ifdef HJDL_HAVE_CBLAS
#include <cblas.h>
#endif

#include "common/linalg.h"
#include "core/kernels.h"
#include "hjdl/perf.h"
#include "hjdl/runtime.h"
#include "perf/perf-impl.h"

/* Keep the compiler from reasoning across passes over a buffer. */
#if defined(__GNUC__)
#define PERF_CLOBBER() __asm__ __volatile__("" ::: "memory")
#else
#define PERF_CLOBBER() ((void)0)
#endif

#define EXP_TARGET_SECONDS 0.08   /* one timed exp run */
#define EXP_MIN_PER_THREAD 4000000.0 /* exps per thread in any run, calibration included */

void hj__perf_threads_enter(perf_threads *pt, size_t threads)
{
    pt->before = hj_get_threads();
    pt->changed = threads > 0 && threads != pt->before;
    if (threads > 0)
        hj_set_threads(threads);
    pt->used = threads > 0 ? threads : pt->before;
}

void hj__perf_threads_leave(const perf_threads *pt)
{
    if (pt->changed)
        hj_set_threads(pt->before);
}

/* One timed run of the exp test: `threads` threads, each owning a len-double
 * buffer, doing iters passes of (copy the arguments in; exp in place) — or
 * only the copy when with_exp is 0. The arguments are a fixed set in
 * [-1, 0), copied in by memcpy (libc's widest vector copy, a small fraction
 * of the exp's time). A scalar loop to reset them (a negation, as before)
 * cost as much as the AVX-512 exp itself on the development machine, so the
 * difference of the two runs drowned in their noise and the rule below
 * (difference under half the total: count everything as exp) halved R_exp.
 * Returns wall seconds, or -1 when a buffer could not be allocated. */
static double exp_run(size_t threads, size_t len, size_t iters, int with_exp)
{
    (void)threads; /* only the OpenMP pragma reads it */
    int failed = 0;
    double t0 = 0.0, t1 = 0.0;
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel num_threads((int)threads)
#endif
    {
        double *buf = malloc(2 * len * sizeof *buf), *args = buf ? buf + len : NULL;
        if (buf == NULL) {
#ifdef HJDL_HAVE_OPENMP
#pragma omp atomic write
#endif
            failed = 1;
        } else {
            for (size_t i = 0; i < len; i++)
                args[i] = -(double)(i + 1) / (double)(len + 1);
        }
#ifdef HJDL_HAVE_OPENMP
#pragma omp barrier
#pragma omp master
#endif
        t0 = hj_perf_now();
#ifdef HJDL_HAVE_OPENMP
#pragma omp barrier
#endif
        if (buf != NULL) {
            for (size_t it = 0; it < iters; it++) {
                memcpy(buf, args, len * sizeof *buf);
                if (with_exp)
                    hj__exp_nonpos_inplace(buf, len);
                PERF_CLOBBER();
            }
        }
#ifdef HJDL_HAVE_OPENMP
#pragma omp barrier
#pragma omp master
#endif
        t1 = hj_perf_now();
        free(buf);
    }
    return failed ? -1.0 : t1 - t0;
}

/* R_exp = threads * iters * len / (t(copy + exp) - t(copy)), each t the
 * fastest of reps runs.
 * Every run does at least EXP_MIN_PER_THREAD exps per thread, so thread
 * start-up and a late wake-up on a busy machine cannot dominate it. */
static hj_status measure_exp(size_t threads, size_t len, size_t reps, double *rate, hj_error *err)
{
    size_t iters = EXP_MIN_PER_THREAD / len + 1;
    /* calibrate: the fastest of three runs (noise only ever slows a run down) */
    double tmin = INFINITY;
    for (int k = 0; k < 3; k++) {
        const double t = exp_run(threads, len, iters, 1);
        if (t < 0.0)
            return hj_error_set(err, HJ_ENOMEM, "roofline: out of memory (exp buffer)");
        tmin = fmin(tmin, t);
    }
    if (tmin > 0.0 && tmin < EXP_TARGET_SECONDS)
        iters = (size_t)((double)iters * EXP_TARGET_SECONDS / tmin);
    double te = INFINITY, tn = INFINITY; /* the fastest run of each kind */
    for (size_t r = 0; r < reps; r++) {
        const double a = exp_run(threads, len, iters, 1), b = exp_run(threads, len, iters, 0);
        if (a < 0.0 || b < 0.0)
            return hj_error_set(err, HJ_ENOMEM, "roofline: out of memory (exp buffer)");
        te = fmin(te, a);
        tn = fmin(tn, b);
    }
    double t = te - tn;
    if (!(t > 0.5 * te)) /* noise swallowed the difference: count the copy as exp */
        t = te;
    *rate = (double)threads * (double)iters * (double)len / t;
    return HJ_OK;
}

/* R_fma: the best over reps of n^3 / t for C = A B, n x n. */
static hj_status measure_gemm(size_t n, size_t reps, double *rate, int *blas, hj_error *err)
{
    double *A = malloc(3 * n * n * sizeof *A);
    if (A == NULL)
        return hj_error_set(err, HJ_ENOMEM, "roofline: cannot allocate three %zu x %zu matrices", n, n);
    double *B = A + n * n, *C = B + n * n;
    for (size_t i = 0; i < n * n; i++) {
        A[i] = (double)(i % 7) * 0.125 - 0.375;
        B[i] = (double)(i % 5) * 0.25 - 0.5;
        C[i] = 0.0;
    }
    double samples[HJ_PERF_MAX_REPS];
    for (size_t r = 0; r <= reps; r++) { /* r == 0: warm-up */
        const double t0 = hj_perf_now();
#ifdef HJDL_HAVE_CBLAS
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0, A,
                    (int)n, B, (int)n, 0.0, C, (int)n);
        *blas = 1;
#else
        hj__gemm(0, 0, n, n, n, 1.0, A, n, B, n, 0.0, C, n);
        *blas = 0;
#endif
        const double t = hj_perf_now() - t0;
        if (r > 0)
            samples[r - 1] = (double)n * (double)n * (double)n / t;
    }
    free(A);
    hj_perf_summary(samples, reps, NULL, NULL, rate);
    return HJ_OK;
}

/* R_fma's second measurement: the kernel set's own multiply-add rate with
 * everything in registers (perf/fma_loop.h: independent chains, so that
 * the FMA units' throughput, not their latency, is timed). dgemm alone is not a
 * bound where the BLAS has no kernel tuned for the CPU: Debian's OpenBLAS
 * reached 44 % of the AVX-512 FMA peak on the AMD EPYC (Zen 5) machine,
 * where the LSE forward at d = 64 then ran at 123 % of "its roofline".
 * fma_loop_SET returns the checksum of the chains (the caller keeps it
 * observable). */
#if defined(__x86_64__) && defined(__GNUC__)
#define HJ_VSET_AVX512
#include "core/simd_vec.h"
#include "perf/fma_loop.h"
#undef HJ_VSET_AVX512
#define HJ_VSET_AVX2
#include "core/simd_vec.h"
#include "perf/fma_loop.h"
#undef HJ_VSET_AVX2
#endif

/* FMAs per second of the set in force over `threads` threads, the best of
 * reps runs (2^22 steps of the 12 chains: 8 ms each on the development
 * machine, long against a parallel region's start); 0 for the portable set
 * (no loop of its own: R_fma is then dgemm's). */
static double measure_fma_loop(size_t threads, size_t reps)
{
#if defined(__x86_64__) && defined(__GNUC__)
    const hj__kernel_set set = hj__kernels();
    if (set == HJ_KERNELS_PORTABLE)
        return 0.0;
    const size_t width = set == HJ_KERNELS_AVX512 ? 8 : 4, iters = (size_t)1 << 22;
    double best = 0.0;
    for (size_t r = 0; r < reps + 1; r++) { /* r == 0: warm-up */
        double sink = 0.0;
        const double t0 = hj_perf_now();
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel num_threads((int)threads) reduction(+ : sink)
#endif
        sink += set == HJ_KERNELS_AVX512 ? fma_loop_avx512(iters) : fma_loop_avx2(iters);
        const double t = hj_perf_now() - t0;
        volatile double keep = sink;
        (void)keep;
        if (r > 0)
            best = fmax(best, (double)threads * (double)iters * HJ_FMA_CHAINS * (double)width / t);
    }
    return best;
#else
    (void)threads, (void)reps;
    return 0.0;
#endif
}

/* Fill a (len) with v, by the stores a kernel could use: plain (stream = 0)
 * or streaming / non-temporal (stream = 1), 64-byte AVX-512 stores where the
 * CPU has AVX-512F, else 16-byte SSE2 ones. The LSE forward pass streams a
 * large pi out (lse_simd.c), so both count. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
__attribute__((target("avx512f"))) static void fill_avx512(double *a, size_t len, double v,
                                                           int stream)
{
    const __m512d vv = _mm512_set1_pd(v);
    size_t i = 0;
    for (; i < len && ((uintptr_t)(a + i) & 63) != 0; i++)
        a[i] = v;
    if (stream)
        for (; i + 8 <= len; i += 8)
            _mm512_stream_pd(a + i, vv);
    else
        for (; i + 8 <= len; i += 8)
            _mm512_store_pd(a + i, vv);
    for (; i < len; i++)
        a[i] = v;
    _mm_sfence();
}

static void fill_sse2(double *a, size_t len, double v, int stream)
{
    const __m128d vv = _mm_set1_pd(v);
    size_t i = 0;
    for (; i < len && ((uintptr_t)(a + i) & 15) != 0; i++)
        a[i] = v;
    if (stream)
        for (; i + 2 <= len; i += 2)
            _mm_stream_pd(a + i, vv);
    else
        for (; i + 2 <= len; i += 2)
            _mm_store_pd(a + i, vv);
    for (; i < len; i++)
        a[i] = v;
    _mm_sfence();
}

static void fill(double *a, size_t len, double v, int stream)
{
    if (__builtin_cpu_supports("avx512f"))
        fill_avx512(a, len, v, stream);
    else
        fill_sse2(a, len, v, stream);
}
#else
static void fill(double *a, size_t len, double v, int stream)
{
    (void)stream;
    for (size_t i = 0; i < len; i++)
        a[i] = v;
}
#endif

/* fill() over `threads` threads, each its contiguous share of a. */
static void fill_threads(double *a, size_t len, double v, int stream, size_t threads)
{
#ifdef HJDL_HAVE_OPENMP
#pragma omp parallel num_threads((int)threads)
    {
        const size_t T = (size_t)omp_get_num_threads(), id = (size_t)omp_get_thread_num();
        const size_t lo = len * id / T, hi = len * (id + 1) / T;
        fill(a + lo, hi - lo, v, stream);
    }
#else
    (void)threads;
    fill(a, len, v, stream);
#endif
}

/* B_write: the best over reps, and over plain and streaming stores, of
 * bytes / t for filling the array. */
static hj_status measure_write(size_t bytes, size_t threads, size_t reps, double *rate,
                               hj_error *err)
{
    const size_t len = bytes / sizeof(double);
    double *a = malloc(len * sizeof *a);
    if (a == NULL)
        return hj_error_set(err, HJ_ENOMEM, "roofline: cannot allocate the %zu-byte store array", bytes);
    fill_threads(a, len, 0.5, 0, threads); /* first touch (page faults), not timed */
    double best = 0.0;
    for (int stream = 0; stream <= 1; stream++) {
        double samples[HJ_PERF_MAX_REPS];
        for (size_t r = 0; r < reps; r++) {
            const double v = 1.5 + (double)r;
            const double t0 = hj_perf_now();
            fill_threads(a, len, v, stream, threads);
            PERF_CLOBBER();
            const double t = hj_perf_now() - t0;
            samples[r] = (double)(len * sizeof *a) / t;
        }
        double rate_k;
        hj_perf_summary(samples, reps, NULL, NULL, &rate_k);
        best = fmax(best, rate_k);
    }
    /* read something back so the stores are observable */
    volatile double sink = a[len / 2] + a[len - 1];
    (void)sink;
    free(a);
    *rate = best;
    return HJ_OK;
}

hj_status hj_perf_roofline(const hj_perf_options *opt, hj_roofline *r, hj_error *err)
{
    hj_perf_options def;
    if (opt == NULL) {
        hj_perf_options_default(&def);
        opt = &def;
    }
    if (r == NULL)
        return hj_error_set(err, HJ_EINVAL, "roofline: NULL result");
    hj_status st = hj_perf_options_check(opt, err);
    if (st != HJ_OK)
        return st;
    memset(r, 0, sizeof *r);
    perf_threads pt;
    hj__perf_threads_enter(&pt, opt->threads);
    r->threads = pt.used;
    r->gemm_n = opt->gemm_n;
    r->write_bytes = opt->write_bytes;
    r->exp_len = opt->exp_len;
    if ((st = measure_exp(pt.used, opt->exp_len, opt->reps, &r->r_exp, err)) == HJ_OK &&
        (st = measure_gemm(opt->gemm_n, opt->reps, &r->r_fma_gemm, &r->blas, err)) == HJ_OK)
        st = measure_write(opt->write_bytes, pt.used, opt->reps, &r->b_write, err);
    if (st == HJ_OK) {
        r->r_fma_loop = measure_fma_loop(pt.used, opt->reps);
        r->r_fma = fmax(r->r_fma_gemm, r->r_fma_loop);
    }
    hj__perf_threads_leave(&pt);
    return st;
}
