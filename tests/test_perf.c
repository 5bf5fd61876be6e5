/* test_perf.c — the perf module's non-timing logic: names, work counts, roofline arithmetic, size checks, sane timings at tiny sizes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/perf.h"

/* ---- independent references ---------------------------------------------- */

/* eps log sum_j exp(z_j / eps), shifted by the max, written here from the definition. */
static double ref_lse(const double *z, size_t N, double eps)
{
    double m = z[0];
    for (size_t j = 1; j < N; j++)
        if (z[j] > m)
            m = z[j];
    double s = 0.0;
    for (size_t j = 0; j < N; j++)
        s += exp((z[j] - m) / eps);
    return m + eps * log(s);
}

/* sum_i f(x_i) of an LSE layer w (N, d), b (N). */
static double ref_lse_sum(const double *x, size_t n, const double *w, const double *b, size_t N,
                          size_t d, double eps)
{
    double *z = malloc(N * sizeof *z), total = 0.0;
    assert_non_null(z);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < N; j++) {
            z[j] = b[j];
            for (size_t k = 0; k < d; k++)
                z[j] += w[j * d + k] * x[i * d + k];
        }
        total += ref_lse(z, N, eps);
    }
    free(z);
    return total;
}

/* Mean squared error of the LSE model w (N, d), b (N) at temperature eps on
 * (x (n, d), y (n)); grad (N d + N, may be NULL) gets its gradient, from
 * dF/db_j = pi_j and dF/dw_jk = pi_j x_k. */
static double ref_mse(const double *p, const double *x, const double *y, size_t n, size_t N,
                      size_t d, double eps, double *grad)
{
    double *z = malloc(N * sizeof *z), loss = 0.0;
    assert_non_null(z);
    if (grad)
        memset(grad, 0, (N * d + N) * sizeof *grad);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < N; j++) {
            z[j] = p[N * d + j];
            for (size_t k = 0; k < d; k++)
                z[j] += p[j * d + k] * x[i * d + k];
        }
        const double F = ref_lse(z, N, eps), r = F - y[i];
        loss += r * r / (double)n;
        for (size_t j = 0; grad && j < N; j++) {
            const double g = 2.0 * r / (double)n * exp((z[j] - F) / eps);
            grad[N * d + j] += g;
            for (size_t k = 0; k < d; k++)
                grad[j * d + k] += g * x[i * d + k];
        }
    }
    free(z);
    return loss;
}

/* The loss after `steps` full-batch Adam steps (betas 0.9, 0.999, eps 1e-8,
 * bias-corrected) from the parameters p of the adam inputs. */
