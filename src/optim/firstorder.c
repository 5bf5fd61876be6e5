/* firstorder.c — Adam and heavy-ball SGD steps, seeded mini-batch schedule, first-order phase. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/optim.h"
#include "hjdl/rng.h"
#include "optim/optim-impl.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The Adam update of elements [0, n8) (n8 a multiple of 8), 8 at a time with
 * AVX-512: the same IEEE operations in the same order as the scalar loop
 * (no FMA contraction), so the same bits, with the divisions and square
 * roots vectorised. */
__attribute__((target("avx512f"))) static void adam_avx512(double *p, const double *g, double *m,
                                                          double *v, size_t n8, double lr,
                                                          double b1, double b2, double eps,
                                                          double c1, double c2)
{
    const __m512d vb1 = _mm512_set1_pd(b1), vb2 = _mm512_set1_pd(b2);
    const __m512d o1 = _mm512_set1_pd(1.0 - b1), o2 = _mm512_set1_pd(1.0 - b2);
    const __m512d vc1 = _mm512_set1_pd(c1), vc2 = _mm512_set1_pd(c2);
    const __m512d vlr = _mm512_set1_pd(lr), veps = _mm512_set1_pd(eps);
    for (size_t i = 0; i < n8; i += 8) {
        const __m512d gi = _mm512_loadu_pd(g + i);
        const __m512d mi = _mm512_add_pd(_mm512_mul_pd(vb1, _mm512_loadu_pd(m + i)),
                                         _mm512_mul_pd(o1, gi));
        const __m512d vi = _mm512_add_pd(_mm512_mul_pd(vb2, _mm512_loadu_pd(v + i)),
                                         _mm512_mul_pd(_mm512_mul_pd(o2, gi), gi));
        _mm512_storeu_pd(m + i, mi);
        _mm512_storeu_pd(v + i, vi);
        const __m512d mhat = _mm512_div_pd(mi, vc1), vhat = _mm512_div_pd(vi, vc2);
        const __m512d step = _mm512_div_pd(_mm512_mul_pd(vlr, mhat),
                                           _mm512_add_pd(_mm512_sqrt_pd(vhat), veps));
        _mm512_storeu_pd(p + i, _mm512_sub_pd(_mm512_loadu_pd(p + i), step));
    }
}
#endif

void hj__adam_step(double *p, const double *g, double *m, double *v, size_t t, size_t n,
                   double lr, double b1, double b2, double eps)
{
    const double c1 = 1.0 - pow(b1, (double)t); /* bias corrections */
    const double c2 = 1.0 - pow(b2, (double)t);
    size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (n >= 8 && __builtin_cpu_supports("avx512f")) {
        i = n / 8 * 8;
        adam_avx512(p, g, m, v, i, lr, b1, b2, eps, c1, c2);
    }
#endif
    for (; i < n; i++) {
        m[i] = b1 * m[i] + (1.0 - b1) * g[i];
        v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
        const double mhat = m[i] / c1, vhat = v[i] / c2;
        p[i] -= lr * mhat / (sqrt(vhat) + eps);
    }
}

void hj__sgd_step(double *p, const double *g, double *vel, size_t n, double lr, double mu)
{
    for (size_t i = 0; i < n; i++) {
        vel[i] = mu * vel[i] + g[i];
        p[i] -= lr * vel[i];
    }
}

uint64_t hj__rng_below(hj_rng *r, uint64_t bound)
{
    /* Reject the lowest (2^64 mod bound) values so every residue is equally likely. */
    const uint64_t threshold = (0 - bound) % bound;
    uint64_t x;
    do
        x = hj_rng_next(r);
    while (x < threshold);
    return x % bound;
}

void hj__shuffle(hj_rng *r, size_t *perm, size_t n)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n; i-- > 1;) {
        size_t j = (size_t)hj__rng_below(r, (uint64_t)i + 1);
        size_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}

/* Index of the first non-finite entry of a (n), or n if all are finite. */
static size_t first_nonfinite(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return i;
    return n;
}

