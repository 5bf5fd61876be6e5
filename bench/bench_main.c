/* bench_main.c — `make bench`: timings of hjdl kernels at fixed sizes, medians of repeated runs.
 *
 * Benchmarks, not tests: nothing here asserts a time. Each kernel is run
 * REPS times after a warm-up; the median wall time is printed with the ratio
 * to its peer measured in the same run, and everything is written to
 * bench-out/bench.csv.
 *
 * Current contents (issue 8 extends this runner with the PyTorch/NumPy peers):
 *   influence  all N leave-one-out changes at one point: closed form (O(N))
 *              vs brute-force recomputation (O(N^2)), N = 100 .. 10000.
 *   lse        LSE forward + Gibbs weights, n = 4000 points, N = 1000, d = 2 and 64.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hjdl/influence.h"
#include "hjdl/lse.h"
#include "hjdl/rng.h"
#include "hjdl/stats.h"

#define REPS 7

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

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

int main(void)
{
    mkdir("bench-out", 0755);
    FILE *csv = fopen("bench-out/bench.csv", "w");
    if (csv == NULL) {
        perror("bench-out/bench.csv");
        return 1;
    }
    fprintf(csv, "kernel,size,variant,median_seconds\n");
    hj_rng r;
    hj_rng_seed(&r, 1);
    printf("influence: all N leave-one-out changes at one point (median of %d)\n", REPS);
    printf("%8s %14s %14s %10s %12s\n", "N", "closed form s", "brute force s", "ratio", "max |diff|");
    static const size_t Ns[] = {100, 300, 1000, 3000, 10000};
    double xs[5], tc[5], tb[5];
    for (size_t s = 0; s < 5; s++) {
        const size_t N = Ns[s];
        const double eps = 0.5;
        double *a = malloc(N * sizeof *a), *v = malloc(N * sizeof *v);
        double *d1 = malloc(N * sizeof *d1), *d2 = malloc(N * sizeof *d2), P, P0;
        for (size_t j = 0; j < N; j++) {
            a[j] = hj_rng_normal(&r);
            v[j] = hj_rng_normal(&r);
        }
        double t1[REPS], t2[REPS];
        const size_t reps_brute = N > 3000 ? 3 : REPS;
        hj_influence_loo_logits(a, N, eps, v, 1, &P, d1, NULL); /* warm-up */
        for (int k = 0; k < REPS; k++) {
            double t0 = now();
            hj_influence_loo_logits(a, N, eps, v, 1, &P, d1, NULL);
            t1[k] = now() - t0;
        }
        for (size_t k = 0; k < reps_brute; k++) {
            double t0 = now();
            loo_brute(a, N, eps, v, &P0, d2);
            t2[k] = now() - t0;
        }
        double diff = fabs(P - P0);
        for (size_t j = 0; j < N; j++)
            diff = fmax(diff, fabs(d1[j] - d2[j]));
        xs[s] = (double)N;
        tc[s] = median(t1, REPS);
        tb[s] = median(t2, reps_brute);
        printf("%8zu %14.3e %14.3e %10.1f %12.2e\n", N, tc[s], tb[s], tb[s] / tc[s], diff);
        fprintf(csv, "influence,%zu,closed,%.6e\ninfluence,%zu,brute,%.6e\n", N, tc[s], N, tb[s]);
        free(a), free(v), free(d1), free(d2);
    }
    double ec, eb, lp, sec, seb;
    hj_fit_power_law(xs, tc, 5, &ec, &lp, &sec, NULL);
    hj_fit_power_law(xs, tb, 5, &eb, &lp, &seb, NULL);
    printf("fitted cost exponents: closed form N^%.2f +- %.2f, brute force N^%.2f +- %.2f\n\n", ec, sec, eb, seb);

    printf("lse: forward + Gibbs weights, n = 4000, N = 1000 (median of %d)\n", REPS);
    printf("%6s %14s %16s\n", "d", "seconds", "ns per (point,N)");
    static const size_t ds[] = {2, 64};
    for (size_t s = 0; s < 2; s++) {
        const size_t n = 4000, N = 1000, d = ds[s];
        double *w = malloc(N * d * sizeof *w), *b = calloc(N, sizeof *b), *x = malloc(n * d * sizeof *x);
        double *f = malloc(n * sizeof *f), *pi = malloc(n * N * sizeof *pi), t[REPS];
        for (size_t k = 0; k < N * d; k++)
            w[k] = hj_rng_normal(&r) / sqrt((double)d);
        for (size_t k = 0; k < n * d; k++)
            x[k] = hj_rng_normal(&r);
        hj_lse_layer L = {N, d, w, b, 0.5};
        hj_lse_forward(&L, x, n, f, pi, NULL, NULL);
        for (int k = 0; k < REPS; k++) {
            double t0 = now();
            hj_lse_forward(&L, x, n, f, pi, NULL, NULL);
            t[k] = now() - t0;
        }
        double med = median(t, REPS);
        printf("%6zu %14.3e %16.2f\n", d, med, 1e9 * med / (double)(n * N));
        fprintf(csv, "lse_forward_pi,%zu,d%zu,%.6e\n", n * N, d, med);
        free(w), free(b), free(x), free(f), free(pi);
    }
    fclose(csv);
    printf("\nwritten: bench-out/bench.csv\n");
    return 0;
}
