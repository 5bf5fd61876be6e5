/* perf.h — measuring hjdl: this machine's roofline and timings of the library's kernels.
 *
 * Shared by `hjdl bench` and `make bench` (bench/bench_main.c). Nothing here
 * prints: every measurement comes back in a struct.
 *
 * The roofline. For a kernel doing E exponentials and F multiply-adds and
 * writing B bytes it must write (the Gibbs weights pi), no implementation on
 * this machine can be faster than
 *     t_bound = max(t_compute, t_memory),
 *     t_compute = E / R_exp + F / R_fma,     t_memory = B / B_write,
 * where (all with the same thread count)
 *   R_exp    exponentials per second of the exp the LSE kernels use for
 *            their Gibbs weights (the inline AVX-512 exp where the blocked
 *            kernels run, libmvec/libm elsewhere) on an L1-resident
 *            buffer, one per thread;
 *   R_fma    multiply-adds per second of dgemm (OpenBLAS when built with it)
 *            on square matrices (default 2000 x 2000);
 *   B_write  bytes per second filling a large array (default 256 MiB), the
 *            faster of plain and streaming (non-temporal) stores, 64-byte
 *            AVX-512 ones where the CPU has AVX-512F, else 16-byte SSE2 ones
 *            (the blocked LSE forward pass streams a large pi out).
 * Each rate is the best of o->reps runs (a limit: noise only ever slows a
 * run down, so the best run is the closest to it and the bound the tightest).
 * The fraction of the roofline is t_bound / t_measured (1 = at the limit).
 * Work counted per kernel (n points, N neurons/atoms, dimension d):
 *   lse        LSE forward + pi:  E = n N, F = n N d (logits), B = 8 n N (pi);
 *   adam       one full-batch Adam step of an lse:N model (loss, gradient and
 *              update): E = n N, F = 2 n N d (logits, weight gradient), B = 0;
 *   hopf-cole  Hopf–Cole value and gradient at n points from N atoms:
 *              E = n N, F = 2 n N d (distances, Gibbs mean of the atoms), B = 0.
 * Everything else (max shifts, sums, the Adam update itself) is left out, so
 * the bound is optimistic for the machine and the fraction is conservative.
 */
#ifndef HJDL_PERF_H
#define HJDL_PERF_H

#include "hjdl/export.h"

#include <stddef.h>
#include <stdint.h>

#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most timed repetitions of one measurement (the samples are kept). */
#define HJ_PERF_MAX_REPS 64

/* Seconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
HJ_API double hj_perf_now(void);

typedef enum hj_perf_kernel {
    HJ_PERF_LSE = 0,     /* hj_lse_forward with pi */
    HJ_PERF_ADAM,        /* hj_model_train, Adam, full batch: seconds per step */
    HJ_PERF_HOPF_COLE    /* hj_hopf_cole_eval: u and grad u */
} hj_perf_kernel;

#define HJ_PERF_N_KERNELS 3

/* "lse", "adam", "hopf-cole" (NULL for an unknown value). */
HJ_API const char *hj_perf_kernel_name(hj_perf_kernel k);
/* The inverse; HJ_EINVAL listing the names for anything else. */
HJ_API hj_status hj_perf_kernel_parse(const char *name, hj_perf_kernel *k, hj_error *err);

/* One problem size. eps NaN means the kernel's default: 0.5 for lse and
 * hopf-cole, N^(-1/d) (the `scaling` experiment's choice) for adam. */
typedef struct hj_perf_size {
    size_t n;      /* points (training points for adam) */
    size_t N;      /* neurons (lse, adam) or atoms (hopf-cole) */
    size_t d;      /* input dimension */
    double eps;
} hj_perf_size;

/* The default sizes of `make bench` for a kernel: n = 4000, N = 1000, d = 2
 * (lse, adam) and n = 100, N = 10^6, d = 2 (hopf-cole); eps NaN. */