hj_status hj__first_order_phase(hj__optrun *run, hj_optimizer which, double *params,
                                int last_phase, hj_error *err)
{
    const hj_train_options *opt = run->opt;
    const size_t n = run->n, N = opt->n_data, batch = opt->batch;
    const size_t total = hj__first_order_steps(opt);
    const int adam = which != HJ_OPT_SGD;
    const char *phase = adam ? "adam" : "sgd";

    /* grad, prev (last evaluated point), m and v (Adam) or velocity (SGD) */
    double *work = calloc(4 * n, sizeof *work);
    size_t *perm = batch > 0 ? malloc(N * sizeof *perm) : NULL;
    if (work == NULL || (batch > 0 && perm == NULL)) {
        free(work);
        free(perm);
        return hj_error_set(err, HJ_ENOMEM, "%s: cannot allocate optimiser state for %zu parameters",
                            phase, n);
    }
    double *grad = work, *prev = work + n, *m = work + 2 * n, *v = work + 3 * n;

    hj_rng rng;
    hj_rng_seed(&rng, opt->seed);
    size_t pos = N, epochs_done = 0; /* pos == N: draw a new permutation */
    hj_status st = HJ_OK;
    hj_error e;

    for (size_t s = 1; s <= total; s++) {
        const size_t *idx = NULL;
        size_t n_idx = N;
        if (batch > 0) {
            if (pos >= N) {
                hj__shuffle(&rng, perm, N);
                pos = 0;
            }
            idx = perm + pos;
            n_idx = N - pos < batch ? N - pos : batch;
            pos += n_idx;
        }
        /* "(epoch k)" names the epoch this step belongs to, for messages */
        char where[64] = "";
        if (batch > 0)
            snprintf(where, sizeof where, " (epoch %zu)", epochs_done + 1);

        double loss = NAN;
        hj_error_clear(&e);
        st = run->f(run->ctx, params, idx, n_idx, &loss, grad, &e);
        if (st != HJ_OK) {
            if (s > 1)
                memcpy(params, prev, n * sizeof *params);
            hj__objective_error(err, st, &e, "%s step %zu%s: ", phase, s, where);
            goto done;
        }
        size_t bad = first_nonfinite(grad, n);
        if (!isfinite(loss) || bad < n) {
            if (s > 1)
                memcpy(params, prev, n * sizeof *params);
            if (!isfinite(loss))
                st = hj_error_set(err, HJ_ENAN,
                                  "%s step %zu%s: loss is %s (parameters restored to the "
                                  "last point with a finite loss)",
                                  phase, s, where, hj__nonfinite_name(loss));
            else
                st = hj_error_set(err, HJ_ENAN,
                                  "%s step %zu%s: gradient[%zu] is %s (parameters restored "
                                  "to the last point with a finite loss)",
                                  phase, s, where, bad, hj__nonfinite_name(grad[bad]));
            goto done;
        }
        if (run->steps < run->cap)
            run->trace[run->steps] = loss;
        run->steps++;

        memcpy(prev, params, n * sizeof *params);
        if (adam)
            hj__adam_step(params, grad, m, v, s, n, opt->lr, opt->beta1, opt->beta2, opt->adam_eps);
        else
            hj__sgd_step(params, grad, m, n, opt->lr, opt->momentum);
        bad = first_nonfinite(params, n);
        if (bad < n) {
            double x = params[bad];
            memcpy(params, prev, n * sizeof *params);
            st = hj_error_set(err, HJ_ENAN,
                              "%s step %zu%s: the update made params[%zu] %s "
                              "(parameters restored to the point before it)",
                              phase, s, where, bad, hj__nonfinite_name(x));
            goto done;
        }
        if (batch > 0 && pos >= N)
            epochs_done++;

        if (hj__report_due(run, s) || s == total) {
            if (hj__report(run, phase, s, total, epochs_done, loss)) {
                if (s < total || !last_phase)
                    run->stopped = 1;
                break;
            }
        }
    }

done:
    free(work);
    free(perm);
    return st;
}
