/* lse_c.c — times hj_lse_forward from C, for python/bench/overhead.py's binding-overhead comparison. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hjdl/lse.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Usage: lse_c n N d eps reps. Prints "f MEDIAN_S" and "f+pi MEDIAN_S": medians of per-call
 * times of the forward pass, outputs preallocated once. The data are the same closed-form
 * values overhead.py builds with NumPy, so both time the same computation. */
int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: lse_c n N d eps reps\n");
        return 2;
    }
    const size_t n = strtoul(argv[1], NULL, 10), N = strtoul(argv[2], NULL, 10), d = strtoul(argv[3], NULL, 10);
    const double eps = strtod(argv[4], NULL);
    const size_t reps = strtoul(argv[5], NULL, 10);
    double *x = malloc(n * d * sizeof *x), *w = malloc(N * d * sizeof *w), *b = malloc(N * sizeof *b);
    double *f = malloc(n * sizeof *f), *pi = malloc(n * N * sizeof *pi), *t = malloc(reps * sizeof *t);
    if (!x || !w || !b || !f || !pi || !t || reps == 0)
        return 1;
    for (size_t k = 0; k < n * d; k++)
        x[k] = sin(0.37 * (double)k);
    for (size_t k = 0; k < N * d; k++)
        w[k] = 0.25 * cos(0.11 * (double)k);
    for (size_t j = 0; j < N; j++)
        b[j] = 0.01 * (double)(j % 7);
    hj_lse_layer L = {N, d, w, b, eps};
    hj_error err;
    for (int with_pi = 0; with_pi < 2; with_pi++) {
        if (hj_lse_forward(&L, x, n, f, with_pi ? pi : NULL, NULL, &err) != HJ_OK) {   /* warm-up */
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        for (size_t r = 0; r < reps; r++) {
            double t0 = now();
            hj_lse_forward(&L, x, n, f, with_pi ? pi : NULL, NULL, &err);
            t[r] = now() - t0;
        }
        qsort(t, reps, sizeof *t, cmp);
        printf("%s %.9f\n", with_pi ? "f+pi" : "f", t[reps / 2]);
    }
    printf("checksum %.17g\n", f[0] + f[n - 1]);
    free(x), free(w), free(b), free(f), free(pi), free(t);
    return 0;
}