HJ_API hj_perf_size hj_perf_default_size(hj_perf_kernel k);
/* eps after applying the kernel's default (s->eps when it is not NaN). */
HJ_API double hj_perf_eps(hj_perf_kernel k, const hj_perf_size *s);

/* Work of one run (one step for adam), as counted above. */
typedef struct hj_perf_work {
    double exps;    /* exponentials */
    double fmas;    /* multiply-adds */
    double bytes;   /* bytes that must be written */
} hj_perf_work;

/* Fill w for kernel k at size s (no validation beyond NULL checks). */
HJ_API hj_status hj_perf_work_count(hj_perf_kernel k, const hj_perf_size *s, hj_perf_work *w,
                             hj_error *err);

/* Bytes of memory a timing of kernel k at size s allocates (inputs, outputs,
 * the library's scratch for `threads` threads), estimated from above.
 * HJ_ERANGE if the count overflows. */
HJ_API hj_status hj_perf_memory_bytes(hj_perf_kernel k, const hj_perf_size *s, size_t threads,
                               double *bytes, hj_error *err);

/* Validate a size for kernel k: n, N, d >= 1, eps (after the default)
 * finite and >= 0 (> 0 for adam), and the memory estimate at most
 * max_bytes (0: the default limit, hj_perf_memory_limit()). Messages say
 * what is wrong, e.g. "lse at n = 100000, N = 100000, d = 2 needs about
 * 80.0 GB of memory (limit 6.0 GB): choose smaller sizes". */
HJ_API hj_status hj_perf_check_size(hj_perf_kernel k, const hj_perf_size *s, double max_bytes,
                             hj_error *err);

/* Default memory limit: 3/4 of MemAvailable from /proc/meminfo, or 2 GiB
 * when that cannot be read. */
HJ_API double hj_perf_memory_limit(void);

/* ---- the roofline ---------------------------------------------------------- */

typedef struct hj_roofline {
    double r_exp;          /* exponentials per second */
    double r_fma;          /* multiply-adds per second: the larger of the two below */
    double b_write;        /* bytes per second */
    size_t threads;        /* threads used for all three */
    size_t gemm_n;         /* dgemm matrix size */
    size_t write_bytes;    /* array size of the store test */
    size_t exp_len;        /* doubles per thread in the exp test */
    int blas;              /* 1: r_fma_gemm is OpenBLAS dgemm; 0: the library's plain-loop GEMM */
    double r_fma_gemm;     /* multiply-adds per second of dgemm (gemm_n^3) */
    double r_fma_loop;     /* of the kernel set's own vectors, in registers (0: portable set) */
} hj_roofline;

/* Options of every measurement; hj_perf_options_default() fills them. */
typedef struct hj_perf_options {
    size_t reps;           /* timed runs after warm-up, 1..HJ_PERF_MAX_REPS (default 5) */
    size_t warmup;         /* untimed runs first (default 1) */
    size_t threads;        /* OpenMP/OpenBLAS threads during the measurement;
                              0 = the current setting (restored afterwards otherwise) */
    uint64_t seed;         /* inputs are drawn from this seed (default 1) */
    double max_bytes;      /* size limit (0: hj_perf_memory_limit()) */
    size_t adam_steps;     /* Adam steps per timed run (default 20); the time per step is
                              the run's time / steps, set-up and final loss included */
    size_t gemm_n;         /* roofline: dgemm size (default 2000) */
    size_t write_bytes;    /* roofline: store-test array (default 256 MiB) */
    size_t exp_len;        /* roofline: exp buffer per thread, doubles (default 1024 = 8 KiB) */
} hj_perf_options;

HJ_API void hj_perf_options_default(hj_perf_options *o);
/* Range checks of the options (reps 1..HJ_PERF_MAX_REPS, gemm_n >= 8, ...). */
HJ_API hj_status hj_perf_options_check(const hj_perf_options *o, hj_error *err);