static double ref_adam_loss(const hj_perf_inputs *in, size_t steps)
{
    const size_t n = in->size.n, N = in->size.N, d = in->size.d, P = N * d + N;
    double *p = malloc(3 * P * sizeof *p), *g = malloc(P * sizeof *g);
    assert_non_null(p);
    assert_non_null(g);
    double *m = p + P, *v = m + P;
    memcpy(p, in->p, P * sizeof *p);
    memset(m, 0, 2 * P * sizeof *m);
    for (size_t s = 1; s <= steps; s++) {
        ref_mse(p, in->x, in->y, n, N, d, in->size.eps, g);
        for (size_t k = 0; k < P; k++) {
            m[k] = 0.9 * m[k] + 0.1 * g[k];
            v[k] = 0.999 * v[k] + 0.001 * g[k] * g[k];
            const double mh = m[k] / (1.0 - pow(0.9, (double)s)),
                         vh = v[k] / (1.0 - pow(0.999, (double)s));
            p[k] -= in->lr * mh / (sqrt(vh) + 1e-8);
        }
    }
    const double loss = ref_mse(p, in->x, in->y, n, N, d, in->size.eps, NULL);
    free(p), free(g);
    return loss;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_kernel_names(void **state)
{
    (void)state;
    const char *names[] = {"lse", "adam", "hopf-cole"};
    for (int k = 0; k < HJ_PERF_N_KERNELS; k++) {
        hj_perf_kernel got;
        assert_string_equal(hj_perf_kernel_name((hj_perf_kernel)k), names[k]);
        assert_int_equal(hj_perf_kernel_parse(names[k], &got, NULL), HJ_OK);
        assert_int_equal(got, k);
    }
    hj_error err = {0};
    hj_perf_kernel got;
    assert_int_equal(hj_perf_kernel_parse("gemm", &got, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "gemm"));
    assert_non_null(strstr(err.msg, "hopf-cole"));
    assert_null(hj_perf_kernel_name((hj_perf_kernel)7));
}

static void test_work_counts(void **state)
{
    (void)state;
    const hj_perf_size s = {3, 5, 7, 0.5};
    hj_perf_work w;
    assert_int_equal(hj_perf_work_count(HJ_PERF_LSE, &s, &w, NULL), HJ_OK);
    assert_true(w.exps == 15.0 && w.fmas == 105.0 && w.bytes == 120.0);
    assert_int_equal(hj_perf_work_count(HJ_PERF_ADAM, &s, &w, NULL), HJ_OK);
    assert_true(w.exps == 15.0 && w.fmas == 210.0 && w.bytes == 0.0);
    assert_int_equal(hj_perf_work_count(HJ_PERF_HOPF_COLE, &s, &w, NULL), HJ_OK);
    assert_true(w.exps == 15.0 && w.fmas == 210.0 && w.bytes == 0.0);
    assert_int_equal(hj_perf_work_count((hj_perf_kernel)9, &s, &w, NULL), HJ_EINVAL);
}

static void test_bound_arithmetic(void **state)
{
    (void)state;
    hj_roofline r;
    memset(&r, 0, sizeof r);
    r.r_exp = 2.0, r.r_fma = 4.0, r.b_write = 8.0;
    /* compute-bound: 10/2 + 12/4 = 8 > 16/8 = 2 */
    hj_perf_work w = {10.0, 12.0, 16.0};
    assert_true(fabs(hj_perf_bound_seconds(&r, &w) - 8.0) < 1e-15);
    /* memory-bound: 1/2 + 2/4 = 1 < 80/8 = 10 */
    hj_perf_work m = {1.0, 2.0, 80.0};
    assert_true(fabs(hj_perf_bound_seconds(&r, &m) - 10.0) < 1e-15);
    /* the LSE of issue 8's definition: n N / R_exp + n N d / R_fma vs 8 n N / B_write */
    const hj_perf_size s = {4000, 1000, 64, 0.5};
    hj_perf_work lw;
    assert_int_equal(hj_perf_work_count(HJ_PERF_LSE, &s, &lw, NULL), HJ_OK);
    r.r_exp = 1e9, r.r_fma = 2e10, r.b_write = 1e10;
    const double nN = 4000.0 * 1000.0;
    const double want = fmax(nN / 1e9 + nN * 64.0 / 2e10, 8.0 * nN / 1e10);
    assert_true(fabs(hj_perf_bound_seconds(&r, &lw) - want) <= 1e-12 * want);
    /* no roofline: NaN */
    r.r_fma = 0.0;
    assert_true(isnan(hj_perf_bound_seconds(&r, &lw)));
    assert_true(isnan(hj_perf_bound_seconds(NULL, &lw)));
}

static void test_summary(void **state)
{
    (void)state;
    double v[5] = {5.0, 1.0, 4.0, 2.0, 3.0}, copy[5];
    memcpy(copy, v, sizeof v);
    double med, lo, hi;
    hj_perf_summary(v, 5, &med, &lo, &hi);
    assert_true(med == 3.0 && lo == 1.0 && hi == 5.0);
    assert_memory_equal(v, copy, sizeof v); /* not sorted in place */
    double e[4] = {4.0, 1.0, 3.0, 2.0};
    hj_perf_summary(e, 4, &med, &lo, &hi);
    assert_true(med == 2.5 && lo == 1.0 && hi == 4.0);
    hj_perf_summary(e, 0, &med, &lo, &hi);
    assert_true(isnan(med) && isnan(lo) && isnan(hi));
}

static void test_size_validation(void **state)
{
    (void)state;
    hj_error err = {0};
    hj_perf_size s = {0, 10, 2, NAN};
    assert_int_equal(hj_perf_check_size(HJ_PERF_LSE, &s, 0.0, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "n = 0"));
    s = (hj_perf_size){10, 10, 2, -1.0};
    assert_int_equal(hj_perf_check_size(HJ_PERF_LSE, &s, 0.0, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "eps"));
    s.eps = 0.0; /* the tropical layer is fine for lse, not for training */
    assert_int_equal(hj_perf_check_size(HJ_PERF_LSE, &s, 0.0, NULL), HJ_OK);
    assert_int_equal(hj_perf_check_size(HJ_PERF_ADAM, &s, 0.0, NULL), HJ_EINVAL);
    /* default eps: 0.5, and N^(-1/d) for adam */
    s.eps = NAN;
    assert_true(hj_perf_eps(HJ_PERF_LSE, &s) == 0.5);
    assert_true(fabs(hj_perf_eps(HJ_PERF_ADAM, &s) - pow(10.0, -0.5)) < 1e-15);
    /* memory: 10^6 x 10^6 pi is 8 TB, refused with the estimate in the message */
    s = (hj_perf_size){1000000, 1000000, 2, NAN};
    assert_int_equal(hj_perf_check_size(HJ_PERF_LSE, &s, 0.0, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "memory"));
    assert_non_null(strstr(err.msg, "TB"));
    /* an explicit limit: the estimate is at least the pi matrix itself */
    s = (hj_perf_size){100, 100, 2, NAN};
    double bytes;
    assert_int_equal(hj_perf_memory_bytes(HJ_PERF_LSE, &s, 1, &bytes, NULL), HJ_OK);
    assert_true(bytes >= 8.0 * 100 * 100);
    assert_int_equal(hj_perf_check_size(HJ_PERF_LSE, &s, bytes * 1.01 + 64 * 1600.0, NULL), HJ_OK);
    assert_int_equal(hj_perf_check_size(HJ_PERF_LSE, &s, 1000.0, NULL), HJ_EINVAL);
    /* estimates grow with every size */
    for (int k = 0; k < HJ_PERF_N_KERNELS; k++) {
        double b0, b1, b2, b3;
        hj_perf_size a = {50, 60, 3, NAN}, bN = {50, 120, 3, NAN}, bn = {100, 60, 3, NAN},
                     bd = {50, 60, 6, NAN};
        assert_int_equal(hj_perf_memory_bytes((hj_perf_kernel)k, &a, 2, &b0, NULL), HJ_OK);
        assert_int_equal(hj_perf_memory_bytes((hj_perf_kernel)k, &bN, 2, &b1, NULL), HJ_OK);
        assert_int_equal(hj_perf_memory_bytes((hj_perf_kernel)k, &bn, 2, &b2, NULL), HJ_OK);
        assert_int_equal(hj_perf_memory_bytes((hj_perf_kernel)k, &bd, 2, &b3, NULL), HJ_OK);
        assert_true(b1 > b0 && b2 > b0 && b3 > b0);
    }
    assert_true(hj_perf_memory_limit() > 0.0);
}

static void test_options(void **state)
{
    (void)state;
    hj_perf_options o;
    hj_perf_options_default(&o);
    assert_int_equal(hj_perf_options_check(&o, NULL), HJ_OK);
    assert_true(o.reps >= 1 && o.gemm_n == 2000 && o.write_bytes == (size_t)256 * 1024 * 1024);
    hj_error err = {0};
    o.reps = 0;
    assert_int_equal(hj_perf_options_check(&o, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "reps"));
    o.reps = HJ_PERF_MAX_REPS + 1;
    assert_int_equal(hj_perf_options_check(&o, NULL), HJ_EINVAL);
    hj_perf_options_default(&o);
    o.adam_steps = 0;
    assert_int_equal(hj_perf_options_check(&o, NULL), HJ_EINVAL);
    hj_perf_options_default(&o);
    o.gemm_n = 2;
    assert_int_equal(hj_perf_options_check(&o, NULL), HJ_EINVAL);
}

static void test_inputs(void **state)
{
    (void)state;
    const hj_perf_size s = {40, 30, 3, NAN};
    hj_perf_inputs a, b;
    assert_int_equal(hj_perf_inputs_make(HJ_PERF_ADAM, &s, 5, &a, NULL), HJ_OK);
    assert_int_equal(hj_perf_inputs_make(HJ_PERF_ADAM, &s, 5, &b, NULL), HJ_OK);
    assert_memory_equal(a.x, b.x, 40 * 3 * sizeof(double));
    assert_memory_equal(a.p, b.p, (30 * 3 + 30) * sizeof(double));
    assert_true(fabs(a.size.eps - pow(30.0, -1.0 / 3.0)) < 1e-15);
    for (size_t i = 0; i < 40; i++) {
        double q = 0.0;
        for (size_t k = 0; k < 3; k++) {
            assert_true(a.x[i * 3 + k] >= -2.0 && a.x[i * 3 + k] <= 2.0);
            q += a.x[i * 3 + k] * a.x[i * 3 + k];
        }
        assert_true(fabs(a.y[i] - sqrt(q)) < 1e-15);
    }
    for (size_t j = 0; j < 30; j++)
        assert_true(a.p[30 * 3 + j] == 0.0); /* hj_model_init: biases 0 */
    hj_perf_inputs_free(&b);
    assert_int_equal(hj_perf_inputs_make(HJ_PERF_ADAM, &s, 6, &b, NULL), HJ_OK);
    assert_true(memcmp(a.x, b.x, 40 * 3 * sizeof(double)) != 0);
    hj_perf_inputs_free(&a), hj_perf_inputs_free(&b);
    assert_int_equal(hj_perf_inputs_make(HJ_PERF_HOPF_COLE, &s, 5, &a, NULL), HJ_OK);
    for (size_t j = 0; j < 30; j++)
        assert_true(a.p[90 + j] >= 0.0 && a.p[90 + j] <= 1.0);
    assert_true(a.t == 0.5 && a.size.eps == 0.5);
    hj_perf_inputs_free(&a);
}

/* Shared checks of a timing's structure. */
static void sane_timing(const hj_perf_timing *t, hj_perf_kernel k, size_t reps, int with_roof)
{
    assert_int_equal(t->kernel, k);
    assert_int_equal(t->reps, reps);
    assert_true(t->threads >= 1);
    double lo = INFINITY, hi = 0.0;
    for (size_t r = 0; r < reps; r++) {
        assert_true(t->samples[r] > 0.0 && isfinite(t->samples[r]));
        lo = fmin(lo, t->samples[r]);
        hi = fmax(hi, t->samples[r]);
    }
    assert_true(t->min == lo && t->max == hi);
    assert_true(t->min <= t->median && t->median <= t->max);
    const double nN = (double)t->size.n * (double)t->size.N;
    assert_true(fabs(t->throughput - nN / t->median) <= 1e-12 * t->throughput);
    if (with_roof) {
        assert_true(t->bound > 0.0 && isfinite(t->bound));
        assert_true(fabs(t->fraction - t->bound / t->median) <= 1e-12 * t->fraction);
    } else {
        assert_true(isnan(t->bound) && isnan(t->fraction));
    }
}

static void test_tiny_timings(void **state)
{
    (void)state;
    hj_perf_options o;
    hj_perf_options_default(&o);
    o.reps = 3;
    o.gemm_n = 32;
    o.write_bytes = 1 << 20;
    o.exp_len = 256;
    o.adam_steps = 30;
    hj_roofline roof;
    assert_int_equal(hj_perf_roofline(&o, &roof, NULL), HJ_OK);
    assert_true(roof.r_exp > 0.0 && isfinite(roof.r_exp));
    assert_true(roof.r_fma > 0.0 && isfinite(roof.r_fma));
    assert_true(roof.b_write > 0.0 && isfinite(roof.b_write));
    assert_true(roof.threads >= 1 && roof.gemm_n == 32);

    const hj_perf_size s = {6, 9, 2, NAN};
    hj_perf_timing t;
    /* lse: the check is sum f, against the naive LSE on the same seeded inputs */
    assert_int_equal(hj_perf_time(HJ_PERF_LSE, &s, &o, &roof, &t, NULL), HJ_OK);
    sane_timing(&t, HJ_PERF_LSE, 3, 1);
    hj_perf_inputs in;
    assert_int_equal(hj_perf_inputs_make(HJ_PERF_LSE, &s, o.seed, &in, NULL), HJ_OK);
    const double want = ref_lse_sum(in.x, 6, in.p, in.p + 18, 9, 2, 0.5);
    assert_true(fabs(t.check - want) <= 1e-12 * (1.0 + fabs(want)));
    hj_perf_inputs_free(&in);

    /* adam: eps resolved to N^(-1/d); the final loss is below the initial MSE computed here */
    assert_int_equal(hj_perf_time(HJ_PERF_ADAM, &s, &o, NULL, &t, NULL), HJ_OK);
    sane_timing(&t, HJ_PERF_ADAM, 3, 0);
    assert_true(fabs(t.size.eps - pow(9.0, -0.5)) < 1e-15);
    assert_int_equal(hj_perf_inputs_make(HJ_PERF_ADAM, &s, o.seed, &in, NULL), HJ_OK);
    double mse0 = 0.0;
    for (size_t i = 0; i < 6; i++) {
        double z[9];
        for (size_t j = 0; j < 9; j++)
            z[j] = in.p[18 + j] + in.p[j * 2] * in.x[i * 2] + in.p[j * 2 + 1] * in.x[i * 2 + 1];
        const double r = ref_lse(z, 9, in.size.eps) - in.y[i];
        mse0 += r * r / 6.0;
    }
    assert_true(isfinite(t.check) && t.check < mse0);
    const double want_adam = ref_adam_loss(&in, o.adam_steps);
    assert_true(fabs(t.check - want_adam) <= 1e-9 * want_adam);
    hj_perf_inputs_free(&in);

    /* hopf-cole: sum u against the naive Hopf–Cole sum */
    assert_int_equal(hj_perf_time(HJ_PERF_HOPF_COLE, &s, &o, &roof, &t, NULL), HJ_OK);
    sane_timing(&t, HJ_PERF_HOPF_COLE, 3, 1);
    assert_int_equal(hj_perf_inputs_make(HJ_PERF_HOPF_COLE, &s, o.seed, &in, NULL), HJ_OK);
    double usum = 0.0;
    for (size_t i = 0; i < 6; i++) {
        double a[9];
        for (size_t j = 0; j < 9; j++) {
            const double dx = in.x[i * 2] - in.p[j * 2], dy = in.x[i * 2 + 1] - in.p[j * 2 + 1];
            a[j] = -(in.p[18 + j] + (dx * dx + dy * dy) / (4.0 * in.t));
        }
        usum += -ref_lse(a, 9, 0.5);
    }
    assert_true(fabs(t.check - usum) <= 1e-12 * (1.0 + fabs(usum)));
    hj_perf_inputs_free(&in);
}

static void test_refusals(void **state)
{
    (void)state;
    hj_perf_options o;
    hj_perf_options_default(&o);
    o.max_bytes = 1e6; /* 1 MB: a 1000 x 1000 pi (8 MB) does not fit */
    hj_perf_timing t;
    hj_error err = {0};
    const hj_perf_size s = {1000, 1000, 2, NAN};
    assert_int_equal(hj_perf_lse_forward(&s, &o, NULL, &t, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "memory"));
    assert_int_equal(hj_perf_adam_step(&s, &o, NULL, &t, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "memory"));
    o.reps = 0; /* the options are checked before the size */
    assert_int_equal(hj_perf_hopf_cole(&s, &o, NULL, &t, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "reps"));
    assert_int_equal(hj_perf_roofline(&o, NULL, NULL), HJ_EINVAL);
    hj_perf_options_default(&o);
    assert_int_equal(hj_perf_time((hj_perf_kernel)7, &s, &o, NULL, &t, &err), HJ_EINVAL);
    assert_non_null(strstr(err.msg, "unknown kernel"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_names),  cmocka_unit_test(test_work_counts),
        cmocka_unit_test(test_bound_arithmetic), cmocka_unit_test(test_summary),
        cmocka_unit_test(test_size_validation), cmocka_unit_test(test_options),
        cmocka_unit_test(test_inputs),        cmocka_unit_test(test_tiny_timings),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