/* Measure R_exp, R_fma, B_write with o->threads threads (the best of
 * o->reps runs each, after a warm-up). o may be NULL (defaults). */
HJ_API hj_status hj_perf_roofline(const hj_perf_options *o, hj_roofline *r, hj_error *err);

/* Lower bound (seconds) of the work w on roofline r: max(t_compute, t_memory). */
HJ_API double hj_perf_bound_seconds(const hj_roofline *r, const hj_perf_work *w);

/* ---- kernel timings -------------------------------------------------------- */

typedef struct hj_perf_timing {
    hj_perf_kernel kernel;
    hj_perf_size size;         /* eps resolved (never NaN) */
    size_t threads;
    size_t reps;
    double samples[HJ_PERF_MAX_REPS]; /* seconds of each timed run (per step for adam), in order */
    double median, min, max;   /* of the samples */
    hj_perf_work work;
    double throughput;         /* (point, neuron) pairs per second at the median: n N / median */
    double bound;              /* roofline lower bound, seconds; NaN without a roofline */
    double fraction;           /* bound / median; NaN without a roofline */
    double check;              /* a number the kernel computed, to compare implementations:
                                  lse sum_i f(x_i); adam the final training loss;
                                  hopf-cole sum_i u(x_i) */
} hj_perf_timing;

/* Time kernel k at size s: o->warmup untimed runs, then o->reps timed ones,
 * on seeded inputs (hj_perf_inputs_make). roof may be NULL (no fraction).
 * The size is validated first (hj_perf_check_size). */
HJ_API hj_status hj_perf_time(hj_perf_kernel k, const hj_perf_size *s, const hj_perf_options *o,
                       const hj_roofline *roof, hj_perf_timing *t, hj_error *err);

/* The same, one function per kernel. */
HJ_API hj_status hj_perf_lse_forward(const hj_perf_size *s, const hj_perf_options *o,
                              const hj_roofline *roof, hj_perf_timing *t, hj_error *err);
HJ_API hj_status hj_perf_adam_step(const hj_perf_size *s, const hj_perf_options *o,
                            const hj_roofline *roof, hj_perf_timing *t, hj_error *err);
HJ_API hj_status hj_perf_hopf_cole(const hj_perf_size *s, const hj_perf_options *o,
                            const hj_roofline *roof, hj_perf_timing *t, hj_error *err);

/* median, min and max of v (n >= 1; v is not modified). */
HJ_API void hj_perf_summary(const double *v, size_t n, double *median, double *min, double *max);

/* ---- the inputs (to run the same problem elsewhere, e.g. the Python peers) ---- */

/* The seeded inputs of kernel k at size s (eps resolved):
 *   lse        x (n, d) ~ U[-2,2]; p = w (N, d) ~ N(0, 1/d) then b (N) ~ 0.1 N(0,1)
 *   adam       x (n, d) ~ U[-2,2]; y (n) = |x|; p = the initial parameters of
 *              hj_model_init(lse:N, seed): w (N, d) then b (N); t = 1, lr 0.006
 *   hopf-cole  x (n, d) ~ U[-2,2]; p = atoms y (N, d) ~ U[-2,2] then g (N) ~ U[0,1]; t = 0.5 */
typedef struct hj_perf_inputs {
    hj_perf_kernel kernel;
    hj_perf_size size;
    double *x;     /* (n, d) */
    double *y;     /* (n) adam targets; NULL otherwise */
    double *p;     /* (N d + N) */
    double t;      /* adam: model time 1; hopf-cole: 0.5; lse: unused (0) */
    double lr;     /* adam: 0.006; else 0 */
} hj_perf_inputs;

HJ_API hj_status hj_perf_inputs_make(hj_perf_kernel k, const hj_perf_size *s, uint64_t seed,
                              hj_perf_inputs *in, hj_error *err);
HJ_API void hj_perf_inputs_free(hj_perf_inputs *in);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_PERF_H */
